"""Terminal report: grouped by package, worst first, readable at a glance.

Every string that came from a scanned artifact passes through `visible()`, so ANSI escapes,
control characters and bidi overrides show as `\\x1b` / `\\u202e` instead of acting on the
terminal. Colour is added only when the caller says the output is an interactive terminal.
Unscanned items and errors are always shown; the last line is a one-line summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.models import Severity, Trigger
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

_SEVERITY_STYLE = {
    Severity.CRITICAL: "1;31",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
_STATUS_STYLE = {"BLOCKED": "1;31", "WARN": "33", "OK": "32", "PASSED": "1;32", "INCOMPLETE": "1;33"}
_INDENT = " " * 11
_MAX_LINE = 160
_MAX_SNIPPET_LINES = 6
_MAX_PREVIEW_LINES = 3
_MAX_CLEAN_LISTED = 5
_CLEAN_NAMES_SHOWN = 8


def sanitize(text: str) -> str:
    """Make hostile text safe for a terminal: no escape sequences, control or bidi characters."""
    return visible(text)


def _paint(text: str, style: str, *, color: bool) -> str:
    return f"\x1b[{style}m{text}\x1b[0m" if color else text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _excerpt(text: str, max_lines: int, prefix: str) -> list[str]:
    # Split on "\n" only: other separators (\x0c, \x85, \u2028) are shown, never acted on.
    lines = text.strip("\n").split("\n")
    shown = [f"{prefix}{clip(sanitize(line.removesuffix(chr(13))), _MAX_LINE)}" for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"{prefix}… {_plural(len(lines) - max_lines, 'more line')}")
    return shown


def _finding_lines(finding: Finding, *, color: bool) -> list[str]:
    sev = _paint(finding.severity.label.upper().ljust(8), _SEVERITY_STYLE[finding.severity], color=color)
    head = f"  {sev} {sanitize(finding.rule_id):<6} {sanitize(location_text(finding))}"
    if finding.trigger is not Trigger.NONE:
        head += f"  runs at: {finding.trigger.value}"
    if finding.confidence.label != "high":
        head += f"  (confidence {finding.confidence.label})"
    lines = [head, f"{_INDENT}{sanitize(finding.message)}"]
    if finding.evidence.snippet.strip():
        lines += _excerpt(finding.evidence.snippet, _MAX_SNIPPET_LINES, f"{_INDENT}| ")
    for n, stage in enumerate(finding.evidence.decoded, 1):
        lines.append(f"{_INDENT}decoded {n} ({sanitize(stage.method)}):")
        lines += _excerpt(stage.preview, _MAX_PREVIEW_LINES, f"{_INDENT}  > ")
    if finding.capabilities:
        lines.append(f"{_INDENT}capabilities: {', '.join(sanitize(c) for c in finding.capabilities)}")
    lines += [
        f"{_INDENT}{sanitize(k)}: {clip(sanitize(v), _MAX_LINE)}"
        for k, v in finding.evidence.detail
        if not (k == "capabilities" and finding.capabilities)  # already shown above
    ]
    return lines


def _status(result: ArtifactResult, judged: Judgement) -> str:
    statuses = {judged.status(f) for f in result.findings if f.severity > Severity.INFO}
    if Status.BLOCKING in statuses:
        return "BLOCKED"
    if Status.REPORTED in statuses or result.unscanned:
        return "WARN"
    return "OK"  # informational findings (an inventory of model files, say) are not a warning


def _result_block(result: ArtifactResult, judged: Judgement, *, color: bool) -> list[str]:
    status = _status(result, judged)
    active = [f for f in result.findings if judged.status(f) is not Status.SUPPRESSED]
    ignored = [f for f in ordered_findings(result) if judged.status(f) is Status.SUPPRESSED]
    facts = [result.ref.kind.value, _plural(result.stats.files, "file")]
    if active:
        facts.append(counts_text(active))
    if ignored:
        facts.append(f"{len(ignored)} ignored")
    if result.unscanned:
        facts.append(f"{len(result.unscanned)} not scanned")
    label = _paint(status.ljust(8), _STATUS_STYLE[status], color=color)
    lines = [f"{label} {sanitize(result.name)}  ({', '.join(facts)})"]
    for finding in ordered_findings(result):
        if judged.status(finding) is not Status.SUPPRESSED:
            lines += _finding_lines(finding, color=color)
    for finding in ignored:
        item = judged.suppression(finding)
        why = f"{sanitize(item.reason)} (until {item.expires})" if item is not None else ""
        lines.append(f"  IGNORED  {sanitize(finding.rule_id):<6} {sanitize(location_text(finding))}: {why}")
    lines += [
        f"  NOT SCANNED  {sanitize(item.path or '-')}: {sanitize(item.reason)}" for item in result.unscanned
    ]
    return lines


def _clean_lines(clean: list[ArtifactResult], *, color: bool) -> list[str]:
    label = _paint("OK".ljust(8), _STATUS_STYLE["OK"], color=color)
    if len(clean) <= _MAX_CLEAN_LISTED:
        return [
            f"{label} {sanitize(r.name)}  ({r.ref.kind.value}, {_plural(r.stats.files, 'file')}, clean)"
            for r in clean
        ]
    names = ", ".join(sanitize(r.name) for r in clean[:_CLEAN_NAMES_SHOWN])
    more = len(clean) - _CLEAN_NAMES_SHOWN
    if more > 0:
        names += f" and {more} more"
    return [f"{label} {len(clean)} clean artifacts: {names}"]


def _summary(report: ScanReport, verdict: Verdict, judged: Judgement, *, color: bool) -> str:
    active = [f for f in report.findings if judged.status(f) is not Status.SUPPRESSED]
    if verdict.blocked:
        status = "BLOCKED"
        head = f"{_plural(len(verdict.blocking), 'finding')} at or above {verdict.threshold.label}"
    elif report.errors:
        status = "INCOMPLETE"
        head = f"{_plural(len(report.errors), 'target')} could not be scanned"
    else:
        status = "PASSED"
        head = f"nothing at or above {verdict.threshold.label}"
    details = [counts_text(active)]
    if verdict.suppressed:
        details.append(f"{len(verdict.suppressed)} ignored")
    if report.unscanned:
        details.append(f"{_plural(len(report.unscanned), 'item')} not scanned")
    if report.errors:
        details.append(_plural(len(report.errors), "error"))
    artifacts = _plural(len(report.results), "artifact")
    tail = f"{head} in {artifacts} ({'; '.join(details)}) in {report.seconds:.2f}s"
    return f"{_paint(status, _STATUS_STYLE[status], color=color)}: {tail}"


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    judged = Judgement.of(verdict)
    lines: list[str] = []
    clean: list[ArtifactResult] = []
    for result in ordered_results(report):
        if not result.findings and not result.unscanned:
            clean.append(result)
            continue
        lines += [*_result_block(result, judged, color=color), ""]
    if clean:
        lines += [*_clean_lines(clean, color=color), ""]
    if not report.results:
        lines += ["nothing was scanned", ""]
    if report.errors:
        lines += [f"error: {sanitize(e)}" for e in report.errors] + [""]
    if verdict.notes:
        lines += [f"note: {sanitize(n)}" for n in verdict.notes] + [""]
    lines.append(_summary(report, verdict, judged, color=color))
    return "\n".join(lines) + "\n"
