"""A conda environment's `conda-meta/*.json` records (one per installed package) and its
`history` (whose `# update specs:` lines say what the user asked for directly)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, UnreadableError, array, read_text, text
from chainwarden.inventory.model import Ecosystem, FileInventory, Package, Problem

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "conda-meta"
_SPECS = re.compile(r"^#\s*update specs:\s*(\[.*\])\s*$")
_MAX_SPEC_LINE = 100_000
_SPEC_NAME = re.compile(r"^(?:[\w.-]+::)?([A-Za-z0-9_.-]+)")


def _requested(path: Path) -> set[str] | None:
    history = path / "history"
    if not history.is_file():
        return None
    try:
        content = read_text(history)
    except UnreadableError:
        return None
    names: set[str] = set()
    for line in content.splitlines():
        if len(line) > _MAX_SPEC_LINE:
            continue  # no real history line is this long; literal_eval on it would be slow
        match = _SPECS.match(line.strip())
        if not match:
            continue
        try:
            specs = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            continue
        for spec in specs if isinstance(specs, list) else []:
            found = _SPEC_NAME.match(str(spec))
            if found:
                names.add(canonicalize_name(found.group(1)))
    return names


class CondaParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "conda-meta"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        where = str(path)
        problems: list[Problem] = []
        packages: list[Package] = []
        try:
            records = sorted(path.glob("*.json"))
        except OSError as exc:
            return (FileInventory(where, FORMAT, problems=(Problem(where, exc.strerror or str(exc)),), locked=True),)
        for record in records:
            try:
                doc = json.loads(read_text(record))
            except UnreadableError as exc:
                problems.append(Problem(str(record), str(exc)))
                continue
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(record), f"invalid JSON ({exc})"))
                continue
            if not isinstance(doc, dict) or not text(doc.get("name")) or not text(doc.get("version")):
                problems.append(Problem(str(record), "conda record without name or version"))
                continue
            hashes = [f"{alg}:{text(doc.get(alg))}" for alg in ("sha256", "md5") if text(doc.get(alg))]
            depends = {text(d).split(" ", 1)[0] for d in array(doc.get("depends"))} - {""}
            packages.append(
                Package(
                    name=text(doc["name"]),
                    version=text(doc["version"]),
                    ecosystem=Ecosystem.CONDA,
                    hashes=tuple(hashes),
                    dependencies=tuple(sorted(canonicalize_name(d) for d in depends)),
                    source=str(record),
                    url=text(doc.get("url")),
                )
            )
        requested = _requested(path)
        if requested is not None:
            packages = [replace(p, direct=p.key in requested) for p in packages]
        return (FileInventory(where, FORMAT, packages=tuple(packages), problems=tuple(problems), locked=True),)
