"""The zip file format as this reader needs it: header layouts, records and decompressors.

Reference: PKWARE APPNOTE.TXT. Only structure lives here; the checks are in `zipreader`.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from dataclasses import dataclass
from typing import Protocol

EOCD = struct.Struct("<4s4H2LH")
Z64_LOCATOR = struct.Struct("<4sLQL")
Z64_EOCD = struct.Struct("<4sQ2H2L4Q")
CDH = struct.Struct("<4s6H3L5H2L")
LFH = struct.Struct("<4s5H3L2H")
EOCD_SIG, Z64_LOC_SIG, Z64_EOCD_SIG = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
CDH_SIG, LFH_SIG, DD_SIG = b"PK\x01\x02", b"PK\x03\x04", b"PK\x07\x08"
MAX32, MAX16 = 0xFFFFFFFF, 0xFFFF
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_UTF8 = 0x1, 0x8, 0x800
STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14


@dataclass(frozen=True, slots=True)
class End:
    """The end-of-central-directory record (zip64 values folded in)."""

    pos: int  # where the (zip64) end records start; the central directory ends here
    end: int  # first byte after the end record and its comment
    cd_offset: int  # as stored
    cd_size: int
    entries: int
    concat: int  # bytes between where the directory is said to start and where it does


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int  # absolute offset of the local header
    mode: int  # unix mode from external attributes, 0 if none
    unicode_name: str | None  # Info-ZIP unicode path extra field


@dataclass(frozen=True, slots=True)
class Local:
    data_start: int
    span_end: int  # after data and data descriptor


class Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int, /) -> bytes: ...


def decode(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8", "surrogateescape") if flags & FLAG_UTF8 else raw.decode("cp437")


def zip64_extra(extra: bytes, wanted: list[str]) -> dict[str, int]:
    """Values from the zip64 extra field (0x0001) for the header fields that overflowed."""
    out: dict[str, int] = {}
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 1:
            for i, key in enumerate(wanted):
                if 8 * i + 8 <= len(body):
                    out[key] = struct.unpack_from("<Q", body, 8 * i)[0]
            return out
        pos += 4 + size
    return out


def unicode_path(extra: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<2H", extra, pos)
        if tag == 0x7075 and size >= 5:  # noqa: PLR2004 - version byte + crc32
            return extra[pos + 9 : pos + 4 + size].decode("utf-8", "surrogateescape")
        pos += 4 + size
    return None


SUPPORTED_METHODS = frozenset({STORED, DEFLATED, BZIP2, LZMA})


def make_decompressor(method: int, lzma_props: bytes = b"") -> Decompressor | None:
    """A streaming decompressor for `method` (None for stored); ValueError if unsupported."""
    if method == STORED:
        return None
    if method == DEFLATED:
        return zlib.decompressobj(-15)
    if method == BZIP2:
        return bz2.BZ2Decompressor()
    if method == LZMA:
        if len(lzma_props) != 5:  # noqa: PLR2004 - LZMA1 properties: lc/lp/pb byte + dictionary size
            msg = "has a malformed LZMA header"
            raise ValueError(msg)
        dict_size = struct.unpack("<L", lzma_props[1:5])[0]
        lc, rest = lzma_props[0] % 9, lzma_props[0] // 9
        filt = {"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": rest % 5, "pb": rest // 5}
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])
    msg = f"uses unsupported compression method {method}"
    raise ValueError(msg)
