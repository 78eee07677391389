"""Helpers for the runtime guard tests: litellm-style test distributions built in code.

Every payload is built here, in tmp dirs; it only reads a fake key under a temporary HOME and
connects to a listener this test starts on 127.0.0.2 (loopback).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chainwarden.cli import main

#: `_try(fn)` of the programs below: "ok", "blocked" (the guard's PermissionError) or "oserror".
_TRY = """def _try(fn):
    try:
        fn()
        return "ok"
    except PermissionError:
        return "blocked"
    except OSError:
        return "oserror"
"""

PAYLOAD = '''
import base64, json, os, socket, subprocess, sys, threading

CHILD = """
import base64, json, os, socket
def t(f):
    try:
        f()
        return 'ok'
    except PermissionError:
        return 'blocked'
    except OSError:
        return 'oserror'
r = {}
r['read'] = t(lambda: open(os.path.expanduser('~/.ssh/id_rsa')).read())
r['connect'] = t(lambda: socket.create_connection(('127.0.0.2', __PORT__), timeout=3).close())
r['exec_b64'] = t(lambda: exec(base64.b64decode(b'eD0x')))
print('CWREPORT child ' + json.dumps(r), flush=True)
"""


__TRY__

def run():
    if not os.environ.get("CW_TEST_PORT") or os.environ.get("CW_TEST_CHILD"):
        return  # unlike litellm's, this payload does not fork-bomb its own children
    if getattr(sys, "_cw_test_ran", False):
        return  # Python 3.11 runs a venv's .pth files twice; report once
    sys._cw_test_ran = True
    port = int(os.environ["CW_TEST_PORT"])
    r = {}
    r["read"] = _try(lambda: open(os.path.expanduser("~/.ssh/id_rsa")).read())
    r["connect"] = _try(lambda: socket.create_connection(("127.0.0.2", port), timeout=3).close())
    r["exec_b64"] = _try(lambda: exec(base64.b64decode(b"eD0x")))
    t = threading.Thread(target=os.system, args=("true",))
    t.start()
    t.join()
    child = CHILD.replace("__PORT__", str(port))
    r["spawn"] = _try(lambda: subprocess.run([sys.executable, "-c", child], timeout=60, check=False,
                                         env={**os.environ, "CW_TEST_CHILD": "1"}))
    print("CWREPORT payload " + json.dumps(r), flush=True)
'''.replace("__TRY__", _TRY)

TAMPER = """
import builtins, gc, json, os, sys, _thread


def _read():
    try:
        open(os.path.expanduser("~/.ssh/id_rsa")).read()
        return "ok"
    except PermissionError as exc:
        return "blocked"


def attempt(kind):
    r = {"kind": kind}
    if kind == "sys_modules":
        for name in [n for n in sys.modules if n.startswith("_cw_")]:
            sys.modules.pop(name)
    elif kind == "monkeypatch":
        for name in [n for n in sys.modules if n.startswith("_cw_")]:
            mod = sys.modules[name]
            for attr in list(vars(mod)):
                if callable(getattr(mod, attr)) and not attr.startswith("__"):
                    setattr(mod, attr, lambda *a, **k: None)
            for attr in ("_IMPORTLIB", "_CODEGEN", "APP", "_STDLIB", "_SELF"):
                setattr(mod, attr, ())
    elif kind == "builtins":
        builtins.any = lambda it: True
        builtins.all = lambda it: True
        builtins.next = lambda it, d=None: d
    elif kind == "gc":
        try:
            gc.get_objects()
            r["gc"] = "ok"
        except PermissionError:
            r["gc"] = "blocked"
        try:
            gc.get_referrers(sys)
            r["referrers"] = "ok"
        except PermissionError:
            r["referrers"] = "blocked"
    elif kind == "frames":
        try:
            sys._current_frames()
            r["frames"] = "ok"
        except PermissionError:
            r["frames"] = "blocked"
        try:
            sys._current_exceptions()  # other threads' exceptions in flight: their tracebacks reach frames
            r["exceptions"] = "ok"
        except PermissionError:
            r["exceptions"] = "blocked"
    elif kind == "traceback":
        try:
            open(os.path.expanduser("~/.ssh/id_rsa"))
        except PermissionError as exc:
            tb, names = exc.__traceback__, []
            while tb is not None:
                names.extend(tb.tb_frame.f_locals)
                tb = tb.tb_next
            r["leaked"] = sorted(n for n in names if n.startswith("_decide") or n in ("state", "packages"))
    elif kind == "thread_start":
        for name in ("start_new_thread", "start_joinable_thread"):  # the second is what threading uses on 3.13+
            wrapper = getattr(_thread, name, None)
            cells = [c.cell_contents for c in (getattr(wrapper, "__closure__", None) or ())]
            original = next((c for c in cells if getattr(c, "__name__", "") == name and c is not wrapper), None)
            if original is not None:
                setattr(_thread, name, original)
                r.setdefault("restored", []).append(name)
        import threading
        box = []
        t = threading.Thread(target=lambda: box.append(_read()))
        t.start()
        t.join()
        r["thread_read"] = box[0]
    elif kind == "audit_hook":
        sys.addaudithook(lambda *a: None)
    r["read"] = _read()
    print("CWREPORT tamper " + json.dumps(r), flush=True)
