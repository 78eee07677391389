"""`poetry.lock` (lock-version 1.x and 2.x): packages, file hashes, `[package.dependencies]` edges.
Direct dependencies come from the pyproject.toml beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, RefusedError, array, read_versioned_toml, table, text
from chainwarden.inventory.model import FileInventory, Package, Problem
from chainwarden.inventory.roots import manifest_names, mark_direct

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "poetry.lock"
SUPPORTED_MAJOR = frozenset({"1", "2"})


class PoetryLockParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "poetry.lock"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        try:
            doc = read_versioned_toml(
                path, FORMAT, "poetry.lock lock-version", ("metadata", "lock-version"), SUPPORTED_MAJOR
            )
        except RefusedError as exc:
            return exc.result
        metadata = table(doc.get("metadata"))
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
            files = array(entry.get("files")) or array(table(metadata.get("files")).get(name))
            hashes = tuple(sorted({text(table(f).get("hash")) for f in files} - {""}))
            source = table(entry.get("source"))
            url = "" if text(source.get("type")) in {"", "legacy"} else text(source.get("url"))
            packages.append(
                Package(
                    name=name,
                    version=version,
                    hashes=hashes,
                    dependencies=tuple(sorted(canonicalize_name(d) for d in table(entry.get("dependencies")))),
                    source=where,
                    url=url,
                )
            )
        if "package" not in doc:
            problems.append(Problem(where, "poetry.lock has no [[package]] entries (truncated?)"))
        marked = mark_direct(packages, manifest_names(path), has_edges=True)
        return (FileInventory(where, FORMAT, packages=marked, problems=tuple(problems), locked=True),)
