"""The command line: a thin layer over the Python API.

`main(argv, io) -> int` parses arguments, dispatches to one subcommand module from the
explicit `COMMANDS` registry and maps every failure to the exit-code table in `exit_codes`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Protocol

from chainwarden import __version__
from chainwarden.cli import audit, check, db, diff, guard, install, proxy, run, scan, serve, sweep, sync, verify, watch
from chainwarden.cli.common import IO
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence


class Command(Protocol):
    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace, io: IO) -> int: ...


#: Subcommands, in the order `--help` lists them. Add a module here to add a command.
COMMANDS: tuple[Command, ...] = (
    scan, diff, audit, db, install, sync, check, proxy, run, guard, verify, sweep, watch, serve,
)  # fmt: skip


EPILOG = "exit codes: 0 clean, 1 blocked by policy, 2 error (bad input or configuration)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainwarden",
        description="Stop software-supply-chain attacks on Python and AI stacks.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"chainwarden {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP, epilog=EPILOG)
        command.add_arguments(p)
        p.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None, io: IO | None = None) -> int:
    io = io or IO()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help/--version
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.ERROR
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        parser.print_help(io.stderr)
        return ExitCode.ERROR
    try:
        return int(command.run(args, io))
    except ConfigError as err:
        io.error(str(err))
    except KeyboardInterrupt:
        io.error("interrupted")
    except BrokenPipeError:
        return ExitCode.ERROR
    except OSError as err:
        io.error(f"{getattr(err, 'filename', '') or ''} {err.strerror or err}".strip())
    return ExitCode.ERROR


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
