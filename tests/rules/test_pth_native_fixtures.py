"""Every .pth and native rule: its malicious fixture raises it, its benign fixture does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_native import FIXTURES as NATIVE_FIXTURES
from fixtures_pth import FIXTURES as PTH_FIXTURES
from fixtures_pth import open_fixture

from chainwarden.analyzers.native import NativeAnalyzer
from chainwarden.analyzers.pth import PthAnalyzer
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.rules import all_rules
from chainwarden.rules import native as native_rules
from chainwarden.rules import pth as pth_rules

if TYPE_CHECKING:
    from pathlib import Path

FIXTURES = {**PTH_FIXTURES, **NATIVE_FIXTURES}


def _rule_ids(tmp_path: Path, artifact_path: Path) -> set[str]:
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    with Scanner(options, analyzers=[PthAnalyzer(), NativeAnalyzer()]) as scanner, open_fixture(artifact_path) as art:
        result = scanner.scan_artifact(art)
    assert not [f for f in result.findings if f.rule_id == "CW000"], result.findings
    return {f.rule_id for f in result.findings}


def test_every_rule_has_a_fixture_pair() -> None:
    ids = {r.id for r in (*pth_rules.RULES, *native_rules.RULES)}
    assert ids == set(FIXTURES)
    assert ids <= set(all_rules())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rule_ids(tmp_path, malicious(tmp_path / "bad"))
    assert rule_id not in _rule_ids(tmp_path, benign(tmp_path / "good"))
