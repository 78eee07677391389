"""CW000: an analyzer that fails on an input yields a blocking finding, never a silent pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fixtures_core import FIXTURES, TRIGGER

from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import Finding, Member, Severity
from chainwarden.policy import Policy

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class _Facts:
    size: int


class _Probe(Analyzer[_Facts]):
    name = "probe"
    version = "1"
    facts_type = _Facts

    def select(self, member: Member, view: ArtifactView) -> bool:
        return member.path.endswith(".py")

    def extract(self, data: bytes) -> _Facts:
        if TRIGGER in data:
            raise ValueError("probe cannot handle this input")
        return _Facts(len(data))

    def judge(self, view: ArtifactView, facts: Mapping[str, _Facts]) -> Iterable[Finding]:
        return ()


def _scan(root: Path, tmp_path: Path) -> tuple[set[str], bool]:
    with Scanner(ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "c"), analyzers=[_Probe()]) as scanner:
        report = scanner.scan([str(root)])
    return {f.rule_id for f in report.findings}, Policy(fail_on=Severity.HIGH).evaluate(report).blocked


def test_cw000_pair(tmp_path: Path) -> None:
    malicious, benign = FIXTURES["CW000"]
    rules, blocked = _scan(malicious(tmp_path / "bad"), tmp_path)
    assert "CW000" in rules
    assert blocked
    rules, blocked = _scan(benign(tmp_path / "good"), tmp_path)
    assert "CW000" not in rules
    assert not blocked
