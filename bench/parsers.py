"""The parsing floor of a big wheel: what reading its Python costs before chainwarden does anything.

    .venv/bin/python bench/parsers.py                        # litellm 1.82.6 from the benign corpus
    .venv/bin/python bench/parsers.py --wheel W.whl

    # with tree-sitter side by side (not a chainwarden dependency; its own venv):
    python3 -m venv bench/_data/venv-parsers
    bench/_data/venv-parsers/bin/pip install tree-sitter==0.26.1 tree-sitter-python==0.25.0
    bench/_data/venv-parsers/bin/pip install --no-deps --require-hashes -r requirements/runtime.lock
    bench/_data/venv-parsers/bin/python bench/parsers.py --write-docs

For every `.py` member of the wheel (read into memory, never unpacked, never run), in one
process with the cyclic collector paused as the workers run: CPU seconds of CPython's
`ast.parse` alone, of chainwarden's whole per-file extraction (`read_facts`: parse, walk,
decoding), and -- when `tree_sitter` and `tree_sitter_python` are importable in the running
interpreter -- of tree-sitter's C parser and of one pass over its tree with a cursor, the
cheapest way to visit its nodes from Python. Each figure is the best of `--repeat` rounds.
The rounds alternate between parsers, so a slow minute of the machine falls on all of them.
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from _common import BENIGN, command_line, cpu_check, cpu_note, interpreter, machine, now, table, write_section
from chainwarden.analyzers.python.reader import read_facts

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_WHEEL = BENIGN / "wheel" / "litellm-1.82.6-py3-none-any.whl"


def sources(wheel: Path) -> list[bytes]:
    try:
        with zipfile.ZipFile(wheel) as z:
            return [z.read(i) for i in z.infolist() if i.filename.endswith(".py")]
    except (OSError, zipfile.BadZipFile) as err:
        raise SystemExit(f"{wheel}: not a readable wheel: {err}") from None


def _ast_parse(srcs: list[bytes]) -> None:
    for s in srcs:
        try:
            ast.parse(s)
        except (SyntaxError, ValueError):
            continue


def _extract(srcs: list[bytes]) -> None:
    for s in srcs:
        read_facts(s)


def tree_sitter_runs() -> dict[str, Callable[[list[bytes]], None]]:
    """tree-sitter's parse, and parse plus a cursor pass over every node, if installed."""
    try:
        import tree_sitter_python  # type: ignore[import-not-found]
        from tree_sitter import Language, Parser  # type: ignore[import-not-found]
    except ImportError:
        return {}
    parser = Parser(Language(tree_sitter_python.language()))

    def parse(srcs: list[bytes]) -> None:
        for s in srcs:
            parser.parse(s)

    def parse_and_visit(srcs: list[bytes]) -> None:
        for s in srcs:
            cursor = parser.parse(s).walk()
            while True:
                if cursor.goto_first_child():
                    continue
                while not cursor.goto_next_sibling():
                    if not cursor.goto_parent():
                        break
                else:
                    continue
                break

    return {"tree-sitter parse (C)": parse, "tree-sitter parse + cursor pass over every node": parse_and_visit}


def measure(wheel: Path, repeat: int) -> dict[str, float]:
    """Best CPU seconds of each kind of work over the wheel's Python files, in this interpreter."""
    srcs = sources(wheel)
    runs: dict[str, Callable[[list[bytes]], None]] = {
        "CPython `ast.parse`": _ast_parse,
        "chainwarden `read_facts` (parse, walk, decoding: what a worker does per file)": _extract,
        **tree_sitter_runs(),
    }
    best = dict.fromkeys(runs, float("inf"))
    gc.disable()
    try:
        for _ in range(repeat):
            for label, run in runs.items():
                t0 = time.process_time()
                run(srcs)
                best[label] = min(best[label], time.process_time() - t0)
    finally:
        gc.enable()
    return best


def measure_with(python: str, wheel: Path, repeat: int) -> dict[str, float]:
    """The same measurement in another interpreter (a child process running this script)."""
    argv = [python, __file__, "--wheel", str(wheel), "--repeat", str(repeat), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python}: {done.stderr.strip()[-500:]}")
    best: dict[str, float] = json.loads(done.stdout)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wheel", type=Path, default=DEFAULT_WHEEL, help=f"the wheel (default {DEFAULT_WHEEL.name})")
    p.add_argument("--repeat", type=int, default=3, help="rounds per kind of work; the best counts (default 3)")
    p.add_argument("--python", action="append", default=[], metavar="PATH", help="also measure in this interpreter")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # child mode of --python
    p.add_argument("--write-docs", action="store_true", help="replace the parsers section of docs/benchmarks.md")
    args = p.parse_args(argv)
    if not args.wheel.is_file():
        print(f"no such wheel: {args.wheel} (run bench/fetch_benign.sh)", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(measure(args.wheel, args.repeat)))
        return 0
    started, before = now(), cpu_check()
    results = {interpreter(): measure(args.wheel, args.repeat)}
    for python in args.python:
        results[interpreter(python)] = measure_with(python, args.wheel, args.repeat)
    srcs = sources(args.wheel)
    mb = sum(map(len, srcs)) / 1e6
    rows = [
        [python, label, f"{seconds:.2f}", f"{mb / seconds:.1f}"]
        for python, best in results.items()
        for label, seconds in best.items()
    ]
    body = "\n\n".join(
        [
            "## Parsing floor of a big wheel",
            (
                f"Command: `{command_line()}`  \nDate: {started}  \nMachine: {machine()}  \n"
                f"Wheel: `{args.wheel.name}`, {len(srcs)} Python files, {mb:.1f} MB of source, read into memory. "
                f"CPU seconds in one process, best of {args.repeat} alternating rounds, cyclic collector paused. "
                f"tree-sitter rows appear when the interpreter has `tree_sitter` and `tree_sitter_python` "
                f"(not a chainwarden dependency). Load average: {os.getloadavg()[0]:.1f}.  \n"
                f"{cpu_note(before, cpu_check())}"
            ),
            table(["Python", "work", "CPU s", "source MB/s"], rows),
        ]
    )
    print(body)
    if args.write_docs:
        write_section("parsers", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
