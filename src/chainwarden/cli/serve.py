"""`chainwarden serve`: the web dashboard over the watch store (projects, releases, findings, alerts)."""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from chainwarden.cli.exit_codes import ExitCode
from chainwarden.cli.watch import default_store_url
from chainwarden.watch.store import Store, StoreError
from chainwarden.watch.web.app import is_loopback, make_server
from chainwarden.watch.web.auth import TOKEN_ENV, Auth, TokenError, generate_token

if TYPE_CHECKING:
    import argparse
    from types import FrameType

    from chainwarden.cli.common import IO

NAME = "serve"
HELP = "web dashboard over the watch store: projects, releases, findings with evidence, alerts (token required)"
DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default=None, help="store: a SQLite path (default: the one `watch` uses) or postgresql://…"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"access token (prefer the {TOKEN_ENV} variable: a command line is visible to other users; "
        "without either, a random token is generated and printed once)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")


def _token(args: argparse.Namespace, io: IO) -> str:
    token: str | None = args.token or os.environ.get(TOKEN_ENV)
    if token:
        return token
    token = generate_token()
    io.stderr.write(f"chainwarden serve: no token given; this run's token is:\n\n    {token}\n\n")
    return token


def run(args: argparse.Namespace, io: IO) -> int:
    if not 0 <= args.port <= 65535:  # noqa: PLR2004 - the largest TCP port
        io.error("--port must be between 0 and 65535")
        return ExitCode.ERROR
    try:
        auth = Auth(_token(args, io))
    except TokenError as err:
        io.error(str(err))
        return ExitCode.ERROR
    try:
        store = Store.open(args.db or default_store_url())
    except StoreError as err:
        io.error(str(err))
        return ExitCode.ERROR
    try:
        server = make_server(store, auth, args.host, args.port, access_log=io.stderr if args.access_log else None)
    except OSError as err:
        store.close()
        io.error(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}")
        return ExitCode.ERROR
    if not is_loopback(args.host):
        io.stderr.write(
            "\n"
            f"!!! WARNING: the dashboard is listening on a non-loopback address ({args.host}).\n"
            "!!! It holds security findings and speaks plain HTTP: anyone who can reach this port can try the\n"
            "!!! token, and the token and session cookie cross the network unencrypted. Put it behind a TLS\n"
            "!!! reverse proxy, or bind to 127.0.0.1 and use an SSH tunnel.\n\n"
        )
    io.stderr.write(f"chainwarden serve: {server.url} (store {store.label}); Ctrl-C stops it\n")
    io.stderr.flush()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        io.stderr.write("chainwarden serve: stopped\n")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        store.close()
    return ExitCode.CLEAN


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the server as Ctrl-C does (closing the store cleanly)."""
    del signum, frame
    raise KeyboardInterrupt
