"""The symbolic pickle machine: agrees with CPython's pickler on benign data, never raises on
hostile bytes, follows the memo, and stops where the real unpickler would."""

from __future__ import annotations

import collections
import datetime as dt
import pickle
import pickletools
import random

import pytest

from chainwarden.analyzers.mlmodels.facts import IssueKind
from chainwarden.analyzers.mlmodels.pickleops import OPCODES
from chainwarden.analyzers.mlmodels.picklesimple import SIMPLE
from chainwarden.analyzers.mlmodels.picklevm import Collector, Limits, run_stream
from support import modelcraft as mc

BENIGN_OBJECTS = [
    {"a": [1, 2.5, "x", None, True, b"raw", bytearray(b"ba")]},
    collections.OrderedDict(weight=(1, 2, 3)),
    {1, 2, 3},
    frozenset({"z"}),
    complex(1, 2),
    slice(1, 9, 2),
    2**200,
    -(2**70),
    "é" * 300,
    "x" * 70_000,
    dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    [[[[]]]],
]


def _run(data: bytes, limits: Limits | None = None) -> tuple[Collector, object]:
    sink = Collector(where="", limits=limits or Limits())
    return sink, run_stream(data, 0, len(data), sink)


@pytest.mark.parametrize("protocol", range(6))
def test_benign_objects_parse_to_the_end_in_every_protocol(protocol: int) -> None:
    for obj in BENIGN_OBJECTS:
        data = pickle.dumps(obj, protocol=protocol)
        sink, result = _run(data)
        assert result.complete, (protocol, obj, result.error)
        assert result.end == len(data)
        assert not sink.issues


def test_every_opcode_in_the_table_has_a_handler() -> None:
    names = {name for name, _ in OPCODES.values()}
    assert names == {op.name for op in pickletools.opcodes}
    special = {"GLOBAL", "INST", "STACK_GLOBAL", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "BUILD", "PUT", "BINPUT",
               "LONG_BINPUT", "MEMOIZE", "GET", "BINGET", "LONG_BINGET", "EXT1", "EXT2", "EXT4", "PROTO", "STOP"}  # fmt: skip
    assert names == special | set(SIMPLE)


def test_globals_are_recorded_with_offsets_and_calls() -> None:
    data = mc.call("os", "system", mc.string0("id"))
    sink, result = _run(data)
    assert result.complete
    [ref] = sink.frozen_globals()
    assert (ref.module, ref.name, ref.offset, ref.opcode, ref.called) == ("os", "system", 2, "GLOBAL", True)


def test_stack_global_names_through_the_memo_are_resolved() -> None:
    # memo[0]="os", memo[1]="system"; distracting strings pushed and popped in between.
    data = (
        mc.proto(4) + mc.s("os") + mc.MEMOIZE + mc.POP + mc.s("system") + mc.MEMOIZE + mc.POP
        + mc.s("torch._utils") + mc.s("_rebuild_tensor_v2") + mc.POP + mc.POP
        + mc.binget(0) + mc.binget(1) + mc.STACK_GLOBAL + mc.s("id") + mc.TUPLE1 + mc.REDUCE + mc.STOP
    )  # fmt: skip
    sink, result = _run(data)
    assert result.complete
    assert [(g.module, g.name, g.called) for g in sink.globals] == [("os", "system", True)]


def test_memoize_index_is_the_memo_size_not_the_last_put() -> None:
    # PUT 5 then MEMOIZE stores at len(memo) == 1, exactly as CPython does.
    data = mc.proto(4) + mc.s("a") + mc.put(5) + mc.POP + mc.s("b") + mc.MEMOIZE + mc.POP + mc.get(1) + mc.STOP
    _, result = _run(data)
    assert result.complete, result.error
    data_bad = mc.proto(4) + mc.s("a") + mc.put(5) + mc.POP + mc.s("b") + mc.MEMOIZE + mc.POP + mc.get(2) + mc.STOP
    _, result = _run(data_bad)
    assert not result.complete
    assert "memo" in result.error


def test_missing_memo_index_stops_the_stream_like_the_unpickler() -> None:
    data = mc.proto(2) + mc.binget(7) + mc.STOP
    _, result = _run(data)
    assert not result.complete
    assert result.end == 2


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_truncation_at_every_byte_is_an_error_not_a_crash(protocol: int) -> None:
    data = pickle.dumps({"k": [1, "two", 3.0, b"four", (5,)]}, protocol=protocol)
    for cut in range(len(data)):
        _, result = _run(data[:cut])
        assert not result.complete


def test_random_bytes_never_raise() -> None:
    rng = random.Random(8)
    for _ in range(2000):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        _run(blob)
    for _ in range(300):  # mutations of a real stream reach deeper code paths
        data = bytearray(pickle.dumps([{"a": (1, 2)}, "x", 3.5, {4}], protocol=rng.choice([0, 2, 4])))
        for _ in range(3):
            data[rng.randrange(len(data))] = rng.randrange(256)
        _run(bytes(data))


def test_memo_bomb_hits_the_cap() -> None:
    data = mc.proto(4) + mc.NONE + mc.MEMOIZE * 2000 + mc.STOP
    _, result = _run(data, Limits(max_memo=1000))
    assert not result.complete
    assert result.limited


def test_stack_bomb_hits_the_cap() -> None:
    data = mc.proto(4) + mc.NONE * 5000 + mc.STOP
    _, result = _run(data, Limits(max_stack=1000))
    assert result.limited


def test_mark_nesting_bomb_hits_the_cap() -> None:
    data = mc.proto(4) + mc.MARK * 5000 + mc.STOP
    _, result = _run(data, Limits(max_marks=100))
    assert result.limited


def test_op_budget_hits_the_cap() -> None:
    data = mc.proto(4) + (mc.NONE + mc.POP) * 5000 + mc.NONE + mc.STOP
    _, result = _run(data, Limits(max_ops=1000))
    assert result.limited


def test_ext_codes_are_flagged_as_hidden() -> None:
    data = mc.proto(2) + b"\x82\x01" + mc.EMPTY_TUPLE + mc.REDUCE + mc.STOP
    sink, result = _run(data)
    assert result.complete
    kinds = {i.kind for i in sink.issues}
    assert IssueKind.HIDDEN_GLOBAL in kinds
    assert IssueKind.INDIRECT_CALL in kinds


def test_unsupported_protocol_is_an_error() -> None:
    _, result = _run(b"\x80\x09N.")
    assert not result.complete
    assert "protocol" in result.error
