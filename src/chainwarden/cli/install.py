"""`chainwarden install`: install through the gate (cooldown, advisories, scan, exact files by hash)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.common import IO, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.engine import ScanOptions
from chainwarden.gate.config import gate_policy
from chainwarden.gate.install import GateError, PlannedFile, install_files, plan, write_guard_baseline
from chainwarden.gate.proxy import GateIndex, ProxyServer
from chainwarden.gate.service import build_gate_index

if TYPE_CHECKING:
    from collections.abc import Sequence

NAME = "install"
HELP = "install packages through the gate: only files old enough, known clean and scanned, by hash"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("requirements", nargs="*", metavar="REQUIREMENT", help="as for pip install")
    parser.add_argument("-r", "--requirement", action="append", default=[], type=Path, help="requirements file")
    parser.add_argument("--index-url", "-i", default="https://pypi.org/simple/", help="the real index behind the gate")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the target environment")
    parser.add_argument("--min-release-age", help="override the policy's minimum release age (e.g. 7d, 12h, 0 = off)")
    parser.add_argument("--dry-run", action="store_true", help="check and report, install nothing")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="where to record the approved .pth baseline for `chainwarden run` "
        "(default: <venv>/chainwarden-pth-baseline.toml)",
    )
    parser.add_argument("--config", type=Path, help="policy file")
    parser.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, io: IO) -> int:
    if not args.requirements and not args.requirement:
        io.error("nothing to install: give requirements or -r FILE")
        return ExitCode.ERROR
    policy = policy_from_args(args)
    gate = gate_policy(policy, min_release_age=args.min_release_age)
    cache_dir = args.cache_dir or ScanOptions().resolved_cache_dir
    index = build_gate_index(index_url=args.index_url, policy=policy, gate=gate, cache_dir=cache_dir)
    try:
        return _install(args, io, index)
    finally:
        index.close()


def _install(args: argparse.Namespace, io: IO, index: GateIndex) -> int:
    pip_args: list[str] = []
    for req_file in args.requirement:
        pip_args += ["-r", str(req_file)]
    with ProxyServer(index) as proxy:
        try:
            chosen = plan(args.requirements, python=args.python, proxy=proxy, pip_args=pip_args)
        except GateError as err:
            io.error(str(err))
            refused_any = bool(index.refusals())
            io.stderr.write(
                "what to do: wait for the cooldown, pin an older version, or add a reasoned "
                "[[tool.chainwarden.ignore]] / min-release-age-exempt entry\n"
            )
            return ExitCode.BLOCKED if refused_any else ExitCode.ERROR
    for filename, why in index.refusals():
        io.stderr.write(f"gate: skipped {filename}: {why}\n")
    return install_checked(io, args, chosen.files)


def install_checked(io: IO, args: argparse.Namespace, files: Sequence[PlannedFile]) -> int:
    """Install exactly the checked files by hash, then record the guard's `.pth` baseline."""
    for f in files:
        io.stdout.write(f"checked {f.name}=={f.version} {f.filename} sha256:{f.sha256}\n")
    if args.dry_run:
        return ExitCode.CLEAN
    try:
        install_files(files, python=args.python)
    except GateError as err:
        io.error(str(err))
        return ExitCode.ERROR
    io.stdout.write(f"installed {len(files)} checked file(s) into {args.python}\n")
    try:
        baseline, unowned = write_guard_baseline(args.python, args.baseline)
    except GateError as err:
        io.warn(f"no .pth baseline written: {err}")
        return ExitCode.CLEAN
    io.stdout.write(f"approved .pth baseline: {baseline} (chainwarden run --baseline {baseline} -- python app.py)\n")
    for name in unowned:
        io.warn(f"{name} is owned by no RECORD and was approved as found: review it (chainwarden verify)")
    return ExitCode.CLEAN
