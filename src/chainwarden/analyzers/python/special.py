"""Facts for the Python-adjacent files that run code too: `.pth`/`.start` startup files,
compiled `.pyc` files and `pyproject.toml` build settings.

`extract` sees bytes only, so these readings are chosen by content: a file that is valid
Python keeps its Python facts (a `.pth` made only of `import` lines is valid Python); a file
that is not is read, in turn, as a `.pyc`, as TOML build settings, or as `.pth` lines.
The judge then uses the reading that fits the file's name.
"""

from __future__ import annotations

import ast
import re
import tomllib
from typing import TYPE_CHECKING

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.facts import (
    MODULE_SCOPE,
    PTH,
    PYC,
    PYLINES,
    PYPROJECT,
    Problem,
    PyFacts,
    Scope,
    Signal,
)

if TYPE_CHECKING:
    from collections.abc import Callable

_SHORTEST_CALL = 6  # `f(x)` and shorter lines are not worth parsing alone
_ENTRY = re.compile(r"[A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*)?")
_PRINTABLE = re.compile(rb"[\x20-\x7e]{4,}")
#: Names that, seen among a code object's strings, reveal what compiled code can do.
_PYC_NAMES = {
    "urlopen": cap.NETWORK,
    "socket": cap.NETWORK,
    "requests": cap.NETWORK,
    "Popen": cap.PROCESS,
    "system": cap.PROCESS,
    "check_output": cap.PROCESS,
    "b64decode": cap.DECODE_EXEC,
    "exec": cap.DYNAMIC_CODE,
}


def is_pyc(data: bytes) -> bool:
    return len(data) >= 16 and data[2:4] == b"\r\n"  # noqa: PLR2004 - pyc header size


def pyc_facts(data: bytes) -> PyFacts:
    """Compiled bytecode, never unmarshalled: only its readable strings are looked at."""
    strings = [m.group().decode("ascii") for m in _PRINTABLE.finditer(data[16:4_000_000])]
    signals: list[Signal] = []
    names = set(strings)
    signals.extend(Signal(tag, f"compiled code names {name}", 0) for name, tag in _PYC_NAMES.items() if name in names)
    signals.extend(Signal(tag, match, 0) for _, tag, match in cap.scan_strings("\n".join(strings)))
    return PyFacts(kind=PYC, scopes=(Scope(MODULE_SCOPE, 0, signals=tuple(signals[:200])),))


def pyproject_facts(data: bytes) -> PyFacts | None:
    """Build settings when the bytes are a `pyproject.toml`; None otherwise."""
    if b"[build-system]" not in data and b"[tool." not in data:
        return None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    build = doc.get("build-system", {})
    tool = doc.get("tool", {})
    backend = build.get("build-backend", "") if isinstance(build, dict) else ""
    paths = build.get("backend-path", []) if isinstance(build, dict) else []
    scripts: list[str] = []
    if isinstance(tool, dict):
        scripts.extend(_hatch_hooks(tool.get("hatch", {})))
        poetry_build = tool.get("poetry", {}).get("build") if isinstance(tool.get("poetry"), dict) else None
        if isinstance(poetry_build, str):
            scripts.append(poetry_build)
        elif isinstance(poetry_build, dict) and isinstance(poetry_build.get("script"), str):
            scripts.append(poetry_build["script"])
        pdm = tool.get("pdm", {})
        if isinstance(pdm, dict) and isinstance(pdm.get("build"), dict):
            hook = pdm["build"].get("custom-hook")
            if isinstance(hook, str):
                scripts.append(hook)
    return PyFacts(
        kind=PYPROJECT,
        build_backend=backend if isinstance(backend, str) else "",
        build_paths=tuple(p for p in paths if isinstance(p, str)) if isinstance(paths, list) else (),
        build_scripts=tuple(scripts),
    )


def _hatch_hooks(hatch: object) -> list[str]:
    """Paths of hatch custom build hooks (default `hatch_build.py`) anywhere in `[tool.hatch]`."""
    found: list[str] = []
    todo: list[object] = [hatch]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "custom" and isinstance(value, dict):
                    path = value.get("path", "hatch_build.py")
                    found.append(path if isinstance(path, str) else "hatch_build.py")
                else:
                    todo.append(value)
    return found


def pth_facts(text: str, parse_lines: Callable[[str], PyFacts], problems: tuple[Problem, ...]) -> PyFacts | None:
    """Per-line reading of a `.pth` file: each `import` line is code that `site` executes."""
    signals: list[Signal] = []
    targets: list[tuple[int, str]] = []
    calls: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(("import ", "import\t")):
            continue
        facts = parse_lines(line)
        for imp in facts.imports:
            if imp.scope == MODULE_SCOPE and imp.level == 0:
                targets.extend(
                    (number, m)
                    for m in [imp.module, *[f"{imp.module}.{n.partition(' as ')[0]}" for n in imp.names]]
                    if m
                )
        for scope in facts.scopes:
            signals.extend(Signal(s.kind, s.detail, number, s.snippet or line[:200], s.stages) for s in scope.signals)
            calls.update(scope.calls.split())
    if not targets and not signals:
        return None
    module = Scope(MODULE_SCOPE, 1, calls=" ".join(sorted(calls)), signals=tuple(signals))
    return PyFacts(kind=PTH, problems=problems, scopes=(module,), startup_targets=tuple(targets))


def line_facts(text: str, parse_line: Callable[[str], PyFacts], problems: tuple[Problem, ...]) -> PyFacts | None:
    """Best-effort reading of a source that does not parse as a whole (Python 2 `print`
    statements, a deliberately broken line): every line that parses on its own is analysed."""
    signals: list[Signal] = []
    for number, raw in enumerate(text.splitlines()[:20_000], start=1):
        line = raw.strip()
        if (
            len(line) < _SHORTEST_CALL
            or line.startswith(("#", "def ", "class ", "print ", "@"))
            or line.endswith((":", ",", "(", "[", "{", "\\"))
        ):
            continue
        facts = parse_line(line)
        if facts.problems:
            continue
        for scope in facts.scopes:
            signals.extend(Signal(s.kind, s.detail, number, s.snippet or line[:200], s.stages) for s in scope.signals)
    if not signals:
        return None
    return PyFacts(kind=PYLINES, problems=problems, scopes=(Scope(MODULE_SCOPE, 1, signals=tuple(signals)),))


def start_entries(tree: ast.Module, text: str) -> tuple[tuple[int, str], ...]:
    """`module:callable` lines of a PEP 829 `.start` file (which also happen to parse as Python)."""
    if not tree.body or not all(isinstance(n, ast.AnnAssign | ast.Expr) for n in tree.body):
        return ()
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _ENTRY.fullmatch(line.replace(" ", "")):
            return ()
        out.append((number, line.replace(" ", "")))
    return tuple(out)
