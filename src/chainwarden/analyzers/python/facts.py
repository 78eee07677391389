"""The per-file facts the Python analyzer extracts: plain frozen data, cached by content hash.

Facts describe one file's bytes only (what it defines, imports, calls, decodes and can do);
package-wide meaning (what runs on its own) is decided later by `reach` and `score`.
Call lists are stored as one space-separated string per scope: large packages have tens of
thousands of scopes and the facts cross a process boundary and the cache as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainwarden.models import DecodedStage

# File kinds.
PYTHON = "python"
PTH = "pth"
START = "start"  # PEP 829 entry-point start file
PYC = "pyc"
PYPROJECT = "pyproject"
PYLINES = "python-lines"  # a .py file that does not parse (Python 2, broken), read line by line

#: Scope name of a module's top level (class bodies and decorators included: they run at import).
MODULE_SCOPE = ""
#: Scope name of an `if __name__ == "__main__":` block at module level: runs only as a script.
MAIN_SCOPE = "<main>"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that stopped or distorted the reading of the file."""

    kind: str  # syntax-error | undecodable | exotic-encoding | too-complex | unreadable-pyc
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Signal:
    """One observed capability: `kind` is a tag from `capabilities`, `detail` what matched."""

    kind: str
    detail: str
    line: int
    snippet: str = ""
    stages: tuple[DecodedStage, ...] = ()  # non-empty when seen inside statically decoded data


@dataclass(frozen=True, slots=True)
class Scope:
    """Module top level (`name == ""`), a function (`f`) or a method (`Class.m`).

    `calls`: callees that may be inside the package, space-separated, with import aliases
    resolved (`.utils.run`, `pkg.mod.f`, `helper`, `Class.m`). `spawns`: callables started as
    threads, processes, timers or exit hooks, same notation.
    """

    name: str
    line: int
    calls: str = ""
    spawns: str = ""
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # as written, without the leading dots
    level: int  # 0 for absolute imports
    names: tuple[str, ...]  # from-import names, "name as alias" when renamed
    scope: str
    line: int


@dataclass(frozen=True, slots=True)
class ClassInfo:
    name: str
    bases: tuple[str, ...]  # resolved dotted names
    line: int


@dataclass(frozen=True, slots=True)
class PyFacts:
    """Everything the Python analyzer knows about one file."""

    kind: str = PYTHON
    encoding: str = ""
    problems: tuple[Problem, ...] = ()
    imports: tuple[Import, ...] = ()
    scopes: tuple[Scope, ...] = ()
    classes: tuple[ClassInfo, ...] = ()
    #: .pth: (line, module) for modules imported by executable lines; .start: (line, "mod:func").
    startup_targets: tuple[tuple[int, str], ...] = ()
    #: pyproject.toml: build backend and its in-tree path, plus build scripts/hooks named there.
    build_backend: str = ""
    build_paths: tuple[str, ...] = ()
    build_scripts: tuple[str, ...] = ()
