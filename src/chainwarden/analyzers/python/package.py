"""The package as a graph: which file is which module, and where calls and imports lead.

Nodes are (path, scope) pairs. Edges go from a scope to the functions it calls, to the callables
it starts as threads or processes (`spawn` edges), and to the top level of the modules it
imports (importing `a.b` also runs `a/__init__.py`). Names are resolved with the file's import
aliases (done at extraction) plus package-wide knowledge: relative imports, re-exports through
`__init__`, `Class()` -> `Class.__init__`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from chainwarden.analyzers.python.facts import (
    MAIN_SCOPE,
    MODULE_SCOPE,
    PTH,
    PYC,
    PYLINES,
    PYTHON,
    Import,
    PyFacts,
    Scope,
)
from chainwarden.models import ArtifactKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chainwarden.analyzers.base import ArtifactView

_SOURCE_SUFFIXES = (".py", ".pyw")
_MAX_REEXPORT_HOPS = 4


class Node(NamedTuple):
    """A scope in a file. A named tuple, not a dataclass: hashed millions of times per package."""

    path: str
    scope: str


@dataclass(frozen=True, slots=True)
class Edge:
    target: Node
    label: str
    spawn: bool = False
    imported: bool = False


def install_path(path: str, view: ArtifactView, root_prefix: str, landing: str = "") -> str:
    """Where a member lands relative to site-packages (or the project root, for sources)."""
    if landing:
        return landing
    rel = path[len(root_prefix) :] if root_prefix and path.startswith(root_prefix) else path
    for prefix in ("src/",):
        if view.kind in {ArtifactKind.SDIST, ArtifactKind.DIRECTORY} and rel.startswith(prefix):
            return rel[len(prefix) :]
    return rel


def sdist_root(view: ArtifactView) -> str:
    """`name-1.0/` when every member of an sdist sits under one directory, else ""."""
    if view.kind is not ArtifactKind.SDIST or not view.members:
        return ""
    # macOS tar adds AppleDouble `._name` files (metadata, never code) beside the tree, even at its top.
    members = [m.path for m in view.members if not m.path.rsplit("/", 1)[-1].startswith("._")] or [
        m.path for m in view.members
    ]
    first = members[0].split("/", 1)[0]
    if all(p.startswith(first + "/") for p in members):
        return first + "/"
    return ""


def module_for(rel: str) -> tuple[str, bool] | None:
    """(module name, is package) for a path relative to the install root, or None."""
    if rel.endswith(".pyc"):
        parts = rel[:-4].split("/")
        if len(parts) >= 2 and parts[-2] == "__pycache__":  # noqa: PLR2004
            parts = [*parts[:-2], parts[-1].split(".", 1)[0]]
    elif rel.endswith(_SOURCE_SUFFIXES):
        parts = rel.rsplit(".", 1)[0].split("/")
    else:
        return None
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts), is_pkg


class Package:
    """Every selected file's facts, indexed for resolution."""

    def __init__(self, view: ArtifactView, facts: Mapping[str, PyFacts]) -> None:
        self.view = view
        self.facts = facts
        self.root = sdist_root(view)
        self.rel: dict[str, str] = {}
        self.modules: dict[str, str] = {}  # module -> path (source preferred over .pyc)
        self.module_of: dict[str, str] = {}
        self.is_pkg: dict[str, bool] = {}
        self.scopes: dict[Node, Scope] = {}
        self._edges: dict[Node, tuple[Edge, ...]] = {}
        self._imports: dict[Node, list[Import]] = {}
        self._imported: dict[str, list[str]] = {}  # memo of `imported_modules`
        paths = {m.path: m for m in view.members}
        for path, f in facts.items():
            member = paths.get(path)
            rel = install_path(path, view, self.root, member.install_path if member else "")
            self.rel[path] = rel
            for scope in f.scopes if self.runs_as_python(path) else ():
                self.scopes[Node(path, scope.name)] = scope
            for imp in f.imports:
                self._imports.setdefault(Node(path, imp.scope), []).append(imp)
            named = module_for(rel)
            if named is None or f.kind not in {PYTHON, PYC, PYLINES}:
                continue
            name, is_pkg = named
            self.module_of[path] = name
            self.is_pkg[path] = is_pkg
            if name not in self.modules or rel.endswith(_SOURCE_SUFFIXES):
                self.modules[name] = path
        self._top_names = {m.split(".", 1)[0] for m in self.modules}

    def runs_as_python(self, path: str) -> bool:
        """Whether the facts' scopes describe code that runs (a `.py` that failed to parse runs nothing)."""
        f = self.facts[path]
        if f.kind == PTH:
            return path.endswith(".pth")
        if f.kind == PYLINES:
            return path.endswith((".py", ".pyw"))
        return f.kind in {PYTHON, PYC}

    # -- resolution ---------------------------------------------------------------------

    def absolute(self, name: str, path: str) -> str:
        """`.sub.f` written in `path` -> `pkg.sub.f`."""
        level = len(name) - len(name.lstrip("."))
        if not level:
            return name
        module = self.module_of.get(path, "")
        base = module.split(".") if self.is_pkg.get(path) else module.split(".")[:-1]
        if level > 1:
            base = base[: len(base) - (level - 1)]
        rest = name[level:]
        return ".".join([*base, rest]) if rest else ".".join(base)

    def function(self, name: str, path: str, hops: int = 0) -> Node | None:
        """The scope a call `name` (as written in `path`) runs, if it is inside the package."""
        local = self._local(path, name)
        if local is not None:
            return local
        full = self.absolute(name, path)
        parts = full.split(".")
        for i in range(len(parts) - 1, 0, -1):
            target = self.modules.get(".".join(parts[:i]))
            if target is None:
                continue
            rest = ".".join(parts[i:])
            found = self._local(target, rest)
            if found is not None or hops >= _MAX_REEXPORT_HOPS:
                return found
            return self._reexport(target, rest, hops)
        return None

    def _local(self, path: str, name: str) -> Node | None:
        for candidate in (name, f"{name}.__init__", f"{name}.__call__"):
            node = Node(path, candidate)
            if node in self.scopes:
                return node
        return None

    def _reexport(self, path: str, name: str, hops: int) -> Node | None:
        head, _, rest = name.partition(".")
        for imp in self.facts[path].imports:
            if imp.scope != MODULE_SCOPE:
                continue
            for entry in imp.names:
                original, _, alias = entry.partition(" as ")
                if (alias or original) != head:
                    continue
                source = "." * imp.level + imp.module
                target = f"{original}.{rest}" if rest else original
                written = f"{source}.{target}" if imp.module else f"{source}{target}"
                return self.function(written, path, hops + 1)
        return None

    def module_top(self, module: str) -> Node | None:
        path = self.modules.get(module)
        return Node(path, MODULE_SCOPE) if path is not None else None

    def imported_modules(self, module: str) -> list[str]:
        """`a.b.c` and the packages above it that an import runs, outermost first, if present."""
        known = self._imported.get(module)
        if known is None:
            parts = module.split(".")
            known = []
            if parts[0] in self._top_names:
                known = [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in self.modules]
            self._imported[module] = known
        return known

    # -- edges --------------------------------------------------------------------------

    def edges(self, node: Node) -> tuple[Edge, ...]:
        cached = self._edges.get(node)
        if cached is not None:
            return cached
        out: list[Edge] = []
        if node.scope == MAIN_SCOPE:  # a module run as a script runs its top level first
            out.append(Edge(Node(node.path, MODULE_SCOPE), "runs the module top level"))
        scope = self.scopes.get(node)
        if scope is not None:
            for name in scope.calls.split():
                target = self.function(name, node.path)
                if target is not None and target != node:
                    out.append(Edge(target, f"calls {name}"))
            for name in scope.spawns.split():
                target = self.function(name, node.path)
                if target is not None:
                    out.append(Edge(target, f"starts {name} in a thread", spawn=True))
            out.extend(self._import_edges(node))
        self._edges[node] = tuple(out)
        return self._edges[node]

    def _import_edges(self, node: Node) -> list[Edge]:
        out: list[Edge] = []
        if node.scope == MODULE_SCOPE and node.path in self.module_of:
            parent = self.module_of[node.path].rsplit(".", 1)[0] if "." in self.module_of[node.path] else ""
            top = self.module_top(parent) if parent else None
            if top is not None:
                out.append(Edge(top, f"imports its package {parent}", imported=True))
        targets: dict[str, None] = {}
        for imp in self._imports.get(node, ()):
            base = self.absolute("." * imp.level + imp.module, node.path) if imp.level else imp.module
            targets.update(dict.fromkeys(self.imported_modules(base)))
            prefix = f"{base}." if base else ""
            for entry in imp.names:
                submodule = prefix + entry.partition(" as ")[0]
                if submodule in self.modules:  # `from pkg import submodule`
                    targets[submodule] = None
        for m in targets:
            top = self.module_top(m)
            if top is not None and top != node:
                out.append(Edge(top, f"imports {m}", imported=True))
        return out

    def sources(self) -> set[str]:
        """Module names that have source files (to tell `.pyc` shipped without source)."""
        return {m for m, p in self.modules.items() if p.endswith(_SOURCE_SUFFIXES)}

    def is_python_source(self, path: str) -> bool:
        return path.endswith(_SOURCE_SUFFIXES) and self.facts[path].kind == PYTHON
