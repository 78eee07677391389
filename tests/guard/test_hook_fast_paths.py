"""The audit hook's fast paths (taken before `decide`) answer exactly as the full handlers would.

The hook is built in-process with `make_hook` and called directly (not installed), from frames
whose file names and globals are chosen by the test: the event frame is the hook's caller.
"""

from __future__ import annotations

import os
import sys
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


def build_hook() -> Any:
    config = {"version": 1, "mode": "enforce", "log": "", "app": NOTHING, "defaults": NOTHING, "packages": {},
              "protect": ["~/.ssh/**", "**/id_rsa"]}
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
