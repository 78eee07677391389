"""A symbolic pickle machine: follows a stream opcode by opcode without ever unpickling it.

It keeps the stack, the mark stack and the memo the way CPython's unpickler does, but its values
are symbols (a constant string, an imported global, "the result of a call"). That is enough to
resolve STACK_GLOBAL names that arrive through the memo, to see which imported callables are
called, and to notice calls whose target is computed at load time. Every stream stops where the
real unpickler would stop; problems and resource caps become issues, never exceptions.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import GlobalRef, IssueKind, ModelIssue
from chainwarden.analyzers.mlmodels.pickleops import (
    HIGHEST_PROTOCOL,
    OPCODES,
    Arg,
    MalformedError,
    TruncatedError,
    read_counted,
    read_fixed,
    read_line,
)
from chainwarden.analyzers.mlmodels.picklesimple import SIMPLE
from chainwarden.analyzers.mlmodels.picklevalues import MAX_CONST, StreamBreakError, StreamStopError, Sym, parse_int

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

_JOBLIB_WRAPPERS = frozenset(
    {"joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"}
)
_DTYPE_CODE = re.compile(r"^[<>|=]?([a-zA-Z])(\d+)$")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps that keep a hostile stream's cost bounded (pickle bombs grow the memo and the stack)."""

    max_ops: int = 5_000_000
    max_stack: int = 200_000
    max_memo: int = 500_000
    max_marks: int = 10_000
    max_nested: int = 8  # joblib object arrays hold nested pickles


_MARK_ERROR = "could not find MARK"


@dataclass(slots=True)
class _Global:
    module: str
    name: str
    offset: int
    opcode: str
    stream: int
    where: str
    called: bool = False


@dataclass(slots=True)
class Collector:
    """What all the streams of one file reached; shared so that op budgets span the whole file."""

    where: str
    limits: Limits = field(default_factory=Limits)
    ops_left: int = 0
    globals: list[_Global] = field(default_factory=list)
    issues: list[ModelIssue] = field(default_factory=list)
    streams: int = 0

    def __post_init__(self) -> None:
        self.ops_left = self.limits.max_ops

    def issue(self, kind: IssueKind, offset: int, detail: str) -> None:
        self.issues.append(ModelIssue(kind, self.where, offset, detail))

    def frozen_globals(self) -> tuple[GlobalRef, ...]:
        return tuple(GlobalRef(g.module, g.name, g.where, g.offset, g.opcode, g.called, g.stream) for g in self.globals)


@dataclass(frozen=True, slots=True)
class StreamResult:
    start: int
    end: int  # offset after STOP, or where the stream broke
    complete: bool  # reached STOP
    ops: int
    calls: int  # REDUCE / NEWOBJ / OBJ / INST applied to an imported global
    error: str = ""
    limited: bool = False  # stopped by a cap rather than by the data
    value: object = None  # the symbol STOP returned (a Sym)


def run_stream(buf: Buffer, start: int, end: int, sink: Collector, *, depth: int = 0) -> StreamResult:
    """Follow one pickle stream from `start` until STOP, an error, or a cap."""
    machine = Machine(buf, start, end, sink, depth)
    stream = sink.streams
    sink.streams += 1
    machine.stream = stream
    try:
        machine.run()
    except StreamStopError:
        return StreamResult(
            start, machine.pos, complete=True, ops=machine.ops, calls=machine.calls, value=machine.result
        )
    except StreamBreakError as brk:
        return StreamResult(
            start,
            machine.op_at,
            complete=False,
            ops=machine.ops,
            calls=machine.calls,
            error=str(brk),
            limited=brk.limited,
        )
    return StreamResult(start, machine.pos, complete=False, ops=machine.ops, calls=machine.calls, error="truncated")


