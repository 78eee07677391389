import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainwarden import codec
from chainwarden.cache import FactsCache
from chainwarden.models import DecodedStage, Evidence, Finding, Location, Severity, Trigger


@dataclass(frozen=True, slots=True)
class _Facts:
    names: tuple[str, ...]
    line: int | None
    nested: tuple[tuple[str, int], ...] = ()
    table: dict[str, int] | None = None


def test_roundtrip_finding() -> None:
    finding = Finding(
        "CW101",
        Severity.CRITICAL,
        "msg",
        Location("a", "b.pth", 3, 0),
        trigger=Trigger.INTERPRETER_START,
        evidence=Evidence("exec(x)", (DecodedStage("base64", "import os"),)),
        capabilities=("exec",),
    )
    assert codec.from_jsonable(Finding, codec.to_jsonable(finding)) == finding


def test_roundtrip_facts_and_rejects_wrong_shapes() -> None:
    facts = _Facts(("a", "b"), None, (("x", 1),), {"k": 2})
    assert codec.from_jsonable(_Facts, codec.to_jsonable(facts)) == facts
    with pytest.raises(ValueError):
        codec.from_jsonable(_Facts, {"names": "notalist", "line": 1})
    with pytest.raises(ValueError):
        codec.from_jsonable(_Facts, {"names": [], "line": "1"})


def test_cache_roundtrip_and_disabled(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "c.sqlite3")
    cache.put_many("a", "1", {"h1": '{"x":1}'})
    assert cache.get_many("a", "1", ["h1", "h2"]) == {"h1": '{"x":1}'}
    assert cache.get_many("a", "2", ["h1"]) == {}  # a new analyzer version misses
    cache.close()
    off = FactsCache(None)
    off.put_many("a", "1", {"h1": "{}"})
    assert off.get_many("a", "1", ["h1"]) == {}


def test_corrupt_cache_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = FactsCache(path)
    cache.put_many("a", "1", {"h": "{}"})
    assert cache.get_many("a", "1", ["h"]) == {"h": "{}"}
    assert list(tmp_path.glob("c.sqlite3.corrupt-*"))
    cache.close()


def test_cache_is_safe_with_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    FactsCache(path).close()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            cache = FactsCache(path)
            for i in range(50):
                cache.put_many("a", "1", {f"{n}-{i}": "{}"})
            cache.close()
        except (sqlite3.Error, OSError) as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cache = FactsCache(path)
    assert len(cache.get_many("a", "1", [f"{n}-{i}" for n in range(4) for i in range(50)])) == 200
    cache.close()
