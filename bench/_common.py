"""Helpers shared by the benchmark scripts in this directory (not a package: run the scripts
with `.venv/bin/python bench/<script>.py`; this module sits beside them on `sys.path`)."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import multiprocessing
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "_data"
OUT = BENCH / "_out"
BENIGN = DATA / "benign"
CORPUS = Path(os.environ.get("CHAINWARDEN_CORPUS", ROOT.parent / "shared" / "corpus"))
MALICIOUS = CORPUS / "malicious-pypi"
DOCS = ROOT / "docs" / "benchmarks.md"

sys.path.insert(0, str(ROOT / "src"))


def machine() -> str:
    """One line describing where a number was measured."""
    mem = ""
    try:
        with Path("/proc/meminfo").open() as fh:
            kib = int(fh.readline().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores{mem}, {platform.system()} {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


_INTERPRETER_PROBE = """
import platform, sys
try:
    maps = open("/proc/self/maps").read()
except OSError:
    maps = ""
link = "libpython shared" if "libpython" in maps else "libpython static"
base = getattr(sys, "_base_executable", sys.executable)
print(f"{platform.python_implementation()} {platform.python_version()} ({base}, {link})")
"""


def interpreter(python: str = sys.executable) -> str:
    """Which Python build runs the numbers: version, path, and whether the executable links
    libpython as a shared library. A distribution build (static, profile-guided) and pyenv's
    default build (shared, no PGO) of the same version run chainwarden at different speeds."""
    done = subprocess.run([python, "-c", _INTERPRETER_PROBE], capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"{python} (did not start: {done.stderr.strip()[-200:]})"


#: Standard-library modules parsed by `cpu_check`: the same bytes on every run of this Python.
_CHECK_MODULES = ("typing", "argparse", "inspect", "dataclasses", "pathlib", "email.message", "json.decoder")


def _parse_seconds(rounds: int = 4) -> float:
    sources = []
    for name in _CHECK_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            sources.append(Path(spec.origin).read_bytes())
    started = time.perf_counter()
    for _ in range(rounds):
        for source in sources:
            ast.parse(source)
    return time.perf_counter() - started


def cpu_check() -> tuple[float, float]:
    """How fast this (shared, virtual) machine is right now: seconds for the same parsing work
    alone, then in each of two processes at once. Numbers taken at different times compare
    only through these."""
    alone = min(_parse_seconds() for _ in range(3))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pair = min(max(pool.map(_parse_seconds, [4, 4], chunksize=1)) for _ in range(3))
    return alone, pair


def pair_check() -> float:
    """One quick round of `cpu_check`'s two-processes-at-once half (~0.4 s): how much of its two
    cores the machine gives right now, taken just before a timed run."""
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return max(pool.map(_parse_seconds, [4, 4], chunksize=1))


def cpu_note(before: tuple[float, float], after: tuple[float, float]) -> str:
    return (
        f"CPU check (`ast.parse` of {len(_CHECK_MODULES)} standard-library modules, best of 3; "
        f"alone / each of two at once): {before[0]:.2f} / {before[1]:.2f} s before the runs, "
        f"{after[0]:.2f} / {after[1]:.2f} s after."
    )


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line() -> str:
    script = Path(sys.argv[0])
    shown = f"bench/{script.name}" if script.parent.resolve() == BENCH else sys.argv[0]
    python = sys.executable
    if Path(python).is_relative_to(ROOT):
        python = str(Path(python).relative_to(ROOT))
    return shlex.join([python, shown, *sys.argv[1:]])


def benign_files(kinds: tuple[str, ...] = ("wheel", "sdist")) -> list[Path]:
    """The downloaded benign corpus (see fetch_benign.sh), wheels then sdists, sorted."""
    files: list[Path] = []
    for kind in kinds:
        folder = BENIGN / kind
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.is_file()))
    return files


def write_section(name: str, body: str, path: Path = DOCS) -> None:
    """Replace (or append) the section between `<!-- bench:NAME -->` markers in the docs,
    leaving every other section of the file as it is."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
