"""`Pipfile.lock` (pipfile-spec 6): `default` and `develop` pins with hashes. No edges are
recorded; direct dependencies come from the Pipfile beside it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from chainwarden.inventory.base import Parser, UnreadableError, array, failed, read_text, table, text
from chainwarden.inventory.model import FileInventory, Package, Problem
from chainwarden.inventory.roots import manifest_names, mark_direct

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "Pipfile.lock"
SUPPORTED_SPECS = frozenset({6})


class PipfileLockParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "Pipfile.lock"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        try:
            doc = json.loads(read_text(path))
        except UnreadableError as exc:
            return failed(path, FORMAT, str(exc), locked=True)
        except json.JSONDecodeError as exc:
            return failed(path, FORMAT, f"invalid JSON ({exc})", locked=True)
        if not isinstance(doc, dict):
            return failed(path, FORMAT, "not a JSON object", locked=True)
        spec = table(doc.get("_meta")).get("pipfile-spec")
        if spec not in SUPPORTED_SPECS:
            return failed(path, FORMAT, f"pipfile-spec {spec!r} is not one this chainwarden reads (6)", locked=True)
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        for section in ("default", "develop"):
            for name, raw in table(doc.get(section)).items():
                entry = table(raw)
                pin = text(entry.get("version"))
                url = text(entry.get("git")) or text(entry.get("path")) or text(entry.get("file"))
                if pin and not pin.startswith("=="):
                    problems.append(Problem(where, f"{name}: version {pin!r} is not an exact pin"))
                elif not pin and not url:
                    problems.append(Problem(where, f"{name} has no version"))
                packages.append(
                    Package(
                        name=name,
                        version=pin.removeprefix("==") if pin.startswith("==") else "",
                        hashes=tuple(sorted(h for h in array(entry.get("hashes")) if isinstance(h, str))),
                        source=where,
                        url=url,
                    )
                )
        marked = mark_direct(packages, manifest_names(path), has_edges=False)
        return (FileInventory(where, FORMAT, packages=marked, problems=tuple(problems), locked=True),)
