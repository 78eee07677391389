"""The symbols the pickle machine keeps on its stack, and how a stream ends early."""

from __future__ import annotations

from chainwarden.analyzers.mlmodels.pickleops import MalformedError

MAX_CONST = 4096  # strings longer than this are kept as "some string", never copied
MAX_ITEMS = 64  # tuples / dicts larger than this are kept as opaque containers


class Sym:
    """A symbolic value. kind: str int none bool float bytes tuple list dict set global call inst other."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: object = None) -> None:
        self.kind = kind
        self.value = value


class StreamStopError(Exception):
    pass


class StreamBreakError(Exception):
    """The real unpickler raises here: the stream ends with an error."""

    def __init__(self, message: str, *, limited: bool = False) -> None:
        super().__init__(message)
        self.limited = limited


def parse_int(line: bytes) -> int:
    try:
        return int(line, 0) if line not in (b"00", b"01") else int(line == b"01")
    except ValueError:
        msg = f"bad integer {line[:20]!r}"
        raise MalformedError(msg) from None
