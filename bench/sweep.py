"""`chainwarden sweep` over a home directory holding three virtual environments of real packages
and a pip cache, cold (empty facts cache) and warm.

    .venv/bin/python bench/sweep.py [--write-docs]

The environments are laid out from the benign corpus's wheels (`bench/fetch_benign.sh`) the way
an installer lays them out — each wheel unpacked into site-packages with its RECORD — without
running anything; a quarter of the wheels also sit in a pip-style wheel cache.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _common import BENCH, ROOT, command_line, machine, now, write_section


def lay_out(home: Path, wheels: list[Path]) -> tuple[int, int]:
    """Three venvs sharing the wheels round-robin, plus a pip cache; returns (packages, files)."""
    sites = []
    for n in range(3):
        env = home / f"project{n}" / ".venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
        sites.append(next(env.glob("lib/python*/site-packages")))
    files = 0
    for i, wheel in enumerate(wheels):
        with zipfile.ZipFile(wheel) as zf:
            names = [n for n in zf.namelist() if ".data/" not in n]
            zf.extractall(sites[i % 3], members=names)
            files += len(names)
    cache = home / ".cache" / "pip" / "wheels" / "00" / "11"
    cache.mkdir(parents=True)
    for wheel in wheels[::4]:
        (cache / wheel.name).write_bytes(wheel.read_bytes())
    return len(wheels), files


def timed_sweep(home: Path, cache_dir: Path, db: Path) -> tuple[float, int]:
    cmd = [str(ROOT / ".venv/bin/chainwarden"), "sweep", str(home), "--home", str(home), "--db", str(db),
           "--cache-dir", str(cache_dir), "-f", "json", "-o", str(cache_dir / "sweep.json")]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    wheels = sorted((BENCH / "_data" / "benign" / "wheel").glob("*.whl"))
    if not wheels:
        print("run bench/fetch_benign.sh first", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    from chainwarden.advisories.database import update

    with tempfile.TemporaryDirectory(prefix="cw-sweep-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        packages, files = lay_out(home, wheels)
        db = work / "advisories.sqlite3"
        update(db, (), "empty")
        size = sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and not p.is_symlink())
        cold, code1 = timed_sweep(home, work / "cache", db)
        warm, code2 = timed_sweep(home, work / "cache", db)
    body = "\n".join(
        [
            "## Sweep",
            "",
            f"Command: `{command_line()}`  ",
            f"Date: {now()}  ",
            f"Machine: {machine()}",
            "",
            (
                f"A home directory with three virtual environments holding {packages} real packages from the benign "
                f"corpus ({files} files, {size / 1e6:.0f} MB on disk with the cache) and a pip wheel cache of "
                f"{len(wheels[::4])} of the same wheels; the whole `chainwarden sweep` command, default jobs."
            ),
            "",
            "| run | seconds | exit code |",
            "|---|---|---|",
            f"| cold (empty facts cache) | {cold:.1f} | {code1} |",
            f"| warm (same files again) | {warm:.1f} | {code2} |",
            "",
            "Exit code 0 means no hit: none of these real packages is reported as a compromise.",
        ]
    )
    print(body)
    if args.write_docs:
        write_section("sweep", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
