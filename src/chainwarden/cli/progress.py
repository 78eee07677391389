"""A one-line progress display on stderr, only for people at a terminal."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chainwarden.engine import Progress


class ProgressBar:
    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.bytes = 0
        self._shown = False

    def update(self, progress: Progress) -> None:
        if not self.enabled:
            return
        self.bytes += progress.bytes
        elapsed = time.monotonic() - self.started
        rate = self.bytes / elapsed / 1e6 if elapsed > 0 else 0.0
        label = "".join(c if c.isprintable() else "?" for c in progress.label)[:50]
        self.stream.write(f"\r\x1b[2Kscanned {progress.done} artifact(s), {rate:.1f} MB/s — {label}")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
