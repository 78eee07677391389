"""Every Python code rule: its malicious fixture raises it, its benign fixture does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_python import FIXTURES

from chainwarden.analyzers.python import PythonAnalyzer
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.rules import python as python_rules

if TYPE_CHECKING:
    from pathlib import Path


def _rule_ids(tmp_path: Path, artifact: Path) -> set[str]:
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    with Scanner(options, analyzers=[PythonAnalyzer()]) as scanner:
        report = scanner.scan([str(artifact)])
    assert not report.errors, report.errors
    assert not [f for f in report.findings if f.rule_id == "CW000"], report.findings
    return {f.rule_id for f in report.findings}


def test_every_python_rule_has_a_pair() -> None:
    assert {r.id for r in python_rules.RULES} == set(FIXTURES)


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_python_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rule_ids(tmp_path, malicious(tmp_path / "bad"))
    assert rule_id not in _rule_ids(tmp_path, benign(tmp_path / "good"))
