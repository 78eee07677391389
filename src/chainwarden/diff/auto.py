"""The automatic release diff behind `scan NAME==VERSION`: each scanned release is compared
with its previous release on the index, and the result leads with what is new.

One call per scan result: `with_previous_release(result, scanner, source_options)` reopens the
artifact the result came from (a wheel or sdist in the download cache), finds and fetches the
previous release, diffs the two (the facts cache makes the shared files free) and returns the
result with the diff's findings first. When there is no usable previous release the result
gains a `CW606` note instead; nothing is ever dropped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.artifact import ArtifactError
from chainwarden.diff.baseline import previous_release
from chainwarden.diff.release import ReleaseDiff, diff_artifacts, no_baseline_finding
from chainwarden.models import ArtifactKind, ArtifactResult, ScanReport

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact
    from chainwarden.engine import Scanner
    from chainwarden.models import Finding
    from chainwarden.sources.base import SourceOptions


def reopen(result: ArtifactResult) -> Artifact:
    """The wheel or sdist a scan result came from, opened again from its location."""
    from chainwarden.sources.sdist import SdistArtifact  # noqa: PLC0415 - archive readers load lazily
    from chainwarden.sources.wheel import WheelArtifact  # noqa: PLC0415

    ref = result.ref
    if ref.kind is ArtifactKind.WHEEL:
        return WheelArtifact(Path(ref.location), ref)
    if ref.kind is ArtifactKind.SDIST:
        return SdistArtifact(Path(ref.location), ref)
    msg = f"{ref.label}: only wheels and sdists are diffed against a previous release"
    raise ArtifactError(msg)


def diff_with_previous(
    new: Artifact, scanner: Scanner, options: SourceOptions, *, new_result: ArtifactResult | None = None
) -> ReleaseDiff | Finding:
    """The diff of `new` against its previous release on the index, or a CW606 finding saying why
    there is none."""
    label = f"{new.metadata.name} {new.metadata.version}" if new.metadata else new.ref.label
    previous = previous_release(new, options)
    if isinstance(previous, str):
        return no_baseline_finding(label, previous)
    notes, old = previous
    with old:
        diff = diff_artifacts(old, new, scanner, new_result=new_result)
    return dataclasses.replace(diff, notes=notes)


def with_previous_release(result: ArtifactResult, scanner: Scanner, options: SourceOptions) -> ArtifactResult:
    """`result` with the release diff's findings first (see the module docstring)."""
    try:
        new = reopen(result)
    except ArtifactError as err:
        return _prepend(result, (no_baseline_finding(result.name, str(err)),))
    with new:
        outcome = diff_with_previous(new, scanner, options, new_result=result)
    if isinstance(outcome, ReleaseDiff):
        return _prepend(result, outcome.findings)
    return _prepend(result, (outcome,))


def _prepend(result: ArtifactResult, findings: tuple[Finding, ...]) -> ArtifactResult:
    own = {f.evidence_hash for f in result.findings}
    new = tuple(f for f in findings if f.evidence_hash not in own)
    return dataclasses.replace(result, findings=(*new, *result.findings))


def from_index(result: ArtifactResult, options: SourceOptions) -> bool:
    """Did this result come from a `NAME==VERSION` download (a file in the download cache)?"""
    return result.ref.kind in (ArtifactKind.WHEEL, ArtifactKind.SDIST) and (
        Path(result.ref.location).parent == options.cache_dir / "files"
    )


def with_previous_releases(
    report: ScanReport, scanner: Scanner, options: SourceOptions, *, max_per_release: int = 4
) -> ScanReport:
    """`report` with every `NAME==VERSION` result diffed against its previous release (what
    `scan` does unless `--no-diff`). A release with many files (one wheel per platform) has at
    most `max_per_release` of them diffed, pure-Python wheels and the sdist first; the others
    get a CW606 note saying so."""
    per_release: dict[str, int] = {}
    order = sorted(range(len(report.results)), key=lambda i: _preference(report.results[i]))
    chosen: set[int] = set()
    for i in order:
        result = report.results[i]
        if not from_index(result, options):
            continue
        key = result.name
        if per_release.get(key, 0) < max_per_release:
            per_release[key] = per_release.get(key, 0) + 1
            chosen.add(i)
    results: list[ArtifactResult] = []
    for i, result in enumerate(report.results):
        if i in chosen:
            results.append(with_previous_release(result, scanner, options))
        elif from_index(result, options):
            note = f"not diffed: only {max_per_release} files of a release are compared with its predecessor"
            results.append(_prepend(result, (no_baseline_finding(result.name, note),)))
        else:
            results.append(result)
    return dataclasses.replace(report, results=tuple(results))


def _preference(result: ArtifactResult) -> tuple[int, str]:
    label = result.ref.label
    if label.endswith("-none-any.whl"):
        return (0, label)
    if result.ref.kind is ArtifactKind.SDIST:
        return (1, label)
    return (2, label)
