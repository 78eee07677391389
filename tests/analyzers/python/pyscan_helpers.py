"""Scan a built package with only the Python analyzer, through the real engine and sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.analyzers.python import PythonAnalyzer
from chainwarden.engine import Scanner, ScanOptions

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.models import Finding


def scan(path: Path, tmp_path: Path) -> list[Finding]:
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    with Scanner(options, analyzers=[PythonAnalyzer()]) as scanner:
        report = scanner.scan([str(path)])
    assert not report.errors, report.errors
    findings = list(report.findings)
    assert not [f for f in findings if f.rule_id == "CW000"], findings
    return findings
