"""The command line: a thin layer over the Python API.

`main(argv, io) -> int` parses arguments, dispatches to one subcommand module from the
explicit `COMMANDS` registry and maps every failure to the exit-code table in `exit_codes`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chainwarden import __version__
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


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A subcommand: its name and the module that implements it (imported only when used, so
    `chainwarden scan` does not pay for the dashboard, and one command's import error cannot
    break another)."""

    name: str
    module: str

    def load(self) -> Command:
        module: Command = importlib.import_module(self.module)
        if self.name != module.NAME:
            msg = f"{self.module} implements {module.NAME!r}, registered as {self.name!r}"
            raise RuntimeError(msg)
        return module


#: Subcommands, in the order `--help` lists them. Add a line here to add a command.
COMMANDS: tuple[CommandSpec, ...] = tuple(
    CommandSpec(name, f"chainwarden.cli.{module}")
    for name, module in (
        ("scan", "scan"),
        ("diff", "diff"),
        ("audit", "audit"),
        ("db", "db"),
        ("install", "install"),
        ("sync", "sync"),
        ("check", "check"),
        ("proxy", "proxy"),
        ("run", "run"),
        ("guard", "guard"),
        ("verify", "verify"),
        ("sweep", "sweep"),
        ("watch", "watch"),
        ("serve", "serve"),
    )
)

EPILOG = "exit codes: 0 clean, 1 blocked by policy, 2 error (bad input or configuration)"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand is fully built (the others are stubs)."""
    parser = argparse.ArgumentParser(
        prog="chainwarden",
        description="Stop software-supply-chain attacks on Python and AI stacks.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"chainwarden {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for spec in COMMANDS:
        if only is not None and spec.name != only:
            sub.add_parser(spec.name)
            continue
        command = spec.load()
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP, epilog=EPILOG)
        command.add_arguments(p)
        p.set_defaults(_command=command)
    return parser


def _command_name(argv: Sequence[str]) -> str | None:
    names = {spec.name for spec in COMMANDS}
    for token in argv:
        if token in names:
            return token
        if not token.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None, io: IO | None = None) -> int:
    io = io or IO()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        io.stdout.write(f"chainwarden {__version__}\n")
        return ExitCode.CLEAN
    parser = build_parser(_command_name(argv))
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
