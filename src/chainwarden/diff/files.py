"""File-level diff of two artifacts: added, removed, modified and renamed files.

Paths are compared after normalising the version out of them (`pkg-1.0.dist-info/` and
`pkg-1.1.dist-info/` are the same directory), and a file whose only change is the version
string (`__version__ = "1.0"` -> `"1.1"`) is "version-only", not modified. Renames are paired
by identical content (after the same version normalisation). Reading is bounded by the
artifact's own limits; a file that cannot be read is reported, never assumed unchanged.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.artifact import ArtifactError
from chainwarden.models import ArtifactKind, MemberKind

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact
    from chainwarden.models import Member

#: Files every build regenerates; their changes say nothing about the code.
_GENERATED = re.compile(r"(^|/)(RECORD|RECORD\.jws|RECORD\.p7s|WHEEL|INSTALLER|REQUESTED|direct_url\.json)$")


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    RENAMED = "renamed"
    VERSION_ONLY = "version-only"  # differs only by the version string


@dataclass(frozen=True, slots=True)
class FileChange:
    kind: ChangeKind
    path: str  # the new path (the old one for REMOVED)
    old_path: str = ""
    size: int = 0


@dataclass(frozen=True, slots=True)
class FileSide:
    """One artifact's files: normalised path -> (real path, sha256 of version-normalised bytes,
    sha256 of the bytes, size)."""

    version: str
    files: dict[str, tuple[str, str, str, int]]
    unreadable: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FileDiff:
    changes: tuple[FileChange, ...]
    unreadable: tuple[tuple[str, str], ...]  # (path, reason) on either side
    old_files: int
    new_files: int
    cross_kind: bool = False  # a wheel compared with an sdist: paths are source-relative

    def of(self, *kinds: ChangeKind) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    @property
    def renames(self) -> dict[str, str]:
        """New path -> old path for renamed files."""
        return {c.path: c.old_path for c in self.changes if c.kind is ChangeKind.RENAMED}

    @property
    def changed_paths(self) -> frozenset[str]:
        """New-side paths whose content is new or different (added, modified)."""
        return frozenset(c.path for c in self.changes if c.kind in (ChangeKind.ADDED, ChangeKind.MODIFIED))


def normalise_path(path: str, version: str) -> str:
    """Take the version out of a path so that the same file matches across releases."""
    if not version:
        return path
    out = path.replace(f"-{version}.dist-info/", "-{version}.dist-info/")
    out = out.replace(f"-{version}.data/", "-{version}.data/")
    out = out.replace(f"-{version}.egg-info/", "-{version}.egg-info/")
    head, sep, rest = out.partition("/")
    if sep and head.endswith(f"-{version}"):  # an sdist's top directory: name-1.0/
        out = head[: -len(version)] + "{version}/" + rest
    return out


def _version_pattern(version: str) -> re.Pattern[bytes]:
    # Whole version tokens only: "1.0" must not match inside "11.0" or "1.0.3".
    return re.compile(rb"(?<![0-9A-Za-z.])" + re.escape(version.encode()) + rb"(?!\.?[0-9])")


def _content_keys(data: bytes, version: str, pattern: re.Pattern[bytes] | None) -> tuple[str, str]:
    raw = hashlib.sha256(data).hexdigest()
    if pattern is None or version.encode() not in data:
        return raw, raw
    return hashlib.sha256(pattern.sub(b"\0{version}\0", data)).hexdigest(), raw


_SOURCE_ONLY = re.compile(r"(^|/)(PKG-INFO|setup\.py|setup\.cfg|pyproject\.toml|MANIFEST\.in)$|\.(egg-info|dist-info)/")


def source_path(artifact: Artifact, member: Member) -> str:
    """Where a member sits relative to the import root, for comparing a wheel with an sdist;
    "" for packaging files that only one kind has."""
    path = member.path
    if artifact.ref.kind is ArtifactKind.SDIST:
        path = path.split("/", 1)[1] if "/" in path else ""
        path = path.removeprefix("src/")
    elif member.install_path:
        path = member.install_path
    return "" if not path or _SOURCE_ONLY.search(path) else path


def read_side(artifact: Artifact, version: str, *, source_paths: bool = False) -> FileSide:
    files: dict[str, tuple[str, str, str, int]] = {}
    unreadable: list[tuple[str, str]] = []
    pattern = _version_pattern(version) if version else None
    for member in artifact.members():
        key_path = source_path(artifact, member) if source_paths else member.path
        if not key_path:
            continue
        if member.kind is not MemberKind.FILE:
            if member.kind is MemberKind.SYMLINK:
                key = hashlib.sha256(b"symlink\0" + member.link_target.encode("utf-8", "surrogatepass")).hexdigest()
                files[normalise_path(key_path, version)] = (member.path, key, key, 0)
            continue
        try:
            data = artifact.read(member.path)
        except ArtifactError as err:
            unreadable.append((member.path, str(err)))
            continue
        norm, raw = _content_keys(data, version, pattern)
        files[normalise_path(key_path, version)] = (member.path, norm, raw, len(data))
    return FileSide(version, files, tuple(unreadable))


def diff_files(old: Artifact, new: Artifact, old_version: str, new_version: str) -> FileDiff:
    """Compare every file of `old` and `new`."""
    kinds = {old.ref.kind, new.ref.kind}
    cross = ArtifactKind.SDIST in kinds and len(kinds) > 1
    a = read_side(old, old_version, source_paths=cross)
    b = read_side(new, new_version, source_paths=cross)
    changes: list[FileChange] = []
    removed = {k: v for k, v in a.files.items() if k not in b.files and not _GENERATED.search(k)}
    added = {k: v for k, v in b.files.items() if k not in a.files and not _GENERATED.search(k)}
    for key in sorted(a.files.keys() & b.files.keys()):
        old_path, old_hash, old_raw, _ = a.files[key]
        new_path, new_hash, new_raw, size = b.files[key]
        if _GENERATED.search(key):
            continue
        if old_hash != new_hash:
            changes.append(FileChange(ChangeKind.MODIFIED, new_path, old_path, size))
        elif old_raw != new_raw:
            changes.append(FileChange(ChangeKind.VERSION_ONLY, new_path, old_path, size))
    by_hash: dict[str, list[str]] = {}
    for key, (_, digest, _, _) in removed.items():
        by_hash.setdefault(digest, []).append(key)
    for key in sorted(added):
        new_path, digest, _, size = added[key]
        candidates = by_hash.get(digest)
        if candidates and size > 0:
            old_key = candidates.pop(0)
            changes.append(FileChange(ChangeKind.RENAMED, new_path, removed.pop(old_key)[0], size))
        else:
            changes.append(FileChange(ChangeKind.ADDED, new_path, "", size))
    changes.extend(FileChange(ChangeKind.REMOVED, path, path, size) for path, _, _, size in removed.values())
    order = {ChangeKind.ADDED: 0, ChangeKind.MODIFIED: 1, ChangeKind.RENAMED: 2, ChangeKind.REMOVED: 3}
    changes.sort(key=lambda c: (order.get(c.kind, 4), c.path))
    return FileDiff(
        changes=tuple(changes),
        unreadable=a.unreadable + b.unreadable,
        old_files=len(a.files),
        new_files=len(b.files),
        cross_kind=cross,
    )
