"""`pylock.toml` / `pylock.<name>.toml` (PEP 751, lock-version 1.x): packages with the hashes of
their sdist, wheels or archive; `dependencies` edges when the locker wrote them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, RefusedError, array, read_versioned_toml, table, text
from chainwarden.inventory.model import FileInventory, Package, Problem
from chainwarden.inventory.roots import manifest_names, mark_direct

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "pylock.toml"
_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


def _hashes(entry: dict[str, Any]) -> tuple[str, ...]:
    tables = [table(entry.get("sdist")), table(entry.get("archive"))]
    tables += [table(w) for w in array(entry.get("wheels"))]
    out: set[str] = set()
    for item in tables:
        for algorithm, digest in table(item.get("hashes")).items():
            if isinstance(digest, str):
                out.add(f"{algorithm}:{digest}")
    return tuple(sorted(out))


class PylockParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return bool(_NAME.match(path.name))

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        try:
            doc = read_versioned_toml(path, FORMAT, "pylock lock-version", ("lock-version",), frozenset({"1"}))
        except RefusedError as exc:
            return exc.result
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        has_edges = False
        for index, raw in enumerate(array(doc.get("packages"))):
            entry = table(raw)
            name, version = text(entry.get("name")), text(entry.get("version"))
            if not name:
                problems.append(Problem(where, f"packages entry {index + 1} has no name"))
                continue
            local = table(entry.get("directory")) or table(entry.get("vcs")) or table(entry.get("archive"))
            if not version and not local:
                problems.append(Problem(where, f"{name} has no version"))
            deps = array(entry.get("dependencies"))
            has_edges = has_edges or "dependencies" in entry
            packages.append(
                Package(
                    name=name,
                    version=version,
                    hashes=_hashes(entry),
                    dependencies=tuple(sorted({canonicalize_name(text(table(d).get("name"))) for d in deps} - {""})),
                    source=where,
                    url=text(local.get("url")) or text(local.get("path")),
                )
            )
        if "packages" not in doc:
            problems.append(Problem(where, "pylock has no [[packages]] (truncated?)"))
        marked = mark_direct(packages, manifest_names(path), has_edges=has_edges)
        return (FileInventory(where, FORMAT, packages=marked, problems=tuple(problems), locked=True),)
