"""Write zip files byte by byte, so tests can make the central directory and local headers lie.

`zipfile` refuses to write inconsistent archives; hostile ones (parser differentials, hidden
entries, overlapping data, lying sizes) are built here instead:

    data = build_zip([RawEntry("a.py", b"x = 1\\n", local_name=b"b.py")])
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

STORED, DEFLATED = 0, 8


@dataclass
class RawEntry:
    """One entry. Every `*_override` replaces what would be written in that header field."""

    name: str
    data: bytes
    method: int = DEFLATED
    mode: int = 0o100644  # unix mode in the external attributes (S_IFLNK | 0o777 for a symlink)
    in_central_directory: bool = True  # False: a local header no central record points to
    local_name: bytes | None = None
    local_method: int | None = None
    local_usize: int | None = None
    local_csize: int | None = None
    cd_usize: int | None = None
    cd_csize: int | None = None
    cd_offset: int | None = None  # point the central record at another offset (overlaps)
    crc: int | None = None
    unicode_path: str | None = None  # Info-ZIP unicode path extra field (0x7075)
    compressed: bytes | None = None  # raw data to store instead of compressing `data`
    flags: int = 0  # extra general-purpose flag bits (0x1: encrypted, 0x800: UTF-8 names)
    raw_name: bytes | None = None  # the name's bytes as written, instead of `name` encoded


def _compress(entry: RawEntry) -> bytes:
    if entry.compressed is not None:
        return entry.compressed
    if entry.method == DEFLATED:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(entry.data) + c.flush()
    return entry.data


def build_zip(
    entries: list[RawEntry],
    *,
    prepend: bytes = b"",
    append: bytes = b"",
    between: bytes = b"",
    comment: bytes = b"",
    offsets_include_prepend: bool = True,
    eocd_entries: int | None = None,
) -> bytes:
    """The archive's bytes. `prepend`/`append` add data before the first local header or after
    the end record; `between` goes between the last entry and the central directory."""
    out = bytearray(prepend)
    central = bytearray()
    count = 0
    for entry in entries:
        raw_name = entry.raw_name if entry.raw_name is not None else entry.name.encode()
        payload = _compress(entry)
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        usize, csize = len(entry.data), len(payload)
        flags = (0x800 if not entry.name.isascii() else 0) | entry.flags
        offset = len(out) - (0 if offsets_include_prepend else len(prepend))
        local_name = entry.local_name if entry.local_name is not None else raw_name
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            flags,
            entry.local_method if entry.local_method is not None else entry.method,
            0,
            0x21,
            crc,
            entry.local_csize if entry.local_csize is not None else csize,
            entry.local_usize if entry.local_usize is not None else usize,
            len(local_name),
            0,
        )
        out += local_name + payload
        if not entry.in_central_directory:
            continue
        extra = b""
        if entry.unicode_path is not None:
            body = b"\x01" + struct.pack("<L", zlib.crc32(raw_name)) + entry.unicode_path.encode()
            extra = struct.pack("<2H", 0x7075, len(body)) + body
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            (3 << 8) | 20,
            20,
            flags,
            entry.method,
            0,
            0x21,
            crc,
            entry.cd_csize if entry.cd_csize is not None else csize,
            entry.cd_usize if entry.cd_usize is not None else usize,
            len(raw_name),
            len(extra),
            0,
            0,
            0,
            entry.mode << 16,
            entry.cd_offset if entry.cd_offset is not None else offset,
        )
        central += raw_name + extra
        count += 1
    out += between
    cd_offset = len(out) - (0 if offsets_include_prepend else len(prepend))
    out += central
    total = count if eocd_entries is None else eocd_entries
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total, total, len(central), cd_offset, len(comment))
    out += comment + append
    return bytes(out)
