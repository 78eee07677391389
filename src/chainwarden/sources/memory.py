"""Artifacts over archive bytes held in memory: for samples that must never touch the disk.

The detection benchmark reads malicious samples out of encrypted zips straight into memory
and scans them from there. This module wraps those bytes so that the ordinary wheel and sdist
artifacts (and their defensive archive readers) can read them: the readers only ever call
`.open("rb")` on the path they are given, and `zipfile` accepts a seekable file object.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, cast

from chainwarden.artifact import ArtifactError
from chainwarden.models import ArtifactKind, ArtifactRef
from chainwarden.sources.sdist import SDIST_SUFFIXES, SdistArtifact
from chainwarden.sources.wheel import WheelArtifact

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.archive import ArchiveLimits
    from chainwarden.artifact import Artifact


class _MemoryFile(io.BytesIO):
    """A stand-in for a `Path` to an archive: `.open("rb")` gives a fresh stream over the bytes,
    and the object itself is a seekable stream for `zipfile`."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self._data = data
        self._label = name

    def open(self, mode: str = "rb") -> io.BytesIO:
        if mode != "rb":
            msg = f"{self._label}: in-memory archives are read-only"
            raise ArtifactError(msg)
        return io.BytesIO(self._data)

    def __str__(self) -> str:
        return self._label


def artifact_kind(name: str) -> ArtifactKind | None:
    lower = name.lower()
    if lower.endswith(".whl"):
        return ArtifactKind.WHEEL
    if lower.endswith(SDIST_SUFFIXES):
        return ArtifactKind.SDIST
    return None


def open_bytes(data: bytes, name: str, *, limits: ArchiveLimits | None = None) -> Artifact:
    """A wheel or sdist artifact over `data`; `name` (the archive's file name) picks which.

    Raises `ArtifactError` for a name that is neither, or bytes that are no readable archive.
    """
    kind = artifact_kind(name)
    if kind is None:
        msg = f"{name}: not a wheel or sdist file name"
        raise ArtifactError(msg)
    sha = hashlib.sha256(data).hexdigest()
    ref = ArtifactRef(kind, f"memory:{name}", label=name, sha256=sha)
    path = cast("Path", _MemoryFile(data, name))
    if kind is ArtifactKind.WHEEL:
        return WheelArtifact(path, ref, limits=limits)
    return SdistArtifact(path, ref, limits=limits)
