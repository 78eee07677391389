"""Every provenance and release-diff rule: its malicious situation raises it, its benign one does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_provenance import FIXTURES

from chainwarden.rules import all_rules
from chainwarden.rules import diff as diff_rules
from chainwarden.rules import provenance as provenance_rules

if TYPE_CHECKING:
    from pathlib import Path

#: Rules whose fixture pairs verify a real attestation (the optional `provenance` extra).
_NEEDS_SIGSTORE = frozenset({"CW500", "CW501", "CW502", "CW503"})


def test_every_rule_has_a_fixture_pair() -> None:
    ids = {r.id for r in (*provenance_rules.RULES, *diff_rules.RULES)}
    assert ids == set(FIXTURES)
    assert ids <= set(all_rules())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    if rule_id in _NEEDS_SIGSTORE:
        pytest.importorskip("pypi_attestations", reason="the optional 'provenance' extra is not installed")
    malicious, benign = FIXTURES[rule_id]
    raised = [f.rule_id for f in malicious(tmp_path / "bad")]
    assert rule_id in raised, raised
    quiet = [f.rule_id for f in benign(tmp_path / "good")]
    assert rule_id not in quiet, quiet
