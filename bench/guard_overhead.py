"""Runtime guard overhead: interpreter start-up plus `import` of a large library, with and without
the guard (monitor and enforce), in a bench venv under bench/_data/guard-venv.

    .venv/bin/python bench/guard_overhead.py [--runs 15] [--setup] [--write-docs] [--instructions]

`--setup` creates the venv and installs the pinned libraries from PyPI. Enforce mode uses a policy
learned by `chainwarden run --mode learn` for the same import, as a user would. Each measurement
starts a fresh interpreter; the modes are interleaved (their order rotates from round to round) so
drift affects all of them alike. CPU time is the child's own user + system time from `os.wait4`.
A fourth command installs a do-nothing audit hook before the import: the floor any Python audit
hook costs, whatever it checks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import DATA, OUT, command_line, machine, now, table, write_section
from chainwarden.guard.baseline import load_baseline, render_baseline, scan_pth, site_dirs_of
from chainwarden.guard.launcher import Target, guarded_command, prepare_guard_dir
from chainwarden.guard.learn import learn_policy, read_events
from chainwarden.guard.policy import GuardPolicy, render_policy

VENV = DATA / "guard-venv"
PINS = ("requests==2.34.2", "litellm==1.82.6")
NOTE = (
    "Where the time goes (`import litellm`, CPython 3.11; instruction counts from "
    "`valgrind --tool=cachegrind --cache-sim=no`, which do not move with the machine's load, against "
    "9.43 G instructions without the guard): any Python audit hook costs +1.0% (CPython builds the "
    "arguments and calls it for each of the ~38,600 events, e.g. copying every `.pyc` for `marshal.loads`); "
    "the guard's start-up (three runtime files, the policy literal, `site` run by the guard) adds ~0.15%; "
    "its checks ~1.9% (enforce +3.0%, monitor +3.1% in all, `--instructions` at 10:24 UTC; +4.1% and "
    "+4.35% before the changes of 2026-11-26 09:30-10:20 UTC). ~25,000 events end at the first set lookup of an entry "
    "function with three default arguments (it had ~25, copied into every call's frame: ~0.3% alone); the "
    "~13,500 the guard handles go to one fast path per event kind (module files read in code directories "
    "nothing protected lies in, bytecode caches, plain annotation strings, dataclass/namedtuple templates, "
    "module bodies, code that defines no function); ~260 reach a handler and ~95 walk the stack, which "
    "stops at the first import-system or module-body frame the thread's previous walk passed (~800 frames "
    "read per import instead of ~3,900; reading a frame's code is itself an audit event). Measured and "
    "dropped: buffering monitor's log (95 lines here, ~0.5 ms of writes; a buffer would lose lines to "
    "`os._exit`); reading each frame's module dict instead of its code (forgeable). "
    "CPU time of one 11-round run scatters by about ±6% on this shared machine (a negative overhead, "
    "impossible in itself, is that scatter); the instruction counts are the stable figure. "
    "Target: < 5% on start-up plus import of a large library."
)
CASES = (("python -c pass", "pass"), ("import requests", "import requests"), ("import litellm", "import litellm"))


def setup() -> None:
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *PINS], check=True)


#: litellm fetches a model price list from GitHub at import unless told not to; keep runs offline.
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system of the child, from `os.wait4`) of one run of `cmd`."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=ENV)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed: {cmd[-1][:80]}\n{err.read().decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def instructions(cmd: list[str]) -> int:
    """Instructions one run of `cmd` executes, counted by valgrind's cachegrind."""
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        env={**ENV, "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr.decode(errors="replace"))
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed on {cmd[-1][:80]}:\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return int(found.group(1).replace(",", ""))


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
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions once under valgrind (~2 min per litellm run): "
        "unlike CPU time, the count does not move with other jobs on the machine",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on PATH")
    if args.setup:
        setup()
    python = str(VENV / "bin" / "python")
    if not Path(python).exists():
        raise SystemExit("no bench venv: run with --setup first (needs PyPI)")
    scratch = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    load_before = os.getloadavg()[0]
    rows, raw, counted = [], {}, []
    try:
        baseline = approved_pth(scratch)
        for label, code in CASES:
            policy = learned_policy(python, code, scratch, baseline)
            monitor_dir = prepare_guard_dir(
                GuardPolicy().to_config(mode="monitor", log=str(scratch / "m.jsonl"), baseline=baseline),
                python,
                scratch,
            )
            enforce_dir = prepare_guard_dir(
                policy.to_config(mode="enforce", log="", baseline=baseline), python, scratch
            )
            commands = {
                "plain": [python, "-c", code],
                "hook": [python, "-c", f"import sys;sys.addaudithook(lambda e,a:None);{code}"],
                "monitor": guarded_command(Target(python, ("-c", code)), monitor_dir),
                "enforce": guarded_command(Target(python, ("-c", code)), enforce_dir),
            }
            for cmd in commands.values():  # warm the page cache and the bytecode caches
                timed(cmd)
            wall: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            names = list(commands)
            for round_ in range(args.runs):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    w, c = timed(commands[name])
                    wall[name].append(w)
                    cpu[name].append(c)
            raw[label] = {"wall": wall, "cpu": cpu, "policy": render_policy(policy)}
            low = {name: min(values) for name, values in wall.items()}
            med = {name: statistics.median(values) for name, values in wall.items()}
            cmed = {name: statistics.median(values) for name, values in cpu.items()}
            # Runs of one round are started back to back, so they share the machine's load at that
            # moment: the median of the per-round CPU ratios cancels load that drifts between rounds.
            paired = {
                name: statistics.median(c / p for c, p in zip(values, cpu["plain"], strict=True))
                for name, values in cpu.items()
            }

            def over(
                name: str,
                low: dict[str, float] = low,
                med: dict[str, float] = med,
                cmed: dict[str, float] = cmed,
                paired: dict[str, float] = paired,
            ) -> str:
                return (
                    f"{(low[name] / low['plain'] - 1) * 100:+.1f}% / {(med[name] / med['plain'] - 1) * 100:+.1f}% / "
                    f"{(cmed[name] / cmed['plain'] - 1) * 100:+.1f}% / {(paired[name] - 1) * 100:+.1f}%"
                )

            rows.append(
                [
                    label,
                    f"{low['plain'] * 1000:.0f} / {med['plain'] * 1000:.0f} / {cmed['plain'] * 1000:.0f}",
                    over("hook"),
                    over("monitor"),
                    over("enforce"),
                    str(len(policy.packages)),
                ]
            )
            if args.instructions:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    counts = dict(zip(names, pool.map(instructions, commands.values()), strict=True))
                raw[label]["instructions"] = counts
                counted.append(
                    [
                        label,
                        f"{counts['plain'] / 1e6:,.0f}",
                        *(
                            f"{(counts[name] / counts['plain'] - 1) * 100:+.2f}%"
                            for name in ("hook", "monitor", "enforce")
                        ),
                    ]
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load_after = os.getloadavg()[0]
    body = "\n".join(
        [
            "## Runtime guard overhead (`bench/guard_overhead.py`)",
            "",
            (
                f"Command: `{command_line()}` — {now()} — {machine()} — 1-minute load average "
                f"{load_before:.2f} before, {load_after:.2f} after."
            ),
            "",
            (
                f"Fresh interpreter per run, {args.runs} interleaved runs per mode, in a venv with "
                f"{', '.join(PINS)}. *plain* is `python -c CODE`; *no-op hook* installs `lambda e, a: None` as an "
                "audit hook first (the floor of any Python audit hook); *monitor* and *enforce* are the same command "
                "started as `chainwarden run` starts it (hook installed before `site`, `site` run by the guard). "
                "The venv's `.pth` files are approved (`--baseline`). Monitor logs every checked event to a file; "
                "enforce uses the policy `--mode learn` wrote for "
                "the same import (packages column). The launcher's own start-up (`chainwarden` itself) is not "
                "included: it is a fixed cost outside the guarded program. The machine is shared with other jobs, so "
                "wall-clock medians are noisy; the wall-clock minimum and the CPU time (user + system of the "
                "interpreter) are the better estimates of the guard's own cost. On a loaded machine the CPU time of "
                "one run also varies by ±20%, so a fourth figure gives the median over rounds of the CPU-time ratio "
                "of the runs started back to back in that round (paired), which cancels load that changes between "
                "rounds."
            ),
            "",
            table(
                [
                    "case",
                    "plain ms: wall min / wall median / CPU median",
                    "no-op hook overhead: wall min / wall median / CPU median / paired CPU",
                    "monitor overhead (same four)",
                    "enforce overhead (same four)",
                    "packages in learned policy",
                ],
                rows,
            ),
            *(
                [
                    "",
                    (
                        "Instructions executed (`--instructions`: one run of each command under `valgrind --tool=cachegrind "
                        "--cache-sim=no`, `PYTHONHASHSEED=0`). They do not move with the machine's load, but they leave out "
                        "cache misses, which the guard's Python code adds too: CPU time stays the figure to judge."
                    ),
                    "",
                    table(["case", "plain (millions)", "no-op hook", "monitor", "enforce"], counted),
                ]
                if counted
                else []
            ),
            "",
            NOTE,
        ]
    )
    print(body)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "guard-overhead.json").write_text(json.dumps(raw, indent=1))
    if args.write_docs:
        write_section("guard", body)


if __name__ == "__main__":
    main()
