"""Which earlier release a release is compared with, and fetching it from the index.

The baseline is the newest release older than the one being checked that still has a usable
file: yanked releases are skipped (and said so), pre-releases are skipped unless the release
itself is one, and a file of the same kind (a wheel with the same tags, else any wheel, else
the sdist) is preferred. When nothing usable exists the reason is returned, never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from chainwarden.artifact import ArtifactError
from chainwarden.index_client import IndexClient, IndexClientError, IndexFile
from chainwarden.models import ArtifactKind, ArtifactRef

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.artifact import Artifact
    from chainwarden.index_client import ProjectFiles
    from chainwarden.sources.base import SourceOptions


@dataclass(frozen=True, slots=True)
class Baseline:
    version: str
    file: IndexFile
    notes: tuple[str, ...] = ()


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _tags(filename: str) -> frozenset[str]:
    try:
        return frozenset(str(t) for t in parse_wheel_filename(filename)[3])
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


def _pick(  # noqa: PLR0911 - one return per preference, in order
    files: tuple[IndexFile, ...], new_filename: str
) -> tuple[IndexFile | None, str]:
    """The file to compare with, and a note when it is not the same kind."""
    wheels = [f for f in files if f.kind == "wheel"]
    sdists = [f for f in files if f.kind == "sdist"]
    if new_filename.endswith(".whl"):
        want = _tags(new_filename)
        same = [f for f in wheels if _tags(f.filename) & want]
        if same:
            return same[0], ""
        pure = [f for f in wheels if f.filename.endswith("-none-any.whl")]
        if pure or wheels:
            return (pure or wheels)[0], ""
        if sdists:
            return sdists[0], "only an sdist exists for it; files are compared by their source paths"
        return None, ""
    if sdists:
        return sdists[0], ""
    if wheels:
        return wheels[0], "only wheels exist for it; files are compared by their source paths"
    return None, ""


def choose_baseline(page: ProjectFiles, version: str, new_filename: str = "") -> Baseline | str:
    """The release to diff `version` against, or the reason there is none."""
    target = _version(version)
    if target is None:
        return f"{version!r} is not a PEP 440 version, so no earlier release can be ordered before it"
    older: list[tuple[Version, str]] = []
    for text in page.versions:
        v = _version(text)
        if v is not None and v < target and (target.is_prerelease or not v.is_prerelease):
            older.append((v, text))
    if not older:
        return f"{page.name} has no release before {version} on the index"
    notes: list[str] = []
    for _, text in sorted(older, reverse=True):
        files = page.for_version(text)
        usable = tuple(f for f in files if not f.yanked)
        if not usable:
            why = "every file is yanked" if files else "it has no files left"
            notes.append(f"{page.name} {text} skipped: {why}")
            continue
        chosen, note = _pick(usable, new_filename)
        if chosen is None:
            notes.append(f"{page.name} {text} skipped: no wheel or sdist")
            continue
        if note:
            notes.append(f"compared with {page.name} {text}: {note}")
        return Baseline(text, chosen, tuple(notes))
    return f"no usable release of {page.name} before {version} ({'; '.join(notes)})"


def open_baseline(client: IndexClient, baseline: Baseline, cache_dir: Path, *, offline: bool = False) -> Artifact:
    """Download (or reuse the cached, hash-verified copy of) the baseline file and open it."""
    from chainwarden.sources.sdist import SdistArtifact  # noqa: PLC0415 - archive readers load lazily
    from chainwarden.sources.wheel import WheelArtifact  # noqa: PLC0415

    file = baseline.file
    path = client.cached_path(file, cache_dir) if offline else client.download(file, cache_dir)
    if path is None:
        msg = f"{file.filename}: not in the cache, and offline mode forbids downloading it"
        raise ArtifactError(msg)
    if file.kind == "wheel":
        ref = ArtifactRef(ArtifactKind.WHEEL, str(path), label=file.filename, sha256=path.name)
        return WheelArtifact(path, ref, index_file=file)
    ref = ArtifactRef(ArtifactKind.SDIST, str(path), label=file.filename, sha256=path.name)
    return SdistArtifact(path, ref, index_file=file)


def previous_release(new: Artifact, options: SourceOptions) -> tuple[tuple[str, ...], Artifact] | str:
    """The previous release of `new` on the index, opened; or the reason there is none."""
    meta = new.metadata
    if meta is None or not meta.name or not meta.version:
        return f"{new.ref.label} has no name and version in its metadata, so its previous release is unknown"
    client = IndexClient(options.index_url, timeout=options.timeout)
    try:
        page = client.project(meta.name)
    except IndexClientError as err:
        return f"cannot list {meta.name} on the index: {err}"
    baseline = choose_baseline(page, meta.version, new.ref.label)
    if isinstance(baseline, str):
        return baseline
    try:
        old = open_baseline(client, baseline, options.cache_dir, offline=options.offline)
    except ArtifactError as err:
        return f"cannot fetch {baseline.file.filename}: {err}"
    return (*baseline.notes, f"compared with the previous release {meta.name} {baseline.version}"), old
