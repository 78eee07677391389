"""`pdm.lock` (lock_version 4.x): packages, file hashes, PEP 508 `dependencies` edges.
Direct dependencies come from the pyproject.toml beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, RefusedError, array, read_versioned_toml, table, text
from chainwarden.inventory.model import FileInventory, Package, Problem
from chainwarden.inventory.roots import manifest_names, mark_direct

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "pdm.lock"
SUPPORTED_MAJOR = frozenset({"4"})


class PdmLockParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "pdm.lock"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        try:
            doc = read_versioned_toml(
                path, FORMAT, "pdm.lock lock_version", ("metadata", "lock_version"), SUPPORTED_MAJOR
            )
        except RefusedError as exc:
            return exc.result
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        for index, raw in enumerate(array(doc.get("package"))):
            entry = table(raw)
            name, version = text(entry.get("name")), text(entry.get("version"))
            if not name:
                problems.append(Problem(where, f"package entry {index + 1} has no name"))
                continue
            if not version:
                problems.append(Problem(where, f"{name} has no version"))
            edges: set[str] = set()
            for dep in array(entry.get("dependencies")):
                try:
                    edges.add(Requirement(text(dep)).name)
                except InvalidRequirement:
                    problems.append(Problem(where, f"{name}: invalid dependency {dep!r}"))
            packages.append(
                Package(
                    name=name,
                    version=version,
                    hashes=tuple(sorted({text(table(f).get("hash")) for f in array(entry.get("files"))} - {""})),
                    dependencies=tuple(sorted(canonicalize_name(e) for e in edges)),
                    source=where,
                    url=text(entry.get("url")) or text(entry.get("git")) or text(entry.get("path")),
                )
            )
        marked = mark_direct(packages, manifest_names(path), has_edges=True)
        return (FileInventory(where, FORMAT, packages=marked, problems=tuple(problems), locked=True),)
