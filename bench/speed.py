"""Speed benchmark: seconds per package and MB/s over the benign corpus, cold and warm cache.

    .venv/bin/python bench/speed.py                   # wheels and sdists, --jobs 2
    .venv/bin/python bench/speed.py --write-docs      # also into docs/benchmarks.md

Runs the real pipeline (`chainwarden.engine.Scanner`, the same code as `chainwarden scan`)
over every file in `bench/_data/benign/` (fetch it with `bench/fetch_benign.sh`): first with a
fresh, empty facts cache (cold), then again with the same cache (warm). Also times single
large wheels (litellm, torch-sized) on their own, cold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from _common import BENIGN, OUT, benign_files, command_line, machine, now, table, write_section
from chainwarden.engine import Scanner, ScanOptions

if TYPE_CHECKING:
    from chainwarden.models import ScanReport

SINGLES = ("litellm-", "torch-", "transformers-", "boto3-")


def run(targets: list[Path], cache: Path, jobs: int) -> tuple[ScanReport, float]:
    options = ScanOptions(jobs=jobs, cache_dir=cache)
    t0 = time.perf_counter()
    with Scanner(options) as scanner:
        report = scanner.scan([str(t) for t in targets])
    return report, time.perf_counter() - t0


def row(label: str, targets: list[Path], report: ScanReport, seconds: float) -> list[str]:
    n = len(report.results)
    archive_mb = sum(t.stat().st_size for t in targets) / 1e6
    content_mb = sum(r.stats.bytes for r in report.results) / 1e6
    hits = sum(r.stats.cache_hits for r in report.results)
    analysed = sum(r.stats.analyzed_files for r in report.results)
    return [
        label,
        str(n),
        f"{archive_mb:.1f}",
        f"{seconds:.1f}",
        f"{seconds / max(n, 1):.3f}",
        f"{archive_mb / seconds:.1f}",
        f"{content_mb / seconds:.1f}",
        f"{hits}/{analysed}",
        str(len(report.errors)),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--kind", choices=("all", "wheel", "sdist"), default="all")
    p.add_argument("--limit", type=int, help="only the first N files (quick runs)")
    p.add_argument("--write-docs", action="store_true", help="replace the speed section of docs/benchmarks.md")
    args = p.parse_args(argv)
    kinds = ("wheel", "sdist") if args.kind == "all" else (args.kind,)
    targets = benign_files(kinds)[: args.limit]
    if not targets:
        print(f"no benign corpus in {BENIGN}: run bench/fetch_benign.sh", file=sys.stderr)
        return 2
    started = now()
    load = os.getloadavg()[0]
    OUT.mkdir(parents=True, exist_ok=True)
    cache = Path(tempfile.mkdtemp(prefix="speed-cache-", dir=OUT))
    rows = []
    try:
        cold, cold_s = run(targets, cache, args.jobs)
        rows.append(row("cold cache", targets, cold, cold_s))
        print(" | ".join(rows[-1]), file=sys.stderr)
        warm, warm_s = run(targets, cache, args.jobs)
        rows.append(row("warm cache", targets, warm, warm_s))
        print(" | ".join(rows[-1]), file=sys.stderr)
        singles = []
        for prefix in SINGLES:
            for t in (t for t in targets if t.name.startswith(prefix) and t.suffix == ".whl"):
                single_cache = Path(tempfile.mkdtemp(prefix="speed-single-", dir=OUT))
                try:
                    report, secs = run([t], single_cache, args.jobs)
                finally:
                    shutil.rmtree(single_cache, ignore_errors=True)
                singles.append([t.name, f"{t.stat().st_size / 1e6:.1f}", f"{secs:.2f}", str(len(report.findings))])
                print(" | ".join(singles[-1]), file=sys.stderr)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    head = [
        "run",
        "artifacts",
        "archive MB",
        "seconds",
        "s/artifact",
        "archive MB/s",
        "content MB/s",
        "cache hits/files",
        "errors",
    ]
    from chainwarden.analyzers import default_analyzers

    analyzers = ", ".join(f"{a.name} {a.version}" for a in default_analyzers())
    body = "\n\n".join(
        [
            "## Speed (benign corpus, cold and warm cache)",
            (
                f"Command: `{command_line()}`  \nDate: {started}  \nMachine: {machine()}  \n"
                f"Analyzers: {analyzers}. Targets: {len(targets)} files from `bench/_data/benign/` "
                f"({', '.join(kinds)}), `--jobs {args.jobs}`. Content MB = bytes read from the archives "
                f"for analysis. Load average when the run started: {load:.1f} on {os.cpu_count()} cores "
                "(other work on the machine slows every number here)."
            ),
            table(head, rows),
            "Single wheels, each alone with a cold cache:\n\n" + table(["wheel", "MB", "seconds", "findings"], singles),
        ]
    )
    print(body)
    if args.write_docs:
        write_section("speed", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
