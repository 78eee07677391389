"""The simple pickle opcodes: constants, containers, marks and persistent ids.

Each handler takes the machine and the opcode's argument kind; none of them imports or calls
anything, so none of them can reveal a callable. The machine itself handles the rest.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING, TypeAlias

from chainwarden.analyzers.mlmodels.pickleops import Arg, MalformedError, TruncatedError
from chainwarden.analyzers.mlmodels.picklevalues import MAX_ITEMS, StreamBreakError, Sym, parse_int

if TYPE_CHECKING:
    from collections.abc import Callable

    from chainwarden.analyzers.mlmodels.picklevm import Machine


_Handler: TypeAlias = "Callable[[Machine, Arg], None]"


def _push_const(kind: str) -> _Handler:
    def handler(m: Machine, arg: Arg) -> None:
        del arg
        m.push(Sym(kind))

    return handler


def _int_fixed(m: Machine, arg: Arg) -> None:
    m.push(Sym("int", int(m.fixed(arg))))


def _int_line(m: Machine, arg: Arg) -> None:
    del arg
    line = m.line()
    if line in (b"00", b"01"):
        m.push(Sym("bool"))
        return
    m.push(Sym("int", parse_int(line.rstrip(b"L"))))


def _long_bin(m: Machine, arg: Arg) -> None:
    start, stop = m.counted(arg)
    if stop - start > 16:  # noqa: PLR2004 - shapes and sizes fit in 16 bytes
        m.push(Sym("int"))
        return
    m.push(Sym("int", int.from_bytes(m.buf[start:stop], "little", signed=True)))


def _float_line(m: Machine, arg: Arg) -> None:
    del arg
    try:
        float(m.line())
    except ValueError:
        raise MalformedError("bad FLOAT") from None
    m.push(Sym("float"))


def _float_bin(m: Machine, arg: Arg) -> None:
    m.fixed(arg)
    m.push(Sym("float"))


def _string_line(m: Machine, arg: Arg) -> None:
    del arg
    data = m.line()
    if len(data) < 2 or data[0] != data[-1] or data[:1] not in (b"'", b'"'):  # noqa: PLR2004 - quotes
        raise MalformedError("the STRING opcode argument must be quoted")
    try:
        decoded = codecs.escape_decode(data[1:-1])[0]
    except ValueError:
        raise MalformedError("bad STRING escape") from None
    m.push(Sym("str", decoded.decode("latin-1")))


def _unicode_line(m: Machine, arg: Arg) -> None:
    del arg
    try:
        m.push(Sym("str", m.line().decode("raw-unicode-escape")))
    except UnicodeDecodeError:
        raise MalformedError("bad UNICODE escape") from None


def _binstring(m: Machine, arg: Arg) -> None:
    m.push(m.text(arg, "latin-1"))


def _binunicode(m: Machine, arg: Arg) -> None:
    m.push(m.text(arg, "utf-8"))


def _binbytes(m: Machine, arg: Arg) -> None:
    m.counted(arg)
    m.push(Sym("bytes"))


def _mark(m: Machine, arg: Arg) -> None:
    del arg
    if len(m.marks) >= m.sink.limits.max_marks:
        msg = f"more than {m.sink.limits.max_marks} nested MARKs"
        raise StreamBreakError(msg, limited=True)
    m.marks.append(m.stack)
    m.stack = []


def _pop(m: Machine, arg: Arg) -> None:
    del arg
    if m.stack:
        m.stack.pop()
    else:
        m.pop_mark()


def _pop_mark(m: Machine, arg: Arg) -> None:
    del arg
    m.pop_mark()


def _dup(m: Machine, arg: Arg) -> None:
    del arg
    m.push(m.top())


def _seq(kind: str) -> _Handler:
    def handler(m: Machine, arg: Arg) -> None:
        del arg
        items = m.pop_mark()
        if kind == "dict":
            if len(items) % 2:
                raise StreamBreakError("odd number of items for DICT")
            pairs = list(zip(items[::2], items[1::2], strict=True)) if len(items) <= 2 * MAX_ITEMS else None
            m.push(Sym("dict", pairs))
            return
        m.push(Sym(kind, items if len(items) <= MAX_ITEMS else None))

    return handler


def _tuple_n(n: int) -> _Handler:
    def handler(m: Machine, arg: Arg) -> None:
        del arg
        if len(m.stack) < n:
            raise StreamBreakError("unpickling stack underflow")
        items = m.stack[len(m.stack) - n :] if n else []
        del m.stack[len(m.stack) - n :]
        m.push(Sym("tuple", items))

    return handler


def _append(m: Machine, arg: Arg) -> None:
    del arg
    m.pop()
    m.top()


def _appends(m: Machine, arg: Arg) -> None:
    del arg
    m.pop_mark()
    m.top()


def _setitem(m: Machine, arg: Arg) -> None:
    del arg
    value, key = m.pop(), m.pop()
    target = m.top()
    if target.kind == "dict" and isinstance(target.value, list) and len(target.value) < MAX_ITEMS:
        target.value.append((key, value))


def _setitems(m: Machine, arg: Arg) -> None:
    del arg
    items = m.pop_mark()
    if len(items) % 2:
        raise StreamBreakError("odd number of items for SETITEMS")
    target = m.top()
    if target.kind == "dict" and isinstance(target.value, list) and len(target.value) + len(items) // 2 <= MAX_ITEMS:
        target.value.extend(zip(items[::2], items[1::2], strict=True))


def _additems(m: Machine, arg: Arg) -> None:
    del arg
    m.pop_mark()
    m.top()


def _persid(m: Machine, arg: Arg) -> None:
    del arg
    m.line()
    m.push(Sym("other"))


def _binpersid(m: Machine, arg: Arg) -> None:
    del arg
    m.pop()
    m.push(Sym("other"))


def _frame(m: Machine, arg: Arg) -> None:
    size = int(m.fixed(arg))
    if m.pos + size > m.end:
        raise TruncatedError


def _next_buffer(m: Machine, arg: Arg) -> None:
    del m, arg
    raise StreamBreakError("pickle stream refers to out-of-band data but no buffers were given")


def _noop(m: Machine, arg: Arg) -> None:
    del m, arg


def _empty_dict(m: Machine, arg: Arg) -> None:
    del arg
    m.push(Sym("dict", []))


SIMPLE: dict[str, _Handler] = {
    "NONE": _push_const("none"), "NEWTRUE": _push_const("bool"), "NEWFALSE": _push_const("bool"),
    "INT": _int_line, "LONG": _int_line, "BININT": _int_fixed, "BININT1": _int_fixed, "BININT2": _int_fixed,
    "LONG1": _long_bin, "LONG4": _long_bin, "FLOAT": _float_line, "BINFLOAT": _float_bin,
    "STRING": _string_line, "BINSTRING": _binstring, "SHORT_BINSTRING": _binstring,
    "UNICODE": _unicode_line, "BINUNICODE": _binunicode, "SHORT_BINUNICODE": _binunicode,
    "BINUNICODE8": _binunicode, "BINBYTES": _binbytes, "SHORT_BINBYTES": _binbytes, "BINBYTES8": _binbytes,
    "BYTEARRAY8": _binbytes, "MARK": _mark, "POP": _pop, "POP_MARK": _pop_mark, "DUP": _dup,
    "EMPTY_LIST": _push_const("list"), "EMPTY_DICT": _empty_dict,
    "EMPTY_TUPLE": _tuple_n(0), "EMPTY_SET": _push_const("set"), "TUPLE1": _tuple_n(1), "TUPLE2": _tuple_n(2),
    "TUPLE3": _tuple_n(3), "TUPLE": _seq("tuple"), "LIST": _seq("list"), "DICT": _seq("dict"),
    "FROZENSET": _seq("set"), "APPEND": _append, "APPENDS": _appends, "SETITEM": _setitem,
    "SETITEMS": _setitems, "ADDITEMS": _additems, "PERSID": _persid, "BINPERSID": _binpersid,
    "FRAME": _frame, "NEXT_BUFFER": _next_buffer, "READONLY_BUFFER": _noop,
}  # fmt: skip
