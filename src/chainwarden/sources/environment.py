"""An installed environment (a venv or a site-packages directory), read from disk, never imported.

Each `*.dist-info` / `*.egg-info` becomes one INSTALLED artifact holding the files its RECORD
(or `installed-files.txt`) lists; every other file in site-packages (what post-install
persistence leaves behind: a `.pth`, `sitecustomize.py`, ...) goes into one UNOWNED artifact.
Ownership only decides which artifact holds a file; analyzers judge content, so a
RECORD-owned `.pth` is judged exactly like an orphan one.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.archive.common import make_finding
from chainwarden.artifact import DEFAULT_MAX_MEMBER_BYTES, Artifact, ArtifactError
from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    Finding,
    Member,
    MemberKind,
    PackageMetadata,
    Severity,
    Unscanned,
)
from chainwarden.rules import archive as rules
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.directory import (
    SITE_PACKAGES_PATTERNS,
    _looks_like_environment,
    read_regular_file,
    walk_tree,
)
from chainwarden.sources.metadata import parse_core_metadata, parse_record
from chainwarden.sources.wheel import FileDigest, HashedReads, check_record

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_META_SUFFIXES = (".dist-info", ".egg-info")
_SKIP_DIRS = frozenset({"__pycache__"})
_STARTUP_MODULES = ("sitecustomize.py", "usercustomize.py")


@dataclass(frozen=True, slots=True)
class _Distribution:
    """One distribution's metadata and the paths (relative to site-packages) it owns."""

    meta_dir: str
    metadata: PackageMetadata | None
    owned: frozenset[str]
    problems: tuple[Finding, ...] = field(default=())


def site_packages_dirs(root: Path) -> list[Path]:
    """The site-packages directories of a venv or Python prefix, or `root` itself if it is one."""
    if not root.is_dir():
        msg = f"{root}: not a directory" if root.exists() else f"{root}: no such directory"
        raise ArtifactError(msg)
    found: dict[Path, Path] = {}
    for pattern in SITE_PACKAGES_PATTERNS:
        for candidate in sorted(root.glob(pattern)):
            if candidate.is_dir():
                found.setdefault(candidate.resolve(), candidate)
    if found:
        return list(found.values())
    if (root / "pyvenv.cfg").is_file():
        msg = f"{root}: virtual environment without a lib/python*/site-packages directory"
        raise ArtifactError(msg)
    return [root]


def _list_dir(site: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in os.scandir(site))
    except OSError as err:
        msg = f"{site}: site-packages is not readable: {err.strerror}"
        raise ArtifactError(msg) from err


def _inside(path: str) -> str | None:
    """`path` normalized relative to site-packages, or None if it points outside."""
    norm = posixpath.normpath(path.replace("\\", "/"))
    if norm.startswith(("/", "../")) or norm in ("..", "."):
        return None
    return norm


def _read_small(site: Path, rel: str) -> bytes | None:
    try:
        return read_regular_file(site, rel)
    except ArtifactError:
        return None


def _dir_files(site: Path, rel: str) -> set[str]:
    members, _ = walk_tree(site / rel, skip_dirs=_SKIP_DIRS)
    return {f"{rel}/{m.path}" for m in members}


def load_distribution(site: Path, meta_dir: str) -> _Distribution:
    """Read one `.dist-info` / `.egg-info` (directory or file). Broken metadata becomes findings."""
    label = meta_dir
    problems: list[Finding] = []

    def broken(message: str, path: str, severity: Severity | None = None) -> None:
        problems.append(make_finding(rules.INSTALLED_METADATA_BROKEN, message, label, path, severity=severity))

    if (site / meta_dir).is_file():  # distutils writes a single PKG-INFO-style file
        data = _read_small(site, meta_dir)
        meta = parse_core_metadata(data) if data is not None else None
        if meta is None:
            broken(f"{meta_dir} cannot be read", meta_dir)
        return _Distribution(meta_dir, meta, frozenset({meta_dir}), tuple(problems))
    is_wheel_style = meta_dir.endswith(".dist-info")
    meta_name = "METADATA" if is_wheel_style else "PKG-INFO"
    data = _read_small(site, f"{meta_dir}/{meta_name}")
    owned = _dir_files(site, meta_dir)
    record_bytes: bytes | None = None
    listed: list[str] = []
    if is_wheel_style:
        record_bytes = _read_small(site, f"{meta_dir}/RECORD")
        if record_bytes is not None:
            listed = [e.path for e in parse_record(record_bytes)]
    else:
        files = _read_small(site, f"{meta_dir}/installed-files.txt")
        if files is not None:
            base = meta_dir
            listed = [
                posixpath.join(base, line.strip())
                for line in files.decode("utf-8", "replace").splitlines()
                if line.strip()
            ]
    if data is None:
        broken(f"{meta_dir} has no readable {meta_name}", f"{meta_dir}/{meta_name}")
    if not listed:
        what = "RECORD" if is_wheel_style else "installed-files.txt"
        # Distro and `setup.py develop` eggs often have no file list: normal, so only informational.
        broken(
            f"{meta_dir} has no readable {what}; its files are scanned as files no RECORD owns",
            f"{meta_dir}/{what}",
            None if is_wheel_style else Severity.INFO,
        )
    entry_points = _read_small(site, f"{meta_dir}/entry_points.txt")
    meta = parse_core_metadata(data, entry_points=entry_points, record=record_bytes) if data is not None else None
    owned |= {p for p in (_inside(x) for x in listed) if p is not None}
    return _Distribution(meta_dir, meta, frozenset(owned), tuple(problems))


