"""Markdown summary for pull-request comments and incident tickets (GitHub-flavoured).

Untrusted text (names, paths, snippets) goes into code spans or fenced code blocks, where
Markdown, HTML, @mentions and autolinks are not interpreted; control and bidi characters are
made visible first. Output is capped (GitHub refuses comments over 65,536 characters); when
something does not fit, a note says what was left out. Unscanned items and errors are always
kept.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from chainwarden.models import Trigger
from chainwarden.report.common import (
    Judgement,
    Status,
    clip,
    counts_text,
    location_text,
    ordered_findings,
    ordered_results,
    visible,
)

if TYPE_CHECKING:
    from chainwarden.models import ArtifactResult, Finding, ScanReport, Verdict

#: Below GitHub's 65,536-character limit for a comment, with room for a wrapper's own text.
MAX_CHARS = 60_000
_MAX_CELL = 200
_MAX_SNIPPET = 1500
_MAX_LIST = 100
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>\"'&=:$%^,;/?])")
_UNSAFE_PLAIN = re.compile(r"@|://|www\.", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")
_FINDINGS_HEAD = "| Severity | Rule | Package | Location | Runs at | Message |"
_TRUNCATION_NOTE = (
    "> [!NOTE]\n> Truncated: {what} not shown to stay under {limit:,} characters. "
    "Run `chainwarden scan --format html` or `--format json` for the full report."
)


def code(text: str, *, limit: int = _MAX_CELL, cell: bool = True) -> str:
    """Untrusted text as an inline code span: nothing inside is rendered as Markdown or HTML."""
    shown = clip(visible(text), limit)
    if cell:
        shown = shown.replace("|", "\\|")  # GFM tables split on | even inside code spans
    runs = _BACKTICKS.findall(shown)
    fence = "`" * (max((len(r) for r in runs), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def plain(text: str, *, limit: int = _MAX_CELL, cell: bool = True) -> str:
    """Text as Markdown prose with every punctuation character escaped.

    Text that could ping someone (`@name`) or become a link is shown as code instead: GitHub
    turns those into mentions and links after Markdown escapes have been decoded.
    """
    if _UNSAFE_PLAIN.search(text):
        return code(text, limit=limit, cell=cell)
    return _PUNCTUATION.sub(r"\\\1", clip(visible(text), limit))


def fenced(text: str, info: str = "text") -> list[str]:
    """A fenced code block longer than any backtick run inside it."""
    body = clip(visible(text, keep_newlines=True), _MAX_SNIPPET)
    longest = max((len(r) for r in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *body.split("\n"), fence]


def _header(report: ScanReport, verdict: Verdict, judged: Judgement) -> list[str]:
    if verdict.blocked:
        title = "## chainwarden: ❌ blocked"
    elif report.errors:
        title = "## chainwarden: ⚠️ incomplete"
    else:
        title = "## chainwarden: ✅ passed"
    active = [f for f in report.findings if judged.status(f) is not Status.SUPPRESSED]
    facts = [
        f"**{len(report.results)}** artifact(s) scanned",
        f"findings: {counts_text(active)}",
        f"threshold: **{verdict.threshold.label}**",
    ]
    if verdict.blocked:
        facts.append(f"**{len(verdict.blocking)} blocking**")
    if verdict.suppressed:
        facts.append(f"{len(verdict.suppressed)} ignored by policy")
    if report.unscanned:
        facts.append(f"**{len(report.unscanned)} not scanned**")
    if report.errors:
        facts.append(f"**{len(report.errors)} error(s)**")
    lines = [title, "", " · ".join(facts) + ".", ""]
    if not report.results:
        lines += ["Nothing was scanned.", ""]
    return lines


def _packages(report: ScanReport, judged: Judgement) -> list[str]:
    troubled = [r for r in ordered_results(report) if r.findings or r.unscanned]
    clean = len(report.results) - len(troubled)
    if not troubled:
        return [f"All {clean} artifact(s) are clean.", ""] if clean else []
    lines = ["| | Package | Kind | Findings | Not scanned |", "|---|---|---|---|---|"]
    for result in troubled[:_MAX_LIST]:
        blocked = any(judged.status(f) is Status.BLOCKING for f in result.findings)
        mark = "❌" if blocked else "⚠️"
        active = [f for f in result.findings if judged.status(f) is not Status.SUPPRESSED]
        summary = counts_text(active) if active else "none"
        lines.append(
            f"| {mark} | {code(result.name)} | {result.ref.kind.value} | {summary} | {len(result.unscanned) or ''} |"
        )
    if len(troubled) > _MAX_LIST:
        lines.append(f"| | … and {len(troubled) - _MAX_LIST} more | | | |")
    lines.append("")
    if clean:
        lines += [f"{clean} other artifact(s) are clean.", ""]
    return lines


def _finding_row(result: ArtifactResult, finding: Finding) -> str:
    trigger = finding.trigger.value if finding.trigger is not Trigger.NONE else ""
    return (
        f"| **{finding.severity.label}** | {code(finding.rule_id)} | {code(result.name)} | "
        f"{code(location_text(finding))} | {trigger} | {plain(finding.message)} |"
    )


def _evidence(number: int, result: ArtifactResult, finding: Finding) -> list[str]:
    # Markdown is not parsed inside an HTML block, so the summary holds no untrusted text at all.
    title = html.escape(f"{number}. {finding.severity.label} {finding.rule_id} ({finding.trigger.value})")
    where = f"{code(result.name, cell=False)} {code(location_text(finding), cell=False)}"
    lines = ["<details>", f"<summary>{title}</summary>", "", where, ""]
    lines += [plain(finding.message, limit=1000, cell=False), ""]
    if finding.evidence.snippet:
        lines += [*fenced(finding.evidence.snippet), ""]
    for n, stage in enumerate(finding.evidence.decoded, 1):
        lines += [f"Decoded stage {n} ({code(stage.method, cell=False)}):", "", *fenced(stage.preview), ""]
    if finding.capabilities:
        caps = ", ".join(code(c, cell=False) for c in finding.capabilities)
        lines += [f"Capabilities: {caps}", ""]
    lines += ["</details>", ""]
    return lines


def _tail(report: ScanReport, verdict: Verdict) -> list[str]:
    """Sections that are always kept: what was not scanned, what failed, what the policy ignored."""
    lines: list[str] = []
    unscanned = [(r, u) for r in report.results for u in r.unscanned]
    if unscanned:
        lines += ["### Not scanned", ""]
        lines += [
            f"- {code(r.name, cell=False)} {code(u.path or '-', cell=False)}: {plain(u.reason, cell=False)}"
            for r, u in unscanned[:_MAX_LIST]
        ]
        if len(unscanned) > _MAX_LIST:
            lines.append(f"- … and {len(unscanned) - _MAX_LIST} more (see the full report)")
        lines.append("")
    if report.errors:
        lines += ["### Errors", ""]
        lines += [f"- {code(e, limit=500, cell=False)}" for e in report.errors[:_MAX_LIST]]
        if len(report.errors) > _MAX_LIST:
            lines.append(f"- … and {len(report.errors) - _MAX_LIST} more (see the full report)")
        lines.append("")
    if verdict.suppressed:
        lines += ["### Ignored by policy", ""]
        lines += [
            f"- {code(s.finding.rule_id, cell=False)} {code(location_text(s.finding), cell=False)}: "
            f"{plain(s.reason, cell=False)} (until {plain(s.expires, cell=False)})"
            for s in verdict.suppressed[:_MAX_LIST]
        ]
        lines.append("")
    if verdict.notes:
        lines += ["### Notes", ""]
        lines += [f"- {plain(n, limit=500, cell=False)}" for n in verdict.notes]
        lines.append("")
    return lines


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def render(report: ScanReport, verdict: Verdict, *, color: bool = False, max_chars: int = MAX_CHARS) -> str:
    del color
    judged = Judgement.of(verdict)
    head = _header(report, verdict, judged) + _packages(report, judged)
    tail = _tail(report, verdict)
    budget = max_chars - _size(head) - _size(tail) - len(_TRUNCATION_NOTE) - 100
    shown = [
        (result, f)
        for result in ordered_results(report)
        for f in ordered_findings(result)
        if judged.status(f) is not Status.SUPPRESSED
    ]
    middle: list[str] = []
    rows = 0
    if shown:
        table = ["### Findings", "", _FINDINGS_HEAD, "|---|---|---|---|---|---|"]
        budget -= _size(table) + 1
        for result, finding in shown:
            row = _finding_row(result, finding)
            if _size([row]) > budget:
                break
            table.append(row)
            budget -= _size([row])
            rows += 1
        middle += [*table, ""]
    blocks = 0
    evidence: list[str] = []
    for number, (result, finding) in enumerate(shown[:rows], 1):
        block = _evidence(number, result, finding)
        if _size(block) > budget:
            break
        evidence += block
        budget -= _size(block)
        blocks += 1
    if evidence:
        middle += ["### Evidence", "", *evidence]
    missing = []
    if rows < len(shown):
        missing.append(f"{len(shown) - rows} of {len(shown)} findings")
    if blocks < rows:
        missing.append(f"evidence for {rows - blocks} finding(s)")
    note = [_TRUNCATION_NOTE.format(what=" and ".join(missing), limit=max_chars), ""] if missing else []
    text = "\n".join(head + middle + tail + note)
    return clip(text, max_chars) if len(text) > max_chars else text
