"""Installers pointed at `chainwarden proxy` never receive young or malicious files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from chainwarden.gate.config import GatePolicy
from chainwarden.gate.proxy import ProxyServer
from chainwarden.gate.service import build_gate_index
from chainwarden.policy import Policy
from gate.conftest import GateWorld, installed, uninstall


def _proxy(world: GateWorld, cache: Path, gate: GatePolicy | None = None) -> ProxyServer:
    index = build_gate_index(
        index_url=world.server.simple_url,
        policy=Policy(),
        gate=gate or GatePolicy(),
        cache_dir=cache,
        jobs=1,
    )
    return ProxyServer(index)


def _clean_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PIP_CONFIG_FILE": os.devnull, "HOME": os.environ.get("HOME", "/root")}


def _young_file_requested(world: GateWorld, since: int) -> bool:
    return any("quietllm-1.1" in r.path for r in world.server.requests[since:])


def test_pip_through_proxy_gets_previous_release(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    seen = len(gate_world.server.requests)
    with _proxy(gate_world, tmp_path) as proxy:
        proc = subprocess.run(
            [target_python, "-m", "pip", "install", "-q", "--no-cache-dir", "--index-url", proxy.url, "app"],
            capture_output=True, text=True, env=_clean_env(), check=False, timeout=600,
        )  # fmt: skip
        why = urllib.request.urlopen(proxy.url.replace("/simple/", "/_chainwarden/why/quietllm-1.1-py3-none-any.whl")).read()
    try:
        assert proc.returncode == 0, proc.stderr
        assert installed(target_python)["quietllm"] == "1.0"
        assert b"minimum release age" in why
        assert not _young_file_requested(gate_world, seen)
    finally:
        uninstall(target_python, "app", "quietllm")


def test_proxy_refuses_malicious_file_with_403(gate_world: GateWorld, tmp_path: Path) -> None:
    with _proxy(gate_world, tmp_path, GatePolicy(min_release_age=0)) as proxy:
        urllib.request.urlopen(urllib.request.Request(proxy.url + "quietllm/", headers={"Accept": "text/html"})).read()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(proxy.url.replace("/simple/", "/files/quietllm-1.1-py3-none-any.whl"))
        assert err.value.code == 403
        body = err.value.read().decode()
        assert "quietllm_init.pth" in body
        # once refused, it disappears from the listing so resolvers choose another version
        page = urllib.request.urlopen(proxy.url + "quietllm/").read().decode()
        assert "quietllm-1.1" not in page
        assert "quietllm-1.0" in page


@pytest.mark.skipif(shutil.which("uv", path=str(Path(sys.executable).parent)) is None, reason="uv not installed")
def test_uv_pip_through_proxy_gets_previous_release(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv is not None
    seen = len(gate_world.server.requests)
    with _proxy(gate_world, tmp_path) as proxy:
        env = {**_clean_env(), "UV_NO_CONFIG": "1", "UV_CACHE_DIR": str(tmp_path / "uvcache")}
        proc = subprocess.run(
            [uv, "pip", "install", "--python", target_python, "--index-url", proxy.url, "app"],
            capture_output=True, text=True, env=env, check=False, timeout=600,
        )  # fmt: skip
    try:
        assert proc.returncode == 0, proc.stderr
        assert installed(target_python)["quietllm"] == "1.0"
        assert not _young_file_requested(gate_world, seen)
    finally:
        uninstall(target_python, "app", "quietllm")
