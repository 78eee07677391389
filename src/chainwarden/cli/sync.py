"""`chainwarden sync`: install exactly what a lock pins, each file checked and hash-verified."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.common import IO, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.cli.install import install_checked
from chainwarden.engine import ScanOptions
from chainwarden.gate.config import gate_policy
from chainwarden.gate.install import GateError
from chainwarden.gate.service import build_gate_index
from chainwarden.gate.sync import plan_sync, target_tags
from chainwarden.inventory.discover import parser_for
from chainwarden.inventory.model import Package, Requirement

if TYPE_CHECKING:
    import argparse

NAME = "sync"
HELP = "install exactly what uv.lock, pylock.toml or a hash-pinned requirements file pins, through the gate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lockfile", type=Path, help="uv.lock, pylock.toml or requirements file with --hash")
    parser.add_argument("--index-url", "-i", default="https://pypi.org/simple/", help="the index the files come from")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the target environment")
    parser.add_argument("--min-release-age", help="override the policy's minimum release age (e.g. 7d, 0 = off)")
    parser.add_argument("--offline", action="store_true", help="use only cached project pages and files")
    parser.add_argument("--dry-run", action="store_true", help="check and report, install nothing")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="where to record the approved .pth baseline for `chainwarden run` "
        "(default: <venv>/chainwarden-pth-baseline.toml)",
    )
    parser.add_argument("--config", type=Path, help="policy file")
    parser.add_argument("--fail-on", default=None, help="block files with findings at or above this severity")


def run(args: argparse.Namespace, io: IO) -> int:
    parser = parser_for(args.lockfile)
    if parser is None or not args.lockfile.is_file():
        io.error(f"{args.lockfile}: not a uv.lock, pylock.toml or requirements file")
        return ExitCode.ERROR
    inventories = parser.parse(args.lockfile)
    problems = [p for inv in inventories for p in inv.problems]
    if problems:
        for p in problems:
            io.error(f"{p.file}{f':{p.line}' if p.line else ''}: {p.message}")
        return ExitCode.ERROR
    packages = [p for inv in inventories for p in inv.packages]
    unpinned = [r for inv in inventories for r in inv.requirements if r.pinned_version is None or not r.hashes]
    if unpinned:
        for r in unpinned:
            io.error(f"{r.file}:{r.line}: {r.text or r.name} is not pinned with == and --hash; sync needs exact pins")
        return ExitCode.ERROR
    packages += [_as_package(r) for inv in inventories for r in inv.requirements]
    policy = policy_from_args(args)
    gate = gate_policy(policy, min_release_age=args.min_release_age)
    cache_dir = args.cache_dir or ScanOptions().resolved_cache_dir
    index = build_gate_index(index_url=args.index_url, policy=policy, gate=gate, cache_dir=cache_dir)
    index.offline = args.offline
    try:
        chosen = plan_sync(packages, index, target_tags(args.python))
    except GateError as err:
        io.error(str(err))
        return ExitCode.ERROR
    finally:
        index.close()
    for label, why in chosen.skipped:
        io.stderr.write(f"skipped {label}: {why}\n")
    for label, why in chosen.blocked:
        io.stderr.write(f"BLOCKED {label}: {why}\n")
    if chosen.blocked:
        for f in chosen.files:
            io.stdout.write(f"checked {f.name}=={f.version} {f.filename} sha256:{f.sha256}\n")
        io.error(f"{len(chosen.blocked)} package(s) blocked; nothing was installed")
        return ExitCode.BLOCKED
    return install_checked(io, args, chosen.files)


def _as_package(req: Requirement) -> Package:
    return Package(name=req.name, version=req.pinned_version or "", hashes=req.hashes, source=req.file, direct=True)
