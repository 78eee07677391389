import datetime as dt
from pathlib import Path

import pytest

from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    Evidence,
    Finding,
    Location,
    PackageMetadata,
    ScanReport,
    Severity,
)
from chainwarden.policy import ConfigError, Policy, find_config, load_policy, parse_policy


def _report(*findings: Finding) -> ScanReport:
    result = ArtifactResult(
        ref=ArtifactRef(ArtifactKind.WHEEL, "/x/pkg-1.0-py3-none-any.whl", "pkg-1.0-py3-none-any.whl"),
        metadata=PackageMetadata("pkg", "1.0"),
        findings=findings,
    )
    return ScanReport(tool_version="t", started="now", results=(result,))


def _finding(rule: str = "CW101", sev: Severity = Severity.HIGH, snippet: str = "import os") -> Finding:
    return Finding(rule, sev, "m", Location("pkg-1.0", "pkg.pth", 1), evidence=Evidence(snippet=snippet))


def test_threshold_blocks_at_or_above() -> None:
    report = _report(_finding(sev=Severity.MEDIUM), _finding(sev=Severity.HIGH))
    verdict = Policy().evaluate(report)
    assert verdict.blocked
    assert [f.severity for f in verdict.blocking] == [Severity.HIGH]
    assert not Policy(fail_on=Severity.CRITICAL).evaluate(report).blocked
    assert Policy(fail_on=Severity.MEDIUM).evaluate(report).blocked


def test_ignore_needs_reason_and_expiry_and_lapses() -> None:
    finding = _finding()
    policy = parse_policy(
        {"ignore": [{"rule": "CW101", "package": "PKG", "path": "*.pth", "reason": "reviewed", "expires": dt.date(2030, 1, 1)}]}
    )
    verdict = policy.evaluate(_report(finding), today=dt.date(2029, 12, 31))
    assert not verdict.blocked
    assert verdict.suppressed[0].reason == "reviewed"
    later = policy.evaluate(_report(finding), today=dt.date(2030, 1, 2))
    assert later.blocked
    assert "expired" in later.notes[0]


def test_ignore_pinned_to_evidence_lapses_when_evidence_changes() -> None:
    seen = _finding(snippet="import os")
    policy = parse_policy(
        {"ignore": [{"rule": "CW101", "evidence": seen.evidence_hash, "reason": "ok", "expires": "2099-01-01"}]}
    )
    assert not policy.evaluate(_report(seen)).blocked
    assert policy.evaluate(_report(_finding(snippet="import os; exec(x)"))).blocked


def test_bad_config_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        parse_policy({"fail-on": "severe", "ignore": [{"rule": "CW1"}, "x", {"reason": "r", "expires": "soon", "colour": 1}]})
    text = str(err.value)
    assert "unknown severity 'severe'" in text
    assert "'reason' is required" in text
    assert "#2: must be a table" in text
    assert "'expires' must be a date" in text
    assert "unknown key(s) colour" in text
    assert "'rule' is required" in text


def test_load_from_pyproject_and_chainwarden_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n[tool.chainwarden]\nfail-on = "critical"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(sub) == tmp_path / "pyproject.toml"
    assert load_policy(start=sub).fail_on is Severity.CRITICAL
    (sub / "chainwarden.toml").write_text('fail-on = "low"\n')
    assert load_policy(start=sub).fail_on is Severity.LOW


def test_pyproject_without_table_is_not_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n')
    assert find_config(tmp_path) is None
    assert load_policy(start=tmp_path) == Policy()


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "chainwarden.toml"
    bad.write_bytes(b"fail-on = \n\xff")
    with pytest.raises(ConfigError, match=r"chainwarden\.toml"):
        load_policy(bad)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) fail_on"):
        parse_policy({"fail_on": "low"})
    assert parse_policy({"min-release-age": "3d", "deny": ["x"]}).extra["min-release-age"] == "3d"
