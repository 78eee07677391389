"""Pickle files: one stream, several back to back (legacy PyTorch, appended payloads), joblib.

Reads to the end of the data. Legacy PyTorch files are exactly five pickles followed by raw
tensor bytes; anything else after a pickle's STOP is either a further pickle (judged, and
reported as appended) or trailing data (reported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind, ModelFormat
from chainwarden.analyzers.mlmodels.picklevm import Collector, Limits, run_stream

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

#: pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2): the first pickle of a legacy torch.save file.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e"
_TORCH_LEGACY_STREAMS = 5  # magic, protocol version, sys info, the object, storage keys
_MAX_STREAMS = 1024
_SNIFF_OPS = 10_000
_JOBLIB_MARK = "NumpyArrayWrapper"
_MAX_PADDING = 64


def looks_like_pickle(buf: Buffer, start: int, end: int) -> bool:
    """Content sniffing: a protocol 2+ header, or a protocol 0/1 stream that gets somewhere real."""
    if end - start >= 2 and buf[start] == 0x80 and buf[start + 1] <= 5:  # noqa: PLR2004 - PROTO + version
        return True
    trial = Collector(where="", limits=Limits(max_ops=_SNIFF_OPS))
    result = run_stream(buf, start, min(end, start + 64 * 1024 * 1024), trial)
    # A text file can parse as a GLOBAL or two ("ccopy\ncgeev\n..."); only a stream that completes
    # or reaches a call is taken for a pickle without a PROTO header.
    return (result.complete and result.ops >= 2) or result.calls > 0  # noqa: PLR2004 - more than a bare STOP


def _padding(buf: Buffer, start: int, end: int) -> bool:
    """A few newline / space / NUL bytes after STOP: what old writers left, never anything a loader runs."""
    return end - start <= _MAX_PADDING and not bytes(buf[start:end]).strip(b"\n\r\t \0")


def analyse_pickle(
    buf: Buffer, start: int, end: int, where: str, ctx: Context, *, torchscript: bool = False
) -> ModelFormat:
    """Every stream from `start` to `end`. In a TorchScript archive, `__torch__.*` globals name classes
    compiled from the archive's own code/ (never Python imports) and are left out of the globals."""
    sink = ctx.sink(where)
    legacy = bytes(buf[start : start + len(TORCH_LEGACY_MAGIC)]) == TORCH_LEGACY_MAGIC
    pos, count = start, 0
    try:
        while pos < end:
            result = run_stream(buf, pos, end, sink)
            if not result.complete:
                kind = IssueKind.LIMIT if result.limited else IssueKind.BROKEN_STREAM
                after = end - result.end
                tail = f"; {after} bytes from there on were not analysed" if after > 1 else ""
                sink.issue(kind, result.end, f"pickle stream {count} stops: {result.error}{tail}")
                break
            count += 1
            pos = result.end
            if pos >= end or (legacy and count == _TORCH_LEGACY_STREAMS):
                break
            if count >= _MAX_STREAMS:
                sink.issue(IssueKind.LIMIT, pos, f"more than {_MAX_STREAMS} pickle streams; the rest was not analysed")
                break
            if _padding(buf, pos, end):
                break
            if not looks_like_pickle(buf, pos, end):
                sink.issue(IssueKind.TRAILING_DATA, pos, f"{end - pos} bytes after the last pickle's STOP")
                break
            if not legacy:
                sink.issue(
                    IssueKind.APPENDED_PICKLE,
                    pos,
                    f"pickle stream {count} follows the first: loaders that call load() again will run it",
                )
    finally:
        ctx.done(sink)
        if torchscript:
            sink.globals[:] = [g for g in sink.globals if g.module.split(".")[0] != "__torch__"]
    if legacy:
        if count < _TORCH_LEGACY_STREAMS:
            sink.issue(IssueKind.BROKEN_STREAM, pos, f"legacy PyTorch file with {count} of its 5 pickles")
        return ModelFormat.TORCH_LEGACY
    if any(g.name == _JOBLIB_MARK for g in sink.globals):
        return ModelFormat.JOBLIB
    return ModelFormat.PICKLE
