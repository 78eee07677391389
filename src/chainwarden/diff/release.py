"""The release diff of two open artifacts, through the scan engine, as findings and headlines.

Both sides go through the same `Scanner`; its content-hash facts cache means the files the two
releases share are extracted once, so a diff against an already-scanned predecessor costs only
the changed files. The result leads with what is new: startup hooks first, then capabilities
reachable from automatic triggers, then binaries, install hooks, entry points, dependencies.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainwarden.diff.capabilities import (
    CapabilityChange,
    capability_findings,
    describe_capability,
    new_capabilities,
    raises_cw600,
    structural_findings,
)
from chainwarden.diff.files import ChangeKind, FileDiff, diff_files
from chainwarden.models import ArtifactResult, ArtifactStats, Evidence, Finding, Location, ScanReport, Unscanned
from chainwarden.rules.core import ANALYZER_ERROR
from chainwarden.rules.diff import (
    ENTRY_POINTS_CHANGED,
    NEW_AUTO_CAPABILITY,
    NEW_BINARY,
    NEW_DEPENDENCY,
    NEW_INSTALL_HOOK,
    NEW_STARTUP_HOOK,
    NO_BASELINE,
)
from chainwarden.rules.provenance import MAINTAINER_CHANGED

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact
    from chainwarden.engine import Scanner

#: The order in which kinds of change are told: what runs with least help first.
_HEADLINE_ORDER = {
    NEW_STARTUP_HOOK.id: 0,
    NEW_AUTO_CAPABILITY.id: 1,
    NEW_BINARY.id: 2,
    NEW_INSTALL_HOOK.id: 3,
    ENTRY_POINTS_CHANGED.id: 4,
    NEW_DEPENDENCY.id: 5,
    MAINTAINER_CHANGED.id: 6,
}


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    """Everything one diff found. `findings` are the diff's own findings, most important first."""

    old_label: str
    new_label: str
    files: FileDiff
    capabilities: tuple[CapabilityChange, ...]
    findings: tuple[Finding, ...]
    headlines: tuple[str, ...]
    unscanned: tuple[Unscanned, ...] = ()
    new_result: ArtifactResult | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        f = self.files
        counts = [
            (len(f.of(ChangeKind.ADDED)), "added"),
            (len(f.of(ChangeKind.MODIFIED)), "modified"),
            (len(f.of(ChangeKind.RENAMED)), "renamed"),
            (len(f.of(ChangeKind.REMOVED)), "removed"),
            (len(f.of(ChangeKind.VERSION_ONLY)), "changed only in the version string"),
        ]
        parts = [f"{n} {word}" for n, word in counts if n]
        return f"{self.old_label} -> {self.new_label}: " + (", ".join(parts) if parts else "no file changes")


def _label(artifact: Artifact) -> str:
    meta = artifact.metadata
    return f"{meta.name} {meta.version}" if meta and meta.name else artifact.ref.label


def _version(artifact: Artifact) -> str:
    return artifact.metadata.version if artifact.metadata else ""


def diff_artifacts(
    old: Artifact,
    new: Artifact,
    scanner: Scanner | None = None,
    *,
    new_result: ArtifactResult | None = None,
    old_result: ArtifactResult | None = None,
) -> ReleaseDiff:
    """Diff two open artifacts. Without a scanner only structural changes are reported.
    `new_result` / `old_result` are scan results the caller already has (a stored scan of the
    previous release saves its judge step, which the facts cache does not cover)."""
    started = time.perf_counter()
    label = _label(new)
    files = diff_files(old, new, _version(old), _version(new))
    old_findings: tuple[Finding, ...] = ()
    unscanned = [Unscanned(label, path, f"not compared: {reason}") for path, reason in files.unreadable]
    if scanner is not None:
        if old_result is None:
            old_result = scanner.scan_artifact(old)
        if new_result is None:
            new_result = scanner.scan_artifact(new)
        old_findings = old_result.findings
        unscanned.extend(new_result.unscanned)
    changes = new_capabilities(old_findings, new_result.findings if new_result else (), files.renames)
    gained = capability_findings(changes, label)
    findings = [*structural_findings(old, new, files, label), *gained]
    # Other new findings (not automatic, or below medium) are still news and keep their own rule,
    # unless a CW600 for the same file and trigger already tells it.
    covered = {(f.location.path, f.trigger) for f in gained}
    findings.extend(
        c.finding
        for c in changes
        if not raises_cw600(c) and (c.finding.location.path, c.finding.trigger) not in covered
    )
    # Scan errors on the new side are never hidden behind "nothing changed".
    if new_result is not None:
        findings.extend(f for f in new_result.findings if f.rule_id == ANALYZER_ERROR.id)
    findings.sort(key=_order)
    return ReleaseDiff(
        old_label=_label(old),
        new_label=label,
        files=files,
        capabilities=tuple(changes),
        findings=tuple(findings),
        headlines=tuple(_headlines(findings, files)),
        unscanned=tuple(unscanned),
        new_result=new_result,
        seconds=round(time.perf_counter() - started, 4),
    )


