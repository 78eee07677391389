"""Paired fixtures for the install-gate rules (CW701-CW705): project directories built in code.

Each builder writes a project (requirements + policy) under the directory it is given and
returns it. `test_gate_fixtures.py` runs `chainwarden check` on it against a loopback index
that holds the projects named here (see `INDEX_PROJECTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Builder = Callable[[Path], Path]

#: name -> (version, upload age in hours or None for no upload time). The test index serves these.
INDEX_PROJECTS: dict[str, tuple[str, float | None]] = {
    "youngpkg": ("1.1", 1.0),
    "oldpkg": ("1.0", 24 * 30),
    "undatedpkg": ("1.0", None),
    "acme-internal": ("9.9", 24 * 30),  # an "internal" name someone published publicly
}


def _project(root: Path, requirements: str, policy: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(requirements)
    (root / "chainwarden.toml").write_text(policy)
    return root


_HASH = " --hash=sha256:" + "0" * 64 + "\n"

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW701": (
        lambda d: _project(d, "youngpkg==1.1" + _HASH),
        lambda d: _project(d, "oldpkg==1.0" + _HASH),
    ),
    "CW702": (
        lambda d: _project(d, "oldpkg==1.0" + _HASH, 'deny = ["oldpkg"]\n'),
        lambda d: _project(d, "oldpkg==1.0" + _HASH, 'deny = ["otherpkg"]\n'),
    ),
    "CW703": (
        lambda d: _project(d, "oldpkg==1.0\n", "require-hashes = true\n"),
        lambda d: _project(d, "oldpkg==1.0" + _HASH, "require-hashes = true\n"),
    ),
    "CW704": (
        lambda d: _project(d, "acme-internal==9.9" + _HASH, 'internal-packages = ["acme-*"]\n'),
        lambda d: _project(d, "acme-private==1.0" + _HASH, 'internal-packages = ["acme-*"]\n'),
    ),
    "CW705": (
        lambda d: _project(d, "undatedpkg==1.0" + _HASH),
        lambda d: _project(d, "undatedpkg==1.0" + _HASH, 'min-release-age-exempt = ["undatedpkg"]\n'),
    ),
}
