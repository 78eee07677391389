"""`chainwarden sync` from uv.lock and pylock.toml, online and then with no network."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from chainwarden.cli import main
from chainwarden.cli.common import IO
from gate.conftest import GateWorld, installed, uninstall


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _uv_lock(world: GateWorld, quiet: str = "old") -> str:
    url = world.server.simple_url
    q = world.files[quiet]
    qv = "1.0" if quiet == "old" else "1.1"
    return f"""version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "2.0"
source = {{ registry = "{url}" }}
dependencies = [{{ name = "quietllm" }}]
wheels = [{{ url = "{url}../files/app/{world.files['app'].name}", hash = "sha256:{_sha(world.files['app'])}" }}]

[[package]]
name = "myproject"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "app" }}]

[[package]]
name = "quietllm"
version = "{qv}"
source = {{ registry = "{url}" }}
wheels = [{{ url = "{url}../files/quietllm/{q.name}", hash = "sha256:{_sha(q)}" }}]
"""


def _pylock(world: GateWorld) -> str:
    return f"""lock-version = "1.0"
created-by = "chainwarden-tests"

[[packages]]
name = "app"
version = "2.0"
wheels = [{{ name = "{world.files['app'].name}", hashes = {{ sha256 = "{_sha(world.files['app'])}" }} }}]

[[packages]]
name = "quietllm"
version = "1.0"
wheels = [{{ name = "{world.files['old'].name}", hashes = {{ sha256 = "{_sha(world.files['old'])}" }} }}]
"""


def _sync(world: GateWorld, python: str, cache: Path, lock: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["sync", str(lock), "--index-url", world.server.simple_url, "--python", python, "--cache-dir", str(cache)]
    code = main([*argv, *extra], IO(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("kind", ["uv.lock", "pylock.toml"])
def test_sync_online_then_offline(gate_world: GateWorld, target_python: str, tmp_path: Path, kind: str) -> None:
    lock = tmp_path / kind
    lock.write_text(_uv_lock(gate_world) if kind == "uv.lock" else _pylock(gate_world))
    cache = tmp_path / "cache"
    code, out, err = _sync(gate_world, target_python, cache, lock, "--dry-run")
    assert code == 0, err
    assert "checked quietllm==1.0" in out
    assert "checked app==2.0" in out
    seen = len(gate_world.server.requests)
    code, out, err = _sync(gate_world, target_python, cache, lock, "--offline")
    try:
        assert code == 0, err
        assert len(gate_world.server.requests) == seen  # no network at all
        versions = installed(target_python)
        assert versions["quietllm"] == "1.0"
        assert versions["app"] == "2.0"
    finally:
        uninstall(target_python, "app", "quietllm")


def test_sync_offline_without_cache_is_a_clear_block(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(_uv_lock(gate_world))
    code, _, err = _sync(gate_world, target_python, tmp_path / "empty", lock, "--offline")
    assert code == 1
    assert "not cached" in err
    assert "nothing was installed" in err


def test_sync_of_a_young_pin_is_blocked_by_cooldown(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(_uv_lock(gate_world, quiet="new"))
    code, _, err = _sync(gate_world, target_python, tmp_path / "c", lock)
    assert code == 1
    assert "quietllm==1.1" in err
    assert "minimum release age" in err
    assert "quietllm" not in installed(target_python)


def test_sync_refuses_unpinned_requirements(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("quietllm>=1.0\n")
    code, _, err = _sync(gate_world, target_python, tmp_path / "c", req)
    assert code == 2
    assert "not pinned" in err
