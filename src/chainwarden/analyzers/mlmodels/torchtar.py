"""The `storages` and `tensors` members of PyTorch's oldest (tar) format: pickled records with raw
bytes between them, walked the way `torch.serialization.legacy_load` reads them.

`storages`: a count, then per storage a pickled `(key, location, storage_type)`, an int64 element
count and that many elements; then a pickled list of storage views. `tensors`: a count, then per
tensor a pickled `(key, storage_id, tensor_type)`, an int32 ndim (plus 4 padding bytes), ndim
sizes, ndim strides and an offset, all int64. Every record pickle is judged like any other.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind
from chainwarden.analyzers.mlmodels.picklevalues import Sym
from chainwarden.analyzers.mlmodels.picklevm import Collector, StreamResult, run_stream

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context

_ELEMENT_SIZES = {
    "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
    "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16, "QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4,
}  # fmt: skip
_MAX_RECORDS = 10_000_000
_MAX_NDIM = 64


class _RecordError(Exception):
    pass


def analyse_torch_tar_records(data: bytes, member: str, where: str, ctx: Context) -> None:
    """Walk `storages` or `tensors`; report a broken record, unknown storage type or trailing bytes."""
    sink = ctx.sink(where)
    try:
        pos = _walk(data, member, sink)
        if pos < len(data):
            sink.issue(IssueKind.TRAILING_DATA, pos, f"{len(data) - pos} bytes after the last {member} record")
    except _RecordError as err:
        sink.issue(IssueKind.BROKEN_STREAM, 0, f"legacy PyTorch {member}: {err}")
    finally:
        ctx.done(sink)


def _stream(data: bytes, pos: int, sink: Collector) -> StreamResult:
    result = run_stream(data, pos, len(data), sink)
    if not result.complete:
        msg = f"record pickle at byte {pos} stops: {result.error}"
        raise _RecordError(msg)
    return result


def _int(data: bytes, pos: int, fmt: str) -> tuple[int, int]:
    size = struct.calcsize(fmt)
    if pos + size > len(data):
        msg = "raw record data is truncated"
        raise _RecordError(msg)
    return int(struct.unpack(fmt, data[pos : pos + size])[0]), pos + size


def _walk(data: bytes, member: str, sink: Collector) -> int:
    head = _stream(data, 0, sink)
    count = head.value.value if isinstance(head.value, Sym) and head.value.kind == "int" else None
    if not isinstance(count, int) or not 0 <= count <= _MAX_RECORDS:
        msg = "the record count is not a sane integer"
        raise _RecordError(msg)
    pos = head.end
    for _ in range(count):
        record = _stream(data, pos, sink)
        pos = record.end
        if member == "storages":
            size = _element_size(record.value, sink)
            numel, pos = _int(data, pos, "<q")
            if numel < 0 or pos + numel * size > len(data):
                msg = f"a storage of {numel} elements does not fit"
                raise _RecordError(msg)
            pos += numel * size
        else:
            ndim, pos = _int(data, pos, "<i")
            if not 0 <= ndim <= _MAX_NDIM:
                msg = f"a tensor with {ndim} dimensions"
                raise _RecordError(msg)
            pos += 4 + 16 * ndim + 8
            if pos > len(data):
                msg = "tensor record data is truncated"
                raise _RecordError(msg)
    if member == "storages":
        pos = _stream(data, pos, sink).end  # the storage views
    return pos


def _element_size(record: object, sink: Collector) -> int:
    items = record.value if isinstance(record, Sym) and record.kind == "tuple" else None
    if isinstance(items, list) and len(items) == 3:  # noqa: PLR2004 - (key, location, storage_type)
        kind = items[2]
        if kind.kind == "global" and isinstance(kind.value, int) and kind.value >= 0:
            ref = sink.globals[kind.value]
            if ref.module in ("torch", "torch.cuda") and ref.name in _ELEMENT_SIZES:
                return _ELEMENT_SIZES[ref.name]
    msg = "a storage record whose type is not a torch storage type"
    raise _RecordError(msg)
