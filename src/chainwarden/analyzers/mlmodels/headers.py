"""Formats that hold no code by design, checked for the header tricks that cause parser disagreement:
safetensors (JSON header + byte ranges) and GGUF (typed key/value header, chat templates).
"""

from __future__ import annotations

import json
import math
import re
import struct
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

_ST_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit
_ST_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8, "F4": 1, "F6_E2M3": 1,
    "F6_E3M2": 1,
}  # fmt: skip
GGUF_MAGIC = b"GGUF"
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9
_GGUF_MAX_KV = 1_000_000
_GGUF_MAX_VALUES = 5_000_000  # strings in metadata arrays (tokenizer vocabularies are ~10^5)
_TEMPLATE_CODE = re.compile(
    r"__(class|globals|subclasses|builtins|import|mro|base|bases|init|getattribute|code)__|\bos\.(system|popen)"
    r"|\bpopen\b|\bsubprocess\b|\beval\s*\(|\bexec\s*\("
)


def looks_like_safetensors(buf: Buffer) -> bool:
    if len(buf) < 10:  # noqa: PLR2004 - 8-byte length + "{}"
        return False
    (length,) = struct.unpack("<Q", buf[:8])
    return 2 <= length <= len(buf) - 8 and buf[8] == ord("{")  # noqa: PLR2004


def check_safetensors(buf: Buffer, where: str, ctx: Context) -> None:
    (length,) = struct.unpack("<Q", buf[:8])
    if length > _ST_MAX_HEADER:
        ctx.issue(IssueKind.HEADER_INVALID, where, 0, f"safetensors header of {length} bytes is over the limit")
        return
    try:
        header = json.loads(bytes(buf[8 : 8 + length]))
    except (ValueError, RecursionError):
        ctx.issue(IssueKind.HEADER_INVALID, where, 8, "safetensors header is not valid JSON")
        return
    if not isinstance(header, dict):
        ctx.issue(IssueKind.HEADER_INVALID, where, 8, "safetensors header is not a JSON object")
        return
    data_size = len(buf) - 8 - length
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                ctx.issue(IssueKind.HEADER_INVALID, where, 8, "__metadata__ must map strings to strings")
            continue
        problem = _tensor_problem(entry, data_size)
        if problem:
            ctx.issue(IssueKind.HEADER_INVALID, where, 8, f"tensor {name!r}: {problem}")
            continue
        begin, end = entry["data_offsets"]
        spans.append((begin, end, name))
    spans.sort()
    cursor = 0
    for begin, end, name in spans:
        if begin != cursor:
            what = "overlaps the previous tensor" if begin < cursor else f"leaves a gap of {begin - cursor} bytes"
            ctx.issue(IssueKind.HEADER_INVALID, where, 8, f"tensor {name!r} {what}")
        cursor = max(cursor, end)
    if cursor != data_size:
        ctx.issue(IssueKind.HEADER_INVALID, where, 8, f"tensors cover {cursor} of {data_size} data bytes")


def _tensor_problem(entry: object, data_size: int) -> str:  # noqa: PLR0911 - one return per problem
    if not isinstance(entry, dict):
        return "entry is not an object"
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _ST_DTYPES:
        return f"unknown dtype {dtype!r}"
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return "shape is not a list of sizes"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2  # noqa: PLR2004 - [begin, end]
        or not all(isinstance(o, int) and o >= 0 for o in offsets)
    ):
        return "data_offsets is not [begin, end]"
    begin, end = offsets
    if begin > end or end > data_size:
        return f"data_offsets {offsets} fall outside the {data_size} data bytes"
    expected = math.prod(shape) * _ST_DTYPES[dtype]
    if dtype not in ("F4", "F6_E2M3", "F6_E3M2") and end - begin != expected:
        return f"holds {end - begin} bytes, its dtype and shape need {expected}"
    return ""


class _GgufLimitError(Exception):
    pass


class _Gguf:
    def __init__(self, buf: Buffer, endian: str, version: int) -> None:
        self.buf, self.endian, self.version, self.pos = buf, endian, version, 8
        self.values = 0

    def unpack(self, fmt: str) -> int | float | bool:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ValueError("truncated")
        (value,) = struct.unpack(self.endian + fmt, self.buf[self.pos : self.pos + size])
        self.pos += size
        return value  # type: ignore[no-any-return]

    def count(self) -> int:
        return int(self.unpack("I" if self.version == 1 else "Q"))

    def string(self) -> bytes:
        length = self.count()
        if self.pos + length > len(self.buf):
            raise ValueError("string runs past the end of the file")
        value = bytes(self.buf[self.pos : self.pos + min(length, 1 << 20)])
        self.pos += length
        return value

    def value(self, kind: int, depth: int = 0) -> bytes | None:
        self.values += 1
        if self.values > _GGUF_MAX_VALUES:
            raise _GgufLimitError
        if kind in _GGUF_SCALARS:
            self.unpack(_GGUF_SCALARS[kind])
            return None
        if kind == _GGUF_STRING:
            return self.string()
        if kind == _GGUF_ARRAY and depth < 2:  # noqa: PLR2004 - arrays of arrays, no deeper
            item_kind, items = int(self.unpack("I")), self.count()
            if items > len(self.buf) - self.pos:
                msg = f"array of {items} items cannot fit"
                raise ValueError(msg)
            if item_kind in _GGUF_SCALARS:
                self.pos += items * struct.calcsize(_GGUF_SCALARS[item_kind])
                return None
            for _ in range(items):
                self.value(item_kind, depth + 1)
            return None
        msg = f"unknown value type {kind}"
        raise ValueError(msg)


def check_gguf(buf: Buffer, where: str, ctx: Context) -> None:
    if len(buf) < 24:  # noqa: PLR2004 - magic, version, two counts
        ctx.issue(IssueKind.HEADER_INVALID, where, 0, "GGUF file shorter than its header")
        return
    (version,) = struct.unpack("<I", buf[4:8])
    endian = "<"
    if version > 0xFFFF:  # noqa: PLR2004 - a big-endian file read little-endian
        endian, (version,) = ">", struct.unpack(">I", buf[4:8])
    if version not in (1, 2, 3):
        ctx.issue(IssueKind.HEADER_INVALID, where, 4, f"unknown GGUF version {version}")
        return
    reader = _Gguf(buf, endian, version)
    try:
        tensors, kvs = reader.count(), reader.count()
        if kvs > _GGUF_MAX_KV or kvs * 13 > len(buf) or tensors * 24 > len(buf):
            ctx.issue(IssueKind.HEADER_INVALID, where, 8, f"{tensors} tensors / {kvs} keys cannot fit in the file")
            return
        for _ in range(kvs):
            key = reader.string().decode("utf-8", "replace")
            at = reader.pos
            value = reader.value(int(reader.unpack("I")))
            if key.startswith("tokenizer.chat_template") and value is not None:
                _check_template(value.decode("utf-8", "replace"), where, at, ctx)
    except (ValueError, struct.error) as err:
        ctx.issue(IssueKind.HEADER_INVALID, where, reader.pos, f"GGUF metadata unreadable: {err}")
    except _GgufLimitError:
        ctx.issue(IssueKind.LIMIT, where, reader.pos, f"GGUF metadata with more than {_GGUF_MAX_VALUES} values")


def _check_template(template: str, where: str, offset: int, ctx: Context) -> None:
    match = _TEMPLATE_CODE.search(template)
    if match is not None:
        ctx.issue(
            IssueKind.TEMPLATE_CODE,
            where,
            offset,
            f"chat template reaches Python internals ({match.group(0)!r}): Jinja sandbox escape",
        )
