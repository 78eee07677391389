"""Typed JSON encoding for frozen dataclasses: how facts reach the cache and findings reach JSON.

Only plain data crosses the cache: no pickle (a poisoned cache must never run code).
Supported: dataclasses, enums, str/int/float/bool/None, tuple[X, ...], fixed tuples,
dict[str, X], unions of these.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

JSON = Any  # the JSON value space; kept loose on purpose at this boundary


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_jsonable(value: object) -> JSON:  # noqa: PLR0911 - one return per JSON shape
    """Plain JSON data of a value (workers encode every file's facts: exact-type dispatch first)."""
    t = type(value)
    if t in _PLAIN:
        return value
    names = _FIELD_NAMES.get(t)
    if names is None and dataclasses.is_dataclass(t):
        names = _FIELD_NAMES[t] = tuple(f.name for f in dataclasses.fields(t))
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if t is tuple or t is list:
        return [to_jsonable(v) for v in value]  # type: ignore[attr-defined]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    msg = f"cannot encode {type(value).__name__}"
    raise TypeError(msg)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = hints
    return hints


Decoder = Callable[[JSON], Any]
_DECODERS: dict[Any, Decoder] = {}
#: Decoders that only check an exact type (str, int, bool, None): callers check inline instead.
_EXACT: dict[Decoder, type] = {}


def from_jsonable(tp: type[T], data: JSON) -> T:
    """Rebuild a value of type `tp` from `to_jsonable` output; raises ValueError on mismatch.

    A decoder is compiled once per type (warm scans decode hundreds of thousands of cached
    facts, so reflection per value would dominate them)."""
    result: T = _decoder(tp)(data)
    return result


def _decoder(tp: Any) -> Decoder:  # noqa: ANN401 - any type form
    decoder = _DECODERS.get(tp)
    if decoder is None:
        decoder = _build(tp)
        _DECODERS[tp] = decoder
    return decoder


def _fail(tp: object, data: JSON) -> ValueError:
    return ValueError(f"{data!r:.80} is not a {tp}")


def _build(tp: Any) -> Decoder:  # noqa: ANN401, C901, PLR0911 - one branch per type form
    origin = typing.get_origin(tp)
    if tp is Any:
        return lambda data: data
    if origin in (typing.Union, types.UnionType):
        return _build_union(typing.get_args(tp))
    if origin is tuple:
        return _build_tuple(tp, typing.get_args(tp))
    if origin is dict:
        value = _decoder(typing.get_args(tp)[1])

        def dict_decoder(data: JSON) -> Any:  # noqa: ANN401
            if not isinstance(data, dict):
                raise _fail(tp, data)
            return {k: value(v) for k, v in data.items()}

        return dict_decoder
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build_dataclass(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        enum_type = tp

        def enum_decoder(data: JSON) -> Any:  # noqa: ANN401
            return enum_type(data)

        return enum_decoder
    if tp is float:

        def float_decoder(data: JSON) -> Any:  # noqa: ANN401
            if isinstance(data, int | float) and not isinstance(data, bool):
                return float(data)
            raise _fail(tp, data)

        return float_decoder
    if tp in (str, int, bool) or tp is type(None):
        exact = tp

        def exact_decoder(data: JSON) -> Any:  # noqa: ANN401
            if type(data) is exact:
                return data
            raise _fail(tp, data)

        _EXACT[exact_decoder] = exact
        return exact_decoder
    msg = f"cannot decode into {tp}"
    raise TypeError(msg)


def _build_union(args: tuple[Any, ...]) -> Decoder:
    optional = type(None) in args
    members = [_decoder(a) for a in args if a is not type(None)]

    def union_decoder(data: JSON) -> Any:  # noqa: ANN401
        if data is None and optional:
            return None
        for member in members:
            try:
                return member(data)
            except (TypeError, ValueError):
                continue
        raise _fail(args, data)

    return union_decoder


def _build_tuple(tp: Any, args: tuple[Any, ...]) -> Decoder:  # noqa: ANN401
    if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004 - tuple[X, ...]
        item = _decoder(args[0])

        exact = _EXACT.get(item)

        def var_tuple(data: JSON) -> Any:  # noqa: ANN401
            if type(data) is not list:
                raise _fail(tp, data)
            if exact is not None:  # tuple[str, ...] and the like: check, then copy at C speed
                for v in data:
                    if type(v) is not exact:
                        raise _fail(tp, data)
                return tuple(data)
            return tuple(map(item, data))

        return var_tuple
    items = [_decoder(a) for a in args]

    def fixed_tuple(data: JSON) -> Any:  # noqa: ANN401
        if not isinstance(data, list) or len(data) != len(items):
            raise _fail(tp, data)
        return tuple(f(v) for f, v in zip(items, data, strict=True))

    return fixed_tuple


def _build_dataclass(cls: type) -> Decoder:
    hints = _hints(cls)
    fields = [(f.name, f) for f in dataclasses.fields(cls)]
    # decoders of the fields are resolved lazily: dataclasses may refer to themselves
    resolved: list[tuple[str, Decoder, type | None]] = []

    def dataclass_decoder(data: JSON) -> Any:  # noqa: ANN401
        if type(data) is not dict:
            raise _fail(cls, data)
        if not resolved:
            for name, _ in fields:
                decoder = _decoder(hints[name])
                resolved.append((name, decoder, _EXACT.get(decoder)))
        kwargs = {}
        for name, dec, exact in resolved:
            if name in data:
                value = data[name]
                if exact is None:
                    kwargs[name] = dec(value)
                elif type(value) is exact:  # plain fields: checked here, no call
                    kwargs[name] = value
                else:
                    raise _fail(cls, data)
        return cls(**kwargs)

    return dataclass_decoder
