"""Safe, in-memory readers for the archives packages ship in (zip, tar.gz, tar.bz2, tar.xz).

`open_archive` picks the reader from the file's bytes. Readers never extract to disk, enforce
`ArchiveLimits`, and report structural problems (path traversal, links, special files,
duplicates, zip parser differentials, bombs) as findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.archive.common import ArchiveLimits, ArchiveReader, sniff_format
from chainwarden.archive.tarreader import TarReader
from chainwarden.archive.zipreader import ZipReader

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ArchiveLimits", "ArchiveReader", "TarReader", "ZipReader", "open_archive"]


def open_archive(path: Path, label: str, limits: ArchiveLimits | None = None) -> ArchiveReader:
    """A reader for the zip or tar archive at `path`; `ArtifactError` if it is neither."""
    if sniff_format(path) == "zip":
        return ZipReader(path, label, limits)
    return TarReader(path, label, limits)
