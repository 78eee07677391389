"""Find the dependency files and environments under a target and merge them into one graph.

A file is handed to the one parser that claims it. A directory is looked at as, in order: an
environment directory (`site-packages`, `conda-meta`), a conda environment root, a project
(its top-level lockfiles, manifests and requirements), and, when it holds none of those or
when asked, a tree to walk (a checkout, or an unpacked container image filesystem).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.inventory.conda import CondaParser
from chainwarden.inventory.installed import InstalledParser
from chainwarden.inventory.model import Conflict, Ecosystem, FileInventory, Inventory, Package
from chainwarden.inventory.pdmlock import PdmLockParser
from chainwarden.inventory.pipfilelock import PipfileLockParser
from chainwarden.inventory.poetrylock import PoetryLockParser
from chainwarden.inventory.pylock import PylockParser
from chainwarden.inventory.pyproject import PyprojectParser
from chainwarden.inventory.requirements import RequirementsParser
from chainwarden.inventory.uvlock import UvLockParser

if TYPE_CHECKING:
    from chainwarden.inventory.base import Parser

#: Explicit registry. File parsers first; directory parsers (environments) last.
FILE_PARSERS: tuple[Parser, ...] = (
    UvLockParser(),
    PoetryLockParser(),
    PdmLockParser(),
    PipfileLockParser(),
    PylockParser(),
    RequirementsParser(),
    PyprojectParser(),
)
DIRECTORY_PARSERS: tuple[Parser, ...] = (InstalledParser(), CondaParser())
PARSERS: tuple[Parser, ...] = FILE_PARSERS + DIRECTORY_PARSERS

#: Never walked into: virtual file systems, VCS data, caches, other ecosystems' trees.
_SKIP_DIRS = frozenset(
    {
        "proc",
        "sys",
        "dev",
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".nox",
        "pkgs",
    }
)
MAX_WALK_ENTRIES = 500_000


class InventoryError(Exception):
    """The target holds nothing chainwarden can take an inventory of."""


def parser_for(path: Path) -> Parser | None:
    parsers = DIRECTORY_PARSERS if path.is_dir() else FILE_PARSERS
    return next((p for p in parsers if p.claims(path)), None)


def _project_files(root: Path) -> list[Path]:
    found: list[Path] = []
    candidates = sorted(root.iterdir())
    requirements_dir = root / "requirements"
    if requirements_dir.is_dir():
        candidates += sorted(requirements_dir.iterdir())
    for child in candidates:
        if child.is_file() and not child.is_symlink() and parser_for(child) is not None:
            found.append(child)
    return found


def _environment_dirs(root: Path) -> list[Path]:
    """site-packages of a conda env root or a virtualenv (`lib/python3.X/site-packages`)."""
    out: list[Path] = []
    if (root / "conda-meta").is_dir():
        out.append(root / "conda-meta")
    for pattern in ("lib/python*/site-packages", "lib64/python*/site-packages", "Lib/site-packages"):
        out += sorted(p for p in root.glob(pattern) if p.is_dir())
    return out


def _walk(root: Path) -> list[Path]:
    """Every environment directory and (not inside environments) dependency file under `root`."""
    found: list[Path] = []
    seen = 0
    for current, dirs, files in os.walk(root, followlinks=False):
        seen += len(dirs) + len(files)
        if seen > MAX_WALK_ENTRIES:
            msg = f"{root}: more than {MAX_WALK_ENTRIES} entries; point chainwarden at a smaller tree"
            raise InventoryError(msg)
        here = Path(current)
        keep: list[str] = []
        for name in sorted(dirs):
            child = here / name
            if child.is_symlink():
                continue  # a link may point anywhere, including outside the tree
            if name in {"site-packages", "dist-packages", "conda-meta"}:
                found.append(child)
            elif name not in _SKIP_DIRS:
                keep.append(name)
        dirs[:] = keep
        found += [here / f for f in sorted(files) if parser_for(here / f) is not None]
    return found


def find_targets(target: Path, *, walk: bool = False) -> list[Path]:
    """The files and environment directories an audit of `target` reads."""
    if not target.exists():
        msg = f"{target}: no such file or directory"
        raise InventoryError(msg)
    if target.is_file():
        if parser_for(target) is None:
            msg = f"{target}: not a dependency file chainwarden reads (lockfile, requirements, pyproject.toml)"
            raise InventoryError(msg)
        return [target]
    if parser_for(target) is not None:
        return [target]
    if walk:
        return _walk(target)
    found = _project_files(target) + _environment_dirs(target)
    if not found:
        found = _walk(target)  # an image filesystem or a checkout with nested projects
    if not found:
        msg = (
            f"{target}: no lockfile, requirements file, pyproject.toml, site-packages or conda-meta found "
            "(name a file directly, or an environment directory)"
        )
        raise InventoryError(msg)
    return found


def _merge(a: Package, b: Package) -> Package:
    direct = True if (a.direct or b.direct) else (False if False in (a.direct, b.direct) else None)
    return replace(
        a,
        hashes=tuple(sorted(set(a.hashes) | set(b.hashes))),
        dependencies=tuple(sorted(set(a.dependencies) | set(b.dependencies))),
        direct=direct,
        url=a.url or b.url,
    )


def _conflicting(pins: set[tuple[str, str]]) -> bool:
    """Files disagree about a package. One lock may hold several versions of a package (uv and
    pdm fork the resolution per platform or Python): that alone is not a conflict."""
    by_file: dict[str, set[str]] = {}
    for version, file in pins:
        by_file.setdefault(file, set()).add(version)
    return len({frozenset(v) for v in by_file.values()}) > 1


def build_inventory(files: list[FileInventory]) -> Inventory:
    """Merge per-file results into one graph and note packages pinned at different versions."""
    declared = {r.key for f in files for r in f.requirements if r.group != "constraint"}
    merged: dict[tuple[str, str, Ecosystem], Package] = {}
    pins: dict[str, set[tuple[str, str]]] = {}
    for inventory in files:
        for package in inventory.packages:
            if package.direct is None and declared:
                package = replace(package, direct=package.key in declared)  # noqa: PLW2901
            key = (package.key, package.version, package.ecosystem)
            merged[key] = _merge(merged[key], package) if key in merged else package
            if package.version and package.ecosystem is Ecosystem.PYPI:
                pins.setdefault(package.key, set()).add((package.version, inventory.file))
    conflicts = tuple(
        Conflict(name, tuple(sorted(found))) for name, found in sorted(pins.items()) if _conflicting(found)
    )
    return Inventory(tuple(files), tuple(merged.values()), conflicts)


def discover(target: Path, *, walk: bool = False) -> Inventory:
    """Take the inventory of `target`; raises `InventoryError` only if there is nothing to read."""
    files: list[FileInventory] = []
    for path in find_targets(target, walk=walk):
        parser = parser_for(path)
        if parser is not None:
            files.extend(parser.parse(path))
    return build_inventory(files)
