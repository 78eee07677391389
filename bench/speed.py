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
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import (
    BENIGN,
    DATA,
    OUT,
    ROOT,
    benign_files,
    command_line,
    cpu_check,
    cpu_note,
    interpreter,
    machine,
    now,
    pair_check,
    table,
    write_section,
)
from chainwarden.engine import Scanner, ScanOptions

if TYPE_CHECKING:
    from chainwarden.models import ScanReport

SINGLES = ("litellm-", "torch-", "transformers-", "boto3-", "requests-")
#: The wheel with a time target (issue 3: under 3 s on this 2-core machine); its runs are traced.
TARGET = "litellm-1.82.6-"
TARGET_SECONDS = 3.0


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
    p.add_argument("--singles-only", action="store_true", help="only the single large wheels (own docs section)")
    p.add_argument("--no-singles", action="store_true", help="skip the single large wheels")
    p.add_argument("--repeat", type=int, default=3, help="cold runs per single wheel (default 3)")
    p.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PATH",
        help="also time the single wheels through chainwarden installed for this interpreter (repeatable)",
    )
    p.add_argument("--target", default=TARGET, help=f"wheel name prefix whose runs are traced (default {TARGET})")
    p.add_argument(
        "--singles",
        default=",".join(SINGLES),
        help=f"file name prefixes of the single wheels (default {','.join(SINGLES)})",
    )
    args = p.parse_args(argv)
    kinds = ("wheel", "sdist") if args.kind == "all" else (args.kind,)
    targets = benign_files(kinds)[: args.limit]
    if not targets:
        print(f"no benign corpus in {BENIGN}: run bench/fetch_benign.sh", file=sys.stderr)
        return 2
    started = now()
    load = os.getloadavg()[0]
    check = cpu_check()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.singles_only:
        body = singles_section(run_singles(args, targets), args, started, load, (check, cpu_check()))
        print(body)
        if args.write_docs:
            write_section("speed-singles", body)
        return 0
    cache = Path(tempfile.mkdtemp(prefix="speed-cache-", dir=OUT))
    rows: list[list[str]] = []
    try:
        cold, cold_s = run(targets, cache, args.jobs)
        rows.append(row("cold cache", targets, cold, cold_s))
        print(" | ".join(rows[-1]), file=sys.stderr)
        warm, warm_s = run(targets, cache, args.jobs)
        rows.append(row("warm cache", targets, warm, warm_s))
        print(" | ".join(rows[-1]), file=sys.stderr)
        unstable = differing(cold, warm)
        singles = None if args.no_singles else run_singles(args, targets)
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
                "(other work on the machine slows every number here).  \n"
                f"{cpu_note(check, cpu_check())}"
            ),
            table(head, rows),
            (
                "Cold and warm runs gave the same findings for every artifact."
                if not unstable
                else f"Cold and warm findings differ for {len(unstable)} artifacts: " + ", ".join(unstable)
            ),
        ]
    )
    print(body)
    if args.write_docs:
        write_section("speed", body)
        if singles:
            write_section("speed-singles", singles_section(singles, args, started, load, (check, cpu_check())))
    return 0


def differing(cold: ScanReport, warm: ScanReport) -> list[str]:
    """Artifacts whose findings (rule, severity, path, line) differ between two runs: judging
    must not depend on whether facts came from workers or from the cache."""

    def keys(report: ScanReport) -> dict[str, list[tuple[str, str, str, int | None]]]:
        return {
            r.ref.label: sorted((f.rule_id, str(f.severity), f.location.path, f.location.line) for f in r.findings)
            for r in report.results
        }

    a, b = keys(cold), keys(warm)
    return sorted(label for label in a.keys() | b.keys() if a.get(label) != b.get(label))


def big_files() -> list[Path]:
    """Torch-sized wheels fetched by bench/fetch_big.sh (optional)."""
    folder = DATA / "big"
    return sorted(folder.glob("*.whl")) if folder.is_dir() else []


@dataclass
class Singles:
    """Rows of the singles table, and for the target wheel every run: (CPU pair check taken
    just before it, scan seconds in its report), per interpreter."""

    rows: list[list[str]] = field(default_factory=list)
    traces: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def run_singles(args: argparse.Namespace, targets: list[Path]) -> Singles:
    return time_singles(
        targets + big_files(),
        args.jobs,
        args.repeat,
        prefixes=tuple(args.singles.split(",")),
        pythons=tuple(args.python),
        target=args.target,
    )