"""

CODEGEN = """
import base64, collections, dataclasses, json, typing
# standard-library modules that build code at import on some version (enum, typing, dataclasses users)
import argparse, asyncio, email.message, enum, http.client, inspect, logging, pathlib, string, types, unittest.mock

@dataclasses.dataclass
class Point:
    x: int
    y: "typing.Optional[int]" = None

Pair = collections.namedtuple("Pair", "a b")


@types.coroutine
def _tick():  # a copy of this file's code with the coroutine flag: no new code
    yield
hints = typing.get_type_hints(Point)


def decoded():
    try:
        exec(base64.b64decode(b"eD0x"))
        return "ok"
    except PermissionError:
        return "blocked"
"""

MINIHTTP = """
import json, urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()
"""

MARSHALER = """
import _imp, json, marshal, sys, types
import _frozen_importlib as bootstrap

DATA = marshal.dumps((lambda: 1).__code__)


__TRY__

def _spec_module(name):
    module = types.ModuleType("fake")
    module.__spec__ = types.SimpleNamespace(name=name)
    return module


def _with(owner, name, value, fn):
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        fn()
    finally:
        setattr(owner, name, saved)


def run():
    loader = bootstrap.FrozenImporter
    r = {
        # the interpreter's own frozen code, through the import system's loader (3.13 unmarshals it)
        "frozen_get_code": _try(lambda: loader.get_code("os")),
        # the package's own bytes: dynamic code, however it reaches marshal.loads
        "own": _try(lambda: marshal.loads(DATA)),
        "frames_removed": _try(lambda: bootstrap._call_with_frames_removed(marshal.loads, DATA)),
        "patched_imp_exec": _try(lambda: _with(_imp, "get_frozen_object", marshal.loads,
                                               lambda: loader.exec_module(_spec_module(DATA)))),
        "fake_imp_exec": _try(lambda: _with(bootstrap, "_imp", types.SimpleNamespace(get_frozen_object=marshal.loads),
                                            lambda: loader.exec_module(_spec_module(DATA)))),
        "patched_imp_get_code": _try(lambda: _with(_imp, "is_frozen", lambda name: True, lambda: _with(
            _imp, "get_frozen_object", marshal.loads, lambda: loader.get_code(DATA)))),
    }
    print("CWREPORT marshal " + json.dumps(r), flush=True)
""".replace("__TRY__", _TRY)

SUBINTERP = """
import json, os, sys


def run():
    r = {"stage": "import"}
    try:
        m = __import__("_interpreters" if sys.version_info >= (3, 13) else "_xxsubinterpreters")
        r["stage"] = "create"
        i = m.create()
        r["stage"] = "run"
        # a subinterpreter has none of this interpreter's audit hooks: its open() would go unseen
        m.run_string(i, "open(" + repr(os.path.expanduser("~/.ssh/id_rsa")) + ").read()")
        r["result"] = "ok"
    except (PermissionError, RuntimeError):  # a refused creation surfaces as "interpreter creation failed"
        r["result"] = "blocked"
    print("CWREPORT subinterp " + json.dumps(r), flush=True)
