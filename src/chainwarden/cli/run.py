"""`chainwarden run`: run a Python program under the runtime guard (monitor, enforce or learn)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.exit_codes import ExitCode
from chainwarden.guard.baseline import load_baseline
from chainwarden.guard.launcher import default_log_path, resolve_target, run_guarded
from chainwarden.guard.learn import learn_policy, read_events
from chainwarden.guard.policy import MODES, GuardPolicy, load_policy_file, render_policy
from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    from chainwarden.cli.common import IO

NAME = "run"
HELP = "run a Python program with the runtime guard: chainwarden run [options] -- python app.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, help="guard policy (TOML); in learn mode, the file to write")
    parser.add_argument("--mode", choices=MODES, default="enforce", help="default: enforce")
    parser.add_argument("--log", type=Path, help="append JSON-lines events here (default: stderr; denials only "
                        "in enforce mode)")
    parser.add_argument("--baseline", type=Path, help="approved .pth baseline (chainwarden verify --write-baseline)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- python app.py [args]")


def run(args: argparse.Namespace, io: IO) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    target = resolve_target(command)
    if args.mode == "learn" and args.policy is None:
        raise ConfigError("learn mode needs --policy FILE: the policy it writes")
    policy = GuardPolicy()
    if args.policy is not None and (args.mode != "learn" or args.policy.exists()):
        policy = load_policy_file(args.policy)
    baseline = load_baseline(args.baseline).runtime_table() if args.baseline else None
    log = str(args.log.resolve()) if args.log else (default_log_path() if args.mode == "learn" else "")
    config = policy.to_config(mode=args.mode, log=log, baseline=baseline)
    status = run_guarded(target, config)
    if args.mode == "learn":
        learned = learn_policy(read_events(Path(log)), policy)
        args.policy.write_text(render_policy(learned, header="chainwarden guard policy, learned by "
                                             "`chainwarden run --mode learn`; review before enforcing."),
                               encoding="utf-8")
        io.stderr.write(f"chainwarden: learned policy for {len(learned.packages)} package(s) written to "
                        f"{args.policy}\n")
        if not args.log:
            Path(log).unlink(missing_ok=True)
    return status if status >= 0 else ExitCode.ERROR
