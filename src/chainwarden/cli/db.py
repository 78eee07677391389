"""`chainwarden db update|info`: build, refresh and inspect the offline advisory database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.advisories.database import AdvisoryDatabase, DatabaseError, default_db_path, update
from chainwarden.advisories.dump import DumpError, read_dump
from chainwarden.advisories.http import NetworkError, UrllibClient
from chainwarden.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

    from chainwarden.cli.common import IO

NAME = "db"
HELP = "manage the offline advisory database (OSV's PyPI records in SQLite)"
DEFAULT_SOURCE = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
MAX_DUMP_BYTES = 1024 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION")
    upd = sub.add_parser("update", help="create or refresh the database from an OSV dump (zip of OSV JSON records)")
    upd.add_argument(
        "--from", dest="source", default=DEFAULT_SOURCE, help=f"URL or local zip (default: {DEFAULT_SOURCE})"
    )
    upd.add_argument("--db", type=Path, help="database file (default: <cache dir>/advisories.sqlite3)")
    info = sub.add_parser("info", help="show what the database holds and how old it is")
    info.add_argument("--db", type=Path, help="database file (default: <cache dir>/advisories.sqlite3)")


def _fetch(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        return UrllibClient(timeout=300.0, max_bytes=MAX_DUMP_BYTES).get(source)
    return Path(source).read_bytes()


def _update(args: argparse.Namespace, io: IO) -> int:
    path: Path = args.db or default_db_path()
    try:
        data = _fetch(args.source)
    except NetworkError as exc:
        io.error(f"cannot download the OSV dump: {exc}; download it elsewhere and use `--from FILE`")
        return ExitCode.ERROR
    except OSError as exc:
        io.error(f"{args.source}: {exc.strerror or exc}")
        return ExitCode.ERROR
    try:
        records = read_dump(data, args.source)
    except DumpError as exc:
        kept = f"; the database at {path} was left as it was" if path.exists() else ""
        io.error(f"refusing the dump: {exc}{kept}")
        return ExitCode.ERROR
    stats = update(path, records, args.source)
    how = "rebuilt" if stats.rebuilt else "updated"
    io.stdout.write(
        f"{how} {path}: {stats.added} added, {stats.changed} changed, {stats.removed} removed, "
        f"{stats.unchanged} unchanged ({len(records)} records)\n"
    )
    return ExitCode.CLEAN


def _info(args: argparse.Namespace, io: IO) -> int:
    path: Path = args.db or default_db_path()
    try:
        with AdvisoryDatabase.open(path, thorough=True) as db:
            info = db.info()
    except DatabaseError as exc:
        io.error(f"{exc}; {exc.hint}")
        return ExitCode.ERROR
    age = info.age_days()
    shown_age = f"{age:.1f} days ago" if age is not None else "unknown"
    io.stdout.write(
        f"database: {info.path}\nrecords: {info.records} ({info.packages} packages)\n"
        f"updated: {info.updated} ({shown_age})\nsource: {info.source}\nnewest record: {info.newest_modified}\n"
    )
    return ExitCode.CLEAN


def run(args: argparse.Namespace, io: IO) -> int:
    if args.db_command == "update":
        return _update(args, io)
    if args.db_command == "info":
        return _info(args, io)
    io.error("choose an action: `chainwarden db update` or `chainwarden db info`")
    return ExitCode.ERROR
