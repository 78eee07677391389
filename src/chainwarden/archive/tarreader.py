"""A defensive tar reader (.tar, .tar.gz, .tar.bz2, .tar.xz) that never extracts to disk.

Compressed tar has no index, so the archive is streamed once when opened: regular members
within the limits are kept in memory, everything else is listed. The compression ratio and
the total size are measured while decompressing (headers are not trusted), and data after the
end-of-archive marker is reported because other tar implementations keep reading past it.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import lzma
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, cast

from chainwarden.archive.common import ArchiveLimits, ArchiveReader, shadowed_path
from chainwarden.artifact import ArtifactError
from chainwarden.models import Member, MemberKind
from chainwarden.rules import archive as rules

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

_CHUNK = 1024 * 1024
_TAR_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)


class _Bomb(Exception):  # noqa: N818 - internal signal, never escapes this module
    """Decompression crossed a limit; carries the message for the finding."""


class TarReader(ArchiveReader):
    """Open with `TarReader(path, label, limits)`; raises `ArtifactError` for a file that is not
    a tar archive at all, an empty one, or one damaged before its first member."""

    def __init__(self, path: Path, label: str, limits: ArchiveLimits | None = None) -> None:
        super().__init__(label, limits or ArchiveLimits())
        self.path = path
        self._members: list[Member] = []
        self._data: dict[str, bytes] = {}
        self._positions: dict[str, int] = {}  # path -> index in _members
        self._copies: dict[str, int] = {}  # name -> how many members carried it so far
        try:
            raw = path.open("rb")
        except OSError as err:
            msg = f"{label}: cannot read: {err.strerror}"
            raise ArtifactError(msg) from err
        with raw:
            self._raw = raw
            self._stream = _decompressed(raw)
            self._load()

    def _ratio_check(self) -> None:
        done = self._stream.tell()
        consumed = max(self._raw.tell(), 1)
        lim = self.limits
        if done > lim.max_total_bytes:
            msg = f"expands to more than {lim.max_total_bytes} bytes"
            raise _Bomb(msg)
        if done > lim.ratio_floor_bytes and done > lim.max_ratio * consumed:
            msg = f"expands {done} bytes from {consumed} compressed (ratio over {lim.max_ratio:g})"
            raise _Bomb(msg)

    def _load(self) -> None:
        names: list[str] = []
        try:
            tf = tarfile.open(fileobj=self._stream, mode="r:")  # noqa: SIM115 - closed below
        except _TAR_ERRORS as err:
            msg = f"{self.label}: not a readable tar archive ({err})"
            raise ArtifactError(msg) from err
        try:
            self._walk(tf, names)
        except _Bomb as bomb:
            self.problem(rules.ARCHIVE_BOMB, f"archive {bomb}; the rest is not scanned")
            self.skip("", f"members after {len(names)} not scanned: archive {bomb}")
        except _TAR_ERRORS as err:
            if not names:
                msg = f"{self.label}: corrupt or truncated tar archive ({err})"
                raise ArtifactError(msg) from err
            self.problem(rules.ARCHIVE_TRUNCATED, f"archive is damaged after {len(names)} members: {err}")
            self.skip("", f"members after {len(names)} not scanned: damaged archive")
        finally:
            tf.close()
        if not names:
            msg = f"{self.label}: empty archive (no members)"
            raise ArtifactError(msg)
        self.check_names(names)

    def _walk(self, tf: tarfile.TarFile, names: list[str]) -> None:
        while True:
            self._ratio_check()
            info = tf.next()
            if info is None:
                break
            if len(names) >= self.limits.max_members:
                limit = self.limits.max_members
                self.problem(rules.TOO_MANY_MEMBERS, f"more than {limit} members; the rest are not scanned")
                self.skip("", f"members after the first {self.limits.max_members} not scanned")
                return
            names.append(info.name)
            self._add(tf, info)
        self._check_trailer(tf)

    def _add(self, tf: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        if info.isdir():
            return
        name = path = info.name
        copies = self._copies[name] = self._copies.get(name, 0) + 1
        earlier = self._positions.get(name)
        if earlier is not None:
            # The last copy is what extraction leaves on disk; earlier copies stay visible, renamed.
            renamed = shadowed_path(name, copies - 1)
            self._members[earlier] = dataclasses.replace(self._members[earlier], path=renamed)
            if name in self._data:
                self._data[renamed] = self._data.pop(name)
            self.rename_unscanned(name, renamed)
        self._positions[name] = len(self._members)
        if info.issym() or info.islnk():
            self.check_link(name, info.linkname, hard=info.islnk())
            kind = MemberKind.SYMLINK if info.issym() else MemberKind.OTHER
            self._members.append(Member(path, 0, kind, link_target=info.linkname))
            self.skip(path, "symlink" if info.issym() else "hardlink")
            return
        if not info.isreg():
            self.problem(rules.SPECIAL_FILE, f"{name!r} is a {_type_name(info)}", name)
            kind = MemberKind.DEVICE if info.ischr() or info.isblk() else MemberKind.OTHER
            self._members.append(Member(path, 0, kind))
            self.skip(path, _type_name(info))
            return
        self._members.append(Member(path, info.size, MemberKind.FILE))
        keep = info.size <= self.limits.max_member_bytes
        if not keep:
            self.skip(path, f"size {info.size} bytes is over the {self.limits.max_member_bytes}-byte member limit")
        data = self._read_member(tf, info, keep=keep)
        if keep:
            self._data[path] = data

    def _read_member(self, tf: tarfile.TarFile, info: tarfile.TarInfo, *, keep: bool) -> bytes:
        """Stream the member's data in chunks, checking limits as it inflates."""
        fh = tf.extractfile(info)
        if fh is None:
            return b""
        parts: list[bytes] = []
        left = info.size
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                msg = f"unexpected end of data in {info.name!r}"
                raise tarfile.ReadError(msg)
            left -= len(chunk)
            if keep:
                parts.append(chunk)
            self._ratio_check()
        return b"".join(parts)

    def _check_trailer(self, tf: tarfile.TarFile) -> None:
        """tarfile stops at the first zero block or bad header; GNU tar can read on. Non-zero
        bytes after the end are data one reader sees and another does not."""
        del tf
        extra = 0
        while True:
            chunk = self._stream.read(_CHUNK)
            if not chunk:
                break
            if chunk.strip(b"\0"):
                extra += len(chunk.strip(b"\0"))
            self._ratio_check()
        if extra:
            self.problem(rules.EXTRA_DATA, f"{extra} non-zero bytes after the end of the tar archive")

    def members(self) -> Sequence[Member]:
        return self._members

    def read(self, path: str) -> bytes:
        data = self._data.get(path)
        if data is None:
            why = "is not read (see unscanned)" if path in self._unscanned_paths else "is not a regular member"
            msg = f"{self.label}: {path!r} {why}"
            raise ArtifactError(msg)
        return data


def _type_name(info: tarfile.TarInfo) -> str:
    if info.ischr():
        return "character device"
    if info.isblk():
        return "block device"
    if info.isfifo():
        return "FIFO"
    return f"special member (type {info.type!r})"


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    head = raw.read(6)
    raw.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw, mode="rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, mode="rb")
    return raw