def time_singles(
    targets: list[Path],
    jobs: int,
    repeat: int,
    *,
    prefixes: tuple[str, ...] = SINGLES,
    pythons: tuple[str, ...] = (),
    target: str = TARGET,
) -> Singles:
    """Each large wheel alone, cold cache, `repeat` times, through the real command line:
    wall time of the whole `chainwarden scan` process (interpreter start and imports
    included) and the scan time the report itself gives. With `pythons`, the same runs also go
    through chainwarden installed for each of those interpreters, run by run in turn, so a
    slow minute of the machine falls on all of them alike. Runs of the `target` wheel are each
    preceded by a CPU pair check, kept beside their time."""
    # An installed chainwarden has its bytecode compiled (pip does it at install; Python writes it on
    # first use). A source checkout run with PYTHONDONTWRITEBYTECODE=1 (as this machine sets it) would
    # compile every module on every start instead, which is not what a user's command costs.
    import chainwarden

    compileall.compile_dir(Path(chainwarden.__file__).parent, quiet=1)
    out = Singles()
    with tempfile.TemporaryDirectory(prefix="speed-pythons-", dir=OUT) as venvs:
        runners = [sys.executable, *(install_for(p, Path(venvs) / f"py{i}") for i, p in enumerate(pythons))]
        labels = [interpreter(r) for r in runners]
        for prefix in prefixes:
            for t in (t for t in targets if t.name.startswith(prefix) and t.suffix == ".whl"):
                traced = t.name.startswith(target)
                walls: list[list[float]] = [[] for _ in runners]
                scans: list[list[float]] = [[] for _ in runners]
                report: dict[str, Any] = {}
                for _ in range(repeat):
                    for i, runner in enumerate(runners):
                        check = pair_check() if traced else 0.0
                        wall, report = scan_once(runner, t, jobs)
                        walls[i].append(wall)
                        scans[i].append(float(report["seconds"]))
                        if traced:
                            out.traces.setdefault(labels[i], []).append((check, scans[i][-1]))
                findings = sum(len(r["findings"]) for r in report.get("results", []))
                blocked = "yes" if report.get("verdict", {}).get("blocked") else "no"
                for label, w, sc in zip(labels, walls, scans, strict=True):
                    out.rows.append(
                        [
                            t.name,
                            f"{t.stat().st_size / 1e6:.1f}",
                            *([label] if pythons else []),
                            f"{min(w):.2f} / {statistics.median(w):.2f}",
                            f"{min(sc):.2f} / {statistics.median(sc):.2f}",
                            str(findings),
                            blocked,
                        ]
                    )
                    print(" | ".join(out.rows[-1]), file=sys.stderr)
    return out


def scan_once(python: str, wheel: Path, jobs: int) -> tuple[float, dict[str, Any]]:
    """One cold `chainwarden scan` of `wheel` run by `python`: (wall seconds, JSON report)."""
    work = Path(tempfile.mkdtemp(prefix="speed-single-", dir=OUT))
    try:
        out = work / "report.json"
        argv = [python, "-m", "chainwarden", "scan", str(wheel), "--jobs", str(jobs)]
        argv += ["--cache-dir", str(work / "cache"), "--format", "json", "--output", str(out)]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        wall = time.perf_counter() - t0
        if done.returncode not in (0, 1):
            raise SystemExit(f"{wheel.name}: chainwarden scan exited {done.returncode}: {done.stderr[-500:]!r}")
        report: dict[str, Any] = json.loads(out.read_text())
        return wall, report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def install_for(python: str, venv: Path) -> str:
    """A venv of `python` with chainwarden built from this tree and its hash-pinned runtime
    dependencies (as `.ci/run` installs them); returns the venv's interpreter."""
    print(f"installing chainwarden for {python} ...", file=sys.stderr)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    runner = str(venv / "bin" / "python")
    lock = str(ROOT / "requirements/runtime.lock")
    _must([python, "-m", "venv", "--without-pip", str(venv)], python)
    _must([*pip, "--python", runner, "install", "--no-deps", "--require-hashes", "-r", lock], python)
    _must([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(venv / "dist"), str(ROOT)], python)
    (wheel,) = (venv / "dist").glob("chainwarden-*.whl")
    _must([*pip, "--python", runner, "install", "--no-deps", str(wheel)], python)
    return runner


def _must(argv: list[str], python: str) -> None:
    """Run one install step; a failure ends the benchmark with the step's own error."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as err:
        raise SystemExit(f"--python {python}: cannot run {argv[0]}: {err}") from None
    if done.returncode != 0:
        raise SystemExit(f"--python {python}: `{' '.join(argv[:5])} …` failed: {done.stderr.strip()[-500:]}")


def singles_section(
    singles: Singles,
    args: argparse.Namespace,
    started: str,
    load: float,
    checks: tuple[tuple[float, float], tuple[float, float]],
) -> str:
    head = ["wheel", "MB", *(["Python"] if args.python else []), "`chainwarden scan` wall s (min / median)"]
    head.append("scan s in report (min / median)")
    return "\n\n".join(
        [
            "## Speed: single large wheels, cold cache",
            (
                f"Command: `{command_line()}`  \nDate: {started}  \nMachine: {machine()}  \n"
                f"Python: {interpreter()}.  \n"
                f"Each wheel alone, {args.repeat} runs, each with a fresh empty cache, `--jobs {args.jobs}`, "
                "through the real command line (`python -m chainwarden scan WHEEL --format json`), with "
                "chainwarden's bytecode compiled first as an installation has it: the wall column includes "
                "interpreter start and imports; the report column is the scan itself. "
                f"Load average when the run started: {load:.1f} on {os.cpu_count()} cores.  \n"
                f"{cpu_note(*checks)}"
            ),
            table([*head, "findings", "blocked"], singles.rows),
            *traces_section(singles.traces, args.target),
        ]
    )


def traces_section(traces: dict[str, list[tuple[float, float]]], target: str) -> list[str]:
    """Every run of the target wheel beside the CPU pair check taken just before it, fastest
    machine first: whether a slow run was the code or the machine is read off here."""
    if not traces:
        return []
    intro = (
        f"Every run of `{target}*` (report seconds), each after a CPU pair check (one round of the "
        "two-at-once check above, just before the run), sorted by that check:"
    )
    lines = [intro, ""]
    for label, runs in traces.items():
        under = sum(1 for _, scan in runs if scan < TARGET_SECONDS)
        shown = ", ".join(f"{check:.2f} → {scan:.2f}" for check, scan in sorted(runs))
        lines.append(f"- {label}: {shown} ({under} of {len(runs)} under {TARGET_SECONDS:.0f} s)")
    return ["\n".join(lines)]


if __name__ == "__main__":
    sys.exit(main())
