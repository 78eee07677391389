"""JSON report: a versioned, documented schema (`report/schemas/chainwarden-report.schema.json`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainwarden import codec

if TYPE_CHECKING:
    from chainwarden.models import ScanReport, Verdict

SCHEMA_VERSION = "1.0"
SCHEMA_ID = "https://chainwarden.invalid/schemas/chainwarden-report-1.0.schema.json"


def as_document(report: ScanReport, verdict: Verdict) -> dict[str, Any]:
    results = []
    for result in report.results:
        doc = codec.to_jsonable(result)
        doc["findings"] = [_finding(f) for f in result.findings]
        results.append(doc)
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "chainwarden", "version": report.tool_version},
        "started": report.started,
        "seconds": report.seconds,
        "verdict": {
            "blocked": verdict.blocked,
            "threshold": verdict.threshold.label,
            "blocking": [f.evidence_hash for f in verdict.blocking],
            "suppressed": [
                {"finding": s.finding.evidence_hash, "reason": s.reason, "expires": s.expires}
                for s in verdict.suppressed
            ],
            "notes": list(verdict.notes),
        },
        "results": results,
        "errors": list(report.errors),
    }


def _finding(finding: Any) -> dict[str, Any]:  # noqa: ANN401 - a Finding; typed loosely for codec output
    doc: dict[str, Any] = codec.to_jsonable(finding)
    doc["severity"] = finding.severity.label
    doc["confidence"] = finding.confidence.label
    doc["id"] = finding.evidence_hash
    return doc


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    del color
    return json.dumps(as_document(report, verdict), indent=2, sort_keys=False) + "\n"
