"""Audit an inventory against an advisory service and express the outcome as a `ScanReport`.

Every package becomes one result (its findings: malicious / vulnerable / not audited); every
dependency file becomes one result when it has findings of its own (unreadable, unpinned,
hash-less, conflicting). Reports, policy ignores and the SBOM all work from that one value.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden import __version__
from chainwarden.advisories.check import check
from chainwarden.advisories.matching import parse_version
from chainwarden.advisories.services.base import Query
from chainwarden.inventory.model import Ecosystem, Inventory, Package, Requirement
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
)
from chainwarden.rules import advisories as rules

if TYPE_CHECKING:
    from chainwarden.advisories.merge import MergedMatch
    from chainwarden.advisories.services.base import AdvisoryService

ANALYZER = "advisories"
ANALYZER_VERSION = "1"
_LOCK_FORMATS_WITHOUT_FILE_HASHES = frozenset({"site-packages", "pyproject.toml"})
_MAX_NAMES_SHOWN = 8
_MAX_SUMMARY = 160


@dataclass(frozen=True, slots=True)
class AuditResult:
    report: ScanReport
    inventory: Inventory
    service: str
    notes: tuple[str, ...] = ()


def _finding(rule_id: str, severity: Severity, message: str, location: Location, **detail: str) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        location=location,
        evidence=Evidence(
            snippet=detail.pop("snippet", ""), detail=tuple((k.replace("_", "-"), v) for k, v in detail.items() if v)
        ),
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


def _pinned_requirements(inventory: Inventory) -> list[Package]:
    """Packages pinned only by a manifest (`litellm==1.82.8` in pyproject.toml, no lock)."""
    locked = {p.key for p in inventory.packages}
    out: dict[str, Package] = {}
    for req in inventory.requirements:
        version = req.pinned_version
        if version and req.key not in locked and req.group != "constraint" and not req.url:
            out.setdefault(req.key, Package(req.name, version, direct=True, source=req.file))
    return list(out.values())


def _direct_text(package: Package) -> str:
    return {True: "direct", False: "transitive", None: "unknown"}[package.direct]


def _match_finding(package: Package, merged: MergedMatch, chain: tuple[str, ...]) -> Finding:
    aliases = f" ({', '.join(merged.aliases)})" if merged.aliases else ""
    summary = merged.summary.strip().rstrip(".")
    if len(summary) > _MAX_SUMMARY:
        summary = summary[: _MAX_SUMMARY - 1].rstrip() + "…"
    about = f" {summary}" + ("" if summary.endswith("…") else ".") if summary else ""
    via = f" Reached through {' -> '.join(chain)}." if len(chain) > 1 else ""
    if merged.malicious:
        rule = rules.MALICIOUS_PACKAGE
        head = f"{package.name} {package.version} is a known malicious release: {merged.id}{aliases}."
        advice = " No fixed version of malware exists: remove it and rotate every secret it could read."
    else:
        rule = rules.VULNERABLE_DEPENDENCY
        head = f"{package.name} {package.version} is affected by {merged.id}{aliases}."
        advice = f" Fixed in {', '.join(merged.fixed)}." if merged.fixed else " No fixed version is known."
    message = head + advice + via + about
    return _finding(
        rule.id,
        merged.severity,
        message,
        Location(artifact=f"{package.name} {package.version}", path=package.source),
        snippet=f"{package.key}=={package.version} {merged.id}",
        advisory=merged.id,
        aliases=",".join(merged.aliases),
        fixed=",".join(merged.fixed),
        package=package.name,
        version=package.version,
        dependency=_direct_text(package),
        path=" > ".join(chain),
        url=merged.url,
        uncertain="yes" if any(m.uncertain for m in merged.matches) else "",
    )


def _not_audited(package: Package, reason: str) -> Finding:
    return _finding(
        rules.NOT_AUDITED.id,
        rules.NOT_AUDITED.severity,
        f"{package.name} {package.version or '(no version)'} was not audited: {reason}",
        Location(artifact=f"{package.name} {package.version}", path=package.source),
        snippet=f"{package.key}=={package.version}",
        package=package.name,
        version=package.version,
    )


def _ref(package: Package) -> ArtifactRef:
    source = Path(package.source)
    if source.suffix in {".dist-info", ".egg-info"}:
        return ArtifactRef(ArtifactKind.INSTALLED, str(source.parent), f"{package.name} {package.version}", source.name)
    return ArtifactRef(
        ArtifactKind.FILE, package.source, f"{package.name} {package.version}", f"{package.key}=={package.version}"
    )


def _file_findings(inventory: Inventory) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    locked = {p.key for p in inventory.packages}

    def add(file: str, finding: Finding) -> None:
        found.setdefault(file, []).append(finding)

    for inv in inventory.files:
        whole = not inv.packages and not inv.requirements
        for problem in inv.problems:
            severity = rules.UNREADABLE_DEPENDENCY_FILE.severity if whole else Severity.MEDIUM
            add(
                problem.file,
                _finding(
                    rules.UNREADABLE_DEPENDENCY_FILE.id,
                    severity,
                    f"{problem.file}: {problem.message}",
                    Location(artifact=inv.file, path=problem.file, line=problem.line),
                    snippet=problem.message,
                ),
            )
        flagged: set[str] = set()
        for req in inv.requirements:
            if _unpinned(req) and req.key not in locked and req.key not in flagged:
                flagged.add(req.key)
                spec = req.specifier or "any version"
                add(
                    inv.file,
                    _finding(
                        rules.UNPINNED_REQUIREMENT.id,
                        rules.UNPINNED_REQUIREMENT.severity,
                        f"{req.name} ({spec}) is not pinned to one version and nothing locks it; it was not audited.",
                        Location(artifact=inv.file, path=inv.file, line=req.line),
                        snippet=req.text or req.name,
                        package=req.name,
                    ),
                )
        hashless = _hashless(inv.format, inv.requirements, inv.packages)
        if hashless:
            shown = ", ".join(hashless[:_MAX_NAMES_SHOWN]) + (" ..." if len(hashless) > _MAX_NAMES_SHOWN else "")
            add(
                inv.file,
                _finding(
                    rules.MISSING_HASHES.id,
                    rules.MISSING_HASHES.severity,
                    f"{len(hashless)} pinned package(s) without hashes in {inv.file}: {shown}",
                    Location(artifact=inv.file, path=inv.file),
                    snippet=",".join(hashless),
                ),
            )
    for conflict in inventory.conflicts:
        pins = "; ".join(f"{version} in {file}" for version, file in conflict.pins)
        first = conflict.pins[0][1]
        add(
            first,
            _finding(
                rules.CONFLICTING_PINS.id,
                rules.CONFLICTING_PINS.severity,
                f"{conflict.name} is pinned at different versions: {pins}",
                Location(artifact=first, path=first),
                snippet=pins,
                package=conflict.name,
            ),
        )
    return found


def _unpinned(req: Requirement) -> bool:
    return req.group != "constraint" and not req.url and not req.editable and req.pinned_version is None


def _hashless(fmt: str, requirements: tuple[Requirement, ...], packages: tuple[Package, ...]) -> list[str]:
    if fmt in _LOCK_FORMATS_WITHOUT_FILE_HASHES or fmt == "conda-meta":
        return []
    if fmt == "requirements":
        return sorted({r.name for r in requirements if r.pinned_version and not r.hashes and r.group != "constraint"})
    return sorted({p.name for p in packages if not p.hashes and not p.url})


def audit(inventory: Inventory, service: AdvisoryService) -> AuditResult:
    """Check every pinned package; `ServiceError` propagates when the service is unusable."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    packages = list(inventory.packages) + _pinned_requirements(inventory)
    queries = [Query(p.name, p.version) for p in packages if p.version]
    outcome = check(service, queries)
    by_query: dict[tuple[str, str], list[MergedMatch]] = {}
    for merged in outcome.matches:
        by_query.setdefault((merged.name, merged.version), []).append(merged)
    skipped = {(s.query.name, s.query.version): s.reason for s in outcome.skipped}
    results: list[ArtifactResult] = []
    for package in packages:
        findings: list[Finding] = []
        chain = inventory.path_to(package.name) if package.direct is False else ()
        for merged in by_query.get((package.name, package.version), []):
            findings.append(_match_finding(package, merged, chain))
        reason = skipped.get((package.name, package.version))
        if not package.version:
            reason = "the source gives no version"
        elif parse_version(package.version) is None and package.ecosystem is Ecosystem.PYPI:
            reason = reason or "not a PEP 440 version, so advisory ranges cannot be evaluated"
        if reason:
            findings.append(_not_audited(package, reason))
        metadata = PackageMetadata(package.name, package.version, requires_dist=package.dependencies)
        results.append(ArtifactResult(_ref(package), metadata, tuple(sorted(findings, key=lambda f: f.sort_key))))
    for file, findings in _file_findings(inventory).items():
        ref = ArtifactRef(ArtifactKind.FILE, file, file)
        results.append(ArtifactResult(ref, None, tuple(sorted(findings, key=lambda f: f.sort_key))))
    report = ScanReport(
        tool_version=__version__,
        started=started,
        results=tuple(results),
        seconds=round(time.monotonic() - clock, 3),
    )
    return AuditResult(report, inventory, service.name, outcome.notes)


def with_errors(result: AuditResult, errors: tuple[str, ...]) -> AuditResult:
    return replace(result, report=replace(result.report, errors=errors))
