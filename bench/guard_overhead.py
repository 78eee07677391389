"""Runtime guard overhead: interpreter start-up plus `import` of a large library, with and without
the guard (monitor and enforce), in a bench venv under bench/_data/guard-venv.

    .venv/bin/python bench/guard_overhead.py [--runs 15] [--setup] [--write-docs]

`--setup` creates the venv and installs the pinned libraries from PyPI. Enforce mode uses a policy
learned by `chainwarden run --mode learn` for the same import, as a user would. Each measurement
starts a fresh interpreter; the modes are interleaved so drift affects all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, OUT, command_line, machine, now, table, write_section
from chainwarden.guard.baseline import load_baseline, render_baseline, scan_pth, site_dirs_of
from chainwarden.guard.launcher import Target, guarded_command, prepare_guard_dir
from chainwarden.guard.learn import learn_policy, read_events
from chainwarden.guard.policy import GuardPolicy, render_policy

VENV = DATA / "guard-venv"
PINS = ("requests==2.34.2", "litellm==1.82.6")
NOTE = (
    "Where the time goes (enforce, `import litellm`, counted with an instrumented copy of the runtime): "
    "the interpreter raises ~38,600 audit events and CPython calls the guard's Python hook for each; "
    "~25,000 end at the first frozenset lookup (events the guard does not handle). Of the ~13,500 it "
    "handles, the hook answers ~11,800 itself, before the recursion guard and dispatch: module files read "
    "and bytecode caches loaded by the import system, annotation strings that are plain type expressions "
    "(found at C speed, then cached), dataclass/namedtuple templates, module bodies. ~1,700 reach a handler "
    "and ~100 walk the whole stack to build a call chain (a `compile` a package really does), so caching "
    "stack walks would save well under 1%. The rest is the fixed ~5 ms per interpreter (loading the three "
    "runtime files, compiling the policy literal, running `site` under the hook) and one Python call per "
    "event. Target: < 5% on start-up plus import of a large library."
)
CASES = (("python -c pass", "pass"), ("import requests", "import requests"), ("import litellm", "import litellm"))


def setup() -> None:
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *PINS], check=True)


#: litellm fetches a model price list from GitHub at import unless told not to; keep runs offline.
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system, children included) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {cmd[-1][:80]}\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def approved_pth(scratch: Path) -> dict[str, dict[str, object]]:
    """The venv's .pth files approved as `chainwarden verify --write-baseline` would."""
    path = scratch / "baseline.toml"
    path.write_text(render_baseline([f for d in site_dirs_of(VENV) for f in scan_pth(d)]))
    return load_baseline(path).runtime_table()


def learned_policy(python: str, code: str, scratch: Path, baseline: dict[str, dict[str, object]]) -> GuardPolicy:
    log = scratch / "learn.jsonl"
    config = GuardPolicy().to_config(mode="learn", log=str(log), baseline=baseline)
    guard_dir = prepare_guard_dir(config, python, scratch)
    timed(guarded_command(Target(python, ("-c", code)), guard_dir))
    return learn_policy(read_events(log), GuardPolicy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--setup", action="store_true", help="create the bench venv and install the libraries")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.setup:
        setup()
    python = str(VENV / "bin" / "python")
    if not Path(python).exists():
        raise SystemExit("no bench venv: run with --setup first (needs PyPI)")
    scratch = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    rows, raw = [], {}
    try:
        baseline = approved_pth(scratch)
        for label, code in CASES:
            policy = learned_policy(python, code, scratch, baseline)
            monitor_dir = prepare_guard_dir(GuardPolicy().to_config(mode="monitor", log=str(scratch / "m.jsonl"),
                                                                    baseline=baseline), python, scratch)
            enforce_dir = prepare_guard_dir(policy.to_config(mode="enforce", log="", baseline=baseline), python,
                                            scratch)
            commands = {
                "plain": [python, "-c", code],
                "monitor": guarded_command(Target(python, ("-c", code)), monitor_dir),
                "enforce": guarded_command(Target(python, ("-c", code)), enforce_dir),
            }
            for cmd in commands.values():  # warm the page cache and the bytecode caches
                timed(cmd)
            wall: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, cmd in commands.items():
                    w, c = timed(cmd)
                    wall[name].append(w)
                    cpu[name].append(c)
            raw[label] = {"wall": wall, "cpu": cpu, "policy": render_policy(policy)}
            low = {name: min(values) for name, values in wall.items()}
            med = {name: statistics.median(values) for name, values in wall.items()}
            cmed = {name: statistics.median(values) for name, values in cpu.items()}
            # Runs of one round are started back to back, so they share the machine's load at that
            # moment: the median of the per-round CPU ratios cancels load that drifts between rounds.
            paired = {name: statistics.median(c / p for c, p in zip(values, cpu["plain"], strict=True))
                      for name, values in cpu.items()}

            def over(name: str, low: dict[str, float] = low, med: dict[str, float] = med,
                     cmed: dict[str, float] = cmed, paired: dict[str, float] = paired) -> str:
                return (f"{(low[name] / low['plain'] - 1) * 100:+.1f}% / {(med[name] / med['plain'] - 1) * 100:+.1f}% / "
                        f"{(cmed[name] / cmed['plain'] - 1) * 100:+.1f}% / {(paired[name] - 1) * 100:+.1f}%")

            rows.append([label, f"{low['plain'] * 1000:.0f} / {med['plain'] * 1000:.0f} / {cmed['plain'] * 1000:.0f}",
                         over("monitor"), over("enforce"), str(len(policy.packages))])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    body = "\n".join([
        "## Runtime guard overhead (`bench/guard_overhead.py`)",
        "",
        f"Command: `{command_line()}` — {now()} — {machine()}.",
        "",
        (f"Fresh interpreter per run, {args.runs} interleaved runs per mode, in a venv with "
        f"{', '.join(PINS)}. *plain* is `python -c CODE`; *monitor* and *enforce* are the same command "
        "started as `chainwarden run` starts it (hook installed before `site`, `site` run by the guard). "
        "The venv's `.pth` files are approved (`--baseline`). Monitor logs every checked event to a file; "
         "enforce uses the policy `--mode learn` wrote for "
        "the same import (packages column). The launcher's own start-up (`chainwarden` itself) is not "
        "included: it is a fixed cost outside the guarded program. The machine is shared with other jobs, so "
         "wall-clock medians are noisy; the wall-clock minimum and the CPU time (user + system of the "
         "interpreter) are the better estimates of the guard's own cost. On a loaded machine the CPU time of "
         "one run also varies by ±20%, so a fourth figure gives the median over rounds of the CPU-time ratio "
         "of the runs started back to back in that round (paired), which cancels load that changes between "
         "rounds."),
        "",
        table(["case", "plain ms: wall min / wall median / CPU median",
               "monitor overhead: wall min / wall median / CPU median / paired CPU", "enforce overhead (same four)",
               "packages in learned policy"], rows),
        "",
        NOTE,
    ])
    print(body)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "guard-overhead.json").write_text(json.dumps(raw, indent=1))
    if args.write_docs:
        write_section("guard", body)


if __name__ == "__main__":
    main()
