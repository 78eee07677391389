"""A defensive zip reader: parses the central directory and every local header itself.

`zipfile` trusts the central directory; streaming installers trust local headers. This reader
reads both, reports every way they disagree (names, sizes, methods, hidden or overlapping
entries, data before or after the archive, several end records) and cross-checks its view with
`zipfile`'s. Member data is inflated in memory with the output bounded by the declared size,
so a lying header or a bomb stops the read instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import lzma
import stat
import struct
import threading
import zipfile
import zlib
from typing import TYPE_CHECKING, BinaryIO, NoReturn

from chainwarden.archive.common import ArchiveLimits, ArchiveReader, shadowed_path
from chainwarden.archive.zipformat import (
    BZIP2,
    CDH,
    CDH_SIG,
    DD_SIG,
    DEFLATED,
    EOCD,
    EOCD_SIG,
    FLAG_DESCRIPTOR,
    FLAG_ENCRYPTED,
    LFH,
    LFH_SIG,
    LZMA,
    MAX16,
    MAX32,
    STORED,
    SUPPORTED_METHODS,
    Z64_EOCD,
    Z64_EOCD_SIG,
    Z64_LOC_SIG,
    Z64_LOCATOR,
    Decompressor,
    End,
    Entry,
    Local,
    decode,
    make_decompressor,
    unicode_path,
    zip64_extra,
)
from chainwarden.artifact import ArtifactError
from chainwarden.models import Member, MemberKind
from chainwarden.rules import archive as rules

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from chainwarden.rules import Rule

_CHUNK = 1024 * 1024
_MAX_GAP_SCAN = 64 * 1024 * 1024
_MAX_LINK_TARGET = 4096


class ZipReader(ArchiveReader):
    """Open with `ZipReader(path, label, limits)`; raises `ArtifactError` if the file is not a
    readable zip at all (no end record, corrupt central directory, no entries)."""

    def __init__(self, path: Path, label: str, limits: ArchiveLimits | None = None) -> None:
        super().__init__(label, limits or ArchiveLimits())
        self.path = path
        self._thread = threading.local()  # each thread reads through its own file handle
        self._locals: dict[int, Local] = {}  # by local header offset
        self._by_path: dict[str, Entry] = {}
        self._members: list[Member] = []
        self._refused: dict[int, str] = {}  # id(entry) -> why it is not read; only while opening
        self._cd_truncated = False  # the member limit stopped the central directory early
        self._size = 0
        with self._session():
            self._open()

    # ----------------------------------------------------------------- structure
    @property
    def _fh(self) -> BinaryIO | None:
        fh: BinaryIO | None = getattr(self._thread, "fh", None)
        return fh

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        """Keep the file open for a batch of reads; the reader holds no file between batches."""
        if self._fh is not None:
            yield
            return
        try:
            fh = self.path.open("rb")
        except OSError as err:
            msg = f"{self.label}: cannot read: {err.strerror}"
            raise ArtifactError(msg) from err
        with fh:
            self._thread.fh = fh
            self._size = fh.seek(0, 2)
            try:
                yield
            finally:
                self._thread.fh = None

    def _pread(self, offset: int, size: int) -> bytes:
        fh = self._fh
        if offset < 0 or size <= 0 or offset >= self._size or fh is None:
            return b""
        fh.seek(offset)
        return fh.read(size)

    def _open(self) -> None:
        candidates = self._end_candidates()
        failure: ArtifactError | None = None
        for end in candidates:
            try:
                entries = self._read_central_directory(end)
            except ArtifactError as err:
                failure = failure or err
                continue
            break
        else:
            raise failure or ArtifactError(f"{self.label}: no end-of-central-directory record")
        if len(candidates) > 1:
            self.problem(
                rules.ZIP_MULTIPLE_END,
                f"{len(candidates)} end-of-central-directory records near the end; "
                "readers that search differently see different archives",
            )
        if end.end > self._size:
            self.problem(rules.ARCHIVE_TRUNCATED, "end record's comment runs past the end of the file")
        if end.concat:
            self.problem(
                rules.ZIP_HEADER_MISMATCH,
                f"central directory is {end.concat} bytes away from where the end record says; readers "
                "that trust the stored offsets see different data",
                detail=(("offset_delta", str(end.concat)),),
            )
        if not entries:
            msg = f"{self.label}: empty archive (no members)"
            raise ArtifactError(msg)
        self._check_declared(entries)
        spans = self._check_local_headers(entries)
        self._check_layout(spans, end)
        self._cross_check_zipfile(entries)
        self._index(entries)

    def _end_candidates(self) -> list[End]:
        """Every plausible end record, the one zipfile picks first (a record without comment at
        the very end, else the last signature), then the others from the end backwards."""
        if self._size < EOCD.size:
            msg = f"{self.label}: too small to be a zip archive"
            raise ArtifactError(msg)
        tail_start = max(0, self._size - MAX16 - EOCD.size)
        tail = self._pread(tail_start, self._size - tail_start)
        sigs: list[int] = []
        at = tail.find(EOCD_SIG)
        while at != -1:
            if len(tail) - at >= EOCD.size:
                sigs.append(at)
            at = tail.find(EOCD_SIG, at + 1)
        if not sigs:
            msg = f"{self.label}: no end-of-central-directory record (not a zip, or truncated)"
            raise ArtifactError(msg)
        order = sorted(sigs, reverse=True)
        exact = len(tail) - EOCD.size
        if exact in sigs and tail[-2:] == b"\0\0":
            order.remove(exact)
            order.insert(0, exact)
        return [self._parse_end(tail_start + rel, tail[rel : rel + EOCD.size]) for rel in order]

    def _parse_end(self, pos: int, record: bytes) -> End:
        _, _, _, _, entries, cd_size, cd_offset, comment_len = EOCD.unpack(record)
        record_end = pos + EOCD.size + comment_len
        loc = self._pread(pos - Z64_LOCATOR.size, Z64_LOCATOR.size)
        if len(loc) == Z64_LOCATOR.size and loc.startswith(Z64_LOC_SIG):
            z64_pos = pos - Z64_LOCATOR.size - Z64_EOCD.size
            rec = self._pread(z64_pos, Z64_EOCD.size)
            if len(rec) == Z64_EOCD.size and rec.startswith(Z64_EOCD_SIG):
                fields = Z64_EOCD.unpack(rec)
                entries, cd_size, cd_offset = fields[7], fields[8], fields[9]
                pos = z64_pos
        return End(pos, record_end, cd_offset, cd_size, entries, pos - cd_size - cd_offset)

    def _read_central_directory(self, end: End) -> list[Entry]:
        cd_start, concat = end.cd_offset + end.concat, end.concat
        if cd_start < 0 or end.cd_size < 0 or cd_start + end.cd_size > end.pos:
            msg = f"{self.label}: corrupt zip (central directory outside the file)"
            raise ArtifactError(msg)
        data = self._pread(cd_start, end.cd_size)
        entries: list[Entry] = []
        pos = 0
        while pos < len(data):
            if len(entries) >= self.limits.max_members:
                limit = self.limits.max_members
                self.problem(rules.TOO_MANY_MEMBERS, f"more than {limit} members; the rest are not scanned")
                self.skip("", f"members after the first {self.limits.max_members} not scanned")
                self._cd_truncated = True
                break
            if len(data) - pos < CDH.size or not data.startswith(CDH_SIG, pos):
                msg = f"{self.label}: corrupt zip central directory at entry {len(entries) + 1}"
                raise ArtifactError(msg)
            f = CDH.unpack_from(data, pos)
            made_by, flags, method, crc, csize, usize = f[1], f[3], f[4], f[7], f[8], f[9]
            nlen, elen, clen, eattr, offset = f[10], f[11], f[12], f[15], f[16]
            raw = data[pos + CDH.size : pos + CDH.size + nlen]
            extra = data[pos + CDH.size + nlen : pos + CDH.size + nlen + elen]
            pos += CDH.size + nlen + elen + clen
            if pos > len(data):
                msg = f"{self.label}: corrupt zip central directory (entry runs past its end)"
                raise ArtifactError(msg)
            wanted = [k for k, v in (("usize", usize), ("csize", csize), ("offset", offset)) if v == MAX32]
            z64 = zip64_extra(extra, wanted) if wanted else {}
            mode = (eattr >> 16) if (made_by >> 8) == 3 else 0  # noqa: PLR2004 - 3 = Unix
            entries.append(
                Entry(
                    name=decode(raw, flags),
                    raw_name=raw,
                    flags=flags,
                    method=method,
                    crc=crc,
                    csize=z64.get("csize", csize),
                    usize=z64.get("usize", usize),
                    offset=z64.get("offset", offset) + concat,
                    mode=mode,
                    unicode_name=unicode_path(extra),
                )
            )
        if len(entries) != end.entries and len(entries) < self.limits.max_members:
            self.problem(
                rules.ZIP_HEADER_MISMATCH,
                f"end record counts {end.entries} entries but the central directory holds {len(entries)}",
            )
        return entries

    def _check_declared(self, entries: list[Entry]) -> None:
        lim = self.limits
        names = [e.name for e in entries]
        self.check_names(names)
        total = 0
        for e in entries:
            if "\x00" in e.name:
                self.problem(
                    rules.ZIP_HEADER_MISMATCH, f"name {e.name!r} holds a NUL byte; zipfile truncates it there", e.name
                )
            if e.unicode_name is not None and e.unicode_name != e.name:
                self.problem(
                    rules.ZIP_HEADER_MISMATCH,
                    f"unicode-path extra field names {e.unicode_name!r}, the header {e.name!r}",
                    e.name,
                )
            if e.name.endswith("/"):
                continue
            total += e.usize
            if e.usize > lim.ratio_floor_bytes and e.usize > lim.max_ratio * max(e.csize, 1):
                why = f"declares {e.usize} bytes from {e.csize} compressed (ratio over {lim.max_ratio:g})"
                self.problem(rules.ARCHIVE_BOMB, f"{e.name!r} {why}", e.name)
            if total > lim.max_total_bytes:
                self._refused[id(e)] = f"over the archive's {lim.max_total_bytes}-byte total size limit"
            elif e.usize > lim.max_member_bytes:
                why = f"declared size {e.usize} bytes is over the {lim.max_member_bytes}-byte member limit"
                self._refused[id(e)] = why
        if total > lim.max_total_bytes:
            self.problem(
                rules.ARCHIVE_BOMB, f"members declare {total} bytes in total, over the {lim.max_total_bytes}-byte limit"
            )
        elif total > lim.ratio_floor_bytes and total > lim.max_ratio * self._size:
            self.problem(
                rules.ARCHIVE_BOMB,
                f"members declare {total} bytes from a {self._size}-byte file (ratio over {lim.max_ratio:g})",
            )

    def _check_local_headers(self, entries: list[Entry]) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for e in entries:
            local = self._local_header(e)
            if local is not None:
                self._locals[e.offset] = local
                spans.append((e.offset, local.span_end, e.name))
        return spans

    def _local_header(self, e: Entry) -> Local | None:
        head = self._pread(e.offset, LFH.size)
        if len(head) < LFH.size or not head.startswith(LFH_SIG):
            self.problem(
                rules.ZIP_HEADER_MISMATCH, f"{e.name!r}: no local header where the central directory points", e.name
            )
            return None
        _, _, flags, method, _, _, crc, csize, usize, nlen, elen = LFH.unpack(head)
        raw = self._pread(e.offset + LFH.size, nlen)
        extra = self._pread(e.offset + LFH.size + nlen, elen)
        data_start = e.offset + LFH.size + nlen + elen
        differences: list[str] = []
        if raw != e.raw_name:
            differences.append(f"name {decode(raw, flags)!r}")
        if method != e.method:
            differences.append(f"method {method} (directory says {e.method})")
        if (flags ^ e.flags) & FLAG_ENCRYPTED:
            differences.append("encryption flag")
        z64 = zip64_extra(extra, ["usize", "csize"]) if MAX32 in (usize, csize) else {}
        usize, csize = z64.get("usize", usize), z64.get("csize", csize)
        described = bool(flags & FLAG_DESCRIPTOR)
        if not described or (crc, csize, usize) != (0, 0, 0):
            for label, local_value, cd_value in (
                ("crc", crc, e.crc),
                ("compressed size", csize, e.csize),
                ("size", usize, e.usize),
            ):
                if local_value != cd_value:
                    differences.append(f"{label} {local_value} (directory says {cd_value})")
        span_end = data_start + e.csize
        if described:
            span_end += self._descriptor(e, span_end, wide=bool(z64), differences=differences)
        if differences:
            self.problem(
                rules.ZIP_HEADER_MISMATCH,
                f"{e.name!r}: local header disagrees with the central directory: {', '.join(differences)}",
                e.name,
                detail=tuple(("difference", d) for d in differences),
            )
        if span_end > self._size:
            self.problem(rules.ARCHIVE_TRUNCATED, f"{e.name!r}: data runs past the end of the file", e.name)
        return Local(data_start, span_end)

    def _descriptor(self, e: Entry, at: int, *, wide: bool, differences: list[str]) -> int:
        fmt = "<LQQ" if wide else "<LLL"
        size = struct.calcsize(fmt)
        raw = self._pread(at, 4 + size)
        skip = 4 if raw.startswith(DD_SIG) else 0
        body = raw[skip : skip + size]
        if len(body) < size:
            differences.append("data descriptor missing")
            return 0
        crc, csize, usize = struct.unpack(fmt, body)
        if (crc, csize, usize) != (e.crc, e.csize, e.usize):
            differences.append("data descriptor values")
        return skip + size

    def _check_layout(self, spans: list[tuple[int, int, str]], end: End) -> None:
        cd_start = end.cd_offset + end.concat
        spans.sort()
        covered: list[tuple[int, int]] = []
        prev_end, prev_name = 0, ""
        for start, stop, name in spans:
            if start < prev_end:
                self.problem(rules.ZIP_OVERLAP, f"{name!r} overlaps the data of {prev_name!r}", name)
            if stop > prev_end:
                prev_end, prev_name = stop, name
            covered.append((start, stop))
        if prev_end > cd_start:
            self.problem(rules.ZIP_OVERLAP, f"{prev_name!r} overlaps the central directory", prev_name)
        covered += [(cd_start, cd_start + end.cd_size), (end.pos, end.end)]
        pos = 0
        for start, stop in sorted(covered):
            # Past the member limit, the entries not parsed lie between the parsed ones: not hidden.
            if start > pos and (pos == 0 or not self._cd_truncated):
                self._gap(pos, start, where="prepended before the first entry" if pos == 0 else "between entries")
            pos = max(pos, stop)
        if self._size > end.end:  # (a comment running past the end was reported already)
            self._gap(end.end, self._size, where="appended after the end record")

    def _gap(self, start: int, stop: int, *, where: str) -> None:
        hidden = self._find_local_headers(start, stop)
        for offset in hidden:
            head = self._pread(offset, LFH.size)
            name = ""
            if len(head) == LFH.size:
                flags, nlen = LFH.unpack(head)[2], LFH.unpack(head)[9]
                name = decode(self._pread(offset + LFH.size, nlen), flags)
            self.problem(
                rules.ZIP_HIDDEN_ENTRY,
                f"local header for {name!r} at offset {offset} is not in the central directory",
                name,
                detail=(("offset", str(offset)),),
            )
        self.problem(rules.EXTRA_DATA, f"{stop - start} bytes {where}", detail=(("offset", str(start)),))

    def _find_local_headers(self, start: int, stop: int) -> list[int]:
        found: list[int] = []
        pos = start
        stop = min(stop, start + _MAX_GAP_SCAN)
        while pos < stop:
            chunk = self._pread(pos, min(_CHUNK, stop - pos) + 3)
            at = chunk.find(LFH_SIG)
            while at != -1 and pos + at < stop:
                found.append(pos + at)
                at = chunk.find(LFH_SIG, at + 1)
            pos += _CHUNK
        return found

    def _cross_check_zipfile(self, entries: list[Entry]) -> None:
        """Python's own reader (what pip uses) must see the same names in the same order."""
        try:
            with zipfile.ZipFile(self.path) as zf:
                theirs = [i.filename for i in zf.infolist()]
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            ValueError,
            EOFError,
            struct.error,
            NotImplementedError,
        ) as err:
            self.problem(rules.ZIP_HEADER_MISMATCH, f"Python's zipfile cannot read this archive: {err}")
            return
        ours = [e.name.split("\x00", 1)[0] for e in entries]
        truncated = len(ours) >= self.limits.max_members
        if (theirs[: len(ours)] if truncated else theirs) != ours:
            self.problem(
                rules.ZIP_HEADER_MISMATCH,
                f"Python's zipfile lists {len(theirs)} members, this reader {len(ours)}, or in other names",
            )

    # ------------------------------------------------------------------- members
    def _index(self, entries: list[Entry]) -> None:
        counts: dict[str, int] = {}
        for e in entries:
            counts[e.name] = counts.get(e.name, 0) + 1
        seen: dict[str, int] = {}
        for e in entries:
            if e.name.endswith("/") or stat.S_ISDIR(e.mode):
                continue
            n = seen[e.name] = seen.get(e.name, 0) + 1
            # The last copy is what an extracting installer leaves on disk; earlier copies stay visible.
            path = e.name if n == counts[e.name] else shadowed_path(e.name, n)
            self._by_path[path] = e
            self._members.append(self._member(path, e))
            if id(e) in self._refused:
                self.skip(path, self._refused[id(e)])
        self._refused.clear()

    def _member(self, path: str, e: Entry) -> Member:
        if stat.S_ISLNK(e.mode):
            target = ""
            if e.usize <= _MAX_LINK_TARGET:
                try:
                    target = self._inflate(e).decode("utf-8", "surrogateescape")
                except ArtifactError:
                    target = ""
            self.check_link(e.name, target, hard=False)
            self.skip(path, "symlink")
            return Member(path, e.usize, MemberKind.SYMLINK, link_target=target)
        if stat.S_IFMT(e.mode) not in (0, stat.S_IFREG):  # permissions alone mean a regular file
            self.problem(rules.SPECIAL_FILE, f"{e.name!r} is a special file (mode {e.mode:o})", e.name)
            self.skip(path, "special file")
            kind = MemberKind.DEVICE if stat.S_ISCHR(e.mode) or stat.S_ISBLK(e.mode) else MemberKind.OTHER
            return Member(path, 0, kind)
        if e.flags & FLAG_ENCRYPTED:
            self.problem(rules.MEMBER_UNREADABLE, f"{e.name!r} is encrypted", e.name)
            self.skip(path, "encrypted")
        elif e.method not in (STORED, DEFLATED, BZIP2, LZMA):
            self.problem(rules.MEMBER_UNREADABLE, f"{e.name!r} uses unsupported compression method {e.method}", e.name)
            self.skip(path, f"unsupported compression method {e.method}")
        return Member(path, e.usize, MemberKind.FILE)

    def members(self) -> Sequence[Member]:
        return self._members

    def read(self, path: str) -> bytes:
        e = self._by_path.get(path)
        if e is None:
            msg = f"{self.label}: no member {path!r}"
            raise ArtifactError(msg)
        if path in self._unscanned_paths:
            msg = f"{self.label}: {path!r} is not read (see unscanned)"
            raise ArtifactError(msg)
        try:
            with self._session():
                return self._inflate(e)
        except ArtifactError:
            self.skip(path, "unreadable")
            raise

    def read_all(self) -> Iterator[tuple[Member, bytes]]:
        with self._session():
            yield from super().read_all()

    def batch(self) -> contextlib.AbstractContextManager[None]:
        return self._session()

    def _inflate(self, e: Entry) -> bytes:
        local = self._locals.get(e.offset)
        if local is None:
            self._fail(rules.MEMBER_UNREADABLE, e, "has no readable local header")
        limit = e.usize
        if limit > self.limits.max_member_bytes:
            self._fail(rules.ARCHIVE_BOMB, e, f"declares {limit} bytes, over the member limit")
        decompressor = self._decompressor(e, local.data_start)
        out = bytearray()
        pos, left = local.data_start, e.csize
        if e.method == LZMA:
            header = 4 + self._lzma_header_len(pos)
            pos, left = pos + header, left - header
        pending = b""
        while True:
            if not pending and left > 0:
                pending = self._pread(pos, min(_CHUNK, left))
                if not pending:
                    self._fail(rules.ARCHIVE_TRUNCATED, e, "has data running past the end of the file")
                pos, left = pos + len(pending), left - len(pending)
            piece = self._feed(e, decompressor, pending, limit - len(out) + 1)
            rest = getattr(decompressor, "unconsumed_tail", b"")
            out += piece
            if len(out) > limit:
                why = f"inflates past its declared {limit} bytes (lying header or bomb)"
                self._fail(rules.ZIP_HEADER_MISMATCH, e, why)
            stalled = not piece and left <= 0 and rest in (b"", pending)
            if getattr(decompressor, "eof", False) or stalled or (decompressor is None and left <= 0):
                break
            pending = rest
        if len(out) != limit:
            self._fail(rules.ZIP_HEADER_MISMATCH, e, f"inflates to {len(out)} bytes, header says {limit}")
        if zlib.crc32(out) != e.crc:
            self._fail(rules.MEMBER_UNREADABLE, e, "CRC-32 does not match its data (corrupt)")
        return bytes(out)

    def _feed(self, e: Entry, decompressor: Decompressor | None, data: bytes, max_length: int) -> bytes:
        if decompressor is None:
            return data[:max_length]
        try:
            return decompressor.decompress(data, max_length)
        except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as err:
            self._fail(rules.MEMBER_UNREADABLE, e, f"has corrupt compressed data ({err})")

    def _lzma_header_len(self, data_start: int) -> int:
        head = self._pread(data_start, 4)
        return struct.unpack("<2H", head)[1] if len(head) == 4 else 0  # noqa: PLR2004

    def _decompressor(self, e: Entry, data_start: int) -> Decompressor | None:
        """None for stored data (copied as is)."""
        if e.method == STORED and e.csize != e.usize:
            self._fail(rules.ZIP_HEADER_MISMATCH, e, f"stored with {e.csize} bytes but declares {e.usize}")
        if e.method not in SUPPORTED_METHODS:
            self._fail(rules.MEMBER_UNREADABLE, e, f"uses unsupported compression method {e.method}")
        props = self._pread(data_start + 4, self._lzma_header_len(data_start)) if e.method == LZMA else b""
        try:
            return make_decompressor(e.method, props)
        except ValueError as err:
            self._fail(rules.MEMBER_UNREADABLE, e, str(err))

    def _fail(self, rule: Rule, e: Entry, why: str) -> NoReturn:
        self.problem(rule, f"{e.name!r} {why}", e.name)
        msg = f"{self.label}: {e.name!r} {why}"
        raise ArtifactError(msg)
