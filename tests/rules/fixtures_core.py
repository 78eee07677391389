"""Paired fixtures for the scan-level rule CW000 (an analyzer failed).

The malicious builder writes a directory holding a file that makes the test's probe analyzer
raise (standing in for any analyzer bug that hostile input triggers); the benign one does not.
`test_core_fixtures.py` checks that the failure becomes a visible, blocking CW000 finding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Builder = Callable[[Path], Path]
TRIGGER = b"# CHAINWARDEN-PROBE-CRASH\n"


def _tree(root: Path, content: bytes) -> Path:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "__init__.py").write_bytes(content)
    return root


FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW000": (lambda d: _tree(d, TRIGGER), lambda d: _tree(d, b"VALUE = 1\n")),
}
