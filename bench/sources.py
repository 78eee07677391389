"""How fast the sources read real packages, and which container rules fire on benign ones.

For every wheel and sdist of the benign corpus (bench/fetch_benign.sh): open it through the
source registry, read every regular member as the engine would, then collect its problems
(for wheels every member is checked against RECORD; for zips every member is inflated and
verified). No analyzer runs: this is the cost of getting bytes out safely.

    .venv/bin/python bench/sources.py [--write-docs] [DIR ...]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import tarfile
import time
import zipfile
from pathlib import Path

from _common import benign_files, command_line, machine, now, table, write_section
from chainwarden.artifact import ArtifactError
from chainwarden.models import MemberKind
from chainwarden.sources import source_for
from chainwarden.sources.base import SourceOptions


def _read_everything(target: Path, options: SourceOptions) -> tuple[int, list[str]]:
    """Uncompressed bytes read, and the rule ids of the problems found."""
    total = 0
    rules: list[str] = []
    for artifact in source_for(str(target)).open(str(target), options):
        with artifact:
            skipped = {u.path for u in artifact.unscanned}
            for member in artifact.members():  # as the engine does: read first, then ask for problems
                if member.kind is MemberKind.FILE and member.path not in skipped:
                    try:
                        total += len(artifact.read(member.path))
                    except ArtifactError:
                        rules.append("unreadable")
            rules += [f.rule_id for f in artifact.problems]
    return total, rules


def _baseline(target: Path) -> None:
    """The same bytes read by the standard library with no checks at all, for comparison."""
    if zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    zf.read(info)
        return
    with tarfile.open(target) as tf:
        for info in tf:
            fh = tf.extractfile(info) if info.isreg() else None
            if fh is not None:
                fh.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="directories of wheels/sdists (default: benign corpus)")
    parser.add_argument("--write-docs", action="store_true", help="write the result into docs/benchmarks.md")
    args = parser.parse_args()
    files = [p for d in args.dirs for p in sorted(d.iterdir()) if p.is_file()] if args.dirs else benign_files()
    if not files:
        raise SystemExit("no files: run bench/fetch_benign.sh first, or name a directory")
    options = SourceOptions(cache_dir=Path("bench/_out/sources-cache"))
    seconds: dict[str, list[float]] = {"wheel": [], "sdist": []}
    baseline: dict[str, float] = collections.defaultdict(float)
    sizes: dict[str, int] = collections.Counter()
    inflated: dict[str, int] = collections.Counter()
    fired: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    errors: list[str] = []
    for path in files:
        kind = "wheel" if path.name.endswith(".whl") else "sdist"
        t0 = time.perf_counter()
        try:
            read, rules = _read_everything(path, options)
        except ArtifactError as err:
            errors.append(str(err))
            continue
        seconds[kind].append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        _baseline(path)
        baseline[kind] += time.perf_counter() - t1
        sizes[kind] += path.stat().st_size
        inflated[kind] += read
        for rule in set(rules):
            fired[rule] += 1
            examples.setdefault(rule, path.name)
    rows = []
    for kind, times in seconds.items():
        if not times:
            continue
        total = sum(times)
        rows.append(
            [
                kind,
                str(len(times)),
                f"{sizes[kind] / 1e6:.0f}",
                f"{inflated[kind] / 1e6:.0f}",
                f"{total:.1f}",
                f"{sizes[kind] / 1e6 / total:.0f}",
                f"{inflated[kind] / 1e6 / total:.0f}",
                f"{statistics.median(times) * 1000:.0f}",
                f"{max(times):.2f}",
                f"{baseline[kind]:.1f}",
            ]
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = [
        f"Command: `{command_line()}` — {now()} — {machine()} — load average at the end: {load}.",
        "",
        (
            "Open through the source registry, read every regular member (as the engine would), then collect "
            "problems (wheels: every member checked against RECORD; zips: every member inflated and CRC-checked). "
            "No analyzers. *stdlib baseline* reads the same members with bare `zipfile` / `tarfile` (no checks) in "
            "the same run, so a loaded machine slows both alike."
        ),
        "",
        table(
            [
                "kind",
                "files",
                "MB on disk",
                "MB inflated",
                "seconds",
                "MB/s on disk",
                "MB/s inflated",
                "median ms/file",
                "max s/file",
                "stdlib baseline s",
            ],
            rows,
        ),
        "",
        "Container findings on these benign files (artifacts with the rule, example): "
        + (", ".join(f"{r} x{n} ({examples[r]})" for r, n in fired.most_common()) or "none"),
        "",
        f"Errors (could not open): {len(errors)}" + (f" — first: {errors[0]}" if errors else ""),
    ]
    text = "\n".join(body)
    print(text)
    if args.write_docs:
        write_section("sources", "## Reading sources (`bench/sources.py`)\n\n" + text)


if __name__ == "__main__":
    main()