def _order(finding: Finding) -> tuple[int, int, int, str]:
    return (_HEADLINE_ORDER.get(finding.rule_id, 9), -finding.trigger.rank, -finding.severity, finding.location.path)


def _headlines(findings: list[Finding], files: FileDiff) -> list[str]:
    """One line per change, in `findings` order. The new capabilities of one file at one trigger
    share a line; those of a file the release adds or turns into a startup hook are folded into
    that file's line."""
    added = {c.path for c in files.of(ChangeKind.ADDED)}
    lines: list[str] = []
    hook_line: dict[str, int] = {}
    caps_line: dict[tuple[str, str], int] = {}
    merged: dict[int, tuple[str, list[Finding]]] = {}  # line index -> (prefix, capability findings)
    for f in findings:
        path = f.location.path
        if f.rule_id == NEW_STARTUP_HOOK.id:
            hook_line[path] = len(lines)
            merged[len(lines)] = (f.message + ": ", [])
            lines.append(f.message)
        elif f.rule_id == NEW_AUTO_CAPABILITY.id:
            if path in hook_line:
                merged[hook_line[path]][1].append(f)
                continue
            key = (path, f.trigger.value)
            if key not in caps_line:
                caps_line[key] = len(lines)
                prefix = f"adds `{path}`, with " if path in added else f"`{path}` gains "
                merged[len(lines)] = (prefix, [])
                lines.append("")
            merged[caps_line[key]][1].append(f)
        else:
            lines.append(f.message)
    for index, (prefix, group) in merged.items():
        if group:
            combined = dataclasses.replace(
                group[0], capabilities=tuple(dict.fromkeys(c for g in group for c in g.capabilities))
            )
            phrase = describe_capability(combined)
            if lines[index] and index in hook_line.values():
                phrase = phrase.split(" reachable ")[0]
            lines[index] = prefix + phrase
    return lines


def as_report(diff: ReleaseDiff, *, tool_version: str, started: str) -> ScanReport:
    """The diff as a scan report (one result, the new artifact, holding only what changed), so
    every report format and the policy work on it unchanged."""
    ref = diff.new_result.ref if diff.new_result else None
    meta = diff.new_result.metadata if diff.new_result else None
    if ref is None:
        from chainwarden.models import ArtifactKind, ArtifactRef  # noqa: PLC0415 - only for scanner-less diffs

        ref = ArtifactRef(ArtifactKind.FILE, "", diff.new_label)
    stats = diff.new_result.stats if diff.new_result else ArtifactStats(files=diff.files.new_files)
    result = ArtifactResult(ref=ref, metadata=meta, findings=diff.findings, unscanned=diff.unscanned, stats=stats)
    return ScanReport(tool_version=tool_version, started=started, results=(result,), seconds=diff.seconds)


def no_baseline_finding(label: str, reason: str) -> Finding:
    """CW606: the diff could not be done; said, never passed over."""
    return Finding(
        rule_id=NO_BASELINE.id,
        severity=NO_BASELINE.severity,
        message=f"no release diff: {reason}",
        location=Location(artifact=label),
        evidence=Evidence(snippet=reason),
        analyzer="diff",
        analyzer_version="1",
    )
