"""Shared state of one model file's analysis: where issues go, and the budgets that bound it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind, ModelIssue
from chainwarden.analyzers.mlmodels.picklevm import Collector, Limits

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

MAX_DEPTH = 3  # containers inside containers (zip in zip, gzip around a pickle)
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one pickle / config read out of a container
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # everything decompressed for one file
MAX_MEMBERS = 100_000


@dataclass(slots=True)
class Context:
    limits: Limits = field(default_factory=Limits)
    bytes_left: int = MAX_TOTAL_BYTES
    sinks: list[Collector] = field(default_factory=list)
    issues: list[ModelIssue] = field(default_factory=list)
    ops_left: int = -1
    budget_spent: bool = False

    def sink(self, where: str) -> Collector:
        """A collector for one pickle-bearing member; the op budget carries across members."""
        collector = Collector(where=where, limits=self.limits)
        if self.ops_left >= 0:
            collector.ops_left = self.ops_left
        self.sinks.append(collector)
        return collector

    def done(self, collector: Collector) -> None:
        self.ops_left = max(collector.ops_left, 0)

    def issue(self, kind: IssueKind, where: str, offset: int, detail: str) -> None:
        self.issues.append(ModelIssue(kind, where, offset, detail))

    def spend(self, size: int, where: str) -> bool:
        """Reserve `size` decompressed bytes; False (and a LIMIT issue) once the file's budget is gone."""
        if size > self.bytes_left:
            if not self.budget_spent:
                self.issue(IssueKind.LIMIT, where, 0, f"decompressed data passes the {MAX_TOTAL_BYTES} byte budget")
            self.budget_spent = True
            return False
        self.bytes_left -= size
        return True


class BufferReader(io.RawIOBase):
    """A seekable read-only file over bytes or an mmap, without copying it (for zipfile / tarfile)."""

    def __init__(self, buf: Buffer) -> None:
        self._buf = buf
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._buf)}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._buf[self._pos : self._pos + len(b)]
        n = len(chunk)
        b[:n] = chunk
        self._pos += n
        return n
