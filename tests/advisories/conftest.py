"""Session fixtures over the real OSV records (see `osv_testdata`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from osv_testdata import MAL_RECORD, PYSEC_ZIP, load_pysec_records, make_zip

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def pysec_records() -> list[dict]:
    if not PYSEC_ZIP.is_file():
        pytest.fail(f"real OSV fixtures missing: {PYSEC_ZIP}")
    return load_pysec_records()


@pytest.fixture(scope="session")
def mal_record() -> dict:
    return json.loads(MAL_RECORD.read_text())


@pytest.fixture(scope="session")
def osv_json_zip(pysec_records: list[dict], mal_record: dict) -> bytes:
    return make_zip([*pysec_records, mal_record])


@pytest.fixture(scope="session")
def offline_db(tmp_path_factory: pytest.TempPathFactory, osv_json_zip: bytes) -> Path:
    from chainwarden.advisories.database import update
    from chainwarden.advisories.dump import read_dump

    path = tmp_path_factory.mktemp("osvdb") / "advisories.sqlite3"
    update(path, read_dump(osv_json_zip, "fixtures"), "fixtures")
    return path
