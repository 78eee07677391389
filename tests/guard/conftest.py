"""Fixtures for the runtime guard: a throw-away venv holding litellm-style test distributions.

Every payload is built in code, in tmp dirs; it only reads a fake key under a temporary HOME and
connects to a listener these fixtures start on 127.0.0.2 (loopback). `target_env` is `attack_env`
built once per target interpreter (`guardkit.TARGETS`: this one, plus CPython 3.11-3.13 found on the
machine), for the scenarios that must hold on every supported version.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pytest
from guardkit import (
    CODEGEN,
    DISTUTILS_PTH,
    EVIL_PTH,
    MARSHALER,
    MINIHTTP,
    MPDEMO,
    PAYLOAD,
    SUBINTERP,
    TAMPER,
    TARGETS,
    Env,
    Listener,
    add_distribution,
)

from chainwarden.guard.baseline import render_baseline, scan_pth

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def guard_env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    return _make_env(tmp_path_factory.mktemp("guardenv"), sys.executable)


@pytest.fixture(scope="session", params=TARGETS)
def versioned_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """`guard_env` built with each target interpreter in turn (the test's id names the version)."""
    if request.param == sys.executable:
        env: Env = request.getfixturevalue("guard_env")
        return env
    return _make_env(tmp_path_factory.mktemp("guardenv"), request.param)


@pytest.fixture
def target_env(versioned_env: Env, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> Env:
    """`attack_env` for each target interpreter."""
    return _enter(versioned_env, listener, monkeypatch)


def _enter(env: Env, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Run in `env`: its fake HOME (with ~/.ssh/id_rsa), its work directory, the listener's port."""
    monkeypatch.setenv("HOME", str(env.home))
    monkeypatch.setenv("CW_TEST_PORT", str(listener.port))
    monkeypatch.chdir(env.work)
    return env


def _make_env(root: Path, python: str) -> Env:
    subprocess.run([python, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    site = next((root / "venv").glob("lib/python3*/site-packages"))
    add_distribution(site, "setuptools", "69.0.0", {
        "distutils-precedence.pth": DISTUTILS_PTH,
        "_distutils_hack/__init__.py": "def add_shim():\n    print('CWREPORT setuptools {\"pth\": \"ran\"}', flush=True)\n",
    })
    baseline = root / "baseline.toml"
    baseline.write_text(render_baseline(scan_pth(site)), encoding="utf-8")  # approved before the attack
    add_distribution(site, "evilllm", "1.82.8", {
        "evilllm/__init__.py": "", "evilllm/_payload.py": PAYLOAD, "evilllm_init.pth": EVIL_PTH})
    add_distribution(site, "tamperer", "0.1", {"tamperer/__init__.py": TAMPER})
    add_distribution(site, "codegen_pkg", "0.1", {"codegen_pkg/__init__.py": CODEGEN})
    add_distribution(site, "minihttp", "0.1", {"minihttp/__init__.py": MINIHTTP})
    add_distribution(site, "mpdemo", "0.1", {"mpdemo/__init__.py": MPDEMO})
    add_distribution(site, "marshaler", "0.1", {"marshaler/__init__.py": MARSHALER})
    add_distribution(site, "subinterp", "0.1", {"subinterp/__init__.py": SUBINTERP})
    home = root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("FAKE KEY FOR TESTS\n")
    work = root / "work"
    work.mkdir()
    return Env(root, root / "venv" / "bin" / "python", site, home, baseline, work)


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.listen(16)
    sock.settimeout(None)
    lst = Listener(sock)
    thread = threading.Thread(target=lst.serve, daemon=True)
    thread.start()
    yield lst
    sock.close()


@pytest.fixture
def attack_env(guard_env: Env, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> Env:
    return _enter(guard_env, listener, monkeypatch)


