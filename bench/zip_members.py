"""How long a wheel with many members takes to write and to scan (the CW022 member limit).

Writes a wheel of N empty stored members with `zipfile` (default: one over the 200,000-member
default limit), then scans it with `Scanner` (no analyzers, no cache): the cost of tripping
the default limit, which is why the CW022 test fixture uses a smaller limit.

    .venv/bin/python bench/zip_members.py [--members N] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import zipfile
from pathlib import Path

from _common import command_line, machine, now, table, write_section
from chainwarden.archive import ArchiveLimits
from chainwarden.engine import Scanner, ScanOptions

_EXPLAINED = (
    "A wheel of empty stored members written with `zipfile`, then scanned (no analyzers, no cache). "
    "Tripping the default 200,000-member limit this way is too slow for a unit test, so the CW022 "
    "fixture (tests/rules/fixtures_archive.py) scans with a 64-member limit."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=ArchiveLimits().max_members + 1)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-1.0-py3-none-any.whl"
        t0 = time.perf_counter()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for i in range(args.members):
                zf.writestr(zipfile.ZipInfo(f"f/{i}", (2020, 1, 1, 0, 0, 0)), b"")
        build = time.perf_counter() - t0
        size = path.stat().st_size
        t0 = time.perf_counter()
        with Scanner(ScanOptions(jobs=1, use_cache=False, cache_dir=Path(tmp) / "cache"), analyzers=[]) as scanner:
            report = scanner.scan([str(path)])
        scan = time.perf_counter() - t0
    rules = ", ".join(sorted({f.rule_id for f in report.findings})) or "none"
    row = [f"{args.members:,}", f"{size / 1024 / 1024:.1f}", f"{build:.1f}", f"{scan:.1f}", rules]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n".join(
        [
            "## Zip member limit (`bench/zip_members.py`)",
            "",
            f"Command: `{command_line()}` — {now()} — {machine()} — load average at the end: {load}.",
            "",
            _EXPLAINED,
            "",
            table(["members", "MB", "write s", "scan s", "findings"], [row]),
        ]
    )
    print(body)
    if args.write_docs:
        write_section("zip-members", body)


if __name__ == "__main__":
    main()
