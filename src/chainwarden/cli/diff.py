"""`chainwarden diff [OLD] NEW`: what a release changes compared with another (by default the
previous release on the index), leading with what is new."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden import __version__
from chainwarden.artifact import ArtifactError
from chainwarden.cli.common import IO, add_output_arguments, emit, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.diff.baseline import Baseline, open_baseline, previous_release
from chainwarden.diff.release import ReleaseDiff, as_report, diff_artifacts, no_baseline_finding
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactResult, ScanReport
from chainwarden.report.common import visible

if TYPE_CHECKING:
    import argparse

    from chainwarden.artifact import Artifact
    from chainwarden.index_client import IndexFile
    from chainwarden.sources.base import SourceOptions

NAME = "diff"
HELP = "compare a release with an earlier one (default: the previous release on the index)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="[OLD] NEW: wheels, sdists, directories or NAME==VERSION; with only NEW, OLD is its previous release",
    )
    add_output_arguments(parser)
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the facts cache")
    parser.add_argument("--cache-dir", type=Path, help="cache directory (default: $CHAINWARDEN_CACHE_DIR)")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--index-url", default="https://pypi.org/simple/", help="package index for NAME==VERSION")
    parser.add_argument("--offline", action="store_true", help="never use the network (cached index files only)")


def run(args: argparse.Namespace, io: IO) -> int:
    if len(args.targets) > 2:  # noqa: PLR2004 - OLD and NEW
        io.error("diff takes one or two targets: [OLD] NEW")
        return ExitCode.ERROR
    policy = policy_from_args(args)
    jobs = args.jobs if args.jobs is not None else ScanOptions().jobs
    if jobs < 1:
        io.error("--jobs must be at least 1")
        return ExitCode.ERROR
    options = ScanOptions(
        jobs=jobs, use_cache=not args.no_cache, cache_dir=args.cache_dir, index_url=args.index_url, offline=args.offline
    )
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    try:
        with Scanner(options) as scanner:
            report, diff = _diff(args.targets, scanner, options, started)
    except ArtifactError as err:
        io.error(str(err))
        return ExitCode.ERROR
    verdict = policy.evaluate(report)
    if args.format == "terminal" and args.output is None and diff is not None:
        io.stdout.write(headline_text(diff))
    emit(io, args, report, verdict)
    return ExitCode.BLOCKED if verdict.blocked else ExitCode.CLEAN


def headline_text(diff: ReleaseDiff) -> str:
    """The lead of the terminal output: one line per new thing, then the file summary."""
    lines = [f"What is new in {visible(diff.new_label)} (compared with {visible(diff.old_label)}):"]
    lines += [f"  - {visible(line)}" for line in diff.headlines] or ["  - nothing that runs by itself"]
    lines += [f"  {visible(diff.summary)}", *(f"  note: {visible(n)}" for n in diff.notes), ""]
    return "\n".join(lines) + "\n"


def _diff(
    targets: list[str], scanner: Scanner, options: ScanOptions, started: str
) -> tuple[ScanReport, ReleaseDiff | None]:
    source_options = options.source_options()
    new = open_target(targets[-1], source_options)
    with new:
        if len(targets) == 2:  # noqa: PLR2004
            with open_target(targets[0], source_options, like=new) as old:
                diff = diff_artifacts(old, new, scanner)
            return as_report(diff, tool_version=__version__, started=started), diff
        baseline = previous_release(new, source_options)
        if isinstance(baseline, str):
            result = scanner.scan_artifact(new)
            finding = no_baseline_finding(result.name, baseline)
            only = ArtifactResult(
                result.ref, result.metadata, (finding, *result.findings), result.unscanned, result.stats
            )
            return ScanReport(tool_version=__version__, started=started, results=(only,)), None
        notes, old = baseline
        with old:
            diff = diff_artifacts(old, new, scanner)
        diff = dataclasses.replace(diff, notes=notes)
        return as_report(diff, tool_version=__version__, started=started), diff


def open_target(target: str, options: SourceOptions, *, like: Artifact | None = None) -> Artifact:
    """One artifact for a target. `name==version` downloads one file (a wheel with the same tags
    as `like`, else a pure wheel, else the sdist), not the whole release."""
    from chainwarden.sources import source_for  # noqa: PLC0415 - keep `--help` light
    from chainwarden.sources.index import parse_target  # noqa: PLC0415

    spec = parse_target(target)
    if spec is not None and not Path(target).exists():
        from chainwarden.index_client import IndexClient  # noqa: PLC0415

        name, version = spec
        client = IndexClient(options.index_url, timeout=options.timeout)
        page = client.project(name)
        files = tuple(f for f in page.for_version(version) if f.kind in ("wheel", "sdist"))
        if not files:
            msg = f"{name}=={version}: no wheel or sdist for this version on {client.index_url}"
            raise ArtifactError(msg)
        like_name = like.ref.label if like is not None else ""
        file = _prefer(files, like_name)
        return open_baseline(client, Baseline(version, file), options.cache_dir, offline=options.offline)
    artifacts = source_for(target).open(target, options)
    first = next(iter(artifacts), None)
    if first is None:
        msg = f"{target}: holds no package to compare"
        raise ArtifactError(msg)
    return first


def _prefer(files: tuple[IndexFile, ...], like_name: str) -> IndexFile:
    if like_name.endswith((".tar.gz", ".zip")):
        sdists = [f for f in files if f.kind == "sdist"]
        if sdists:
            return sdists[0]
    wheels = [f for f in files if f.kind == "wheel"]
    pure = [f for f in wheels if f.filename.endswith("-none-any.whl")]
    return (pure or wheels or list(files))[0]
