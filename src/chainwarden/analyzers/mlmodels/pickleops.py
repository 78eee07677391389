"""The pickle opcode table (protocols 0-5) and the argument readers, written out by hand.

`pickletools` is not used: it stops at the first problem, keeps every argument in memory and
cannot be bounded. These readers take a buffer and an offset and return the argument and the
offset after it, raising `TruncatedError` or `MalformedError` (never anything else) on bad input.
"""

from __future__ import annotations

import enum
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mmap

    Buffer = bytes | mmap.mmap
else:
    Buffer = bytes

HIGHEST_PROTOCOL = 5


class TruncatedError(Exception):
    """The stream ends inside an opcode or its argument."""


class MalformedError(Exception):
    """An argument that the real unpickler would reject."""


class Arg(enum.Enum):
    NONE = 0
    U1 = 1
    U2 = 2
    U4 = 3
    I4 = 4
    U8 = 5
    F8 = 6
    LINE = 7  # one newline-terminated line
    LINE2 = 8  # two lines (GLOBAL, INST)
    BYTES1 = 9  # 1-byte length + data
    BYTES4 = 10  # 4-byte unsigned length + data
    BYTES4S = 11  # 4-byte signed length + data (BINSTRING, LONG4)
    BYTES8 = 12  # 8-byte length + data


#: opcode byte -> (name, argument kind)
OPCODES: dict[int, tuple[str, Arg]] = {
    ord(code): (name, arg)
    for code, name, arg in (
        ("(", "MARK", Arg.NONE), (".", "STOP", Arg.NONE), ("0", "POP", Arg.NONE), ("1", "POP_MARK", Arg.NONE),
        ("2", "DUP", Arg.NONE), ("F", "FLOAT", Arg.LINE), ("I", "INT", Arg.LINE), ("J", "BININT", Arg.I4),
        ("K", "BININT1", Arg.U1), ("L", "LONG", Arg.LINE), ("M", "BININT2", Arg.U2), ("N", "NONE", Arg.NONE),
        ("P", "PERSID", Arg.LINE), ("Q", "BINPERSID", Arg.NONE), ("R", "REDUCE", Arg.NONE),
        ("S", "STRING", Arg.LINE), ("T", "BINSTRING", Arg.BYTES4S), ("U", "SHORT_BINSTRING", Arg.BYTES1),
        ("V", "UNICODE", Arg.LINE), ("X", "BINUNICODE", Arg.BYTES4), ("a", "APPEND", Arg.NONE),
        ("b", "BUILD", Arg.NONE), ("c", "GLOBAL", Arg.LINE2), ("d", "DICT", Arg.NONE), ("}", "EMPTY_DICT", Arg.NONE),
        ("e", "APPENDS", Arg.NONE), ("g", "GET", Arg.LINE), ("h", "BINGET", Arg.U1), ("i", "INST", Arg.LINE2),
        ("j", "LONG_BINGET", Arg.U4), ("l", "LIST", Arg.NONE), ("]", "EMPTY_LIST", Arg.NONE), ("o", "OBJ", Arg.NONE),
        ("p", "PUT", Arg.LINE), ("q", "BINPUT", Arg.U1), ("r", "LONG_BINPUT", Arg.U4), ("s", "SETITEM", Arg.NONE),
        ("t", "TUPLE", Arg.NONE), (")", "EMPTY_TUPLE", Arg.NONE), ("u", "SETITEMS", Arg.NONE),
        ("G", "BINFLOAT", Arg.F8),
        # protocol 2
        ("\x80", "PROTO", Arg.U1), ("\x81", "NEWOBJ", Arg.NONE), ("\x82", "EXT1", Arg.U1), ("\x83", "EXT2", Arg.U2),
        ("\x84", "EXT4", Arg.I4), ("\x85", "TUPLE1", Arg.NONE), ("\x86", "TUPLE2", Arg.NONE),
        ("\x87", "TUPLE3", Arg.NONE), ("\x88", "NEWTRUE", Arg.NONE), ("\x89", "NEWFALSE", Arg.NONE),
        ("\x8a", "LONG1", Arg.BYTES1), ("\x8b", "LONG4", Arg.BYTES4S),
        # protocol 3
        ("B", "BINBYTES", Arg.BYTES4), ("C", "SHORT_BINBYTES", Arg.BYTES1),
        # protocol 4
        ("\x8c", "SHORT_BINUNICODE", Arg.BYTES1), ("\x8d", "BINUNICODE8", Arg.BYTES8),
        ("\x8e", "BINBYTES8", Arg.BYTES8), ("\x8f", "EMPTY_SET", Arg.NONE), ("\x90", "ADDITEMS", Arg.NONE),
        ("\x91", "FROZENSET", Arg.NONE), ("\x92", "NEWOBJ_EX", Arg.NONE), ("\x93", "STACK_GLOBAL", Arg.NONE),
        ("\x94", "MEMOIZE", Arg.NONE), ("\x95", "FRAME", Arg.U8),
        # protocol 5
        ("\x96", "BYTEARRAY8", Arg.BYTES8), ("\x97", "NEXT_BUFFER", Arg.NONE), ("\x98", "READONLY_BUFFER", Arg.NONE),
    )
}  # fmt: skip

_FIXED = {Arg.U1: (1, "<B"), Arg.U2: (2, "<H"), Arg.U4: (4, "<I"), Arg.I4: (4, "<i"), Arg.U8: (8, "<Q"),
          Arg.F8: (8, ">d")}  # fmt: skip
_LENGTH = {Arg.BYTES1: (1, "<B"), Arg.BYTES4: (4, "<I"), Arg.BYTES4S: (4, "<i"), Arg.BYTES8: (8, "<Q")}


def read_fixed(buf: Buffer, pos: int, end: int, kind: Arg) -> tuple[int | float, int]:
    size, fmt = _FIXED[kind]
    if pos + size > end:
        raise TruncatedError
    value: int | float = struct.unpack(fmt, buf[pos : pos + size])[0]
    return value, pos + size


def read_line(buf: Buffer, pos: int, end: int) -> tuple[int, int, int]:
    """(start, stop, next): the line's bytes are buf[start:stop], without the newline."""
    nl = buf.find(b"\n", pos, end)
    if nl < 0:
        raise TruncatedError
    return pos, nl, nl + 1


def read_counted(buf: Buffer, pos: int, end: int, kind: Arg) -> tuple[int, int, int]:
    """(start, stop, next) of a length-prefixed argument, without copying it."""
    size, fmt = _LENGTH[kind]
    if pos + size > end:
        raise TruncatedError
    length: int = struct.unpack(fmt, buf[pos : pos + size])[0]
    if length < 0:
        raise MalformedError("negative byte count")
    start = pos + size
    if start + length > end:
        raise TruncatedError
    return start, start + length, start + length
