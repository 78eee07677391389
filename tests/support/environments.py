"""Build installed environments on disk, for tests of anything that reads site-packages.

`make_venv` writes the skeleton of a virtual environment (pyvenv.cfg and an empty
`lib/pythonX.Y/site-packages`); `fake_install` lays out a distribution the way pip leaves it
(files plus `*.dist-info` with METADATA, INSTALLER and a RECORD with hashes). Nothing runs.

    root, site = make_venv(tmp_path)
    fake_install(site, "litellm", "1.82.8", {"litellm/__init__.py": "", "litellm_init.pth": "import os\\n"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from support.packages import Content, core_metadata, entry_points_text, escape_name, record_line

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def make_venv(directory: Path, python: str = "3.11") -> tuple[Path, Path]:
    """(venv root, its site-packages)."""
    root = directory / "venv"
    site = root / "lib" / f"python{python}" / "site-packages"
    site.mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "pyvenv.cfg").write_text(f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python}.0\n")
    return root, site


def _write(path: Path, data: Content) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return raw


def fake_install(
    site: Path,
    name: str,
    version: str,
    files: Mapping[str, Content],
    *,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    record: bool = True,
    tamper: Mapping[str, Content] | None = None,
    scripts: Mapping[str, Content] | None = None,
) -> Path:
    """Install `files` (paths relative to site-packages) as pip would; returns the dist-info dir.

    `scripts` are written to `../../../bin/` and listed in RECORD with that relative path;
    `tamper` rewrites files after RECORD was written (post-install modification).
    """
    dist_info = f"{escape_name(name)}-{version}.dist-info"
    rows: list[str] = []
    for rel, data in files.items():
        rows.append(record_line(rel, _write(site / rel, data)))
    for script, data in (scripts or {}).items():
        rel = f"../../../bin/{script}"
        rows.append(record_line(rel, _write(site / rel, data)))
    meta = {
        "METADATA": core_metadata(name, version),
        "INSTALLER": b"pip\n",
        **({"entry_points.txt": entry_points_text(entry_points)} if entry_points else {}),
    }
    for filename, data in meta.items():
        rows.append(record_line(f"{dist_info}/{filename}", _write(site / dist_info / filename, data)))
    rows.append(f"{dist_info}/RECORD,,")
    if record:
        _write(site / dist_info / "RECORD", "\n".join(rows) + "\n")
    for rel, data in (tamper or {}).items():
        _write(site / rel, data)
    return site / dist_info
