"""A loopback index with a litellm-shaped dependency, and a throwaway target environment."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.index_server import IndexedFile, IndexedProject, IndexServer
from support.packages import make_sdist, make_wheel

if TYPE_CHECKING:
    from collections.abc import Iterator


def iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) - delta).isoformat().replace("+00:00", "Z")


PAYLOAD = base64.b64encode(b"import base64; exec(base64.b64decode('cHJpbnQoMSk='))").decode()
MALICIOUS_PTH = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{PAYLOAD}'))\"], stdout=subprocess.DEVNULL)\n"
)


@dataclass
class GateWorld:
    server: IndexServer
    files: dict[str, Path]
    marker: Path  # the canary sdist's setup.py would create this if it ever ran


@pytest.fixture(scope="module")
def gate_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GateWorld]:
    tmp = tmp_path_factory.mktemp("gate-index")
    marker = tmp / "CANARY-RAN"
    old = make_wheel(tmp, "quietllm", "1.0", {"quietllm/__init__.py": "VERSION = '1.0'\n"})
    new = make_wheel(
        tmp,
        "quietllm",
        "1.1",
        {"quietllm/__init__.py": "VERSION = '1.1'\n", "quietllm_init.pth": MALICIOUS_PTH},
    )
    app = make_wheel(tmp, "app", "2.0", {"app/__init__.py": "import quietllm\n"}, metadata={"Requires-Dist": ["quietllm"]})
    canary = make_sdist(
        tmp,
        "canary",
        "1.0",
        {"setup.py": f"open({str(marker)!r}, 'w').write('ran')\nfrom setuptools import setup\nsetup(name='canary', version='1.0')\n"},
    )
    undated = make_wheel(tmp, "undated", "1.0", {"undated/__init__.py": ""})
    server = IndexServer(
        [
            IndexedProject("quietllm", [
                IndexedFile.from_path(old, upload_time=iso(dt.timedelta(days=30))),
                IndexedFile.from_path(new, upload_time=iso(dt.timedelta(hours=1))),
            ]),
            IndexedProject("app", [IndexedFile.from_path(app, upload_time=iso(dt.timedelta(days=40)))]),
            IndexedProject("canary", [IndexedFile.from_path(canary, upload_time=iso(dt.timedelta(days=40)))]),
            IndexedProject("undated", [IndexedFile.from_path(undated, upload_time=None)]),
        ]
    )  # fmt: skip
    with server:
        yield GateWorld(server, {"old": old, "new": new, "app": app, "canary": canary}, marker)


@pytest.fixture(scope="module")
def target_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh venv (with pip, from the interpreter's bundled wheel: no network)."""
    env = tmp_path_factory.mktemp("target") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True, timeout=300)
    return str(env / "bin" / "python")


def installed(python: str) -> dict[str, str]:
    proc = subprocess.run(
        [python, "-c", "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    import json

    return {k.lower(): v for k, v in json.loads(proc.stdout).items()}


def uninstall(python: str, *names: str) -> None:
    subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", *names], capture_output=True, check=False)
