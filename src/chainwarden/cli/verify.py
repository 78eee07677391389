"""`chainwarden verify`: installed files against RECORD hashes and `.pth` files against a baseline."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.exit_codes import ExitCode
from chainwarden.guard.baseline import load_baseline, render_baseline, scan_pth, site_dirs_of, verify
from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    import argparse

    from chainwarden.cli.common import IO

NAME = "verify"
HELP = "check installed files against RECORD hashes and .pth files against an approved baseline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="ENV",
                        help="virtual environment or site-packages directory (default: this interpreter's)")
    parser.add_argument("--baseline", type=Path, help="approved .pth baseline to compare with")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="approve every current .pth file: write them to FILE as the baseline")
    parser.add_argument("--json", action="store_true", help="one JSON object per problem")


def run(args: argparse.Namespace, io: IO) -> int:
    roots = list(args.paths) or [Path(sysconfig.get_paths()["purelib"])]
    site_dirs = [d for root in roots for d in site_dirs_of(root)]
    if not site_dirs:
        raise ConfigError(f"no site-packages directory found in {', '.join(map(str, roots))}")
    if args.write_baseline:
        files = [f for d in site_dirs for f in scan_pth(d)]
        args.write_baseline.write_text(render_baseline(files), encoding="utf-8")
        io.stdout.write(f"approved {len(files)} .pth file(s) into {args.write_baseline}\n")
        return ExitCode.CLEAN
    baseline = load_baseline(args.baseline) if args.baseline else None
    count = 0
    for site_dir in site_dirs:
        for problem in verify(site_dir, baseline):
            count += 1
            if args.json:
                io.stdout.write(json.dumps({"site_dir": str(site_dir), "kind": problem.kind, "path": problem.path,
                                            "detail": problem.detail}) + "\n")
            else:
                io.stdout.write(f"{problem.kind:16} {site_dir / problem.path}: {problem.detail}\n")
    if not args.json:
        dirs = "1 site-packages directory" if len(site_dirs) == 1 else f"{len(site_dirs)} site-packages directories"
        io.stdout.write(f"{count} problem(s) in {dirs}\n")
    return ExitCode.BLOCKED if count else ExitCode.CLEAN
