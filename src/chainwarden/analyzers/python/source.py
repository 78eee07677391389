"""Turn a file's bytes into an `ast` tree exactly as CPython would, never guessing.

`ast.parse` is given the raw bytes, so the real tokenizer applies the coding cookie (even a
hostile one like `unicode_escape` or `utf-7`, which turn a "comment" into code). A cookie whose
codec changes plain ASCII text is reported as a problem of its own. Syntax errors, unknown
codecs, null bytes and inputs too deep or too large for the parser become `Problem`s.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from dataclasses import dataclass

from chainwarden.analyzers.python.facts import Problem

#: ASCII text that any ordinary source encoding decodes to itself.
_PROBE = b"import os  # \\u0041 +AEE- \\x41 \\n ~{}\n"


@dataclass(frozen=True, slots=True)
class Source:
    tree: ast.Module | None
    encoding: str
    text: str  # decoded text (for snippets); "" when undecodable
    problems: tuple[Problem, ...]


def _is_exotic(encoding: str) -> bool:
    try:
        return codecs.decode(_PROBE, encoding) != _PROBE.decode("ascii")
    except (UnicodeError, LookupError, TypeError, ValueError):
        return True


def read_source(data: bytes) -> Source:  # noqa: PLR0911 - one per way reading fails
    problems: list[Problem] = []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:
        return Source(None, "", "", (Problem("undecodable", 1, str(err)[:200]),))
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        return Source(None, encoding, "", (Problem("undecodable", 1, f"unknown encoding {encoding}"),))
    if canonical not in {"utf-8", "utf-8-sig", "ascii"} and _is_exotic(canonical):
        problems.append(Problem("exotic-encoding", 1, f"coding cookie selects {canonical}, which rewrites ASCII text"))
    try:
        text = data.decode(encoding)
    except (UnicodeError, ValueError, TypeError, LookupError) as err:
        problems.append(Problem("undecodable", 1, f"not valid {canonical}: {str(err)[:160]}"))
        return Source(None, canonical, data.decode("utf-8", "replace"), tuple(problems))
    try:
        tree = ast.parse(data)
    except SyntaxError as err:
        problems.append(Problem("syntax-error", err.lineno or 1, f"{err.msg}"[:200]))
        return Source(None, canonical, text, tuple(problems))
    except ValueError as err:  # null bytes
        problems.append(Problem("syntax-error", 1, str(err)[:200]))
        return Source(None, canonical, text, tuple(problems))
    except (RecursionError, MemoryError) as err:
        problems.append(Problem("too-complex", 1, f"parser gave up: {type(err).__name__}"))
        return Source(None, canonical, text, tuple(problems))
    return Source(tree, canonical, text, tuple(problems))
