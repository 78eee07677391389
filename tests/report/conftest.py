"""Fixtures for the report tests (builders live in report_builders.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from report_builders import empty, hostile, sample

if TYPE_CHECKING:
    from chainwarden.models import ScanReport


@pytest.fixture
def sample_report() -> ScanReport:
    return sample()


@pytest.fixture
def hostile_report() -> ScanReport:
    return hostile()


@pytest.fixture
def empty_report() -> ScanReport:
    return empty()
