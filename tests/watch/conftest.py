"""Store URLs for both engines: a SQLite file, and a fresh database on a real PostgreSQL server.

`.ci/run` starts PostgreSQL and sets CHAINWARDEN_TEST_POSTGRES_URL. Without it the PostgreSQL
cases are skipped locally but *fail* in CI (CI=true), so a missing server is never a silent pass.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PG_URL = os.environ.get("CHAINWARDEN_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "watch.sqlite3")
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must provide CHAINWARDEN_TEST_POSTGRES_URL (see scripts/start-postgres.sh)")
        pytest.skip("no PostgreSQL server (set CHAINWARDEN_TEST_POSTGRES_URL)")
    import psycopg

    name = "cw_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
