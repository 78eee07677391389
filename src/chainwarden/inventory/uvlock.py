"""`uv.lock`: every resolved package with its hashes and dependency edges; the project's own
entries (`source = { virtual | editable = "." }`) say which packages are direct."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, UnreadableError, array, failed, read_toml, table, text
from chainwarden.inventory.model import FileInventory, Package, Problem

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "uv.lock"
SUPPORTED_VERSIONS = frozenset({1})
_LOCAL_SOURCES = ("virtual", "editable", "directory")


def _hashes(entry: dict[str, Any]) -> tuple[str, ...]:
    out = [text(table(entry.get("sdist")).get("hash"))]
    out += [text(table(w).get("hash")) for w in array(entry.get("wheels"))]
    return tuple(sorted({h for h in out if h}))


def _edges(entry: dict[str, Any]) -> set[str]:
    names = {text(table(d).get("name")) for d in array(entry.get("dependencies"))}
    for section in ("optional-dependencies", "dev-dependencies"):
        for deps in table(entry.get(section)).values():
            names |= {text(table(d).get("name")) for d in array(deps)}
    return {canonicalize_name(n) for n in names if n}


class UvLockParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "uv.lock"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        try:
            doc = read_toml(path)
        except UnreadableError as exc:
            return failed(path, FORMAT, str(exc), locked=True)
        version = doc.get("version")
        if version not in SUPPORTED_VERSIONS:
            return failed(
                path, FORMAT, f"uv.lock version {version!r} is not one this chainwarden reads (1)", locked=True
            )
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        roots: set[str] = set()
        for index, raw in enumerate(array(doc.get("package"))):
            entry = table(raw)
            name, pinned = text(entry.get("name")), text(entry.get("version"))
            source = table(entry.get("source"))
            if not name:
                problems.append(Problem(where, f"package entry {index + 1} has no name"))
                continue
            local = next((text(source.get(k)) for k in _LOCAL_SOURCES if k in source), None)
            if local is not None:
                roots |= _edges(entry)  # the project itself (or a workspace member)
                continue
            if not pinned:
                problems.append(Problem(where, f"{name} has no version"))
            url = text(source.get("git")) or text(source.get("url")) or text(source.get("path"))
            packages.append(
                Package(
                    name=name,
                    version=pinned,
                    hashes=_hashes(entry),
                    dependencies=tuple(sorted(_edges(entry))),
                    source=where,
                    url=url,
                )
            )
        marked = tuple(replace(p, direct=p.key in roots) for p in packages) if roots else tuple(packages)
        if not array(doc.get("package")):
            problems.append(Problem(where, "uv.lock lists no packages"))
        return (FileInventory(where, FORMAT, packages=marked, problems=tuple(problems), locked=True),)
