"""Every container rule: its malicious fixture raises it, its benign fixture does not.

Container findings come from the sources while an artifact is opened (`artifact.problems`),
so no analyzer is needed. Each fixture must surface as a finding, never as a target error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_archive import FIXTURES, INDEX_RULES, INDEX_TARGET, LIMITS

from chainwarden.archive import ArchiveLimits, ZipReader
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactResult
from chainwarden.rules import all_rules
from chainwarden.rules import archive as archive_rules
from chainwarden.sources.sdist import SdistSource
from chainwarden.sources.wheel import WheelSource
from support import STORED, RawEntry, build_zip

if TYPE_CHECKING:
    from pathlib import Path


def _scan_with_limits(scanner: Scanner, path: Path, limits: ArchiveLimits) -> list[ArtifactResult]:
    """Open through the wheel / sdist source with non-default limits, then scan as usual."""
    source = WheelSource(limits) if path.suffix == ".whl" else SdistSource(limits)
    results = []
    for artifact in source.open(str(path), scanner.options.source_options()):
        with artifact:
            results.append(scanner.scan_artifact(artifact))
    return results


def _rule_ids(tmp_path: Path, rule_id: str, built: Path) -> set[str]:
    target, cache, offline = str(built), tmp_path / "cache", False
    if rule_id in INDEX_RULES:  # the builder wrote an offline index cache
        target, cache, offline = INDEX_TARGET, built, True
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=cache, offline=offline)
    with Scanner(options, analyzers=[]) as scanner:
        if rule_id in LIMITS:
            results = _scan_with_limits(scanner, built, LIMITS[rule_id])
        else:
            report = scanner.scan([target])
            assert not report.errors, report.errors
            results = list(report.results)
    assert results, "the fixture yielded no artifact"
    return {f.rule_id for r in results for f in r.findings}


def test_every_archive_rule_has_a_pair() -> None:
    ids = {r.id for r in archive_rules.RULES}
    assert ids == set(FIXTURES)
    assert ids <= set(all_rules())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_archive_fixture_pair(tmp_path: Path, rule_id: str) -> None:
    malicious, benign = FIXTURES[rule_id]
    assert rule_id in _rule_ids(tmp_path, rule_id, malicious(tmp_path / "bad"))
    assert rule_id not in _rule_ids(tmp_path, rule_id, benign(tmp_path / "good"))


def test_member_limit_does_not_report_the_rest_as_hidden(tmp_path: Path) -> None:
    """Entries past the member limit are in the central directory: not hidden, not extra data."""
    path = tmp_path / "many.zip"
    path.write_bytes(build_zip([RawEntry(f"f{i}.py", b"", method=STORED) for i in range(12)]))
    rules = {f.rule_id for f in ZipReader(path, "many.zip", ArchiveLimits(max_members=5)).problems}
    assert rules == {"CW022"}
