"""Tables and node-level helpers for `extract`: which names and node types matter, and small
questions about single AST nodes (is this a main guard, does this request send data ...)."""

from __future__ import annotations

import ast
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainwarden.analyzers.python.facts import Signal

STDLIB = frozenset(sys.stdlib_module_names) | {"builtins", "__builtin__", "__builtins__"}
BUILTIN_PREFIXES = ("builtins.", "__builtins__.", "__builtin__.")
ENV_WHOLE_CALLS = frozenset(
    {"dict", "str", "repr", "list", "json.dumps", "copy.copy", "copy.deepcopy", "pprint.pformat"}
)
ENV_METHODS = frozenset({"os.environ.copy", "os.environ.items", "os.environ.keys", "os.environ.values"})
URL_METHODS = frozenset({"get", "post", "put", "patch", "request", "urlopen", "open", "fetch", "retrieve"})
PYTHON_CMD = re.compile(r"(?:^|[/\\])python(?:[0-9.]*)?(?:w)?(?:\.exe)?$", re.IGNORECASE)
DEVNULL = frozenset({"subprocess.DEVNULL", "os.devnull"})


#: First components of the dotted names `_call` classifies (modules and builtins); calls on
#: anything else (local objects) only get the cheap URL-method check.
INTERESTING_HEADS = frozenset(
    {
        *"os subprocess socket urllib urllib2 urllib3 requests httpx aiohttp http ftplib smtplib telnetlib".split(),  # noqa: SIM905 - word lists
        *"paramiko websocket websockets pycurl dns discord_webhook tornado asyncio pty commands threading".split(),  # noqa: SIM905 - word lists
        *"multiprocessing atexit _thread thread signal getpass platform uuid shutil tarfile zipfile marshal".split(),  # noqa: SIM905 - word lists
        *"pickle base64 binascii zlib bz2 lzma gzip codecs importlib runpy types Crypto Cryptodome".split(),  # noqa: SIM905 - word lists
        *"cryptography nacl rsa pyaes io json copy pprint sys wget treq grequests niquests site pip".split(),  # noqa: SIM905 - word lists
        *"exec eval compile open getattr __import__ dict str repr list bytes bytearray chr map".split(),  # noqa: SIM905 - word lists
    }
)

ALIASABLE = frozenset({"eval", "exec", "compile", "__import__", "getattr", "globals", "vars", "open"})

LEAF_FIELDS = frozenset(
    {"annotation", "returns"}
    | {
        "ctx",
        "id",
        "attr",
        "arg",
        "name",
        "names",
        "module",
        "level",
        "kind",
        "type_comment",
        "op",
        "ops",
        "conversion",
        "asname",
        "is_async",
    }
)
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
#: Node types `_Walker._statement` handles; every other type is only walked through.
SPECIAL = frozenset(
    {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Expr,
        ast.If,
        ast.Assign,
        ast.AugAssign,
        ast.AnnAssign,
        ast.Import,
        ast.ImportFrom,
        ast.For,
        ast.AsyncFor,
        ast.comprehension,
        ast.Dict,
        ast.With,
        ast.AsyncWith,
    }
)


def child_fields(t: type) -> tuple[str, ...]:
    """The fields of a node type that can hold child nodes (computed once per type)."""
    fields = tuple(f for f in getattr(t, "_fields", ()) if f not in LEAF_FIELDS)
    if t in (ast.Constant, ast.Name):
        fields = ()
    CHILD_FIELDS[t] = fields
    return fields


def sends_data(name: str, node: ast.Call) -> bool:
    """A request that carries a body (POST/PUT, `data=`, `json=`, `files=`, urlopen's second argument)."""
    if name.endswith((".post", ".put", ".patch")):
        return True
    if any(kw.arg in {"data", "json", "files"} for kw in node.keywords):
        return True
    return name.endswith("urlopen") and len(node.args) >= 2  # noqa: PLR2004 - urlopen(url, data)


def partial_text(node: ast.expr) -> str:
    """The literal parts of an f-string or `+` chain, unknown parts as `…` (for command lines)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "…" for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return partial_text(node.left) + (partial_text(node.right) or "…")
    return ""


def leftmost(node: ast.expr) -> str:
    """The name an attribute chain starts from (`a` for `a.b.c`), or ""."""
    while type(node) is ast.Attribute:
        node = node.value
    return node.id if type(node) is ast.Name else ""


def is_main_guard(test: ast.expr) -> bool:
    """`if __name__ == "__main__":` (either way round)."""
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = {type(test.left), type(test.comparators[0])}
    values = {getattr(test.left, "id", None), getattr(test.left, "value", None)}
    values |= {getattr(test.comparators[0], "id", None), getattr(test.comparators[0], "value", None)}
    return sides == {ast.Name, ast.Constant} and {"__name__", "__main__"} <= values


def const_arg(node: ast.Call, index: int, keyword: str) -> object:
    value: ast.expr | None = node.args[index] if len(node.args) > index else None
    for kw in node.keywords:
        if kw.arg == keyword:
            value = kw.value
    if isinstance(value, ast.Constant):
        return value.value
    return None


def codec_decode(node: ast.Call) -> bool:
    return (
        bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in {"rot13", "rot_13", "hex", "base64"}
    )


def dedupe(signals: list[Signal]) -> list[Signal]:
    seen: set[tuple[str, str, int]] = set()
    out: list[Signal] = []
    for s in signals:
        key = (s.kind, s.detail, s.line)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
