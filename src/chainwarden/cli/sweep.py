"""`chainwarden sweep`: "was I hit?" — every environment, cache and persistence spot, read-only."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainwarden.advisories.database import default_db_path
from chainwarden.advisories.services.offline import OfflineService
from chainwarden.cli.common import IO, emit, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.cli.progress import ProgressBar
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.report.markdown import render as render_markdown
from chainwarden.sweep.discover import default_roots
from chainwarden.sweep.quarantine import QuarantineError, quarantine, restore
from chainwarden.sweep.sweep import SweepResult, run_sweep

NAME = "sweep"
HELP = "incident response: find compromised packages, caches and persistence; list secrets to rotate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("roots", nargs="*", type=Path, metavar="ROOT", help="directories or image filesystems")
    parser.add_argument(
        "--home", type=Path, action="append", help="home directory whose secrets count (default: yours)"
    )
    parser.add_argument("--db", type=Path, help="offline advisory database (default: the one `db update` builds)")
    parser.add_argument("--quarantine", type=Path, metavar="DIR", help="move what was found into DIR (never deletes)")
    parser.add_argument("--restore", type=Path, metavar="DIR", help="put back what a --quarantine DIR holds")
    parser.add_argument("--format", "-f", choices=("terminal", "json", "markdown"), default="terminal")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument("--config", type=Path, help="policy file")
    parser.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)


def summary(result: SweepResult) -> str:
    lines = ["# chainwarden sweep", ""]
    if not result.hits:
        lines.append("Was this machine hit? **No hit found** in what was read (see 'not read' below, if any).")
    else:
        lines.append(f"Was this machine hit? **YES — {len(result.hits)} hit(s).**")
        lines += ["", "| Where | What | Since | Trigger |", "|---|---|---|---|"]
        for h in result.hits:
            what = h.what.replace("|", "\\|")[:200]
            lines.append(f"| `{h.where}` | {what} | {h.since or '?'} | {h.trigger.value} |")
        if any(h.trigger.value == "interpreter-start" for h in result.hits):
            lines += [
                "",
                "An interpreter-start trigger ran in *every* Python process of that user since the date shown.",
            ]
        lines += ["", "## Secrets to rotate", ""]
        lines += [f"- {s.kind}: `{s.path}`" for s in result.secrets] or ["- none readable were found"]
        persistence = [h for h in result.hits if h.where.startswith(("persistence", "indicator"))]
        if persistence:
            lines += ["", "## Persistence and indicators to remove", ""]
            lines += [f"- `{p.files[0]}`" for p in persistence]
    counts = ", ".join(f"{n} {label}" for label, n in result.discovery_counts)
    lines += ["", f"Read: {counts}.", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace, io: IO) -> int:
    if args.restore:
        try:
            back = restore(args.restore)
        except QuarantineError as err:
            io.error(str(err))
            return ExitCode.ERROR
        for m in back:
            io.stdout.write(f"restored {m.original}\n")
        return ExitCode.CLEAN
    homes = args.home or [Path.home()]
    roots = args.roots or default_roots(homes[0])
    missing = [r for r in roots if not r.exists()]
    for r in missing:
        io.error(f"{r}: no such file or directory (skipped)")
    roots = [r for r in roots if r.exists()]
    db = args.db or default_db_path()
    advisories = OfflineService(db) if db.is_file() else None
    if advisories is None:
        io.warn(f"no advisory database at {db}: run `chainwarden db update` to match known-malicious releases")
    bar = ProgressBar(io.stderr, enabled=io.interactive)
    options = ScanOptions(jobs=args.jobs or ScanOptions().jobs, cache_dir=args.cache_dir, progress=bar.update)
    with Scanner(options) as scanner:
        result = run_sweep(roots, homes=homes, scanner=scanner, advisories=advisories)
    bar.close()
    policy = policy_from_args(args)
    verdict = policy.evaluate(result.report)
    head = summary(result)
    if args.format == "json":
        emit(io, args, result.report, verdict)
    else:
        body = render_markdown(result.report, verdict) if args.format == "markdown" else None
        text = head + "\n" + (body if body is not None else "")
        if args.format == "terminal":
            io.stdout.write(head + "\n") if args.output is None else None
            emit(io, args, result.report, verdict)
        elif args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            io.stdout.write(text)
    if args.quarantine and result.hits:
        moved = quarantine([f for h in result.hits for f in h.files], args.quarantine)
        for m in moved:
            io.stderr.write(f"quarantined {m.original} -> {m.stored}\n")
        io.stderr.write(f"undo with: chainwarden sweep --restore {args.quarantine}\n")
    if result.hits:
        return ExitCode.BLOCKED
    return ExitCode.ERROR if missing else ExitCode.CLEAN
