"""The CycloneDX renderer on reports that did not come from `audit`: scans, hostile names."""

from __future__ import annotations

import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    Evidence,
    Finding,
    Location,
    PackageMetadata,
    ScanReport,
    Severity,
    SuppressedFinding,
    Verdict,
)
from chainwarden.report import FORMATS, render


def _report(*results: ArtifactResult) -> ScanReport:
    return ScanReport(tool_version="0.1.0", started="2026-11-26T06:00:00+00:00", results=results)


def _valid(text: str) -> dict:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    return json.loads(text)


def test_registered_as_a_report_format():
    assert "cyclonedx" in FORMATS


def test_installed_environment_scan_with_markers_and_extras():
    meta = PackageMetadata(
        "httpx",
        "0.27.0",
        summary="HTTP client",
        requires_dist=("httpcore==1.*", "brotli; extra == 'brotli'", "not a req!!"),
    )
    results = (
        ArtifactResult(
            ArtifactRef(ArtifactKind.INSTALLED, "/site", "httpx 0.27.0", "httpx-0.27.0.dist-info"), meta, ()
        ),
        ArtifactResult(
            ArtifactRef(ArtifactKind.INSTALLED, "/site", "httpcore 1.0.5"), PackageMetadata("httpcore", "1.0.5"), ()
        ),
        ArtifactResult(ArtifactRef(ArtifactKind.WHEEL, "/x.whl", "x.whl"), None, ()),  # no metadata: no component
    )
    bom = _valid(render(_report(*results), Verdict(blocked=False, threshold=Severity.HIGH), "cyclonedx"))
    assert sorted(c["name"] for c in bom["components"]) == ["httpcore", "httpx"]
    edges = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert edges["pkg:pypi/httpx@0.27.0"] == ["pkg:pypi/httpcore@1.0.5"]
    assert edges["chainwarden:target"] == ["pkg:pypi/httpx@0.27.0"]
    assert "vulnerabilities" not in bom or bom["vulnerabilities"] == []


def test_hostile_names_and_messages_still_validate():
    evil = "evil\u202e\x1b[31m\udcff"
    finding = Finding(
        rule_id="CW401",
        severity=Severity.MEDIUM,
        message=f"{evil} is affected",
        location=Location(artifact=evil, path="uv.lock"),
        evidence=Evidence(
            detail=(("advisory", "GHSA-xxxx"), ("version", evil), ("fixed", "2.0"), ("aliases", "CVE-1,"))
        ),
    )
    result = ArtifactResult(
        ArtifactRef(ArtifactKind.FILE, "uv.lock", evil), PackageMetadata(evil, "1.0", summary=evil), (finding,)
    )
    verdict = Verdict(
        blocked=False,
        threshold=Severity.HIGH,
        suppressed=(SuppressedFinding(finding, reason=f"reviewed {evil}", expires="2999-01-01"),),
    )
    bom = _valid(render(_report(result), verdict, "cyclonedx"))
    (vuln,) = bom["vulnerabilities"]
    assert vuln["analysis"]["state"] == "not_affected"
    assert vuln["recommendation"] == "Upgrade to 2.0."
    assert [r["id"] for r in vuln["references"]] == ["CVE-1"]
