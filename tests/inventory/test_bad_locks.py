"""Malformed, partial and unknown-version lockfiles become problems, never tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chainwarden.inventory.discover import InventoryError, discover, parser_for

LOCKFILES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("uv.lock", "version = 2\n[[package]]\nname = 'a'\nversion = '1'\n", "version 2"),
        ("uv.lock", "[[package]]\nname = 'a'\n", "version None"),
        ("uv.lock", "version = 1\n[[package]\n", "invalid TOML"),
        (
            "poetry.lock",
            "[[package]]\nname = 'a'\nversion = '1'\n[metadata]\nlock-version = '9.0'\n",
            "lock-version 9.0",
        ),
        ("poetry.lock", "[[package]]\nname = 'a'\nversion = '1'\n", "lock-version missing"),
        ("pdm.lock", "[metadata]\nlock_version = '3.1'\n", "lock_version 3.1"),
        ("pylock.toml", "lock-version = '2.0'\n", "lock-version 2.0"),
        ("Pipfile.lock", '{"_meta": {"pipfile-spec": 99}}', "pipfile-spec 99"),
        ("Pipfile.lock", '{"_meta": ', "invalid JSON"),
        ("Pipfile.lock", "[1, 2]", "not a JSON object"),
        ("uv.lock", b"version = 1\n\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_locks_are_problems(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    (inv,) = parser_for(path).parse(path)
    assert inv.packages == ()
    assert len(inv.problems) == 1
    assert message in inv.problems[0].message


def test_entries_without_name_or_version_are_problems(tmp_path):
    path = write(
        tmp_path,
        "uv.lock",
        "version = 1\n[[package]]\nversion = '1'\n[[package]]\nname = 'nover'\nsource = { registry = 'x' }\n"
        "[[package]]\nname = 'ok'\nversion = '2.0'\nsource = { registry = 'x' }\n",
    )
    (inv,) = parser_for(path).parse(path)
    assert [p.message for p in inv.problems] == ["package entry 1 has no name", "nover has no version"]
    assert {p.name: p.version for p in inv.packages} == {"nover": "", "ok": "2.0"}


def test_truncated_real_lock_is_a_problem(tmp_path):
    real = (LOCKFILES / "direct" / "poetry" / "poetry.lock").read_text()
    path = write(tmp_path, "poetry.lock", real[: len(real) // 2])
    (inv,) = parser_for(path).parse(path)
    assert inv.problems


def test_pipfile_lock_with_a_range_instead_of_a_pin(tmp_path):
    path = write(
        tmp_path,
        "Pipfile.lock",
        json.dumps({"_meta": {"pipfile-spec": 6}, "default": {"six": {"version": ">=1"}, "x": {}}}),
    )
    (inv,) = parser_for(path).parse(path)
    assert [p.message for p in inv.problems] == ["six: version '>=1' is not an exact pin", "x has no version"]


def test_conflicting_pins_across_files(tmp_path):
    shutil.copy(LOCKFILES / "direct" / "uv" / "uv.lock", tmp_path / "uv.lock")
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n")
    inv = discover(tmp_path)
    (conflict,) = inv.conflicts
    assert conflict.name == "requests"
    assert [v for v, _ in conflict.pins] == ["2.25.0", "2.31.0"]


def test_one_lock_with_forked_versions_is_not_a_conflict(tmp_path):
    (tmp_path / "uv.lock").write_text(
        "version = 1\n[[package]]\nname = 'numpy'\nversion = '1.26.4'\nsource = { registry = 'x' }\n"
        "[[package]]\nname = 'numpy'\nversion = '2.1.0'\nsource = { registry = 'x' }\n"
    )
    assert discover(tmp_path).conflicts == ()


def test_nothing_to_audit_is_a_clear_error(tmp_path):
    (tmp_path / "README.md").write_text("hello")
    with pytest.raises(InventoryError, match="no lockfile"):
        discover(tmp_path)
    with pytest.raises(InventoryError, match="no such file"):
        discover(tmp_path / "missing")
    with pytest.raises(InventoryError, match="not a dependency file"):
        discover(tmp_path / "README.md")


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    from chainwarden.inventory import base

    monkeypatch.setattr(base, "MAX_FILE_BYTES", 10)
    path = write(tmp_path, "uv.lock", "version = 1\n" * 5)
    (inv,) = parser_for(path).parse(path)
    assert "larger than" in inv.problems[0].message
