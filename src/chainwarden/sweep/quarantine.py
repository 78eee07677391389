"""Move what a sweep found into a quarantine folder with a manifest; put it back on request.

Never deletes: every move is recorded (original path, sha256, where it went) before the next
one, so an interrupted quarantine can still be restored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "chainwarden-quarantine.json"


class QuarantineError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Moved:
    original: str
    stored: str
    sha256: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load(folder: Path) -> list[dict[str, str]]:
    path = folder / MANIFEST
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise QuarantineError(f"{path}: unreadable manifest: {err}") from err
    if not isinstance(data, list):
        raise QuarantineError(f"{path}: not a chainwarden quarantine manifest")
    return data


def _save(folder: Path, entries: list[dict[str, str]]) -> None:
    tmp = folder / (MANIFEST + ".part")
    tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    tmp.replace(folder / MANIFEST)


def quarantine(paths: list[str], folder: Path) -> list[Moved]:
    folder.mkdir(parents=True, exist_ok=True)
    entries = _load(folder)
    moved: list[Moved] = []
    for original in dict.fromkeys(paths):
        src = Path(original)
        if not src.is_file() or src.is_symlink():
            continue
        digest = _sha256(src)
        stored = folder / f"{len(entries):04d}-{digest[:12]}-{src.name}"
        entry = {
            "original": str(src),
            "stored": str(stored),
            "sha256": digest,
            "moved": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        entries.append(entry)
        _save(folder, entries)  # record first: an interrupted move can be undone
        shutil.move(str(src), str(stored))
        stored.chmod(0o400)
        moved.append(Moved(str(src), str(stored), digest))
    return moved


def restore(folder: Path) -> list[Moved]:
    entries = _load(folder)
    if not entries:
        raise QuarantineError(f"{folder}: no quarantine manifest here")
    restored: list[Moved] = []
    remaining: list[dict[str, str]] = []
    for entry in entries:
        stored, original = Path(entry["stored"]), Path(entry["original"])
        if not stored.is_file():
            if original.is_file():
                continue  # already back
            remaining.append(entry)
            continue
        if _sha256(stored) != entry["sha256"]:
            raise QuarantineError(f"{stored}: changed since it was quarantined; not restoring it")
        if original.exists():
            raise QuarantineError(f"{original}: exists again; move it away before restoring")
        original.parent.mkdir(parents=True, exist_ok=True)
        stored.chmod(0o600)
        shutil.move(str(stored), str(original))
        restored.append(Moved(str(original), str(stored), entry["sha256"]))
    _save(folder, remaining)
    return restored
