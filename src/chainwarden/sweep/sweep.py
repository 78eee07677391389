"""Tie discovery, the scan engine, the advisory database and persistence checks into one answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden import __version__
from chainwarden.advisories.check import check
from chainwarden.advisories.services.base import Query, ServiceError
from chainwarden.artifact import ArtifactError
from chainwarden.index_client import version_from_filename
from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    Evidence,
    Finding,
    Location,
    ScanReport,
    Severity,
    Trigger,
    Unscanned,
)
from chainwarden.rules import advisories as advisory_rules
from chainwarden.rules import sweep as rules
from chainwarden.sources.memory import open_bytes
from chainwarden.sweep.discover import Discovery, discover
from chainwarden.sweep.persistence import judge_persistence
from chainwarden.sweep.secrets import SecretStore, secret_stores

if TYPE_CHECKING:
    from chainwarden.advisories.services.base import AdvisoryService
    from chainwarden.engine import Scanner

_MAX_BLOB = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Hit:
    """Something that shows this machine was (or could have been) hit."""

    where: str
    what: str
    since: str  # ISO time the file appeared (install / download / write time)
    trigger: Trigger
    severity: Severity
    files: tuple[str, ...]  # absolute paths of the offending files (what quarantine moves)


@dataclass(frozen=True, slots=True)
class SweepResult:
    report: ScanReport
    hits: tuple[Hit, ...]
    secrets: tuple[SecretStore, ...]
    discovery_counts: tuple[tuple[str, int], ...]

    @property
    def compromised(self) -> bool:
        return bool(self.hits)


def _mtime(path: Path) -> str:
    try:
        return dt.datetime.fromtimestamp(path.lstat().st_mtime, dt.UTC).isoformat(timespec="seconds")
    except OSError:
        return ""


def _result_files(result: ArtifactResult, findings: list[Finding]) -> tuple[Path, tuple[str, ...]]:
    """The file that dates the result and the absolute paths of its offending files."""
    loc = Path(result.ref.location)
    if result.ref.kind in (ArtifactKind.INSTALLED, ArtifactKind.UNOWNED):
        dating = loc / result.ref.subject if result.ref.subject else loc
        files = sorted({str(loc / f.location.path) for f in findings if f.location.path})
        return dating, tuple(files)
    return loc, (str(loc),)


def _advisory_findings(
    results: list[ArtifactResult], service: AdvisoryService | None
) -> tuple[list[ArtifactResult], list[str]]:
    if service is None:
        return results, ["no advisory database: malicious-package records not checked (run `chainwarden db update`)"]
    queries = [Query(r.metadata.name, r.metadata.version) for r in results if r.metadata and r.metadata.version]
    try:
        outcome = check(service, queries)
    except ServiceError as err:
        return results, [f"advisories not checked: {err}"]
    bad = {(m.name.lower(), m.version): m for m in outcome.matches if m.malicious}
    out: list[ArtifactResult] = []
    for r in results:
        match = bad.get((r.metadata.name.lower(), r.metadata.version)) if r.metadata else None
        if match is None:
            out.append(r)
            continue
        finding = Finding(
            rule_id=advisory_rules.MALICIOUS_PACKAGE.id,
            severity=Severity.CRITICAL,
            message=f"{match.name} {match.version} is a known malicious release: {match.id}: {match.summary}",
            location=Location(artifact=r.name, path=""),
            evidence=Evidence(snippet=f"{match.name}=={match.version} {match.id}"),
            analyzer="advisories",
            analyzer_version="1",
        )
        out.append(dataclasses.replace(r, findings=(finding, *r.findings)))
    return out, list(outcome.notes)


def _archive_metadata(result: ArtifactResult, path: Path) -> ArtifactResult:
    if result.metadata is not None or not path.name.endswith(".whl"):
        return result
    from chainwarden.models import PackageMetadata  # noqa: PLC0415

    name = path.name.split("-", 1)[0]
    return dataclasses.replace(result, metadata=PackageMetadata(name, version_from_filename(path.name)))


def run_sweep(
    roots: list[Path],
    *,
    homes: list[Path],
    scanner: Scanner,
    advisories: AdvisoryService | None,
    system_root: Path | None = None,
) -> SweepResult:
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    found: Discovery = discover(roots)
    errors: list[str] = []
    scanned = scanner.scan([str(p) for p in found.environments] + [str(p) for p in found.archives])
    errors.extend(scanned.errors)
    results = list(scanned.results)
    for blob in found.cache_blobs:
        try:
            size = blob.stat().st_size
            if size > _MAX_BLOB:
                found.skipped.append(
                    Unscanned(str(blob), "", f"cache entry of {size} bytes not scanned (limit {_MAX_BLOB})")
                )
                continue
            with open_bytes(blob.read_bytes(), blob.name + ".whl") as artifact:
                results.append(scanner.scan_artifact(artifact))
        except (ArtifactError, OSError) as err:
            found.skipped.append(Unscanned(str(blob), "", f"cache entry not scanned: {err}"))
    results = [_archive_metadata(r, Path(r.ref.location)) if r.ref.kind is ArtifactKind.WHEEL else r for r in results]
    results, notes = _advisory_findings(results, advisories)
    errors.extend(f"note: {n}" for n in notes if not n.startswith("offline advisory database"))
    hits: list[Hit] = []
    for r in results:
        serious = [f for f in r.findings if f.severity >= Severity.HIGH]
        if not serious:
            continue
        dating, files = _result_files(r, serious)
        top = max(serious, key=lambda f: (f.severity, f.trigger.rank))
        where = "cache" if r.ref.kind in (ArtifactKind.WHEEL, ArtifactKind.SDIST) else "environment"
        hits.append(
            Hit(
                f"{where}: {r.ref.location}",
                f"{r.name}: {top.message}",
                _mtime(dating),
                top.trigger,
                top.severity,
                files,
            )
        )
    extra: list[ArtifactResult] = []
    for path in found.persistence:
        findings = judge_persistence(path, label=str(path))
        if findings:
            extra.append(ArtifactResult(ArtifactRef(ArtifactKind.FILE, str(path), str(path)), None, tuple(findings)))
            hits.append(
                Hit(
                    f"persistence: {path}",
                    findings[0].message,
                    _mtime(path),
                    findings[0].trigger,
                    findings[0].severity,
                    (str(path),),
                )
            )
    for path in found.indicators:
        finding = Finding(
            rule_id=rules.CAMPAIGN_INDICATOR.id,
            severity=rules.CAMPAIGN_INDICATOR.severity,
            message=f"{path} is a file a known campaign leaves behind",
            location=Location(artifact=str(path), path=str(path)),
            evidence=Evidence(snippet=path.name),
            analyzer="sweep",
            analyzer_version="1",
        )
        extra.append(ArtifactResult(ArtifactRef(ArtifactKind.FILE, str(path), str(path)), None, (finding,)))
        hits.append(
            Hit(f"indicator: {path}", finding.message, _mtime(path), Trigger.NONE, finding.severity, (str(path),))
        )
    secrets: list[SecretStore] = []
    if hits:
        since = min((h.since for h in hits if h.since), default="")
        for home in homes:
            secrets.extend(secret_stores(home, system_root=system_root))
        exposure = tuple(
            Finding(
                rule_id=rules.SECRET_EXPOSED.id,
                severity=rules.SECRET_EXPOSED.severity,
                message=f"rotate: {s.kind} at {s.path} was readable by the compromised user"
                + (f" (exposed since {since})" if since else ""),
                location=Location(artifact="exposure", path=str(s.path)),
                evidence=Evidence(snippet=s.kind),
                capabilities=("secrets",),
                analyzer="sweep",
                analyzer_version="1",
            )
            for s in secrets
        )
        if exposure:
            extra.append(
                ArtifactResult(ArtifactRef(ArtifactKind.FILE, "exposure", "secrets to rotate"), None, exposure)
            )
    report = ScanReport(
        tool_version=__version__,
        started=started,
        results=tuple(results + extra),
        errors=tuple(errors),
        seconds=round(time.monotonic() - clock, 3),
    )
    if found.skipped:
        report = dataclasses.replace(
            report,
            results=(
                *report.results,
                ArtifactResult(ArtifactRef(ArtifactKind.FILE, "sweep", "not read"), None, (), tuple(found.skipped)),
            ),
        )
    counts = (
        ("environments", len(found.environments)),
        ("archives", len(found.archives)),
        ("cache entries", len(found.cache_blobs)),
        ("persistence files", len(found.persistence)),
        ("indicators", len(found.indicators)),
        ("files walked", found.entries),
    )
    return SweepResult(report, tuple(hits), tuple(secrets), counts)
