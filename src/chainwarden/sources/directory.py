"""An unpacked package directory (a source checkout, an unpacked sdist)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.artifact import DEFAULT_MAX_MEMBER_BYTES, Artifact, ArtifactError
from chainwarden.models import ArtifactKind, ArtifactRef, Member, MemberKind, Unscanned
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.metadata import metadata_from_directory

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".mypy_cache", ".ruff_cache"})


def walk_tree(root: Path, *, skip_dirs: frozenset[str] = _SKIP_DIRS) -> tuple[list[Member], list[Unscanned]]:
    """Every entry under `root` as members, without following symlinks (a symlink is a member
    of kind SYMLINK, never a way out of the tree)."""
    members: list[Member] = []
    unscanned: list[Unscanned] = []
    label = str(root)

    def onerror(err: OSError) -> None:
        rel = os.path.relpath(err.filename, root) if err.filename else "."
        unscanned.append(Unscanned(label, Path(rel).as_posix(), f"unreadable: {err.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        base = Path(dirpath)
        for name in [*sorted(filenames), *[d for d in dirnames if (base / d).is_symlink()]]:
            full = base / name
            rel = full.relative_to(root).as_posix()
            try:
                st = full.lstat()
            except OSError as err:
                unscanned.append(Unscanned(label, rel, f"unreadable: {err.strerror}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                members.append(Member(rel, 0, MemberKind.SYMLINK, link_target=str(full.readlink())))
            elif stat.S_ISREG(st.st_mode):
                members.append(Member(rel, st.st_size, MemberKind.FILE))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                members.append(Member(rel, 0, MemberKind.DEVICE))
            else:
                members.append(Member(rel, 0, MemberKind.OTHER))
    return members, unscanned


def read_regular_file(root: Path, rel: str, limit: int = DEFAULT_MAX_MEMBER_BYTES) -> bytes:
    """Read `root/rel`, refusing symlinks, special files and anything outside `root`."""
    full = root / rel
    try:
        st = full.lstat()
        if not stat.S_ISREG(st.st_mode):
            msg = f"{rel}: not a regular file"
            raise ArtifactError(msg)
        if st.st_size > limit:
            msg = f"{rel}: {st.st_size} bytes is over the {limit} byte limit"
            raise ArtifactError(msg)
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as err:
        msg = f"{rel}: {err.strerror}"
        raise ArtifactError(msg) from err


class DirectoryArtifact(Artifact):
    def __init__(self, root: Path, ref: ArtifactRef, *, max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES) -> None:
        self.root = root
        self.ref = ref
        self._max = max_member_bytes
        self._members, self._unscanned = walk_tree(root)
        self.metadata = metadata_from_directory(root)

    def members(self) -> Sequence[Member]:
        return self._members

    def read(self, path: str) -> bytes:
        return read_regular_file(self.root, path, self._max)

    @property
    def unscanned(self) -> Sequence[Unscanned]:
        return self._unscanned


class DirectorySource(Source):
    name = "directory"
    kinds = (ArtifactKind.DIRECTORY,)

    def claims(self, target: str) -> bool:
        p = Path(target)
        return p.is_dir() and not _looks_like_environment(p)

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        del options
        root = Path(target).resolve()
        if not os.access(root, os.R_OK | os.X_OK):
            msg = f"{target}: directory is not readable"
            raise ArtifactError(msg)
        yield DirectoryArtifact(root, ArtifactRef(ArtifactKind.DIRECTORY, str(root), label=root.name or str(root)))

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        return DirectoryArtifact(Path(ref.location), ref)


#: Where a Python prefix (venv, conda env, pyenv version, /usr/local) keeps its site-packages.
SITE_PACKAGES_PATTERNS = (
    "lib/python*/site-packages",
    "lib64/python*/site-packages",
    "lib/pypy*/site-packages",
    "Lib/site-packages",
)


def _looks_like_environment(p: Path) -> bool:
    """A venv (pyvenv.cfg), a Python prefix (lib/python*/site-packages) or a site-packages
    directory (holds *.dist-info) is an environment."""
    if (p / "pyvenv.cfg").is_file():
        return True
    if p.name in ("site-packages", "dist-packages"):
        return True
    if any(candidate.is_dir() for pattern in SITE_PACKAGES_PATTERNS for candidate in p.glob(pattern)):
        return True
    try:
        return any(c.suffix in (".dist-info", ".egg-info") and c.is_dir() for c in p.iterdir())
    except OSError:
        return False
