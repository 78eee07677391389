"""The audit hook's shortcuts answer exactly as the full handlers would: the fast paths taken before
`decide`, code `exec`'d without registration, and stack walks that stop at a frame the last walk cached.

The hook is built in-process with `make_hook` and called directly (not installed), from frames
whose file names and globals are chosen by the test: the event frame is the hook's caller.
"""

from __future__ import annotations

import ast
import asyncio
import os
import pathlib
import site
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from chainwarden.guard.runtime import _cw_guard
from chainwarden.guard.runtime._cw_hooks import make_hook

NOTHING = {"net": [], "read": [], "write": [], "exec": False, "dynamic_code": False, "native": False,
           "introspect": False}
STDLIB = getattr(sys, "_stdlib_dir", None) or str(Path(os.__file__).parent)
HOME = str(Path.home())


def stdlib(*parts: str) -> str:
    return "/".join((STDLIB, *parts))


def build_hook(*protect: str) -> Any:
    config = {"version": 1, "mode": "enforce", "log": "", "app": NOTHING, "defaults": NOTHING, "packages": {},
              "protect": ["~/.ssh/**", "**/id_rsa", *protect]}
    hook, _register = make_hook(config, origin="app", guard_file=_cw_guard.__file__)
    return hook


def caller(filename: str, globals_: dict[str, Any] | None = None) -> Any:
    """A function defined in `filename` that raises `event` through `hook` from its own frame."""
    namespace: dict[str, Any] = {} if globals_ is None else globals_
    exec(compile("def raise_event(hook, event, args):\n    hook(event, args)\n", filename, "exec"), namespace)
    return namespace.pop("raise_event")


PAYLOAD = b"__import__('os').system('id')"


def test_plain_annotations_pass_and_code_does_not() -> None:
    hook = build_hook()
    here = caller(stdlib("typing.py"))
    long_literal = "Literal[" + ", ".join(f"'model-{i}'" for i in range(300)) + "] | None"
    for text in ("Optional[int]", long_literal, long_literal):  # twice: the second answer comes from the cache
        here(hook, "compile", (text.encode(), "<string>"))
    with pytest.raises(PermissionError, match="dynamic_code"):
        here(hook, "compile", (PAYLOAD, "<string>"))
    with pytest.raises(PermissionError, match="dynamic_code"):
        here(hook, "compile", ("Literal['a'] if x else __import__('os')", "<string>"))


def test_only_the_real_stdlib_template_modules_are_code_generators() -> None:
    hook = build_hook()
    caller(stdlib("dataclasses.py"))(hook, "compile", (PAYLOAD, "<string>"))
    caller(stdlib("collections", "__init__.py"))(hook, "compile", (PAYLOAD, "<string>"))
    # a `dataclasses.py` of some package below the standard library directory is not the template module
    lookalike = caller(stdlib("site-packages", "evilpkg", "dataclasses.py"))
    with pytest.raises(PermissionError, match="dynamic_code"):
        lookalike(hook, "compile", (PAYLOAD, "<string>"))


def test_marshal_loads_is_free_only_for_the_import_system() -> None:
    hook = build_hook()
    importlib_globals = vars(sys.modules["_frozen_importlib_external"])
    caller("<frozen importlib._bootstrap_external>", importlib_globals)(hook, "marshal.loads", (b"",))
    assert "raise_event" not in importlib_globals
    with pytest.raises(PermissionError, match="dynamic_code"):
        caller("/opt/app/loader.py")(hook, "marshal.loads", (b"",))


def test_module_file_reads_skip_checks_but_secrets_do_not(tmp_path: Any) -> None:
    hook = build_hook()
    here = caller(stdlib("importlib", "__init__.py"))
    here(hook, "open", (stdlib("json", "__init__.py"), "r", 0))
    here(hook, "open", (stdlib("json", "__pycache__", "decoder.cpython-311.pyc"), "rb", 0))
    with pytest.raises(PermissionError, match="read"):  # a protected name, even with a module suffix
        here(hook, "open", (stdlib("id_rsa"), "r", 0))
    with pytest.raises(PermissionError, match="read"):
        here(hook, "open", (HOME + "/.ssh/config.py", "r", 0))
    with pytest.raises(PermissionError, match="read"):  # `..` is resolved first, not taken at face value
        here(hook, "open", ("/".join([STDLIB, *[".."] * STDLIB.count("/")]) + HOME + "/.ssh/x.py",
                            "r", 0))
    with pytest.raises(PermissionError, match="write"):
        here(hook, "open", (str(tmp_path / "out.py"), "w", 0))


def test_protected_trees_and_names_inside_code_directories() -> None:
    here = caller(stdlib("importlib", "__init__.py"))
    names = build_hook("**/.env.*")
    here(names, "open", (stdlib("email", "__init__.py"), "r", 0))
    with pytest.raises(PermissionError, match="read"):  # a protected name prefix, even as a module file
        here(names, "open", (stdlib(".env.py"), "r", 0))
    hook = build_hook(stdlib("json") + "/**")
    here(hook, "open", (stdlib("email", "__init__.py"), "r", 0))
    here(hook, "open", (stdlib(".", "email", "..", "email", "__init__.py"), "r", 0))  # normalised, then allowed
    with pytest.raises(PermissionError, match="read"):  # a protected tree inside the standard library
        here(hook, "open", (stdlib("json", "decoder.py"), "r", 0))
    here(hook, "os.listdir", (stdlib("email"),))
    with pytest.raises(PermissionError, match="read"):
        here(hook, "os.listdir", (stdlib("json"),))
    with pytest.raises(PermissionError, match="read"):
        here(hook, "os.scandir", (HOME + "/.ssh",))
    with pytest.raises(PermissionError, match="read"):  # `..` is resolved first here too
        here(hook, "os.listdir", (stdlib("email", "..", "json"),))
    globbed = build_hook("**/secret_*.py")  # a name glob that can match module files
    with pytest.raises(PermissionError, match="read"):
        here(globbed, "open", (stdlib("secret_key.py"), "r", 0))


