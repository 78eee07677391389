"""Finding cards with their evidence, rendered from a stored scan report (the JSON document).

The document came from our own `as_document`, but every string in it was written by a package
author, and an old or damaged row may lack fields: values are read defensively (wrong types
become empty) and everything is escaped.
"""

from __future__ import annotations

from typing import Any

from chainwarden import rules
from chainwarden.watch.web.layout import esc, severity_tag, tag

_SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
_TRIGGER_TEXT = {
    "interpreter-start": "every Python start",
    "install": "install time",
    "import": "import time",
    "entry-point": "when a host loads an entry point",
    "model-load": "model load",
    "call": "only when called",
}


def text(data: object, key: str) -> str:
    """`data[key]` as text when it is a string or a number, else empty."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int | float) else ""


def items(data: object, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _pre(value: str) -> str:
    return f"<pre><code>{esc(value, keep_newlines=True)}</code></pre>"


def where(path: str, line: str) -> str:
    return (path or "-") + (f":{line}" if line and line != "0" else "")


def _rule_title(rule_id: str) -> str:
    rule = rules.all_rules().get(rule_id)
    return f"<code>{esc(rule_id)}</code> {esc(rule.title)}" if rule is not None else f"<code>{esc(rule_id)}</code>"


def finding_card(finding: dict[str, Any]) -> str:
    """One finding with its trigger, file:line, snippet, details and decoded stages."""
    sev = text(finding, "severity").lower()
    status = text(finding, "status")
    trigger = text(finding, "trigger")
    location = finding.get("location") if isinstance(finding.get("location"), dict) else {}
    evidence = finding.get("evidence") if isinstance(finding.get("evidence"), dict) else {}
    head = [severity_tag(sev)]
    if status:
        head.append(tag(status, f"st-{status}"))
    if trigger and trigger != "none":
        runs = _TRIGGER_TEXT.get(trigger, "")
        note = esc(f" ({runs})") if runs else ""
        head.append(f'<span class="muted">runs at: <strong>{esc(trigger)}</strong>{note}</span>')
    facts = [("File", f"<code>{esc(where(text(location, 'path'), text(location, 'line')))}</code>")]
    if text(finding, "confidence"):
        facts.append(("Confidence", esc(text(finding, "confidence"))))
    caps = [c for c in items(finding, "capabilities") if isinstance(c, str)]
    if caps:
        facts.append(("Capabilities", ", ".join(f"<code>{esc(c)}</code>" for c in caps)))
    for pair in items(evidence, "detail"):
        if text(pair, "name"):
            facts.append((text(pair, "name")[:80], esc(text(pair, "value"))))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts)
    parts = [
        f'<article class="finding {esc(sev)}">',
        f'<div class="fhead">{" ".join(head)}</div>',
        f"<h3>{_rule_title(text(finding, 'rule_id'))}</h3>",
        f'<p class="message">{esc(text(finding, "message"))}</p>',
        f'<dl class="facts">{dl}</dl>',
    ]
    if text(evidence, "snippet"):
        parts.append(_pre(text(evidence, "snippet")))
    stages = [s for s in items(evidence, "decoded") if isinstance(s, dict)]
    if stages:
        listed = "".join(
            f"<li>decoded with <code>{esc(text(s, 'method'))}</code>{_pre(text(s, 'preview'))}</li>" for s in stages
        )
        parts.append(
            f'<details open><summary>Decoded stages ({len(stages)})</summary><ol class="stages">{listed}</ol></details>'
        )
    parts.append("</article>")
    return "\n".join(parts)


def sort_key(finding: dict[str, Any]) -> tuple[int, int, str]:
    status_rank = 0 if text(finding, "status") == "blocking" else 1
    location = finding.get("location") if isinstance(finding.get("location"), dict) else {}
    return (status_rank, -_SEVERITY_RANK.get(text(finding, "severity").lower(), -1), text(location, "path"))


def report_findings(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(artifact name, findings worst first) for each result in a stored report."""
    out = []
    for result in items(document, "results"):
        found = [f for f in items(result, "findings") if isinstance(f, dict)]
        out.append((text(result, "name"), sorted(found, key=sort_key)))
    return out


def row_finding(row: tuple[Any, ...]) -> dict[str, Any]:
    """A findings-table row `(id, rule_id, severity, trigger, path, line, message, evidence)` as a card's data,
    for scans whose stored report has no results (older rows, failed renders)."""
    _, rule_id, severity, trigger, path, line, message, snippet = row
    return {
        "rule_id": str(rule_id),
        "severity": str(severity),
        "trigger": str(trigger),
        "message": str(message),
        "location": {"path": str(path), "line": line if isinstance(line, int) else None},
        "evidence": {"snippet": str(snippet)},
    }


__all__ = ["finding_card", "items", "report_findings", "row_finding", "sort_key", "text", "where"]
