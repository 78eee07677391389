"""Fixtures shared by every test area."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from support.index_server import IndexServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def index_server() -> Iterator[IndexServer]:
    """A started loopback package index (empty: add projects with `add_file` / `add_project`)."""
    with IndexServer() as server:
        yield server