def _member(site: Path, rel: str) -> Member | None:
    try:
        st = (site / rel).lstat()
        target = str((site / rel).readlink()) if stat.S_ISLNK(st.st_mode) else ""
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return Member(rel, 0, MemberKind.SYMLINK, install_path=rel, link_target=target)
    if stat.S_ISREG(st.st_mode):
        return Member(rel, st.st_size, MemberKind.FILE, install_path=rel)
    if stat.S_ISDIR(st.st_mode):
        return None
    kind = MemberKind.DEVICE if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else MemberKind.OTHER
    return Member(rel, 0, kind, install_path=rel)


class _SiteArtifact(HashedReads):
    """Files under one site-packages directory; reads only its own members, never via symlinks."""

    def __init__(self, site: Path, ref: ArtifactRef, members: list[Member]) -> None:
        self.site = site
        self.ref = ref
        self._members = members
        self._paths = {m.path for m in members}
        self._read_sha256: dict[str, tuple[bytes, int]] = {}
        self._unscanned: list[Unscanned] = [
            Unscanned(ref.label, m.path, f"{m.size} bytes is over the {DEFAULT_MAX_MEMBER_BYTES}-byte member limit")
            for m in members
            if m.kind is MemberKind.FILE and m.size > DEFAULT_MAX_MEMBER_BYTES
        ]
        self._too_big = {u.path for u in self._unscanned}

    def members(self) -> Sequence[Member]:
        return self._members

    def _read(self, path: str) -> bytes:
        if path not in self._paths:
            msg = f"{self.ref.label}: no member {path!r}"
            raise ArtifactError(msg)
        return read_regular_file(self.site, path, DEFAULT_MAX_MEMBER_BYTES)

    @property
    def unscanned(self) -> Sequence[Unscanned]:
        return self._unscanned

    def _digests(self, problems: list[Finding]) -> Iterator[tuple[Member, FileDigest]]:
        """Digests of every readable file, reusing those of files already read."""
        for m in self._members:
            if m.kind is not MemberKind.FILE or m.path in self._too_big:
                continue
            try:
                yield m, self._digest_of(m.path)
            except ArtifactError as err:
                problems.append(make_finding(rules.MEMBER_UNREADABLE, str(err), self.ref.label, m.path))


class InstalledArtifact(_SiteArtifact):
    """One installed distribution: the files its RECORD lists that exist, relative to site-packages."""

    def __init__(self, site: Path, ref: ArtifactRef, dist: _Distribution) -> None:
        members = [m for m in (_member(site, p) for p in sorted(dist.owned)) if m is not None]
        super().__init__(site, ref, members)
        self.metadata = dist.metadata
        self._dist = dist
        self._checked: tuple[Finding, ...] | None = None

    @property
    def problems(self) -> Sequence[Finding]:
        if self._checked is None:
            record = f"{self._dist.meta_dir}/RECORD"
            unreadable: list[Finding] = []
            found = check_record(self.ref.label, record, self.metadata, self._digests(unreadable), (), installed=True)
            self._checked = (*self._dist.problems, *unreadable, *found)
        return self._checked


class UnownedArtifact(_SiteArtifact):
    """Every file in site-packages that no distribution owns (`__pycache__` aside), plus a
    `sitecustomize.py` / `usercustomize.py` in the stdlib directory above it (`lib/pythonX.Y/`):
    `site` imports those at every start too, so they get the `install_path` of their module."""

    metadata = None

    def __init__(self, site: Path, ref: ArtifactRef, owned: frozenset[str]) -> None:
        walked, unscanned = walk_tree(site, skip_dirs=_SKIP_DIRS)
        members = [
            Member(m.path, m.size, m.kind, install_path=m.path, link_target=m.link_target)
            for m in walked
            if m.path not in owned
        ]
        if site.parent.name.startswith(("python", "pypy")):
            for name in _STARTUP_MODULES:
                member = _member(site, f"../{name}")
                if member is not None:
                    members.append(dataclasses.replace(member, install_path=name))
        super().__init__(site, ref, members)
        self._unscanned.extend(Unscanned(ref.label, u.path, u.reason) for u in unscanned)


def _distributions(site: Path) -> list[_Distribution]:
    """Every metadata directory; a symlinked one is not followed (it shows up as an unowned link)."""
    names = [n for n in _list_dir(site) if n.endswith(_META_SUFFIXES) and not (site / n).is_symlink()]
    return [load_distribution(site, name) for name in names]


def _installed_ref(site: Path, dist: _Distribution) -> ArtifactRef:
    return ArtifactRef(ArtifactKind.INSTALLED, str(site), label=dist.meta_dir, subject=dist.meta_dir)


def _unowned_ref(site: Path) -> ArtifactRef:
    return ArtifactRef(ArtifactKind.UNOWNED, str(site), label=f"unowned files in {site}")


class EnvironmentSource(Source):
    name = "environment"
    kinds = (ArtifactKind.INSTALLED, ArtifactKind.UNOWNED)

    def claims(self, target: str) -> bool:
        path = Path(target)
        return path.is_dir() and _looks_like_environment(path)

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        del options
        for site in site_packages_dirs(Path(target).resolve()):
            dists = _distributions(site)
            for dist in dists:
                yield InstalledArtifact(site, _installed_ref(site, dist), dist)
            owned = frozenset().union(*(d.owned for d in dists))
            unowned = UnownedArtifact(site, _unowned_ref(site), owned)
            if unowned.members() or unowned.unscanned:
                yield unowned

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        site = Path(ref.location)
        if ref.kind is ArtifactKind.INSTALLED:
            return InstalledArtifact(site, ref, load_distribution(site, ref.subject))
        owned = frozenset().union(*(d.owned for d in _distributions(site)))
        return UnownedArtifact(site, ref, owned)
