"""The uniform read-only view of a package that every analyzer consumes.

A source (wheel, sdist, directory, installed distribution, index release) opens an
`Artifact`; analyzers only ever see this interface. Nothing here executes package code.
"""

from __future__ import annotations

import abc
import hashlib
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from chainwarden.models import ArtifactRef, Finding, Member, PackageMetadata, Unscanned

#: Members larger than this are not read into memory; they are reported as unscanned.
DEFAULT_MAX_MEMBER_BYTES = 64 * 1024 * 1024


class ArtifactError(Exception):
    """An artifact could not be opened at all (not a zip, unreadable directory, ...)."""


class Artifact(abc.ABC):
    """A package's files and metadata, read without running anything.

    `problems` are findings about the container itself (zip parser differentials, path
    traversal, bombs) discovered while opening it; `unscanned` lists members that were
    deliberately not read (too large, special files). Both always reach the report.
    """

    ref: ArtifactRef
    metadata: PackageMetadata | None

    @abc.abstractmethod
    def members(self) -> Sequence[Member]:
        """Every regular file (and special entry, flagged by kind) in the artifact."""

    @abc.abstractmethod
    def read(self, path: str) -> bytes:
        """The bytes of one member. Raises `ArtifactError` if it cannot be read safely."""

    def read_hashed(self, path: str) -> tuple[bytes, str]:
        """The bytes of one member and their SHA-256 (hex). Sources that hash what they read
        anyway (to check RECORD) override this so a file is hashed once."""
        data = self.read(path)
        return data, hashlib.sha256(data).hexdigest()

    @property
    def problems(self) -> Sequence[Finding]:
        return ()

    @property
    def result_key(self) -> str:
        """A key under which this artifact's whole scan result may be cached, or "" when it may
        not: only for content that `ref.sha256` pins completely (a local archive), never for
        directories, environments or anything whose findings depend on outside data."""
        return ""

    @property
    def unscanned(self) -> Sequence[Unscanned]:
        return ()

    def close(self) -> None:  # noqa: B027 - optional hook, most artifacts hold nothing open
        """Release open files."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def local_archive_key(ref: ArtifactRef, *, from_index: bool) -> str:
    """`Artifact.result_key` of an archive read from a local file: its kind, digest and label.
    Downloaded from an index, findings also depend on index data (yanked, metadata): no key."""
    if from_index or not ref.sha256:
        return ""
    return f"{ref.kind}:{ref.sha256}:{ref.label}"
