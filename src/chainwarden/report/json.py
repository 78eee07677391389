"""JSON report: one document per scan, versioned and published as a JSON Schema.

The schema is `report/schemas/chainwarden-report-1.0.schema.json` (draft 2020-12), documented
in `docs/report-json.md`. Changes that add optional fields keep version 1.x; anything that
removes or renames a field, or changes its meaning, starts a new major version and a new file.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from chainwarden import rules
from chainwarden.report.common import Judgement, Status, severity_counts, unicode_safe

if TYPE_CHECKING:
    from chainwarden.models import (
        ArtifactResult,
        DecodedStage,
        Evidence,
        Finding,
        PackageMetadata,
        ScanReport,
        Unscanned,
        Verdict,
    )

SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "chainwarden-report-1.0.schema.json"
SCHEMA_ID = f"https://chainwarden.invalid/schemas/{SCHEMA_FILE}"


def schema() -> dict[str, Any]:
    """The published JSON Schema this module's output conforms to."""
    text = resources.files("chainwarden.report").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def as_document(report: ScanReport, verdict: Verdict) -> dict[str, Any]:
    """The report as plain JSON data (what `render` serialises)."""
    judged = Judgement.of(verdict)
    findings = report.findings
    catalogue = rules.all_rules()
    used = sorted({f.rule_id for f in findings})
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
                {
                    "evidence_hash": s.finding.evidence_hash,
                    "rule_id": s.finding.rule_id,
                    "path": _text(s.finding.location.path),
                    "reason": _text(s.reason),
                    "expires": s.expires,
                }
                for s in verdict.suppressed
            ],
            "notes": [_text(n) for n in verdict.notes],
        },
        "summary": {
            "artifacts": len(report.results),
            "findings": len(findings),
            "by_severity": {sev.label: n for sev, n in severity_counts(findings).items()},
            "blocking": len(verdict.blocking),
            "suppressed": len(verdict.suppressed),
            "unscanned": len(report.unscanned),
            "errors": len(report.errors),
        },
        "rules": [
            {
                "id": rid,
                "title": catalogue[rid].title if rid in catalogue else "",
                "severity": catalogue[rid].severity.label if rid in catalogue else None,
                "category": catalogue[rid].category if rid in catalogue else "",
                "references": list(catalogue[rid].references) if rid in catalogue else [],
            }
            for rid in used
        ],
        "results": [_result(r, judged) for r in report.results],
        "errors": [_text(e) for e in report.errors],
    }


def _text(value: str) -> str:
    return unicode_safe(value)


def _result(result: ArtifactResult, judged: Judgement) -> dict[str, Any]:
    ref = result.ref
    stats = result.stats
    return {
        "name": _text(result.name),
        "artifact": {
            "kind": ref.kind.value,
            "location": _text(ref.location),
            "label": _text(ref.label),
            "subject": _text(ref.subject),
            "sha256": ref.sha256,
        },
        "metadata": _metadata(result.metadata) if result.metadata is not None else None,
        "findings": [_finding(f, judged) for f in result.findings],
        "unscanned": [_unscanned(u) for u in result.unscanned],
        "stats": {
            "files": stats.files,
            "bytes": stats.bytes,
            "analyzed_files": stats.analyzed_files,
            "cache_hits": stats.cache_hits,
            "seconds": stats.seconds,
        },
    }


def _metadata(meta: PackageMetadata) -> dict[str, Any]:
    return {
        "name": _text(meta.name),
        "version": _text(meta.version),
        "summary": _text(meta.summary),
        "requires_dist": [_text(r) for r in meta.requires_dist],
        "entry_points": [
            {"group": _text(e.group), "name": _text(e.name), "value": _text(e.value)} for e in meta.entry_points
        ],
        "record_entries": None if meta.record is None else len(meta.record),
        "home_page": _text(meta.home_page),
        "project_urls": [{"label": _text(k), "url": _text(v)} for k, v in meta.project_urls],
    }


def _finding(finding: Finding, judged: Judgement) -> dict[str, Any]:
    loc = finding.location
    status = judged.status(finding)
    suppression = judged.suppression(finding)
    return {
        "evidence_hash": finding.evidence_hash,
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "trigger": finding.trigger.value,
        "message": _text(finding.message),
        "location": {
            "artifact": _text(loc.artifact),
            "path": _text(loc.path),
            "line": loc.line,
            "column": loc.column,
        },
        "evidence": _evidence(finding.evidence),
        "capabilities": [_text(c) for c in finding.capabilities],
        "analyzer": finding.analyzer,
        "analyzer_version": finding.analyzer_version,
        "status": status.value,
        "suppression": (
            {"reason": _text(suppression.reason), "expires": suppression.expires}
            if suppression is not None and status is Status.SUPPRESSED
            else None
        ),
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {
        "digest": evidence.digest,
        "snippet": _text(evidence.snippet),
        "decoded": [_stage(n, s) for n, s in enumerate(evidence.decoded, 1)],
        "detail": [{"name": _text(k), "value": _text(v)} for k, v in evidence.detail],
    }


def _stage(number: int, stage: DecodedStage) -> dict[str, Any]:
    return {"stage": number, "method": _text(stage.method), "preview": _text(stage.preview)}


def _unscanned(item: Unscanned) -> dict[str, Any]:
    return {"artifact": _text(item.artifact), "path": _text(item.path), "reason": _text(item.reason)}


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    del color
    # ASCII-only output: no raw C1 controls or bidi overrides reach a terminal that `cat`s the file.
    return json.dumps(as_document(report, verdict), indent=2, ensure_ascii=True) + "\n"
