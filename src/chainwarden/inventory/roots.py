"""Which packages of a lock are direct dependencies, when the lock itself does not say.

poetry.lock, pdm.lock, pylock.toml and Pipfile.lock record what was resolved but not what was
asked for; the manifest beside them (pyproject.toml, Pipfile) does. Without a manifest, a
package nothing else depends on is taken as direct (when the lock records edges at all).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from chainwarden.inventory.base import UnreadableError, read_text, table

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.inventory.model import Package


def manifest_names(lock: Path) -> set[str] | None:
    """Canonical names the manifest next to `lock` asks for, or None if there is none."""
    if lock.name == "Pipfile.lock":
        return _pipfile_names(lock.with_name("Pipfile"))
    pyproject = lock.with_name("pyproject.toml")
    if not pyproject.is_file():
        return None
    from chainwarden.inventory.pyproject import PyprojectParser  # noqa: PLC0415 - avoid an import cycle

    (parsed,) = PyprojectParser().parse(pyproject)
    if parsed.problems and not parsed.requirements:
        return None
    return {r.key for r in parsed.requirements}


def _pipfile_names(path: Path) -> set[str] | None:
    if not path.is_file():
        return None
    try:
        doc = tomllib.loads(read_text(path))
    except (UnreadableError, tomllib.TOMLDecodeError):
        return None
    names: set[str] = set()
    for section in ("packages", "dev-packages"):
        names.update(canonicalize_name(n) for n in table(doc.get(section)))
    return names


def mark_direct(packages: list[Package], roots: set[str] | None, *, has_edges: bool) -> tuple[Package, ...]:
    """Set `direct` on every package: from `roots` if known, else from the edges, else unknown."""
    if roots is None and has_edges:
        depended = {d for p in packages for d in p.dependencies}
        roots = {p.key for p in packages if p.key not in depended}
    if roots is None:
        return tuple(packages)
    return tuple(replace(p, direct=p.key in roots) for p in packages)
