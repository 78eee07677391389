"""`chainwarden guard install|uninstall`: the `.pth` bootstrap for environments without a launcher."""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.exit_codes import ExitCode
from chainwarden.guard.baseline import load_baseline, site_dirs_of
from chainwarden.guard.bootstrap import install_bootstrap, uninstall_bootstrap
from chainwarden.guard.policy import GuardPolicy, load_policy_file
from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    import argparse

    from chainwarden.cli.common import IO

NAME = "guard"
HELP = "install or remove the runtime guard's .pth bootstrap in an environment"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("install", "uninstall"))
    parser.add_argument("--env", type=Path, help="virtual environment or site-packages (default: this interpreter's)")
    parser.add_argument("--policy", type=Path, help="guard policy (TOML)")
    parser.add_argument("--mode", choices=("monitor", "enforce"), default="enforce")
    parser.add_argument("--log", type=Path, help="JSON-lines event log (default: stderr)")
    parser.add_argument("--baseline", type=Path, help="approved .pth baseline")


def _site_dir(env: Path | None) -> Path:
    if env is None:
        return Path(sysconfig.get_paths()["purelib"])
    dirs = site_dirs_of(env)
    if len(dirs) != 1:
        raise ConfigError(f"{env}: expected one site-packages directory, found {len(dirs)}")
    return dirs[0]


def run(args: argparse.Namespace, io: IO) -> int:
    site_dir = _site_dir(args.env)
    if args.action == "uninstall":
        found = uninstall_bootstrap(site_dir)
        io.stdout.write(f"{'removed' if found else 'no'} guard bootstrap in {site_dir}\n")
        return ExitCode.CLEAN
    policy = load_policy_file(args.policy) if args.policy else GuardPolicy()
    baseline = load_baseline(args.baseline).runtime_table() if args.baseline else None
    config = policy.to_config(mode=args.mode, log=str(args.log.resolve()) if args.log else "", baseline=baseline)
    installed = install_bootstrap(site_dir, config)
    io.stdout.write(f"installed {installed.pth}\n")
    for name in installed.sorts_before:
        io.warn(f"{name!r} sorts before the bootstrap and runs unguarded; review or remove it")
    io.warn("a .pth bootstrap can never be guaranteed to run first (a name like '\\x01.pth' sorts before any "
            "other); prefer `chainwarden run` where a launcher is possible")
    return ExitCode.BLOCKED if installed.sorts_before else ExitCode.CLEAN
