"""Helpers shared by the benchmark scripts in this directory (not a package: run the scripts
with `.venv/bin/python bench/<script>.py`; this module sits beside them on `sys.path`)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import sys
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


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line() -> str:
    script = Path(sys.argv[0])
    shown = f"bench/{script.name}" if script.parent.resolve() == BENCH else sys.argv[0]
    return shlex.join([".venv/bin/python", shown, *sys.argv[1:]])


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
