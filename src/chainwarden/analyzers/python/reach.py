"""What runs on its own: triggers for roots, and how far each trigger reaches in the package.

Roots: executable `.pth` lines and the modules they import, PEP 829 `.start` entries and
`sitecustomize`/`usercustomize` (interpreter start); `setup.py`, in-tree build backends and
build hooks (install); every module's top level (import); console scripts, auto-loaded plugin
groups and `*.data/scripts` (entry point). Each node keeps the most automatic trigger that
reaches it and the edge it was reached by, so evidence can say *how* code comes to run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from chainwarden.analyzers.python.facts import MAIN_SCOPE, MODULE_SCOPE, PTH, PYPROJECT, PYTHON
from chainwarden.analyzers.python.package import Node, Package
from chainwarden.models import ArtifactKind, Trigger

#: Entry-point groups whose plugins host programs load without being asked.
AUTOLOAD_GROUPS = frozenset(
    {
        "pytest11",
        "keyring.backends",
        "flake8.extension",
        "flake8.report",
        "pylint.plugins",
        "sphinx.builders",
        "jupyter_server.extension",
        "ipython.extensions",
        "setuptools.finalize_distribution_options",
        "distutils.commands",
        "distutils.setup_keywords",
        "egg_info.writers",
        "pip.plugins",
        "pyinstaller40",
        "mkdocs.plugins",
        "coverage.plugins",
        "airflow.plugins",
        "datasette",
        "pluggy",
    }
)

#: Base classes of setuptools/distutils commands (what `cmdclass` maps to).
COMMAND_BASES = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "build_py",
        "build_ext",
        "build",
        "sdist",
        "bdist_wheel",
        "Command",
        "install_lib",
        "install_scripts",
        "bdist_egg",
    }
)

_SETUPTOOLS = ("setuptools.", "distutils.", "numpy.distutils.")

_NOT_SHIPPED_CODE = ("tests/", "test/", "testing/", "docs/", "doc/", "examples/", "example/", "benchmarks/", "scripts/")


@dataclass(frozen=True, slots=True)
class Root:
    node: Node
    trigger: Trigger
    how: str


@dataclass(frozen=True, slots=True)
class Reached:
    trigger: Trigger
    how: str  # the root's description
    parent: Node | None
    label: str  # edge label from the parent
    threaded: bool


def roots(pkg: Package) -> list[Root]:
    out: list[Root] = []
    for path, f in pkg.facts.items():
        rel = pkg.rel[path]
        name = rel.rsplit("/", 1)[-1]
        if path.endswith(".pth"):
            out.extend(_pth_roots(pkg, path, rel))
        elif path.endswith(".start") and f.startup_targets:
            out.extend(_start_roots(pkg, path, rel))
        elif f.kind == PYPROJECT and rel.count("/") == 0:
            out.extend(_build_roots(pkg, path))
        elif not pkg.runs_as_python(path):
            continue
        elif name == "setup.py" and rel.count("/") == 0:
            out.extend(Root(node, Trigger.INSTALL, "setup.py runs at install") for node in _all_scopes(pkg, path))
        elif "/scripts/" in path and ".data/" in path:
            out.extend(
                Root(Node(path, scope), Trigger.ENTRY_POINT, f"installed script {name}")
                for scope in (MODULE_SCOPE, MAIN_SCOPE)
            )
        elif path in pkg.module_of:
            out.append(_module_root(pkg, path, rel))
            out.append(Root(Node(path, MAIN_SCOPE), Trigger.CALL, f"{rel} run as a script"))
        elif pkg.view.kind is ArtifactKind.SDIST and _mapped_package(rel):
            # Not a valid module path (`src/my-pkg/__init__.py`), but `package_dir` can map it to one.
            out.append(Root(Node(path, MODULE_SCOPE), Trigger.IMPORT, f"import of {rel} (mapped by package_dir)"))
    out.extend(_entry_point_roots(pkg))
    if pkg.view.kind in {ArtifactKind.SDIST, ArtifactKind.DIRECTORY}:
        out.extend(_command_roots(pkg))
    return out


def _mapped_package(rel: str) -> bool:
    """`src/my-pkg/__init__.py`: a package directory whose name is not an identifier, which
    `package_dir` can still install under a valid one."""
    parts = rel.split("/")
    return (
        parts[-1] == "__init__.py"
        and len(parts) <= 3  # noqa: PLR2004 - `pkg-dir/__init__.py` or `src/pkg-dir/__init__.py`
        and not rel.startswith(_NOT_SHIPPED_CODE)
        and not any(" " in p or "test" in p.lower() for p in parts)
    )


def _command_roots(pkg: Package) -> list[Root]:
    """Methods of setuptools command classes anywhere in a source tree: `setup.py` may take its
    `cmdclass` from a module of the tree, and pip runs those methods at install."""
    out: list[Root] = []
    for path, f in pkg.facts.items():
        for cls in f.classes:
            if any(b.startswith(_SETUPTOOLS) and b.rsplit(".", 1)[-1] in COMMAND_BASES for b in cls.bases):
                how = f"{pkg.rel[path]}: {cls.name} is a setuptools command (runs at install)"
                out.extend(
                    Root(node, Trigger.INSTALL, how)
                    for node in pkg.scopes
                    if node.path == path and node.scope.startswith(cls.name + ".")
                )
    return out


def _module_root(pkg: Package, path: str, rel: str) -> Root:
    module = pkg.module_of[path]
    node = Node(path, MODULE_SCOPE)
    if module in {"sitecustomize", "usercustomize"}:
        return Root(node, Trigger.INTERPRETER_START, f"{module} runs at every interpreter start")
    if pkg.root and rel.startswith(_NOT_SHIPPED_CODE):
        return Root(node, Trigger.CALL, f"{rel} (tests/docs, not imported by the package)")
    return Root(node, Trigger.IMPORT, f"import of {module}")


def _all_scopes(pkg: Package, path: str) -> list[Node]:
    return [node for node in pkg.scopes if node.path == path]


def _pth_roots(pkg: Package, path: str, rel: str) -> list[Root]:
    if "/" in rel:
        return []  # only .pth files at the top of site-packages are processed by `site`
    f = pkg.facts[path]
    how = f"{rel} runs at every interpreter start"
    out = [Root(Node(path, MODULE_SCOPE), Trigger.INTERPRETER_START, how)]
    targets = [m for _, m in f.startup_targets] if f.kind == PTH else [i.module for i in f.imports if i.level == 0]
    for module in targets:
        for m in pkg.imported_modules(module):
            top = pkg.module_top(m)
            if top is not None:
                out.append(Root(top, Trigger.INTERPRETER_START, f"{rel} imports {m} at every interpreter start"))
    return out


def _start_roots(pkg: Package, path: str, rel: str) -> list[Root]:
    out: list[Root] = []
    for _, entry in pkg.facts[path].startup_targets:
        module, _, func = entry.partition(":")
        how = f"{rel} runs {entry} at every interpreter start"
        for m in pkg.imported_modules(module):
            top = pkg.module_top(m)
            if top is not None:
                out.append(Root(top, Trigger.INTERPRETER_START, how))
        target = pkg.function(f"{module}.{func}", "") if func else None
        if target is not None:
            out.append(Root(target, Trigger.INTERPRETER_START, how))
    return out


def _build_roots(pkg: Package, path: str) -> list[Root]:
    f = pkg.facts[path]
    out: list[Root] = []
    wanted: list[str] = []
    if f.build_backend and f.build_paths:
        module = f.build_backend.split(":", 1)[0]
        wanted.extend(f"{p.strip('/').strip('.')}/{module.replace('.', '/')}".lstrip("/") for p in f.build_paths)
    wanted.extend(s.rsplit(".py", 1)[0] for s in f.build_scripts)
    for p, rel in pkg.rel.items():
        stem = rel.rsplit(".py", 1)[0]
        if pkg.facts[p].kind == PYTHON and any(stem in {w, f"{w}/__init__"} for w in wanted):
            out.extend(
                Root(node, Trigger.INSTALL, f"{rel} is a build backend or hook named in pyproject.toml")
                for node in _all_scopes(pkg, p)
            )
    return out


def _entry_point_roots(pkg: Package) -> list[Root]:
    meta = pkg.view.metadata
    if meta is None:
        return []
    out: list[Root] = []
    for ep in meta.entry_points:
        module, _, attr = ep.value.partition(":")
        module = module.strip()
        attr = attr.split("[", 1)[0].strip()
        how = f"entry point {ep.group}:{ep.name}"
        trigger = Trigger.IMPORT if ep.group in AUTOLOAD_GROUPS else Trigger.ENTRY_POINT
        top = pkg.module_top(module)
        if top is not None:
            out.append(Root(top, trigger, how))
        target = pkg.function(f"{module}.{attr}", "") if attr else None
        if target is not None:
            out.append(Root(target, trigger, how))
    return out


def reach(pkg: Package, found: list[Root]) -> dict[Node, Reached]:
    """The most automatic trigger for every node reachable from a root (breadth first)."""
    reached: dict[Node, Reached] = {}
    for root in sorted(found, key=lambda r: -r.trigger.rank):
        if root.node in reached and reached[root.node].trigger.rank >= root.trigger.rank:
            continue
        reached[root.node] = Reached(root.trigger, root.how, None, "", threaded=False)
        queue = deque([root.node])
        while queue:
            node = queue.popleft()
            here = reached[node]
            for edge in pkg.edges(node):
                prior = reached.get(edge.target)
                if prior is not None and prior.trigger.rank >= root.trigger.rank:
                    continue
                reached[edge.target] = Reached(root.trigger, root.how, node, edge.label, here.threaded or edge.spawn)
                queue.append(edge.target)
    return reached


def chain(reached: dict[Node, Reached], node: Node, pkg: Package) -> str:
    """'how it runs' for evidence: root description, then the edges down to `node`."""
    steps: list[str] = []
    current: Node | None = node
    seen: set[Node] = set()
    while current is not None and current not in seen and len(steps) < 12:  # noqa: PLR2004
        seen.add(current)
        info = reached[current]
        where = f"{pkg.rel.get(current.path, current.path)}" + (f":{current.scope}" if current.scope else "")
        steps.append(f"{info.label} ({where})" if info.label else where)
        current = info.parent
    steps.append(reached[node].how)
    return " <- ".join(steps)
