"""`chainwarden sync`: install exactly what a lock pins (uv.lock, pylock.toml, hashed requirements).

No resolution at all: the lock names versions and hashes, the index (or, offline, the cache)
gives the files, and for each package the gate picks the file whose hash the lock records and
whose wheel tags fit the target interpreter, applies the cooldown, lists and advisories,
scans it, and hands the checked files to `install_files`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.tags import Tag, parse_tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from chainwarden.gate.install import GateError, PlannedFile
from chainwarden.gate.target import tags_command
from chainwarden.index_client import IndexClientError, same_version

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainwarden.gate.proxy import GateIndex
    from chainwarden.index_client import IndexFile
    from chainwarden.inventory.model import Package


@dataclass(frozen=True, slots=True)
class SyncPlan:
    files: tuple[PlannedFile, ...]
    blocked: tuple[tuple[str, str], ...]  # (name==version, reason)
    skipped: tuple[tuple[str, str], ...]  # (name==version, reason): not for this platform, local, ...


def target_tags(python: str) -> list[Tag]:
    """The wheel tags the target interpreter accepts, most preferred first (asked of its own pip)."""
    proc = subprocess.run(tags_command(python), capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        msg = f"{python}: cannot read its wheel tags (is pip installed there?): {proc.stderr.strip()[-300:]}"
        raise GateError(msg)
    return [t for line in proc.stdout.split() for t in parse_tag(line)]


def _rank(file: IndexFile, ranks: dict[Tag, int]) -> int | None:
    try:
        _, _, _, tags = parse_wheel_filename(file.filename)
    except InvalidWheelFilename:
        return None
    best = [ranks[t] for t in tags if t in ranks]
    return min(best) if best else None


def plan_sync(packages: Sequence[Package], index: GateIndex, tags: Sequence[Tag]) -> SyncPlan:
    ranks = {t: n for n, t in enumerate(tags)}
    files: list[PlannedFile] = []
    blocked: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for pkg in packages:
        label = f"{pkg.key}=={pkg.version}"
        if pkg.url and not pkg.url.startswith(("http://", "https://")):
            skipped.append((label, f"not from an index ({pkg.url}); install it yourself"))
            continue
        if not pkg.version:
            skipped.append((label, "the lock gives no version (a local or virtual project)"))
            continue
        wanted = {h.split(":", 1)[1].lower() for h in pkg.hashes if h.startswith("sha256:")}
        if not wanted:
            blocked.append((label, "the lock records no sha256 for it; sync installs only hash-pinned files"))
            continue
        try:
            listed = index.project_files(pkg.key)
            visible = {f.filename for f in index.visible_files(pkg.key)}
        except IndexClientError as err:
            blocked.append((label, str(err)))
            continue
        candidates = [f for f in listed if f.sha256 in wanted and same_version(f.version, pkg.version)]
        if not candidates:
            blocked.append((label, "none of the lock's hashes is on the index (file replaced or deleted?)"))
            continue
        wheels = [(r, f) for f in candidates if (r := _rank(f, ranks)) is not None]
        if not wheels:
            if all(f.filename.endswith(".whl") for f in candidates):
                skipped.append((label, "no wheel in the lock fits this interpreter (platform-specific package)"))
            else:
                blocked.append((label, "only an sdist fits; building it would run package code"))
            continue
        _, chosen = min(wheels, key=lambda pair: pair[0])
        if chosen.filename not in visible:
            blocked.append((label, f"{chosen.filename}: {index.why(chosen.filename) or 'hidden by the gate'}"))
            continue
        path, reason = index.fetch(chosen.filename)
        if path is None:
            blocked.append((label, f"{chosen.filename}: {reason}"))
            continue
        files.append(PlannedFile(pkg.key, pkg.version, chosen.filename, chosen.sha256, path))
    return SyncPlan(tuple(files), tuple(blocked), tuple(skipped))
