"""Every model-file rule: its malicious fixture raises it, its benign fixture does not, scanned the
way `chainwarden scan FILE` scans a standalone model file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_mlmodels import FIXTURES

from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.rules import all_rules
from chainwarden.rules import mlmodels as model_rules
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.modelfile import ModelFileSource

if TYPE_CHECKING:
    from pathlib import Path


def _rule_ids(tmp_path: Path, model: Path) -> set[str]:
    source = ModelFileSource()
    assert source.claims(str(model)) or model.suffix == ".pth"
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    [artifact] = source.open(str(model), SourceOptions(cache_dir=tmp_path / "cache"))
    with Scanner(options, analyzers=[ModelAnalyzer()]) as scanner, artifact:
        result = scanner.scan_artifact(artifact)
    assert not [f for f in result.findings if f.rule_id == "CW000"], result.findings
    return {f.rule_id for f in result.findings}


def test_every_rule_has_a_fixture_pair() -> None:
    ids = {r.id for r in model_rules.RULES}
    assert ids == set(FIXTURES)
    assert ids <= set(all_rules())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rule_ids(tmp_path, malicious(tmp_path / "bad"))
    assert rule_id not in _rule_ids(tmp_path, benign(tmp_path / "good"))
