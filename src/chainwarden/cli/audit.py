"""`chainwarden audit [PATH]`: the project's dependencies against OSV advisories.

Finds the lockfiles, requirements, pyproject.toml or environment under PATH by itself, asks
the OSV API (or PyPI's JSON API, or with `--offline` only the local database) and reports
malicious and vulnerable versions, unpinned and hash-less requirements, under the policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.advisories.audit import audit, with_errors
from chainwarden.advisories.database import default_db_path
from chainwarden.advisories.http import UrllibClient
from chainwarden.advisories.services.base import ServiceError
from chainwarden.advisories.services.offline import OfflineService
from chainwarden.advisories.services.osv import OsvService
from chainwarden.advisories.services.pypi import PyPIService
from chainwarden.cli.common import IO, add_output_arguments, emit
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.inventory.discover import InventoryError, discover
from chainwarden.models import Severity
from chainwarden.policy import load_policy

if TYPE_CHECKING:
    import argparse

    from chainwarden.advisories.services.base import AdvisoryService
    from chainwarden.policy import Policy

NAME = "audit"
HELP = "check a project's or environment's dependencies against OSV advisories (vulnerable and malicious)"
SERVICES = ("osv", "pypi")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=".", type=Path, help="project directory, dependency file or environment (default: .)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="use only the local advisory database; never touch the network"
    )
    parser.add_argument(
        "--service",
        choices=SERVICES,
        default="osv",
        help="online advisory source (default: osv; ignored with --offline)",
    )
    parser.add_argument("--db", type=Path, help="offline database (default: <cache dir>/advisories.sqlite3)")
    parser.add_argument(
        "--walk", action="store_true", help="search the whole tree (checkouts with nested projects, image filesystems)"
    )
    add_output_arguments(parser)


def _service(args: argparse.Namespace) -> AdvisoryService:
    if args.offline:
        return OfflineService(args.db or default_db_path())
    client = UrllibClient()
    return OsvService(client) if args.service == "osv" else PyPIService(client)


def _policy(args: argparse.Namespace, target: Path) -> Policy:
    start = target if target.is_dir() else target.parent
    policy = load_policy(args.config) if args.config else load_policy(start=start)
    return policy.with_threshold(Severity.parse(args.fail_on) if args.fail_on else None)


def run(args: argparse.Namespace, io: IO) -> int:
    target: Path = args.path
    policy = _policy(args, target)
    try:
        inventory = discover(target, walk=args.walk)
    except InventoryError as exc:
        io.error(str(exc))
        return ExitCode.ERROR
    try:
        result = audit(inventory, _service(args))
    except ServiceError as exc:
        io.error(str(exc))
        return ExitCode.ERROR
    unreadable = tuple(
        f"{p.file}: {p.message}" for f in inventory.files if not f.packages and not f.requirements for p in f.problems
    )
    result = with_errors(result, unreadable)
    verdict = policy.evaluate(result.report)
    emit(io, args, result.report, verdict)
    for note in result.notes:
        io.warn(note)
    if unreadable:
        for error in unreadable:
            io.error(error)
        return ExitCode.ERROR
    return ExitCode.BLOCKED if verdict.blocked else ExitCode.CLEAN
