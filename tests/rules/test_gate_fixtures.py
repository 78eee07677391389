"""Every install-gate rule: `chainwarden check` raises it on its malicious fixture, not on its benign one."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING

import pytest
from fixtures_gate import FIXTURES, INDEX_PROJECTS

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.rules import gate as gate_rules
from support.index_server import IndexedFile, IndexedProject, IndexServer
from support.packages import make_wheel

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tmp = tmp_path_factory.mktemp("gate-fixture-index")
    projects = []
    for name, (version, hours) in INDEX_PROJECTS.items():
        wheel = make_wheel(tmp, name, version, {f"{name.replace('-', '_')}/__init__.py": ""})
        when = None if hours is None else (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat()
        projects.append(IndexedProject(name, [IndexedFile.from_path(wheel, upload_time=when)]))
    with IndexServer(projects) as server:
        yield server


def _rules(project: Path, index: IndexServer, db: Path) -> set[str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(project), "--db", str(db), "--index-url", index.simple_url, "-f", "json"], IO(out, err))
    assert code in (0, 1), err.getvalue()
    return {f["rule_id"] for r in json.loads(out.getvalue())["results"] for f in r["findings"]}


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chainwarden.advisories.database import update

    db = tmp_path_factory.mktemp("db") / "advisories.sqlite3"
    update(db, (), "empty")
    return db


def test_every_gate_rule_has_a_pair() -> None:
    assert {r.id for r in gate_rules.RULES} == set(FIXTURES)


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_gate_fixture_pair(tmp_path: Path, index: IndexServer, empty_db: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rules(malicious(tmp_path / "bad"), index, empty_db)
    assert rule_id not in _rules(benign(tmp_path / "good"), index, empty_db)
