"""Terminal report: grouped by package, worst first, readable at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.models import Severity

if TYPE_CHECKING:
    from chainwarden.models import ArtifactResult, Finding, ScanReport, Verdict

_COLORS = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_MAX_SNIPPET = 300
_LATIN1 = 0x100


def sanitize(text: str) -> str:
    """Make hostile text safe for a terminal: no escape sequences, no control characters."""
    return "".join(
        ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" if ord(ch) < _LATIN1 else f"\\u{ord(ch):04x}"
        for ch in text
    )


def _sev(sev: Severity, *, color: bool) -> str:
    label = sev.label.upper().ljust(8)
    return f"{_COLORS[sev]}{label}{_RESET}" if color else label


def _finding_lines(finding: Finding, *, color: bool) -> list[str]:
    loc = finding.location.path or "-"
    if finding.location.line:
        loc += f":{finding.location.line}"
    head = f"  {_sev(finding.severity, color=color)} {finding.rule_id:<7} {sanitize(loc)}"
    if finding.trigger.value != "none":
        head += f"  [{finding.trigger.value}]"
    lines = [head, f"           {sanitize(finding.message)}"]
    if finding.capabilities:
        lines.append(f"           capabilities: {', '.join(finding.capabilities)}")
    snippet = finding.evidence.snippet.strip()
    if snippet:
        shown = snippet if len(snippet) <= _MAX_SNIPPET else snippet[:_MAX_SNIPPET] + " …"
        for line in shown.splitlines()[:6]:
            lines.append(f"           | {sanitize(line)}")
    for n, stage in enumerate(finding.evidence.decoded, 1):
        preview = stage.preview if len(stage.preview) <= _MAX_SNIPPET else stage.preview[:_MAX_SNIPPET] + " …"
        lines.append(f"           decoded {n} ({sanitize(stage.method)}): {sanitize(preview)}")
    return lines


def _result_block(result: ArtifactResult, threshold: Severity, *, color: bool) -> list[str]:
    worst = max((f.severity for f in result.findings), default=None)
    status = "clean" if worst is None else f"worst: {worst.label}"
    if worst is not None and worst >= threshold:
        status += " — BLOCKED"
    stats = result.stats
    lines = [f"{sanitize(result.name)}  ({result.ref.kind.value}, {stats.files} files, {status})"]
    for finding in result.findings:
        lines.extend(_finding_lines(finding, color=color))
    for item in result.unscanned:
        lines.append(f"  NOT SCANNED {sanitize(item.path or '-')}: {sanitize(item.reason)}")
    return lines


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    lines: list[str] = []
    for result in report.results:
        lines.extend(_result_block(result, verdict.threshold, color=color))
        lines.append("")
    for error in report.errors:
        lines.append(f"error: {sanitize(error)}")
    for note in verdict.notes:
        lines.append(f"note: {sanitize(note)}")
    for item in verdict.suppressed:
        f = item.finding
        lines.append(
            f"ignored: {f.rule_id} {sanitize(f.location.path)} — {sanitize(item.reason)} (until {item.expires})"
        )
    findings = report.findings
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    summary = ", ".join(f"{n} {s.label}" for s, n in sorted(counts.items(), reverse=True) if n) or "no findings"
    unscanned = len(report.unscanned)
    tail = f"{len(report.results)} artifact(s), {summary}"
    if unscanned:
        tail += f", {unscanned} item(s) not scanned"
    tail += f" in {report.seconds:.2f}s. "
    if verdict.blocked:
        tail += f"BLOCKED: {len(verdict.blocking)} finding(s) at or above {verdict.threshold.label}."
    else:
        tail += f"Nothing at or above {verdict.threshold.label}."
    lines.append(tail)
    return "\n".join(lines) + "\n"
