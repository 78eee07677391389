"""Every dependency rule: its malicious fixture raises it, its benign fixture does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_advisories import FIXTURES, advisory_zip

from chainwarden.advisories.audit import audit
from chainwarden.advisories.database import update
from chainwarden.advisories.dump import read_dump
from chainwarden.advisories.services.offline import OfflineService
from chainwarden.inventory.discover import discover
from chainwarden.rules import advisories as advisory_rules
from chainwarden.rules import all_rules

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> OfflineService:
    path = tmp_path_factory.mktemp("db") / "advisories.sqlite3"
    update(path, read_dump(advisory_zip(), "fixtures"), "fixtures")
    return OfflineService(path)


def _rule_ids(project: Path, service: OfflineService) -> set[str]:
    return {f.rule_id for f in audit(discover(project), service).report.findings}


def test_every_rule_has_a_fixture_pair() -> None:
    ids = {r.id for r in advisory_rules.RULES}
    assert ids == set(FIXTURES)
    assert ids <= set(all_rules())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_fixture_pair(tmp_path: Path, rule_id: str, service: OfflineService) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rule_ids(malicious(tmp_path / "bad"), service)
    assert rule_id not in _rule_ids(benign(tmp_path / "good"), service)
