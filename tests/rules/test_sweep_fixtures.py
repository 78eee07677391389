"""Every sweep rule: `chainwarden sweep` raises it on its malicious HOME, not on its benign one."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from fixtures_sweep import FIXTURES

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.rules import sweep as sweep_rules

if TYPE_CHECKING:
    from pathlib import Path


def _rules(home: Path, tmp_path: Path) -> set[str]:
    from chainwarden.advisories.database import update

    db = tmp_path / "advisories.sqlite3"
    if not db.exists():
        update(db, (), "empty")
    out, err = io.StringIO(), io.StringIO()
    argv = ["sweep", str(home), "--home", str(home), "--db", str(db), "-j", "1", "--cache-dir", str(tmp_path / "c"), "-f", "json"]
    code = main(argv, IO(out, err))
    assert code in (0, 1), err.getvalue()
    return {f["rule_id"] for r in json.loads(out.getvalue())["results"] for f in r["findings"]}


def test_every_sweep_rule_has_a_pair() -> None:
    assert {r.id for r in sweep_rules.RULES} == set(FIXTURES)


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_sweep_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rules(malicious(tmp_path / "bad"), tmp_path)
    assert rule_id not in _rules(benign(tmp_path / "good"), tmp_path)
