"""Release diff on real consecutive releases of large packages, downloaded from PyPI.

For each pair: cold diff (empty facts cache), then warm diff (same cache, as when the previous
release was scanned before), the files changed, and whether any new capability reachable from an
automatic trigger (CW600) or new startup hook (CW601) was reported -- on real, benign
consecutive releases the answer must be "none". Also times the litellm-shaped attack pair from
the tests (built in memory) with a warm cache.

    .venv/bin/python bench/diff.py [--pairs litellm:1.82.5:1.82.6 requests:2.32.3:2.32.4] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, ROOT, command_line, machine, now, table, write_section

sys.path.insert(0, str(ROOT / "tests" / "diff"))

from typing import TYPE_CHECKING

from chainwarden.diff.baseline import Baseline, open_baseline
from chainwarden.diff.files import ChangeKind
from chainwarden.diff.release import diff_artifacts
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.index_client import IndexClient

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact

DEFAULT_PAIRS = ("litellm:1.82.5:1.82.6", "requests:2.32.3:2.32.4", "transformers:4.57.0:4.57.1")
CACHE = DATA / "diff"


def _open(client: IndexClient, name: str, version: str) -> Artifact:
    files = [f for f in client.project(name).for_version(version) if f.kind == "wheel"]
    pure = [f for f in files if f.filename.endswith("-none-any.whl")] or files
    if not pure:
        msg = f"{name} {version}: no wheel on the index"
        raise SystemExit(msg)
    return open_baseline(client, Baseline(version, pure[0]), CACHE)


def _one(client: IndexClient, spec: str, jobs: int) -> list[str]:
    name, old_v, new_v = spec.split(":")
    old, new = _open(client, name, old_v), _open(client, name, new_v)
    with tempfile.TemporaryDirectory() as cache, old, new:
        options = ScanOptions(jobs=jobs, cache_dir=Path(cache))
        with Scanner(options) as scanner:
            t0 = time.perf_counter()
            diff_artifacts(old, old, scanner)  # the previous release, scanned before
            prime = time.perf_counter() - t0
            t0 = time.perf_counter()
            cold = diff_artifacts(old, new, scanner)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            warm = diff_artifacts(old, new, scanner)
            again = time.perf_counter() - t0
    auto = [f for f in warm.findings if f.rule_id in ("CW600", "CW601")]
    f = cold.files
    print(f"{name} {old_v} -> {new_v}: {warm.summary}; CW600/CW601: {len(auto)}", file=sys.stderr)
    for finding in auto:
        print(f"  {finding.rule_id} {finding.location.path}: {finding.message[:200]}", file=sys.stderr)
    return [
        f"{name} {old_v} → {new_v}",
        f"{f.old_files} / {f.new_files}",
        " / ".join(
            str(len(f.of(k)))
            for k in (
                ChangeKind.ADDED,
                ChangeKind.MODIFIED,
                ChangeKind.RENAMED,
                ChangeKind.REMOVED,
                ChangeKind.VERSION_ONLY,
            )
        ),
        f"{prime:.2f}",
        f"{first:.2f}",
        f"{again:.2f}",
        str(len(auto)) if not auto else f"**{len(auto)}**: " + ", ".join(sorted({a.location.path for a in auto})),
        str(len(warm.findings)),
    ]


def _attack_pair(jobs: int) -> str:
    from diffpairs import litellm_pair

    old, new = litellm_pair()
    with tempfile.TemporaryDirectory() as cache, Scanner(ScanOptions(jobs=jobs, cache_dir=Path(cache))) as scanner:
        diff_artifacts(old, new, scanner)
        t0 = time.perf_counter()
        diff = diff_artifacts(old, new, scanner)
        elapsed = time.perf_counter() - t0
    return f"{elapsed * 1000:.1f} ms; first line: “{diff.headlines[0][:110]}…”"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", default=list(DEFAULT_PAIRS), help="NAME:OLD:NEW (wheels from PyPI)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    client = IndexClient("https://pypi.org/simple/")
    rows = [_one(client, spec, args.jobs) for spec in args.pairs]
    attack = _attack_pair(args.jobs)
    body = "\n".join(
        [
            "## Release diff (`bench/diff.py`)",
            "",
            (
                f"Command: `{command_line()}` — {now()} — {machine()}; load average at the end "
                f"{os.getloadavg()[0]:.1f} (the cores are shared, so timings vary between runs)."
            ),
            "",
            (
                "Real consecutive wheels from PyPI, default analyzers. *prime* scans the old release into an "
                "empty facts cache (as a previous scan would have); *diff* is the first diff against the new "
                "release (only its changed files are analysed); *warm* repeats it with everything cached. "
                "Times in seconds and include reading and hashing every file of both wheels and every "
                "analyzer's judge step on both releases (per-file facts are cached, judging is not: it "
                "sees the whole package)."
            ),
            "",
            table(
                [
                    "pair",
                    "files old / new",
                    "added / modified / renamed / removed / version-only",
                    "prime s",
                    "diff s",
                    "warm s",
                    "new auto-trigger capabilities (CW600/CW601)",
                    "diff findings",
                ],
                rows,
            ),
            "",
            f"litellm-shaped attack pair (tests/diff/diffpairs.py, in memory), warm cache: {attack}",
        ]
    )
    print(body)
    if args.write_docs:
        write_section("diff", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
