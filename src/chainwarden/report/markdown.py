"""Markdown summary, for pull-request comments and incident tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.models import Severity

if TYPE_CHECKING:
    from chainwarden.models import ScanReport, Verdict


def _cell(text: str) -> str:
    """Escape text for a Markdown table cell (hostile names must not break the table or inject HTML)."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace("`", "'").replace("\r", " ").replace("\n", " ")
    return out if len(out) <= 200 else out[:200] + "…"  # noqa: PLR2004


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    del color
    head = "## chainwarden: " + ("❌ blocked" if verdict.blocked else "✅ passed")
    lines = [head, ""]
    findings = report.findings
    counts = [f"{sum(1 for f in findings if f.severity == s)} {s.label}" for s in sorted(Severity, reverse=True)]
    summary = ", ".join(counts)
    threshold = verdict.threshold.label
    lines.append(f"{len(report.results)} artifact(s) scanned; findings: {summary}; threshold: {threshold}.")
    lines.append("")
    if findings:
        lines += ["| Severity | Rule | Package | Location | Trigger | Message |", "|---|---|---|---|---|---|"]
        for result in report.results:
            for f in result.findings:
                loc = f.location.path + (f":{f.location.line}" if f.location.line else "")
                lines.append(
                    f"| {f.severity.label} | {f.rule_id} | {_cell(result.name)} | `{_cell(loc)}` | "
                    f"{f.trigger.value} | {_cell(f.message)} |"
                )
        lines.append("")
    unscanned = report.unscanned
    if unscanned:
        lines += ["### Not scanned", ""]
        lines += [f"- {_cell(u.artifact)} `{_cell(u.path)}`: {_cell(u.reason)}" for u in unscanned]
        lines.append("")
    if verdict.suppressed:
        lines += ["### Ignored by policy", ""]
        lines += [
            f"- {s.finding.rule_id} `{_cell(s.finding.location.path)}`: {_cell(s.reason)} (until {s.expires})"
            for s in verdict.suppressed
        ]
        lines.append("")
    if report.errors:
        lines += ["### Errors", ""]
        lines += [f"- {_cell(e)}" for e in report.errors]
        lines.append("")
    return "\n".join(lines)
