"""SARIF 2.1.0: one run, rules from the catalogue, locations pointing into the artifact."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainwarden import rules
from chainwarden.models import Severity

if TYPE_CHECKING:
    from chainwarden.models import ArtifactResult, Finding, ScanReport, Verdict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule_descriptor(rule_id: str) -> dict[str, Any]:
    catalog = rules.all_rules()
    rule = catalog.get(rule_id)
    if rule is None:
        return {"id": rule_id}
    desc: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.split()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["security", rule.category or "supply-chain"],
        },
    }
    if rule.references:
        desc["helpUri"] = rule.references[0]
    return desc


def _artifact_uri(result: ArtifactResult, finding: Finding) -> str:
    base = result.ref.location.replace("\\", "/")
    if finding.location.path:
        return (
            f"{base}/{finding.location.path}"
            if result.ref.kind.value in ("directory", "installed", "unowned")
            else f"{base}!/{finding.location.path}"
        )
    return base


def _result(result: ArtifactResult, finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    region: dict[str, Any] = {}
    if finding.location.line:
        region["startLine"] = finding.location.line
        if finding.location.column is not None:
            region["startColumn"] = finding.location.column + 1
    if finding.evidence.snippet:
        region["snippet"] = {"text": finding.evidence.snippet[:2000]}
    physical: dict[str, Any] = {"artifactLocation": {"uri": _artifact_uri(result, finding)}}
    if region:
        physical["region"] = region
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical, "logicalLocations": [{"name": result.name, "kind": "package"}]}],
        "partialFingerprints": {"chainwarden/v1": finding.evidence_hash},
        "properties": {
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "trigger": finding.trigger.value,
            "capabilities": list(finding.capabilities),
            "decoded": [{"method": s.method, "preview": s.preview[:500]} for s in finding.evidence.decoded],
        },
    }


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    del color
    used = sorted({f.rule_id for f in report.findings})
    rule_index = {rid: n for n, rid in enumerate(used)}
    results = [_result(r, f, rule_index) for r in report.results for f in r.findings]
    notifications = [{"message": {"text": e}, "level": "error"} for e in report.errors]
    notifications += [
        {"message": {"text": f"not scanned: {u.artifact} {u.path}: {u.reason}"}, "level": "warning"}
        for u in report.unscanned
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "chainwarden",
                        "version": report.tool_version,
                        "informationUri": "https://chainwarden.invalid/",
                        "rules": [_rule_descriptor(r) for r in used],
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "properties": {"blocked": verdict.blocked, "threshold": verdict.threshold.label},
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
