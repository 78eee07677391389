"""Entry points: one model file's bytes (or path) in, its `ModelFacts` out. Nothing is loaded.

`scan_model_file` maps the file instead of reading it, so a multi-gigabyte checkpoint costs
only the pages of the pickles inside it.
"""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.containers import analyse
from chainwarden.analyzers.mlmodels.context import Context
from chainwarden.analyzers.mlmodels.facts import ModelFacts, ModelFormat
from chainwarden.analyzers.mlmodels.picklevm import Limits

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.pickleops import Buffer


def scan_model(data: Buffer, *, limits: Limits | None = None) -> ModelFacts:
    """Facts about one file's bytes; `format` is NOT_A_MODEL for content that is no model at all."""
    ctx = Context(limits=limits or Limits())
    fmt = analyse(data, "", ctx)
    digest = hashlib.sha256(data).hexdigest()
    if fmt is ModelFormat.NOT_A_MODEL and not ctx.issues and not any(s.issues or s.globals for s in ctx.sinks):
        return ModelFacts(ModelFormat.NOT_A_MODEL, digest, len(data))
    found = [g for sink in ctx.sinks for g in sink.frozen_globals()]
    issues = [*ctx.issues, *(i for sink in ctx.sinks for i in sink.issues)]
    return ModelFacts(
        format=fmt,
        sha256=digest,
        size=len(data),
        globals=tuple(found),
        issues=tuple(issues),
        pickles=sum(s.streams for s in ctx.sinks),
    )


def scan_model_file(path: str | Path, *, limits: Limits | None = None) -> ModelFacts:
    """Like `scan_model`, over a memory map of the file (raises OSError if it cannot be read)."""
    with Path(path).open("rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            return scan_model(b"", limits=limits)
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return scan_model(mapped, limits=limits)
