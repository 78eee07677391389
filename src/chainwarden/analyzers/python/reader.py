"""`read_facts(data)`: choose how to read a file's bytes (Python, `.pyc`, TOML, `.pth` lines)
and return its facts. This is what the analyzer's `extract` runs in worker processes."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from chainwarden.analyzers.python.extract import extract_python
from chainwarden.analyzers.python.special import is_pyc, line_facts, pth_facts, pyc_facts, pyproject_facts

if TYPE_CHECKING:
    from chainwarden.analyzers.python.facts import PyFacts

_LINE_MODE_MAX = 512 * 1024
_UNPARSED = frozenset({"syntax-error", "undecodable", "too-complex"})


def read_facts(data: bytes) -> PyFacts:
    # Trees of big modules are millions of short-lived objects that hold no cycles worth
    # collecting mid-parse; pausing the cyclic collector nearly halves the time spent here.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(data)
    finally:
        if enabled:
            gc.enable()


def _read(data: bytes) -> PyFacts:
    toml = pyproject_facts(data)
    if toml is not None:
        return toml
    if is_pyc(data) and b"\x00" in data[:16]:
        return pyc_facts(data)
    facts = extract_python(data)
    if not any(p.kind in _UNPARSED for p in facts.problems):
        return facts
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")

    def parse_line(line: str) -> PyFacts:
        return extract_python(line.encode("utf-8", "surrogatepass"), 1)

    lines = pth_facts(text, parse_line, facts.problems)
    if lines is None and len(data) <= _LINE_MODE_MAX and any(p.kind == "syntax-error" for p in facts.problems):
        lines = line_facts(text, parse_line, facts.problems)
    return lines if lines is not None else facts