SITE = site.getsitepackages()[0]
RUN_OS_SYSTEM = "hook('os.system', ('id',))"


def test_code_that_outlives_its_exec_keeps_the_package_that_ran_it() -> None:
    hook = build_hook()
    package = caller(SITE + "/cwfakepkg/mod.py")  # a frame of a package (no RECORD lists it: unowned)
    coroutine = compile("await sleep(0)\n" + RUN_OS_SYSTEM, "<string>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    leaf = compile(RUN_OS_SYSTEM, "<string>", "exec")
    package(hook, "exec", (coroutine,))  # the package evaluates both; the application runs them later
    package(hook, "exec", (leaf,))
    with pytest.raises(PermissionError, match="package 'unowned:cwfakepkg' may not run"):
        asyncio.run(eval(coroutine, {"hook": hook, "sleep": asyncio.sleep}))
    # code that defines nothing runs only inside its own exec; run again later, it acts for its runner
    with pytest.raises(PermissionError, match="package 'app' may not run"):
        exec(leaf, {"hook": hook})


def test_pth_line_code_is_attributed_to_its_file() -> None:
    hook = build_hook()
    namespace: dict[str, Any] = {}
    exec(compile("def addpackage(hook, code, fullname):\n    hook('exec', (code,))\n    exec(code, {'hook': hook})\n",
                 stdlib("site.py"), "exec"), namespace)
    with pytest.raises(PermissionError, match=r"package 'unowned:cw-test\.pth' may not run"):
        namespace["addpackage"](hook, compile(RUN_OS_SYSTEM, "<string>", "exec"), SITE + "/cw-test.pth")


def test_stack_walks_that_reuse_a_cached_module_frame_name_the_same_chain() -> None:
    hook = build_hook()
    outer = types.ModuleType("cw_outer_mod")
    outer.__dict__.update(hook=hook, a=caller(SITE + "/cwinnera/x.py"), b=caller(SITE + "/cwinnerb/x.py"),
                          denied=[], payload=PAYLOAD)
    body = ("for f in (a, b, a):\n    try:\n        f(hook, 'compile', (payload, '<string>'))\n"
            "    except PermissionError as e:\n        denied.append(str(e).split('call chain ')[1].split(')')[0])\n")
    sys.modules["cw_outer_mod"] = outer  # a module body: its frame is kept between walks
    try:
        exec(compile(body, SITE + "/cwouter/__init__.py", "exec"), outer.__dict__)
    finally:
        del sys.modules["cw_outer_mod"]
    assert outer.denied == ["unowned:cwinnera <- unowned:cwouter", "unowned:cwinnerb <- unowned:cwouter",
                            "unowned:cwinnera <- unowned:cwouter"]


def test_code_a_path_object_runs_inside_the_hook_is_checked_too() -> None:
    hook = build_hook()
    seen: list[str] = []

    class Sneaky(pathlib.PurePosixPath):  # standard-library __fspath__/__str__, which read `_str`
        @property
        def _str(self) -> str:  # type: ignore[override]
            try:
                hook("os.system", ("id",))  # what CPython does for an event raised in here
                seen.append("allowed")
            except PermissionError:
                seen.append("refused")
            return "/tmp/cw-harmless"

    caller(stdlib("io.py"))(hook, "open", (Sneaky("/tmp/cw-harmless"), "r", 0))
    assert seen == ["refused"]


def test_a_coroutine_frame_resumed_by_someone_else_is_walked_again() -> None:
    hook = build_hook()
    module = types.ModuleType("cw_coro_mod")
    module.__dict__.update(hook=hook, f=caller(SITE + "/cwinner/x.py"), payload=PAYLOAD, denied=[],
                           sleep=asyncio.sleep)
    step = ("try:\n    f(hook, 'compile', (payload, '<string>'))\nexcept PermissionError as e:\n"
            "    denied.append(str(e).split('call chain ')[1].split(')')[0])\n")
    body = compile(step + "await sleep(0)\n" + step, SITE + "/cwcoro/__init__.py", "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    drive = "def drive(coro):\n    try:\n        coro.send(None)\n    except StopIteration:\n        pass\n"
    drivers: list[Any] = []
    for name in ("cwdrivera", "cwdriverb"):
        namespace: dict[str, Any] = {}
        exec(compile(drive, f"{SITE}/{name}/x.py", "exec"), namespace)
        drivers.append(namespace["drive"])
    sys.modules["cw_coro_mod"] = module  # a module's namespace, as for a module body
    try:
        coroutine = eval(body, module.__dict__)
        drivers[0](coroutine)  # runs to the `await`
        drivers[1](coroutine)  # resumed from another caller
    finally:
        del sys.modules["cw_coro_mod"]
    assert module.denied == ["unowned:cwinner <- unowned:cwcoro <- unowned:cwdrivera",
                             "unowned:cwinner <- unowned:cwcoro <- unowned:cwdriverb"]
