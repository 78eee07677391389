"""Static deobfuscation: evaluate constant expressions that decode data, without running them.

`Evaluator.evaluate(node)` folds literals, names bound to literals, string/bytes arithmetic,
slicing (reversal), comprehensions (XOR with constant keys, `chr` joins) and calls to known
decoders (base64/32/16/85, hex, zlib/bz2/lzma/gzip, rot13, `bytes.fromhex`, marshal headers)
into a `Value` that remembers each decoding step as a `DecodedStage`. Everything is bounded:
decompression output, sequence lengths, recursion depth and total work. Unknown constructs
evaluate to `None`; nothing is ever executed. `marshal` data is never unmarshalled: its
printable strings are listed instead.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.models import DecodedStage

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

MAX_OUTPUT = 8 * 1024 * 1024  # bytes any single value may grow to
MAX_ITEMS = 2_000_000  # items a comprehension may produce
MAX_SLOW_ITEMS = 100_000  # items evaluated element by element
MAX_DEPTH = 60  # expression nesting followed
MAX_STEPS = 200_000  # evaluation steps per evaluator
PREVIEW = 120

Data = str | bytes | int | list["Value"] | None


class Unknown(Exception):  # noqa: N818 - control flow, never escapes this module
    """The expression cannot be folded statically."""


@dataclass(frozen=True, slots=True)
class CodeBlob:
    """Marshalled code: kept opaque, never loaded."""

    strings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Value:
    data: str | bytes | int | bool | tuple[Value, ...] | CodeBlob | None
    stages: tuple[DecodedStage, ...] = ()


def preview(data: object) -> str:
    if isinstance(data, bytes):
        text = data[:PREVIEW].decode("utf-8", "backslashreplace")
    elif isinstance(data, CodeBlob):
        text = "code object strings: " + ", ".join(data.strings[:12])
    else:
        text = str(data)[:PREVIEW]
    return text.replace("\r", "\\r").replace("\n", "\\n")


def as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    raise Unknown


def as_text(value: Value) -> str | None:
    """Source text if the value is code-like text (str, or UTF-8 bytes)."""
    if isinstance(value.data, str):
        return value.data
    if isinstance(value.data, bytes):
        try:
            return value.data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _bounded_decompress(data: bytes, method: str) -> bytes:
    out: bytes
    try:
        if method in {"zlib", "gzip"}:
            wbits = 47 if method == "gzip" else zlib.MAX_WBITS | 32  # auto-detect header
            d = zlib.decompressobj(wbits)
            out = d.decompress(data, MAX_OUTPUT)
        elif method == "bz2":
            out = bz2.BZ2Decompressor().decompress(data, MAX_OUTPUT)
        else:
            out = lzma.LZMADecompressor().decompress(data, MAX_OUTPUT)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as err:
        raise Unknown from err
    return out


def _b64(data: bytes, altchars: bytes | None = None) -> bytes:
    data = re.sub(rb"\s+", b"", data)
    data += b"=" * (-len(data) % 4)
    return base64.b64decode(data, altchars)


_DECODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "base64.b64decode": ("base64", _b64),
    "base64.standard_b64decode": ("base64", _b64),
    "base64.decodebytes": ("base64", _b64),
    "base64.decodestring": ("base64", _b64),
    "base64.urlsafe_b64decode": ("base64", lambda d: _b64(d, b"-_")),
    "base64.b32decode": ("base32", base64.b32decode),
    "base64.b16decode": ("base16", lambda d: base64.b16decode(d, casefold=True)),
    "base64.b85decode": ("base85", base64.b85decode),
    "base64.a85decode": ("ascii85", base64.a85decode),
    "binascii.a2b_base64": ("base64", _b64),
    "binascii.unhexlify": ("hex", binascii.unhexlify),
    "binascii.a2b_hex": ("hex", binascii.unhexlify),
    "bytes.fromhex": ("hex", lambda d: bytes.fromhex(d.decode("ascii"))),
    "zlib.decompress": ("zlib", lambda d: _bounded_decompress(d, "zlib")),
    "gzip.decompress": ("gzip", lambda d: _bounded_decompress(d, "gzip")),
    "bz2.decompress": ("bz2", lambda d: _bounded_decompress(d, "bz2")),
    "lzma.decompress": ("lzma", lambda d: _bounded_decompress(d, "lzma")),
}

#: Names of calls that decode or decrypt: seen inside an unresolvable exec argument, they are
#: concealment even when the data cannot be folded (a Fernet key, data read from a file).
DECODER_HINTS = frozenset(
    {
        *(n.rsplit(".", 1)[1] for n in _DECODERS),
        "decrypt",
        "loads",
        "decode",
        "fromhex",
        "b64decode",
        "unhexlify",
        "decompress",
        "chr",
        "xor",
        "reversed",
    }
)

_FUNCTIONS = frozenset(
    {
        *_DECODERS,
        "codecs.decode",
        "codecs.encode",
        "marshal.loads",
        "compile",
        "str",
        "bytes",
        "bytearray",
        "chr",
        "ord",
    }
)

_CODEC_METHODS = {
    "rot13": "rot13",
    "rot_13": "rot13",
    "hex": "hex",
    "hex_codec": "hex",
    "base64": "base64",
    "base64_codec": "base64",
    "zlib": "zlib",
    "zlib_codec": "zlib",
    "bz2": "bz2",
    "bz2_codec": "bz2",
}

_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{4,}")
_MARSHAL_CODE = frozenset({0x63, 0xE3})  # TYPE_CODE, with and without FLAG_REF


def marshal_strings(data: bytes) -> CodeBlob:
    """The readable strings of marshalled data, without unmarshalling it."""
    if not data or data[0] not in _MARSHAL_CODE:
        raise Unknown
    found = [m.group().decode("ascii") for m in _PRINTABLE_RUN.finditer(data[:MAX_OUTPUT])]
    return CodeBlob(tuple(found[:400]))


def apply_codec(method: str, data: str | bytes) -> str | bytes:
    if method == "rot13":
        if not isinstance(data, str):
            data = data.decode("latin-1")
        return codecs.decode(data, "rot13")
    raw = as_bytes(data)
    if method == "hex":
        return binascii.unhexlify(re.sub(rb"\s+", b"", raw))
    if method == "base64":
        return _b64(raw)
    return _bounded_decompress(raw, method)


class Evaluator:
    """Folds expressions to values. `lookup(name)` returns the expression a name is bound to."""

    def __init__(self, resolve: Callable[[ast.expr], str], lookup: Callable[[str], ast.expr | None]) -> None:
        self._resolve = resolve
        self._lookup = lookup
        self._steps = 0
        self._active: set[str] = set()

    def evaluate(self, node: ast.expr) -> Value | None:
        try:
            return self._eval(node, {}, 0)
        except (Unknown, ValueError, TypeError, binascii.Error, UnicodeError, OverflowError, IndexError, KeyError):
            return None
        except (RecursionError, MemoryError):
            return None

    # -- core --------------------------------------------------------------------------

    def _eval(self, node: ast.expr, local: Mapping[str, Value], depth: int) -> Value:  # noqa: PLR0911
        self._steps += 1
        if self._steps > MAX_STEPS or depth > MAX_DEPTH:
            raise Unknown
        t = type(node)
        if t is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str | bytes | int | bool) or value is None:
                return Value(value)
            raise Unknown
        if t is ast.Name:
            return self._name(node.id, local, depth)  # type: ignore[attr-defined]
        if t is ast.JoinedStr:
            parts = [self._eval(v, local, depth + 1) for v in node.values]  # type: ignore[attr-defined]
            return Value("".join(self._str(p) for p in parts), _stages(parts))
        if t is ast.FormattedValue:
            return self._eval(node.value, local, depth + 1)  # type: ignore[attr-defined]
        if t is ast.BinOp:
            return self._binop(node, local, depth)  # type: ignore[arg-type]
        if t is ast.UnaryOp:
            operand = self._eval(node.operand, local, depth + 1)  # type: ignore[attr-defined]
            if isinstance(operand.data, int) and isinstance(node.op, ast.USub | ast.Invert):  # type: ignore[attr-defined]
                return Value(-operand.data if isinstance(node.op, ast.USub) else ~operand.data, operand.stages)  # type: ignore[attr-defined]
            raise Unknown
        if t in (ast.List, ast.Tuple):
            items = tuple(self._eval(e, local, depth + 1) for e in node.elts)  # type: ignore[attr-defined]
            return Value(items, ())
        if t is ast.Subscript:
            return self._subscript(node, local, depth)  # type: ignore[arg-type]
        if t is ast.Call:
            return self._call(node, local, depth)  # type: ignore[arg-type]
        if t in (ast.ListComp, ast.GeneratorExp):
            return self._comprehension(node, local, depth)  # type: ignore[arg-type]
        raise Unknown

    def _name(self, name: str, local: Mapping[str, Value], depth: int) -> Value:
        if name in local:
            return local[name]
        if name in self._active:
            raise Unknown
        bound = self._lookup(name)
        if bound is None:
            raise Unknown
        self._active.add(name)
        try:
            return self._eval(bound, {}, depth + 1)
        finally:
            self._active.discard(name)

    @staticmethod
    def _str(value: Value) -> str:
        if isinstance(value.data, str):
            return value.data
        if isinstance(value.data, int | bytes):
            return str(value.data)
        raise Unknown

    def _binop(self, node: ast.BinOp, local: Mapping[str, Value], depth: int) -> Value:  # noqa: PLR0911 - one per operator
        left = self._eval(node.left, local, depth + 1)
        right = self._eval(node.right, local, depth + 1)
        a, b = left.data, right.data
        stages = left.stages + right.stages
        op = type(node.op)
        if op is ast.Add:
            if isinstance(a, str) and isinstance(b, str):
                return Value(_bound(a + b), stages)
            if isinstance(a, bytes) and isinstance(b, bytes):
                return Value(_bound(a + b), stages)
            if isinstance(a, tuple) and isinstance(b, tuple):
                return Value(a + b, stages)
            if isinstance(a, int) and isinstance(b, int):
                return Value(a + b, stages)
        if op is ast.Mult and isinstance(b, int) and isinstance(a, str | bytes) and len(a) * b <= MAX_OUTPUT:
            return Value(a * b, stages)
        if op is ast.BitXor and isinstance(a, int) and isinstance(b, int):
            return Value(a ^ b, stages)
        if op is ast.Sub and isinstance(a, int) and isinstance(b, int):
            return Value(a - b, stages)
        if op is ast.Mod and isinstance(a, int) and isinstance(b, int) and b:
            return Value(a % b, stages)
        raise Unknown

    def _int_or_none(self, node: ast.expr | None, local: Mapping[str, Value], depth: int) -> int | None:
        if node is None:
            return None
        value = self._eval(node, local, depth + 1).data
        if not isinstance(value, int):
            raise Unknown
        return value

    def _subscript(self, node: ast.Subscript, local: Mapping[str, Value], depth: int) -> Value:
        base = self._eval(node.value, local, depth + 1)
        seq = base.data
        if not isinstance(seq, str | bytes | tuple):
            raise Unknown
        sl = node.slice
        if isinstance(sl, ast.Slice):
            lo, hi, step = (self._int_or_none(p, local, depth) for p in (sl.lower, sl.upper, sl.step))
            out = seq[lo:hi:step]
            if step == -1 and lo is None and hi is None and isinstance(out, str | bytes):
                return Value(out, (*base.stages, DecodedStage("reverse", preview(out))))
            return Value(out, base.stages)
        index = self._eval(sl, local, depth + 1).data
        if not isinstance(index, int):
            raise Unknown
        item = seq[index]
        if isinstance(item, Value):
            return item
        return Value(item, base.stages)

    def _call(self, node: ast.Call, local: Mapping[str, Value], depth: int) -> Value:  # noqa: C901, PLR0911
        func = node.func
        name = self._resolve(func)
        if isinstance(func, ast.Attribute) and name not in _FUNCTIONS:
            receiver = self._eval(func.value, local, depth + 1)
            return self._method(receiver, func.attr, node, local, depth)
        if (
            name == "map"
            and len(node.args) == 2  # noqa: PLR2004 - map(fn, iterable)
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in {"chr", "ord"}
        ):
            source = self._eval(node.args[1], local, depth + 1)
            items = _items(source)
            if node.args[0].id == "chr":
                return Value(tuple(Value(chr(_int(v))) for v in items), source.stages)
            return Value(tuple(Value(ord(_char(v))) for v in items), source.stages)
        args = [self._eval(a, local, depth + 1) for a in node.args if not isinstance(a, ast.Starred)]
        if name in _DECODERS:
            method, fn = _DECODERS[name]
            if not args:
                raise Unknown
            out = fn(as_bytes(args[0].data))
            return _stage(args[0], method, _bound(out))
        if name in {"codecs.decode", "codecs.encode"} and len(args) >= 2 and isinstance(args[1].data, str):  # noqa: PLR2004
            codec = _CODEC_METHODS.get(args[1].data.lower().replace("-", "_"))
            if codec is None:
                return args[0]
            src = args[0].data
            if not isinstance(src, str | bytes):
                raise Unknown
            return _stage(args[0], codec, _bound(apply_codec(codec, src)))
        if name == "marshal.loads" and args:
            return _stage(args[0], "marshal (not loaded)", marshal_strings(as_bytes(args[0].data)))
        if name in {"str", "bytes", "bytearray"}:
            return self._convert(name, args)
        if name == "chr" and args and isinstance(args[0].data, int):
            return Value(chr(args[0].data), args[0].stages)
        if name == "ord" and args and isinstance(args[0].data, str | bytes) and len(args[0].data) == 1:
            return Value(ord(args[0].data), args[0].stages)
        if name in {"list", "tuple"} and args:
            return Value(_items(args[0]), args[0].stages)
        if name == "reversed" and args:
            items = _items(args[0])[::-1]
            return Value(items, (*args[0].stages, DecodedStage("reverse", "")))
        if name == "compile" and args:
            return args[0]
        if name == "len" and args and isinstance(args[0].data, str | bytes | tuple):
            return Value(len(args[0].data), args[0].stages)
        raise Unknown

    def _convert(self, name: str, args: list[Value]) -> Value:
        if not args:
            return Value("" if name == "str" else b"")
        src = args[0]
        data = src.data
        if name == "str":
            if len(args) >= 2 and isinstance(data, bytes) and isinstance(args[1].data, str):  # noqa: PLR2004
                return Value(data.decode(args[1].data), src.stages)
            if isinstance(data, str | int):
                return Value(str(data), src.stages)
            raise Unknown
        if isinstance(data, tuple):
            ints = [v.data for v in data]
            if not all(isinstance(i, int) for i in ints):
                raise Unknown
            return Value(bytes(ints), (*src.stages, *_stages(data)))  # type: ignore[arg-type]
        if isinstance(data, str):
            return Value(
                data.encode(args[1].data if len(args) > 1 and isinstance(args[1].data, str) else "utf-8"), src.stages
            )
        if isinstance(data, bytes):
            return src
        raise Unknown

    def _method(  # noqa: PLR0911
        self, receiver: Value, method: str, node: ast.Call, local: Mapping[str, Value], depth: int
    ) -> Value:
        data = receiver.data
        args = [self._eval(a, local, depth + 1) for a in node.args]
        if method == "join" and isinstance(data, str | bytes) and args:
            items = _items(args[0])
            if isinstance(data, str):
                text = data.join(self._str(v) for v in items)
                joined: Value = Value(_bound(text), _stages(items))
            else:
                joined = Value(_bound(data.join(as_bytes(v.data) for v in items)), _stages(items))
            if any(isinstance(a, ast.GeneratorExp | ast.ListComp | ast.Call) for a in node.args):
                return Value(joined.data, (*joined.stages, DecodedStage("join", preview(joined.data))))
            return joined
        if method == "decode" and isinstance(data, bytes | str):
            codec = args[0].data if args and isinstance(args[0].data, str) else "utf-8"
            step = _CODEC_METHODS.get(codec.lower().replace("-", "_"))
            if step is not None:
                return _stage(receiver, step, _bound(apply_codec(step, data)))
            return Value(data.decode(codec) if isinstance(data, bytes) else data, receiver.stages)
        if method == "encode" and isinstance(data, str):
            codec = args[0].data if args and isinstance(args[0].data, str) else "utf-8"
            step = _CODEC_METHODS.get(codec.lower().replace("-", "_"))
            if step == "rot13":
                return _stage(receiver, step, codecs.encode(data, "rot13"))
            return Value(data.encode(codec), receiver.stages)
        if method == "replace" and isinstance(data, str | bytes) and len(args) >= 2:  # noqa: PLR2004
            old, new = args[0].data, args[1].data
            if type(old) is type(data) and type(new) is type(data):
                return Value(_bound(data.replace(old, new)), receiver.stages)  # type: ignore[arg-type]
        if method in {"strip", "lstrip", "rstrip", "lower", "upper"} and isinstance(data, str | bytes) and not args:
            return Value(getattr(data, method)(), receiver.stages)
        if method == "fromhex" and args and isinstance(args[0].data, str):
            return _stage(args[0], "hex", bytes.fromhex(args[0].data))
        raise Unknown

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp, local: Mapping[str, Value], depth: int) -> Value:
        if len(node.generators) != 1:
            raise Unknown
        gen = node.generators[0]
        source = self._iterable(gen.iter, local, depth)
        if len(source) > MAX_ITEMS:
            raise Unknown
        fast = self._fast_xor(node.elt, gen, source)
        if fast is not None:
            return fast
        if len(source) > MAX_SLOW_ITEMS:
            raise Unknown
        out: list[Value] = []
        for item in source:
            scope = dict(local)
            _bind(gen.target, item, scope)
            if all(_truthy(self._eval(cond, scope, depth + 1)) for cond in gen.ifs):
                out.append(self._eval(node.elt, scope, depth + 1))
        stages = _stages(source)
        if isinstance(node.elt, ast.BinOp) and isinstance(node.elt.op, ast.BitXor):
            stages = (*stages, DecodedStage("xor", ""))
        return Value(tuple(out), stages)

    def _iterable(self, node: ast.expr, local: Mapping[str, Value], depth: int) -> tuple[Value, ...]:
        if isinstance(node, ast.Call):
            name = self._resolve(node.func)
            args = [self._eval(a, local, depth + 1) for a in node.args]
            if name == "range" and all(isinstance(a.data, int) for a in args) and 1 <= len(args) <= 3:  # noqa: PLR2004
                rng = range(*[_int(a) for a in args])
                if len(rng) > MAX_ITEMS:
                    raise Unknown
                return tuple(Value(i) for i in rng)
            if name == "enumerate" and len(args) == 1:
                return tuple(Value((Value(i), v)) for i, v in enumerate(_items(args[0])))
            if name == "zip" and len(args) == 2:  # noqa: PLR2004
                return self._zip(node, args)
        return _items(self._eval(node, local, depth + 1))

    def _zip(self, node: ast.Call, args: list[Value]) -> tuple[Value, ...]:
        first = _items(args[0])
        second_node = node.args[1]
        if isinstance(second_node, ast.Call) and self._resolve(second_node.func) == "itertools.cycle":
            key = _items(self._eval(second_node.args[0], {}, 1))
            if not key:
                raise Unknown
            return tuple(Value((a, key[i % len(key)])) for i, a in enumerate(first))
        second = _items(args[1])
        return tuple(Value((a, b)) for a, b in zip(first, second, strict=False))

    def _fast_xor(self, elt: ast.expr, gen: ast.comprehension, source: tuple[Value, ...]) -> Value | None:
        """`x ^ K` / `ord(c) ^ K` / `chr(x ^ K)` over a sequence: the common XOR decoders, done in bulk."""
        wrap_chr = (
            isinstance(elt, ast.Call) and isinstance(elt.func, ast.Name) and elt.func.id == "chr" and len(elt.args) == 1
        )
        inner = elt.args[0] if wrap_chr else elt  # type: ignore[attr-defined]
        if gen.ifs or not isinstance(gen.target, ast.Name) or not isinstance(inner, ast.BinOp):
            return None
        if not isinstance(inner.op, ast.BitXor) or not isinstance(inner.right, ast.Constant):
            return None
        key = inner.right.value
        var = gen.target.id
        left = inner.left
        use_ord = isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "ord"
        target = left.args[0] if use_ord else left  # type: ignore[attr-defined]
        if not isinstance(key, int) or not (isinstance(target, ast.Name) and target.id == var):
            return None
        raw = [v.data for v in source]
        if use_ord:
            if not all(isinstance(c, str) and len(c) == 1 for c in raw):
                return None
            raw = [ord(c) for c in raw]  # type: ignore[arg-type]
        if not all(isinstance(i, int) for i in raw):
            return None
        decoded = [i ^ key for i in raw]  # type: ignore[operator]
        items = tuple(Value(chr(i)) for i in decoded) if wrap_chr else tuple(Value(i) for i in decoded)
        sample = bytes(i & 0xFF for i in decoded[:PREVIEW])
        return Value(items, (*_stages(source), DecodedStage(f"xor {key:#x}", preview(sample))))


def _bound(data: str | bytes) -> str | bytes:
    if len(data) > MAX_OUTPUT:
        raise Unknown
    return data


def _stage(src: Value, method: str, out: str | bytes | CodeBlob) -> Value:
    return Value(out, (*src.stages, DecodedStage(method, preview(out))))


def _stages(values: tuple[Value, ...] | list[Value]) -> tuple[DecodedStage, ...]:
    seen: list[DecodedStage] = []
    for v in values:
        for s in v.stages:
            if s not in seen:
                seen.append(s)
    return tuple(seen)


def _items(value: Value) -> tuple[Value, ...]:
    data = value.data
    if isinstance(data, tuple):
        return data
    if isinstance(data, str):
        return tuple(Value(c) for c in data)
    if isinstance(data, bytes):
        return tuple(Value(b) for b in data)
    raise Unknown


def _bind(target: ast.expr, item: Value, scope: dict[str, Value]) -> None:
    if isinstance(target, ast.Name):
        scope[target.id] = item
        return
    if isinstance(target, ast.Tuple) and isinstance(item.data, tuple) and len(target.elts) == len(item.data):
        for t, v in zip(target.elts, item.data, strict=True):
            _bind(t, v, scope)
        return
    raise Unknown


def _truthy(value: Value) -> bool:
    return bool(value.data)


def _int(value: Value) -> int:
    if isinstance(value.data, int):
        return value.data
    raise Unknown


def _char(value: Value) -> str | bytes:
    if isinstance(value.data, str | bytes) and len(value.data) == 1:
        return value.data
    raise Unknown
