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
from typing import Any, TypeVar, cast

T = TypeVar("T")

JSON = Any  # the JSON value space; kept loose on purpose at this boundary


def to_jsonable(value: object) -> JSON:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
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


def from_jsonable(tp: type[T], data: JSON) -> T:  # noqa: C901, PLR0911 - one branch per type form
    """Rebuild a value of type `tp` from `to_jsonable` output; raises ValueError on mismatch."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return cast("T", data)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return cast("T", None)
        for arg in args:
            if arg is type(None):
                continue
            try:
                return cast("T", from_jsonable(arg, data))
            except (TypeError, ValueError):
                continue
        msg = f"{data!r} matches no member of {tp}"
        raise ValueError(msg)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, list):
            msg = f"expected list for {tp}"
            raise ValueError(msg)
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004 - tuple[X, ...]
            return cast("T", tuple(from_jsonable(args[0], v) for v in data))
        if len(args) != len(data):
            msg = f"expected {len(args)} items for {tp}"
            raise ValueError(msg)
        return cast("T", tuple(from_jsonable(a, v) for a, v in zip(args, data, strict=True)))
    if origin is dict:
        _, vt = typing.get_args(tp)
        if not isinstance(data, dict):
            msg = f"expected object for {tp}"
            raise ValueError(msg)
        return cast("T", {k: from_jsonable(vt, v) for k, v in data.items()})
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            msg = f"expected object for {tp.__name__}"
            raise ValueError(msg)
        hints = _hints(tp)
        kwargs = {f.name: from_jsonable(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return cast("T", tp(data))
    if tp is float and isinstance(data, int | float) and not isinstance(data, bool):
        return cast("T", float(data))
    if (tp in (str, int, bool) and type(data) is tp) or (tp is type(None) and data is None):
        same: T = data
        return same
    msg = f"{data!r} is not a {tp}"
    raise ValueError(msg)
