"""Mutated archives: whatever the damage, opening and reading gives findings or ArtifactError, never
another exception (a traceback is a bug)."""

from __future__ import annotations

import contextlib
import random
from typing import TYPE_CHECKING

import pytest

from chainwarden.artifact import ArtifactError
from chainwarden.sources import source_for
from chainwarden.sources.base import SourceOptions
from support import make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

_FILES = {"pkg/__init__.py": "x = 1\n" * 20, "pkg/data.txt": "hello\n" * 50, "pkg/mod.py": "def f():\n    return 2\n"}


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    action = rng.randrange(4)
    if action == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif action == 1:  # truncate
        del out[rng.randrange(1, len(out)) :]
    elif action == 2:  # insert junk
        at = rng.randrange(len(out))
        out[at:at] = rng.randbytes(rng.randint(1, 64))
    else:  # overwrite a 4-byte field with an extreme value
        at = rng.randrange(max(1, len(out) - 4))
        out[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x00\x40"])
    return bytes(out)


@pytest.mark.parametrize("kind", ["wheel", "gztar", "zip", "tar"])
def test_mutated_archives_never_crash(tmp_path: Path, kind: str) -> None:
    if kind == "wheel":
        original = make_wheel(tmp_path, "pkg", "1.0", _FILES)
    else:
        original = make_sdist(tmp_path, "pkg", "1.0", _FILES, fmt=kind)
    pristine = original.read_bytes()
    rng = random.Random(f"chainwarden-{kind}")  # fixed seed: reproducible
    options = SourceOptions(cache_dir=tmp_path / "cache")
    opened = 0
    messages: list[str] = []
    for _ in range(150):
        original.write_bytes(_mutate(pristine, rng))
        try:
            for artifact in source_for(str(original)).open(str(original), options):
                for member in artifact.members():
                    with contextlib.suppress(ArtifactError):
                        artifact.read(member.path)
                assert all(f.rule_id.startswith("CW") for f in artifact.problems)
                opened += 1
        except ArtifactError as err:
            messages.append(str(err))
    assert opened  # the mutations exercised both paths
    assert messages
    assert not [m for m in messages if "\n" in m]