class Machine:
    def __init__(self, buf: Buffer, start: int, end: int, sink: Collector, depth: int) -> None:
        self.buf = buf
        self.pos = start
        self.end = end
        self.sink = sink
        self.depth = depth
        self.stack: list[Sym] = []
        self.marks: list[list[Sym]] = []
        self.memo: dict[int, Sym] = {}
        self.proto = 0
        self.ops = 0
        self.calls = 0
        self.op_at = start
        self.stream = 0
        self.result: Sym | None = None

    # -- stack helpers -------------------------------------------------------------------------
    def push(self, value: Sym) -> None:
        if len(self.stack) >= self.sink.limits.max_stack:
            msg = f"stack grew past {self.sink.limits.max_stack} items"
            raise StreamBreakError(msg, limited=True)
        self.stack.append(value)

    def pop(self) -> Sym:
        if not self.stack:
            raise StreamBreakError("unpickling stack underflow")
        return self.stack.pop()

    def top(self) -> Sym:
        if not self.stack:
            raise StreamBreakError("unpickling stack underflow")
        return self.stack[-1]

    def pop_mark(self) -> list[Sym]:
        if not self.marks:
            raise StreamBreakError(_MARK_ERROR)
        items = self.stack
        self.stack = self.marks.pop()
        return items

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        buf, end = self.buf, self.end
        while True:
            if self.pos >= end:
                raise StreamBreakError("pickle data was truncated")
            self.op_at = self.pos
            code = buf[self.pos]
            entry = OPCODES.get(code)
            if entry is None:
                msg = f"invalid load key {code:#04x}"
                raise StreamBreakError(msg)
            self.sink.ops_left -= 1
            if self.sink.ops_left < 0:
                msg = f"more than {self.sink.limits.max_ops} opcodes"
                raise StreamBreakError(msg, limited=True)
            self.ops += 1
            self.pos += 1
            name, arg = entry
            try:
                self.step(name, arg)
            except TruncatedError:
                raise StreamBreakError("pickle data was truncated") from None
            except MalformedError as err:
                raise StreamBreakError(str(err)) from None

    def line(self) -> bytes:
        start, stop, self.pos = read_line(self.buf, self.pos, self.end)
        if stop - start > MAX_CONST:
            return bytes(self.buf[start : start + MAX_CONST])
        return bytes(self.buf[start:stop])

    def counted(self, arg: Arg) -> tuple[int, int]:
        start, stop, self.pos = read_counted(self.buf, self.pos, self.end, arg)
        return start, stop

    def fixed(self, arg: Arg) -> int | float:
        value, self.pos = read_fixed(self.buf, self.pos, self.end, arg)
        return value

    def text(self, arg: Arg, encoding: str) -> Sym:
        start, stop = self.counted(arg)
        if stop - start > MAX_CONST:
            return Sym("str")
        try:
            return Sym("str", codecs.decode(bytes(self.buf[start:stop]), encoding, "surrogatepass"))
        except UnicodeDecodeError as err:
            msg = f"undecodable string: {err.reason}"
            raise MalformedError(msg) from None

    def step(self, name: str, arg: Arg) -> None:
        handler = SIMPLE.get(name)
        if handler is not None:
            handler(self, arg)
            return
        if name in ("GLOBAL", "INST"):
            self.op_global(name)
        elif name == "STACK_GLOBAL":
            self.op_stack_global()
        elif name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ"):
            self.op_call(name)
        elif name == "BUILD":
            self.op_build()
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            self.op_put(name, arg)
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            self.op_get(name, arg)
        elif name in ("EXT1", "EXT2", "EXT4"):
            code = self.fixed(arg)
            self.sink.issue(
                IssueKind.HIDDEN_GLOBAL, self.op_at, f"{name} {code}: extension registry code, unresolvable statically"
            )
            self.push(Sym("global", -1))
        elif name == "PROTO":
            proto = int(self.fixed(arg))
            if proto > HIGHEST_PROTOCOL:
                msg = f"unsupported pickle protocol: {proto}"
                raise StreamBreakError(msg)
            self.proto = proto
        elif name == "STOP":
            self.result = self.pop()
            raise StreamStopError
        else:  # pragma: no cover - the table and the handlers are checked against each other in tests
            msg = f"unhandled opcode {name}"
            raise StreamBreakError(msg)

    def add_global(self, module: str, name: str, opcode: str) -> Sym:
        if len(self.sink.globals) >= self.sink.limits.max_stack:
            msg = f"more than {self.sink.limits.max_stack} imports"
            raise StreamBreakError(msg, limited=True)
        self.sink.globals.append(_Global(module, name, self.op_at, opcode, self.stream, self.sink.where))
        return Sym("global", len(self.sink.globals) - 1)

    def op_global(self, opcode: str) -> None:
        raw_module, raw_name = self.line(), self.line()
        try:
            module, name = raw_module.decode("utf-8"), raw_name.decode("utf-8")
        except UnicodeDecodeError:
            msg = f"{opcode} names are not UTF-8"
            raise MalformedError(msg) from None
        ref = self.add_global(module, name, opcode)
        if opcode == "GLOBAL":
            self.push(ref)
            return
        args = self.pop_mark()  # INST: the class is imported before its arguments are taken
        self.mark_called(ref)
        self.push(Sym("inst", ref))
        del args

    def op_stack_global(self) -> None:
        name, module = self.pop(), self.pop()
        if isinstance(module.value, str) and isinstance(name.value, str):
            self.push(self.add_global(module.value, name.value, "STACK_GLOBAL"))
            return
        if module.kind not in ("str", "call", "other") or name.kind not in ("str", "call", "other"):
            raise StreamBreakError("STACK_GLOBAL requires str")
        self.sink.issue(
            IssueKind.HIDDEN_GLOBAL,
            self.op_at,
            f"STACK_GLOBAL with names computed at load time (module: {_describe(module)}, name: {_describe(name)})",
        )
        self.push(Sym("global", -1))

    def mark_called(self, ref: Sym) -> None:
        if ref.kind == "global" and isinstance(ref.value, int) and ref.value >= 0:
            self.sink.globals[ref.value].called = True
            self.calls += 1

    def op_call(self, opcode: str) -> None:
        if opcode == "REDUCE":
            args = self.pop()
            func = self.top()
        elif opcode == "NEWOBJ":
            args = self.pop()
            func = self.pop()
            self.push(func)
        elif opcode == "NEWOBJ_EX":
            self.pop()
            args = self.pop()
            func = self.pop()
            self.push(func)
        else:  # OBJ
            items = self.pop_mark()
            if not items:
                raise StreamBreakError("OBJ without a class")
            func, args = items[0], Sym("tuple", items[1:])
            self.push(func)
        if func.kind == "global":
            if func.value == -1:
                self.sink.issue(IssueKind.INDIRECT_CALL, self.op_at, f"{opcode} calls a global whose name is hidden")
            self.mark_called(func)
            result = self.call_result(func, args) if opcode == "REDUCE" else Sym("inst", func)
        else:
            self.sink.issue(
                IssueKind.INDIRECT_CALL, self.op_at, f"{opcode} calls {_describe(func)}, a value computed at load time"
            )
            result = Sym("call", (func, args))
        self.stack[-1] = result

    def call_result(self, func: Sym, args: Sym) -> Sym:
        ref = self.sink.globals[func.value] if isinstance(func.value, int) and func.value >= 0 else None
        if ref is not None and ref.name == "_reconstructor" and ref.module in ("copyreg", "copy_reg"):
            items = args.value if args.kind == "tuple" and isinstance(args.value, list) else []
            if items and items[0].kind == "global":
                self.mark_called(items[0])
                return Sym("inst", items[0])
        if ref is not None and f"{ref.module}.{ref.name}" in _JOBLIB_WRAPPERS:
            return Sym("inst", func)
        return Sym("call", (func, args))

    def op_build(self) -> None:
        state = self.pop()
        inst = self.top()
        if inst.kind == "global":
            self.sink.issue(
                IssueKind.GLOBAL_MUTATION,
                self.op_at,
                f"BUILD sets attributes on {self.global_name(inst)}, an imported object, not an instance",
            )
            return
        if inst.kind == "inst" and self.is_joblib_wrapper(inst):
            self.skip_joblib_array(state)

    def global_name(self, ref: Sym) -> str:
        if isinstance(ref.value, int) and ref.value >= 0:
            g = self.sink.globals[ref.value]
            return f"{g.module}.{g.name}"
        return "a hidden global"

    def is_joblib_wrapper(self, inst: Sym) -> bool:
        cls = inst.value
        return isinstance(cls, Sym) and cls.kind == "global" and self.global_name(cls) in _JOBLIB_WRAPPERS

    def skip_joblib_array(self, state: Sym) -> None:
        """joblib writes an array's bytes straight after the BUILD of its NumpyArrayWrapper."""
        fields = dict_fields(state)
        shape, dtype = fields.get("shape"), fields.get("dtype")
        align = fields.get("numpy_array_alignment_bytes")
        if align is not None and align.kind == "int":
            if self.pos >= self.end:
                raise TruncatedError
            self.pos += 1 + self.buf[self.pos]
        code = dtype_code(dtype)
        count = shape_count(shape)
        if code is None or count is None:
            raise StreamBreakError("joblib array whose size cannot be worked out statically", limited=True)
        kind, itemsize = code
        if kind == "O":
            if self.depth >= self.sink.limits.max_nested:
                raise StreamBreakError("joblib object arrays nested too deeply", limited=True)
            nested = run_stream(self.buf, self.pos, self.end, self.sink, depth=self.depth + 1)
            if not nested.complete:
                msg = f"nested object-array pickle: {nested.error}"
                raise StreamBreakError(msg, limited=nested.limited)
            self.pos = nested.end
            return
        size = count * itemsize
        if self.pos + size > self.end:
            raise TruncatedError
        self.pos += size

    def op_put(self, name: str, arg: Arg) -> None:
        if name == "MEMOIZE":
            index = len(self.memo)
        elif name == "PUT":
            index = parse_int(self.line())
            if index < 0:
                raise MalformedError("negative PUT argument")
        else:
            index = int(self.fixed(arg))
        if len(self.memo) >= self.sink.limits.max_memo and index not in self.memo:
            msg = f"memo grew past {self.sink.limits.max_memo} entries"
            raise StreamBreakError(msg, limited=True)
        self.memo[index] = self.top()

    def op_get(self, name: str, arg: Arg) -> None:
        index = parse_int(self.line()) if name == "GET" else int(self.fixed(arg))
        value = self.memo.get(index)
        if value is None:
            msg = f"memo value not found at index {index}"
            raise StreamBreakError(msg)
        self.push(value)


