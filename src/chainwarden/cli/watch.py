"""`chainwarden watch PATH...`: monitor every dependency's new releases and advisories."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.advisories.database import default_db_path
from chainwarden.advisories.services.offline import OfflineService
from chainwarden.cli.common import policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.gate.config import gate_policy
from chainwarden.watch.service import Watcher
from chainwarden.watch.store import Store, StoreError

if TYPE_CHECKING:
    import argparse
    from types import FrameType

    from chainwarden.cli.common import IO

NAME = "watch"
HELP = "watch projects' dependencies: scan each new release as it appears, alert on policy blocks and advisories"


def default_store_url() -> str:
    return str(ScanOptions().resolved_cache_dir / "watch.sqlite3")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="project directories, lockfiles or environments"
    )
    parser.add_argument("--index-url", "-i", default="https://pypi.org/simple/", help="index to watch")
    parser.add_argument("--interval", type=float, default=300.0, help="seconds between polls (default 300)")
    parser.add_argument("--webhook", help="URL to POST alerts to (JSON; retried until delivered)")
    parser.add_argument("--slack", action="store_true", help="send Slack-compatible webhook bodies")
    parser.add_argument("--db", default=None, help="store: a SQLite path (default in the cache dir) or postgresql://…")
    parser.add_argument(
        "--advisory-db", type=Path, help="offline advisory database (default: the one `db update` builds)"
    )
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    parser.add_argument("--workers", type=int, default=16, help="parallel index requests (default 16)")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="scan worker processes")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument("--config", type=Path, help="policy file")
    parser.add_argument("--fail-on", default=None, help="alert on findings at or above this severity")


def run(args: argparse.Namespace, io: IO) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=io.stderr)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        io.error(", ".join(str(p) for p in missing) + ": no such file or directory")
        return ExitCode.ERROR
    if args.interval <= 0:
        io.error("--interval must be positive")
        return ExitCode.ERROR
    policy = policy_from_args(args)
    gate = gate_policy(policy)
    try:
        store = Store.open(args.db or default_store_url())
    except StoreError as err:
        io.error(str(err))
        return ExitCode.ERROR
    db = args.advisory_db or default_db_path()
    advisories = OfflineService(db) if db.is_file() else None
    if advisories is None:
        io.warn(f"no advisory database at {db}: new advisories are not matched (run `chainwarden db update`)")
    options = ScanOptions(jobs=args.jobs or ScanOptions().jobs, cache_dir=args.cache_dir, index_url=args.index_url)
    with Scanner(options) as scanner:
        watcher = Watcher(
            store=store,
            scanner=scanner,
            policy=policy,
            gate=gate,
            index_url=args.index_url,
            paths=list(args.paths),
            advisories=advisories,
            webhook=args.webhook,
            slack=args.slack,
            stream=io.stdout,
            workers=args.workers,
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            del signum, frame
            watcher.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        io.stderr.write(f"chainwarden watch: store {store.label}, index {args.index_url}, every {args.interval:g}s\n")
        try:
            if args.once:
                stats = watcher.cycle()
                for error in stats.errors:
                    io.warn(error)
            else:
                watcher.run_forever(args.interval)
        except StoreError as err:
            io.error(str(err))
            return ExitCode.ERROR
        finally:
            store.close()
    return ExitCode.CLEAN