"""

MPDEMO = """
import os, sys


def work():
    try:
        open(os.path.expanduser("~/.ssh/id_rsa")).read()
        result = "ok"
    except PermissionError:
        result = "blocked"
    print("CWREPORT mp " + result + " no_site=" + str(sys.flags.no_site) + " guarded=" + str("_cw_guard" in sys.modules), flush=True)
"""

DISTUTILS_PTH = ("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
                 "enabled and __import__('_distutils_hack').add_shim(); \n")
EVIL_PTH = "import evilllm._payload as p; p.run()\n"


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def add_distribution(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """Write files plus a dist-info with a correct RECORD, as an installer would."""
    dist_info = f"{name}-{version}.dist-info"
    files = {**files, f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}
    rows = []
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        rows.append(f"{rel},{record_hash(text.encode())},{len(text.encode())}")
    rows.append(f"{dist_info}/RECORD,,")
    (site / dist_info / "RECORD").write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class Listener:
    """A TCP listener on 127.0.0.2 counting the connections it accepts."""

    sock: socket.socket
    accepted: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def serve(self) -> None:
        while True:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(addr[0])
            conn.close()


@dataclass
class Env:
    root: Path
    python: Path
    site: Path
    home: Path
    baseline: Path
    work: Path

    def run(self, capfd: pytest.CaptureFixture[str], *args: str, program: list[str]) -> tuple[int, str, str]:
        # Unbuffered, `print` is two writes (text, then newline), so the report lines of processes
        # that start together (a spawned child and multiprocessing's resource tracker both run the
        # .pth files) can interleave; buffered, each flushed line is one write.
        unbuffered = os.environ.pop("PYTHONUNBUFFERED", None)
        try:
            code = main(["run", *args, "--", str(self.python), *program])
        finally:
            if unbuffered is not None:
                os.environ["PYTHONUNBUFFERED"] = unbuffered
        out, err = capfd.readouterr()
        return code, out, err


def reports(out: str) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for line in out.splitlines():
        if line.startswith("CWREPORT "):
            _, kind, rest = line.split(" ", 2)
            found[kind] = json.loads(rest) if rest.startswith("{") else {"text": rest}
    return found


def events(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


#: The CPython versions the guard supports as target interpreters (3.11, 3.12, 3.13).
SUPPORTED_MINORS = range(11, 14)
PROBE = "import sys; print('%d.%d' % sys.version_info[:2], sys.implementation.name, sys.executable)"


def _other_pythons() -> list[tuple[str, str]]:
    """(version, real path) of the other supported CPythons on this machine, for the versioned scenarios.

    `CHAINWARDEN_TEST_PYTHONS` (paths separated by `os.pathsep`) overrides the search of `PATH` and pyenv.
    A machine without them just runs the scenarios under the interpreter running the tests.
    """
    given = os.environ.get("CHAINWARDEN_TEST_PYTHONS")
    if given is not None:
        candidates = [p for p in given.split(os.pathsep) if p]
    else:
        pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
        candidates = []
        for minor in SUPPORTED_MINORS:
            if minor == sys.version_info[1]:
                continue
            found = sorted(str(p) for p in pyenv.glob(f"3.{minor}.*/bin/python3.{minor}"))[-1:]
            candidates += found or [p for p in [shutil.which(f"python3.{minor}")] if p]
    own = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found_versions: dict[str, str] = {}
    for exe in candidates:
        try:
            done = subprocess.run([exe, "-S", "-c", PROBE], capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        words = done.stdout.split(maxsplit=2)
        if done.returncode == 0 and len(words) == 3 and words[1] == "cpython" and words[0] != own and \
                words[0].startswith("3.") and int(words[0][2:]) in SUPPORTED_MINORS:
            found_versions.setdefault(words[0], words[2].strip())
    return sorted(found_versions.items(), key=lambda v: tuple(map(int, v[0].split("."))))


#: The target interpreters of the versioned scenarios: the one running the tests, then any others found.
TARGETS = [pytest.param(sys.executable, id=f"py{sys.version_info[0]}.{sys.version_info[1]}"),
           *(pytest.param(exe, id=f"py{version}") for version, exe in _other_pythons())]