def _describe(value: Sym) -> str:
    if value.kind == "call":
        return "the result of a call"
    if value.kind == "str":
        return repr(value.value) if isinstance(value.value, str) else "a long string"
    return f"a {value.kind} value"


def dict_fields(state: Sym) -> dict[str, Sym]:
    if state.kind != "dict" or not isinstance(state.value, list):
        return {}
    return {k.value: v for k, v in state.value if k.kind == "str" and isinstance(k.value, str)}


def dtype_code(dtype: Sym | None) -> tuple[str, int] | None:
    """('f', 8) from the symbol of `numpy.dtype('f8', False, True)`."""
    if dtype is None or dtype.kind != "call" or not isinstance(dtype.value, tuple):
        return None
    args = dtype.value[1]
    if args.kind != "tuple" or not isinstance(args.value, list) or not args.value:
        return None
    first = args.value[0]
    match = _DTYPE_CODE.match(first.value) if first.kind == "str" and isinstance(first.value, str) else None
    if match is None:
        return None
    kind, size = match.group(1), int(match.group(2))
    return kind, size * 4 if kind == "U" else size  # 'U5' counts characters of 4 bytes


def shape_count(shape: Sym | None) -> int | None:
    if shape is None or shape.kind != "tuple" or not isinstance(shape.value, list):
        return None
    count = 1
    for dim in shape.value:
        if dim.kind != "int" or not isinstance(dim.value, int) or dim.value < 0:
            return None
        count *= dim.value
    return count
