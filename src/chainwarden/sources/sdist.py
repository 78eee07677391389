"""A source distribution (`.tar.gz`, `.tar.bz2`, `.tar.xz`, `.tar`, `.zip`) as an artifact.

Read in memory through the archive readers; metadata from `PKG-INFO` in the top directory
(or `pyproject.toml` when PKG-INFO is missing). Sdist members do not land in site-packages as
they are, so their `install_path` is empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.archive import ArchiveLimits, ZipReader, open_archive
from chainwarden.artifact import Artifact, ArtifactError
from chainwarden.models import ArtifactKind, ArtifactRef, Finding, PackageMetadata
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.metadata import metadata_from_pyproject, parse_core_metadata
from chainwarden.sources.wheel import ArchiveArtifact, file_sha256, local_file

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chainwarden.index_client import IndexFile

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


class SdistArtifact(ArchiveArtifact):
    """An sdist read through `open_archive` (tar of any compression, or zip)."""

    def __init__(
        self,
        path: Path,
        ref: ArtifactRef,
        *,
        limits: ArchiveLimits | None = None,
        index_file: IndexFile | None = None,
        extra_problems: Sequence[Finding] = (),
    ) -> None:
        archive = open_archive(path, ref.label, limits)
        super().__init__(ref, archive, index_file=index_file, extra_problems=extra_problems)
        self._members = list(self._archive.members())
        self._verified = not isinstance(self._archive, ZipReader)  # tar was read whole when opened
        self.metadata = self._read_metadata()

    def _top_file(self, name: str) -> str | None:
        paths = [
            m.path for m in self._members if m.path == name or (m.path.count("/") == 1 and m.path.endswith(f"/{name}"))
        ]
        return min(paths, key=len) if paths else None

    def _read_metadata(self) -> PackageMetadata | None:
        for name in ("PKG-INFO", "pyproject.toml"):
            path = self._top_file(name)
            if path is None:
                continue
            try:
                data = self._archive.read(path)
            except ArtifactError:
                continue
            return parse_core_metadata(data) if name == "PKG-INFO" else metadata_from_pyproject(data)
        return None

    def read(self, path: str) -> bytes:
        return self._archive.read(path)

    @property
    def problems(self) -> Sequence[Finding]:
        if not self._verified:
            for _ in self._archive.read_all():  # a zip's data is verified by reading it
                pass
            self._verified = True
        return (*self._given, *self._archive.problems)


class SdistSource(Source):
    name = "sdist"
    kinds = (ArtifactKind.SDIST,)

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits

    def claims(self, target: str) -> bool:
        return target.lower().endswith(SDIST_SUFFIXES) and not Path(target).is_dir()

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        del options
        path = local_file(target)
        ref = ArtifactRef(ArtifactKind.SDIST, str(path), label=path.name, sha256=file_sha256(path))
        yield SdistArtifact(path, ref, limits=self.limits)

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        return SdistArtifact(Path(ref.location), ref, limits=self.limits)
