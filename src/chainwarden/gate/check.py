"""The gate's checks on pinned dependencies, without installing: for `chainwarden check` (CI)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.gate.decisions import human_age
from chainwarden.index_client import IndexClient, IndexClientError, ProjectNotFound
from chainwarden.models import Evidence, Finding, Location, Severity, Trigger, Unscanned
from chainwarden.rules import Rule
from chainwarden.rules import gate as rules

if TYPE_CHECKING:
    from chainwarden.gate.config import GatePolicy
    from chainwarden.inventory.model import Package


@dataclass(frozen=True, slots=True)
class GateCheck:
    findings: tuple[Finding, ...]
    unscanned: tuple[Unscanned, ...]


def _finding(rule: Rule, pkg: Package, message: str, severity: Severity | None = None) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=severity or rule.severity,
        message=message,
        location=Location(artifact=pkg.source or "inventory", path=pkg.source),
        trigger=Trigger.INSTALL,
        evidence=Evidence(snippet=f"{pkg.key}=={pkg.version}"),
        analyzer="gate",
        analyzer_version="1",
    )


def check_packages(
    packages: tuple[Package, ...] | list[Package],
    gate: GatePolicy,
    *,
    index: IndexClient | None,
    now: dt.datetime | None = None,
) -> GateCheck:
    """Findings for every pin the gate would refuse; `index=None` (offline) skips what needs the index."""
    now = now or dt.datetime.now(dt.UTC)
    findings: list[Finding] = []
    unscanned: list[Unscanned] = []
    for pkg in packages:
        if not pkg.version:
            continue
        label = f"{pkg.key}=={pkg.version}"
        denial = gate.denial(pkg.key, pkg.version)
        if denial:
            findings.append(_finding(rules.DENIED_PACKAGE, pkg, f"{label}: {denial}"))
        if gate.require_hashes and not pkg.hashes:
            findings.append(_finding(rules.MISSING_HASH, pkg, f"{label} is pinned without a hash"))
        if index is None:
            if gate.cooldown_for(pkg.key) > 0 or gate.is_internal(pkg.key):
                unscanned.append(Unscanned(pkg.source, label, "offline: release age and public-index checks skipped"))
            continue
        try:
            findings.extend(_index_checks(pkg, gate, index, now))
        except IndexClientError as err:
            unscanned.append(Unscanned(pkg.source, label, f"index checks skipped: {err}"))
    return GateCheck(tuple(findings), tuple(unscanned))


def _index_checks(pkg: Package, gate: GatePolicy, index: IndexClient, now: dt.datetime) -> list[Finding]:
    label = f"{pkg.key}=={pkg.version}"
    out: list[Finding] = []
    if gate.is_internal(pkg.key):
        try:
            index.project(pkg.key)
        except ProjectNotFound:
            pass
        else:
            out.append(
                _finding(rules.DEPENDENCY_CONFUSION, pkg, f"{pkg.key} is internal but also exists on {index.index_url}")
            )
        return out  # an internal package's age on the public index says nothing
    cooldown = gate.cooldown_for(pkg.key)
    if cooldown <= 0:
        return out
    files = index.files(pkg.key, pkg.version)
    wanted = {h.split(":", 1)[1] for h in pkg.hashes if h.startswith("sha256:")}
    if wanted:
        files = tuple(f for f in files if f.sha256 in wanted) or files
    times = [f.uploaded for f in files]
    if not files or any(t is None for t in times):
        message = f"{label}: the index gives no upload time; the cooldown fails closed"
        out.append(_finding(rules.NO_UPLOAD_TIME, pkg, message))
        return out
    youngest = max(t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in times if t is not None)
    age = (now - youngest).total_seconds()
    if age < cooldown:
        out.append(
            _finding(
                rules.YOUNG_RELEASE,
                pkg,
                f"{label} was uploaded {human_age(max(age, 0))} ago; the minimum release age is {human_age(cooldown)}",
            )
        )
    return out
