"""An installed environment: every `*.dist-info` (and legacy `*.egg-info`) in a site-packages
directory, read from disk, never imported. `REQUESTED` marks what was asked for directly."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, UnreadableError, read_bytes
from chainwarden.inventory.model import FileInventory, Package, Problem
from chainwarden.sources.metadata import parse_core_metadata

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "site-packages"
SITE_DIRS = frozenset({"site-packages", "dist-packages"})
MAX_DISTRIBUTIONS = 20_000


def _edges(requires: tuple[str, ...]) -> tuple[str, ...]:
    names: set[str] = set()
    for raw in requires:
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue  # only installed when an extra is asked for
        names.add(canonicalize_name(req.name))
    return tuple(sorted(names))


class InstalledParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name in SITE_DIRS

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        try:
            entries = sorted(p for p in path.iterdir() if p.suffix in {".dist-info", ".egg-info"})
        except OSError as exc:
            return (FileInventory(where, FORMAT, problems=(Problem(where, exc.strerror or str(exc)),), locked=True),)
        any_requested = False
        for meta_dir in entries[:MAX_DISTRIBUTIONS]:
            meta_file = meta_dir / ("METADATA" if meta_dir.suffix == ".dist-info" else "PKG-INFO")
            if meta_dir.is_file():  # a single-file .egg-info
                meta_file = meta_dir
            try:
                meta = parse_core_metadata(read_bytes(meta_file))
            except UnreadableError as exc:
                problems.append(Problem(str(meta_file), f"cannot read metadata: {exc}"))
                continue
            if not meta.name or not meta.version:
                problems.append(Problem(str(meta_file), "metadata has no Name or Version"))
                continue
            requested = (meta_dir / "REQUESTED").exists()
            any_requested = any_requested or requested
            packages.append(
                Package(
                    name=meta.name,
                    version=meta.version,
                    dependencies=_edges(meta.requires_dist),
                    direct=requested,
                    source=str(meta_dir),
                )
            )
        if len(entries) > MAX_DISTRIBUTIONS:
            problems.append(Problem(where, f"more than {MAX_DISTRIBUTIONS} distributions; the rest were not read"))
        if not any_requested:
            packages = [replace(p, direct=None) for p in packages]
        return (FileInventory(where, FORMAT, packages=tuple(packages), problems=tuple(problems), locked=True),)
