"""`chainwarden scan`: inspect artifacts, environments and `name==version` without running them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.artifact import ArtifactError
from chainwarden.cli.common import IO, add_output_arguments, emit, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.cli.progress import ProgressBar
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.sources import source_for

if TYPE_CHECKING:
    import argparse

NAME = "scan"
HELP = "inspect wheels, sdists, directories, environments, model files or NAME==VERSION"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="path or NAME==VERSION")
    add_output_arguments(parser)
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the facts cache")
    parser.add_argument(
        "--cache-dir", type=Path, help="cache directory (default: $CHAINWARDEN_CACHE_DIR or ~/.cache/chainwarden)"
    )
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--index-url", default="https://pypi.org/simple/", help="package index for NAME==VERSION")
    parser.add_argument("--offline", action="store_true", help="never use the network (cached index files only)")
    parser.add_argument(
        "--no-diff",
        action="store_true",
        help="do not compare NAME==VERSION targets with their previous release on the index",
    )
    parser.add_argument(
        "--no-index-signals",
        action="store_true",
        help="do not check NAME==VERSION targets' index data (typosquat, late uploads, dormancy, project status)",
    )


def run(args: argparse.Namespace, io: IO) -> int:
    policy = policy_from_args(args)
    jobs = args.jobs if args.jobs is not None else ScanOptions().jobs
    if jobs < 1:
        io.error("--jobs must be at least 1")
        return ExitCode.ERROR
    bar = ProgressBar(io.stderr, enabled=io.interactive)
    options = ScanOptions(
        jobs=jobs,
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        index_url=args.index_url,
        offline=args.offline,
        progress=bar.update,
    )
    # Only NAME==VERSION targets (the index source's) get diffs and index signals.
    from_index = any(_names_a_release(target) for target in args.targets)
    with Scanner(options) as scanner:
        report = scanner.scan(args.targets)
        if from_index and not args.no_diff:
            from chainwarden.diff.auto import with_previous_releases  # noqa: PLC0415 - only for NAME==VERSION

            report = with_previous_releases(report, scanner, options.source_options())
        if from_index and not args.no_index_signals:
            from chainwarden.provenance.check import with_index_signals  # noqa: PLC0415 - only for NAME==VERSION

            report = with_index_signals(report, options.source_options())
    bar.close()
    verdict = policy.evaluate(report)
    emit(io, args, report, verdict)
    if report.errors:
        for error in report.errors:
            io.error(error)
        return ExitCode.ERROR
    return ExitCode.BLOCKED if verdict.blocked else ExitCode.CLEAN


def _names_a_release(target: str) -> bool:
    try:
        return source_for(target).name == "index"
    except ArtifactError:
        return False  # the scan reports it
