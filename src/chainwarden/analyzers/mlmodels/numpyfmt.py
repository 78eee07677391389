"""numpy `.npy` files: header validation, and the pickle an object array carries after it."""

from __future__ import annotations

import ast
import math
import re
import struct
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind
from chainwarden.analyzers.mlmodels.pickles import analyse_pickle

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

NPY_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 1024 * 1024
_PY2_LONG = re.compile(r"(\d+)L\b")  # headers written by Python 2 say (3L, 4L)
_SIMPLE_DESCR = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)")


def _has_object(descr: object) -> bool:
    if isinstance(descr, str):
        return bool(_SIMPLE_DESCR.match(descr)) and _SIMPLE_DESCR.match(descr).group(1) == "O"  # type: ignore[union-attr]
    if isinstance(descr, list | tuple):
        return any(_has_object(part) for part in descr)
    return False


def _itemsize(descr: object) -> int | None:
    if not isinstance(descr, str):
        return None
    match = _SIMPLE_DESCR.match(descr)
    if match is None or not match.group(2):
        return 1 if match is not None and match.group(1) in "b?" else None
    size = int(match.group(2))
    return size * 4 if match.group(1) == "U" else size


def holds_objects(head: bytes) -> bool:
    """Cheap look at a header: does the array hold Python objects (and so a pickle)?"""
    return b"'O" in head[:_MAX_HEADER] or b"|O" in head[:_MAX_HEADER]


def analyse_npy(buf: Buffer, where: str, ctx: Context, *, total_size: int | None = None) -> None:  # noqa: PLR0911
    """Check the header; scan the pickle of an object array (what `np.load(allow_pickle=True)` runs).

    `buf` may be only the start of the file when `total_size` says how long the whole is."""
    if len(buf) < 10 or bytes(buf[:6]) != NPY_MAGIC:  # noqa: PLR2004 - magic + version + length
        ctx.issue(IssueKind.HEADER_INVALID, where, 0, "not a numpy .npy header")
        return
    major = buf[6]
    if major == 1:
        (length,), start = struct.unpack("<H", buf[8:10]), 10
    elif major in (2, 3) and len(buf) >= 12:  # noqa: PLR2004 - versions 2 and 3 use a 4-byte length
        (length,), start = struct.unpack("<I", buf[8:12]), 12
    else:
        ctx.issue(IssueKind.HEADER_INVALID, where, 6, f"unknown .npy format version {major}")
        return
    if length > _MAX_HEADER or start + length > len(buf):
        ctx.issue(IssueKind.HEADER_INVALID, where, 8, f".npy header length {length} does not fit the file")
        return
    text = bytes(buf[start : start + length]).decode("utf-8" if major == 3 else "latin-1", "replace")  # noqa: PLR2004
    try:
        header = ast.literal_eval(_PY2_LONG.sub(r"\1", text.strip()))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        ctx.issue(IssueKind.HEADER_INVALID, where, start, ".npy header is not a Python literal")
        return
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= header.keys():
        ctx.issue(IssueKind.HEADER_INVALID, where, start, ".npy header lacks descr / fortran_order / shape")
        return
    data_start = start + length
    descr, shape = header["descr"], header["shape"]
    if _has_object(descr):
        analyse_pickle(buf, data_start, len(buf), where, ctx)
        return
    itemsize = _itemsize(descr)
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape) or itemsize is None:
        return
    expected = math.prod(shape) * itemsize
    size = len(buf) if total_size is None else total_size
    if data_start + expected > size:
        ctx.issue(
            IssueKind.HEADER_INVALID,
            where,
            data_start,
            f".npy header promises {expected} data bytes, the file holds {size - data_start}",
        )
