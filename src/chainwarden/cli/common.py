"""What subcommands share: their I/O streams, output options and policy loading."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from chainwarden.models import Severity
from chainwarden.policy import Policy, load_policy
from chainwarden.report import FORMATS, render

if TYPE_CHECKING:
    import argparse

    from chainwarden.models import ScanReport, Verdict


@dataclass(frozen=True)
class IO:
    """The streams a command writes to; tests pass their own."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def error(self, message: str) -> None:
        self.stderr.write(f"chainwarden: error: {message}\n")

    def warn(self, message: str) -> None:
        self.stderr.write(f"chainwarden: warning: {message}\n")

    @property
    def interactive(self) -> bool:
        """Progress bars and colour only for a person at a terminal, never in CI or a pipe."""
        return self.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


def add_output_arguments(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    parser.add_argument("--format", "-f", choices=formats, default="terminal", help="report format (default: terminal)")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=[s.label for s in Severity],
        help="block (exit 1) on findings at or above this severity (default: policy's fail-on, else high)",
    )
    parser.add_argument("--config", type=Path, help="policy file (default: nearest chainwarden.toml or pyproject.toml)")


def policy_from_args(args: argparse.Namespace) -> Policy:
    policy = load_policy(args.config) if args.config else load_policy()
    return policy.with_threshold(Severity.parse(args.fail_on) if args.fail_on else None)


def emit(io: IO, args: argparse.Namespace, report: ScanReport, verdict: Verdict) -> None:
    color = args.format == "terminal" and args.output is None and io.stdout.isatty() and not os.environ.get("NO_COLOR")
    text = render(report, verdict, args.format, color=color)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        if args.format != "terminal":
            io.stderr.write(render(report, verdict, "terminal"))
    else:
        io.stdout.write(text)
