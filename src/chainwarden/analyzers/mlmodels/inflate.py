"""Bounded, chunked decompression: never more than `limit` bytes out, never the whole input copied.

Model files can be gigabytes (memory-mapped) and compressed members can be bombs, so input is
fed a megabyte at a time and output stops at the limit.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

Method = Literal["deflate", "zlib", "gzip", "bz2", "xz", "lzma"]
_CHUNK = 1024 * 1024
_WBITS = {"deflate": -15, "zlib": 15, "gzip": 16 + 15}


class InflateError(Exception):
    """The data does not decompress."""


def inflate(buf: Buffer, start: int, end: int, method: Method, limit: int) -> bytes:
    """Up to `limit` bytes of `buf[start:end]` decompressed (`limit + 1` tells the caller it was cut)."""
    try:
        if method in _WBITS:
            return _zlib(buf, start, end, _WBITS[method], limit)
        return _other(buf, start, end, method, limit)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as err:
        raise InflateError(str(err)) from None


def _zlib(buf: Buffer, start: int, end: int, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = bytearray()
    pos = start
    pending = b""
    while len(out) < limit and not decoder.eof:
        if not pending:
            if pos >= end:
                break
            pending = bytes(buf[pos : min(pos + _CHUNK, end)])
            pos += len(pending)
        out += decoder.decompress(pending, limit - len(out))
        pending = decoder.unconsumed_tail
    return bytes(out)


def _other(buf: Buffer, start: int, end: int, method: Method, limit: int) -> bytes:
    decoder: bz2.BZ2Decompressor | lzma.LZMADecompressor
    if method == "bz2":
        decoder = bz2.BZ2Decompressor()
    elif method == "xz":
        decoder = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    else:
        decoder = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    out = bytearray()
    pos = start
    while len(out) < limit and not decoder.eof:
        if decoder.needs_input:
            if pos >= end:
                break
            chunk = bytes(buf[pos : min(pos + _CHUNK, end)])
            pos += len(chunk)
        else:
            chunk = b""
        out += decoder.decompress(chunk, max_length=limit - len(out))
    return bytes(out)
