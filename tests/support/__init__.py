"""Shared test helpers: packages built in code and a loopback package index.

Import as `from support import make_wheel, IndexServer, ...` (pytest puts `tests/` on the path
through `tests/conftest.py`). The `index_server` fixture in `tests/conftest.py` gives a started
`IndexServer`.
"""

from support.environments import fake_install, make_venv
from support.index_server import IndexedFile, IndexedProject, IndexServer, RequestRecord
from support.packages import (
    add_tar_member,
    core_metadata,
    entry_points_text,
    escape_name,
    make_sdist,
    make_wheel,
    record_line,
)
from support.zipcraft import DEFLATED, STORED, RawEntry, build_zip

__all__ = [
    "DEFLATED",
    "STORED",
    "IndexServer",
    "IndexedFile",
    "IndexedProject",
    "RawEntry",
    "RequestRecord",
    "add_tar_member",
    "build_zip",
    "core_metadata",
    "entry_points_text",
    "escape_name",
    "fake_install",
    "make_sdist",
    "make_venv",
    "make_wheel",
    "record_line",
]
