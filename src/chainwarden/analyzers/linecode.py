"""What a short piece of startup code does: a compact, `ast`-based classification.

Used for executable `.pth` lines, where a whole program often sits on one line. The code is
parsed, never run. Calls are resolved through the line's own import aliases
(`import subprocess as s; s.Popen` -> `subprocess.Popen`); string literals handed to
`exec`/`eval`/`compile` or to a child interpreter (`sys.executable -c CODE`) are analysed as
code in turn, and literal data fed through base64/zlib/hex/rot13 decoders is decoded
statically (bounded) and analysed too. The result is plain data (`CodeFacts`).
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import zlib
from dataclasses import dataclass

#: How deep decoded or nested code is followed, and how much decoded text is kept.
MAX_DEPTH = 8
MAX_DECODED = 4 * 1024 * 1024
PREVIEW = 160

# Capability tags. Severity is decided by the caller from their combination.
DYNAMIC_CODE = "dynamic-code"  # exec/eval/compile of something that is not a visible literal
DECODE = "decode"  # base64/zlib/hex/rot13/marshal decoding
DECODE_EXEC = "decode-exec"  # decoded data reaches exec/eval/compile or a child interpreter
PROCESS = "process"  # subprocess / os.system / os.exec* / pty.spawn
CHILD_INTERPRETER = "child-interpreter"  # sys.executable run with code
NETWORK = "network"
ENV_READ = "env-read"  # one variable looked up
ENV_DUMP = "env-dump"  # the whole environment taken
FILE_WRITE = "file-write"
DYNAMIC_IMPORT = "dynamic-import"  # __import__/import_module of a computed name
BACKGROUND = "background"  # threads, forks, detached sessions
NATIVE = "native"  # ctypes / cffi
EXEC_LITERAL = "exec-literal"  # exec of a visible string literal (analysed as code)
ENV_CODE = "env-code"  # exec of code taken from an environment variable (a debugging hook)
UNPARSABLE = "unparsable"

_DECODERS = {
    "base64.b64decode": "base64",
    "base64.standard_b64decode": "base64",
    "base64.urlsafe_b64decode": "base64",
    "base64.b32decode": "base32",
    "base64.b16decode": "base16",
    "base64.b85decode": "base85",
    "base64.a85decode": "ascii85",
    "base64.decodebytes": "base64",
    "binascii.a2b_base64": "base64",
    "binascii.unhexlify": "hex",
    "binascii.a2b_hex": "hex",
    "bytes.fromhex": "hex",
    "zlib.decompress": "zlib",
    "gzip.decompress": "gzip",
    "bz2.decompress": "bz2",
    "lzma.decompress": "lzma",
    "codecs.decode": "codecs",
    "marshal.loads": "marshal",
}
_EXECUTORS = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"})
_PROCESS_CALLS = frozenset(
    {
        "os.system",
        "os.popen",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "pty.spawn",
        "commands.getoutput",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)
_PROCESS_PREFIXES = ("subprocess.", "os.exec", "os.spawn")
_NETWORK_MODULES = (
    "socket",
    "urllib",
    "http.client",
    "requests",
    "httpx",
    "aiohttp",
    "urllib3",
    "ftplib",
    "smtplib",
    "telnetlib",
    "dns",
    "websocket",
    "paramiko",
)
_NETWORK_WORDS = re.compile(r"(?:https?|ftp)://|\bcurl\s|\bwget\s|\bnc\s+-|/dev/tcp/")
_BACKGROUND_CALLS = frozenset({"os.fork", "os.setsid", "threading.Thread", "_thread.start_new_thread", "os.daemon"})
_ENV_DUMP_ATTRS = frozenset({"items", "copy", "keys", "values", "__iter__"})


@dataclass(frozen=True, slots=True)
class Stage:
    """One decoded layer: how, and the start of what came out."""

    method: str
    preview: str


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What a piece of code does, found without running it."""

    parses: bool
    error: str = ""
    imports: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = ()


def classify(source: str) -> CodeFacts:
    """Classify `source` (one `.pth` line, or any short program)."""
    state = _State()
    ok = _analyse(source, state, depth=0)
    return CodeFacts(
        parses=ok,
        error=state.error,
        imports=tuple(dict.fromkeys(state.imports)),
        calls=tuple(dict.fromkeys(state.calls))[:64],
        capabilities=tuple(sorted(set(state.caps))),
        stages=tuple(state.stages),
    )


class _State:
    def __init__(self) -> None:
        self.imports: list[str] = []
        self.calls: list[str] = []
        self.caps: set[str] = set()
        self.stages: list[Stage] = []
        self.error = ""


def _analyse(source: str, state: _State, depth: int) -> bool:
    try:
        tree = ast.parse(source.replace("\x00", ""), mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        if depth == 0:
            state.error = f"{type(err).__name__}: {getattr(err, 'msg', err)}"
            state.caps.add(UNPARSABLE)
        return False
    _Visitor(state, depth, _aliases(tree)).visit(tree)
    return True


def _aliases(tree: ast.AST) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and _plain_name(node.value.func) == "__import__"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
            and isinstance(node.value.args[0].value, str)
        ):
            aliases[node.targets[0].id] = node.value.args[0].value.split(".")[0]
    return aliases


def _plain_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _plain_name(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


class _Visitor(ast.NodeVisitor):
    def __init__(self, state: _State, depth: int, aliases: dict[str, str]) -> None:
        self.state = state
        self.depth = depth
        self.aliases = aliases

    def resolve(self, node: ast.AST) -> str:
        """Dotted name of an expression through import aliases; `__import__('x').y` -> `x.y`."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else ""
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if func in ("__import__", "importlib.import_module") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    return first.value
        return ""

    # Imports.

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self._imported(a.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self._imported(node.module)

    def _imported(self, module: str) -> None:
        self.state.imports.append(module)
        if module.split(".", maxsplit=1)[0] in {m.split(".")[0] for m in _NETWORK_MODULES}:
            self.state.caps.add(NETWORK)
        if module.split(".", maxsplit=1)[0] in ("ctypes", "cffi"):
            self.state.caps.add(NATIVE)

    # Names and attributes.

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self.resolve(node)
        if name == "os.environ" or name.startswith("os.environ."):
            attr = name.removeprefix("os.environ").lstrip(".")
            if attr in _ENV_DUMP_ATTRS:
                self.state.caps.add(ENV_DUMP)
            else:
                self.state.caps.add(ENV_READ)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _NETWORK_WORDS.search(node.value):
            self.state.caps.add(NETWORK)

    # Calls.

    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(node.func)
        if name:
            self.state.calls.append(name)
        self._classify_call(name, node)
        self.generic_visit(node)

    def _classify_call(self, name: str, node: ast.Call) -> None:
        caps = self.state.caps
        if name in _EXECUTORS:
            self._executor(node)
        elif name in _DECODERS:
            caps.add(DECODE)
        elif name in _PROCESS_CALLS or name.startswith(_PROCESS_PREFIXES):
            caps.add(PROCESS)
            self._process(node)
        elif name in _BACKGROUND_CALLS:
            caps.add(BACKGROUND)
        elif name.startswith(tuple(m + "." for m in _NETWORK_MODULES)) or name in _NETWORK_MODULES:
            caps.add(NETWORK)
        elif name in ("__import__", "importlib.import_module", "importlib.__import__"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self._imported(first.value)
            else:
                caps.add(DYNAMIC_IMPORT)
        elif name in ("os.getenv", "os.environ.get", "os.getenvb"):
            caps.add(ENV_READ)
        elif name in ("dict", "str", "repr", "json.dumps", "list") and any(
            self.resolve(a) == "os.environ" for a in node.args
        ):
            caps.add(ENV_DUMP)
        elif (name == "open" and _writes(node)) or name.endswith((".write_text", ".write_bytes", "shutil.copy")):
            caps.add(FILE_WRITE)
        for kw in node.keywords:
            if kw.arg == "start_new_session" or (kw.arg == "creationflags" and name.startswith("subprocess.")):
                caps.add(BACKGROUND)

    def _executor(self, node: ast.Call) -> None:
        if not node.args:
            return
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str | bytes):
            self.state.caps.add(EXEC_LITERAL)
            self._nested(_as_text(arg.value), "literal passed to exec")
            return
        decoded = self._decode(arg)
        if decoded is not None:
            self.state.caps.update((DECODE, DECODE_EXEC))
            self._nested(decoded, "")
            return
        if self._contains_decoder(arg):
            self.state.caps.update((DECODE, DECODE_EXEC))
        elif self._from_environment(arg):
            # Code the user puts in an environment variable (manhole, PYTHONSTARTUP-like hooks):
            # whoever controls the environment runs code anyway. Literals inside (a default
            # "payload") are still analysed as code.
            self.state.caps.add(ENV_CODE)
            for const in ast.walk(arg):
                if isinstance(const, ast.Constant) and isinstance(const.value, str) and const.value.strip():
                    self._nested(const.value, "literal inside code taken from the environment")
            return
        self.state.caps.add(DYNAMIC_CODE)

    def _from_environment(self, node: ast.AST) -> bool:
        names = {self.resolve(n) for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute | ast.Call)}
        return bool(names & {"os.environ", "os.environ.get", "os.getenv", "os.environb"})

    def _process(self, node: ast.Call) -> None:
        """`sys.executable -c CODE`: CODE is a program in its own right, analyse it."""
        args: list[ast.expr] = []
        for a in node.args:
            args.extend(a.elts if isinstance(a, ast.List | ast.Tuple) else [a])
        names = [self.resolve(a) for a in args]
        if any(n in ("sys.executable", "sys._base_executable") for n in names) or any(
            isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.split("/")[-1].startswith("python")
            for a in args
        ):
            self.state.caps.add(CHILD_INTERPRETER)
        for i, a in enumerate(args[:-1]):
            if isinstance(a, ast.Constant) and a.value == "-c":
                code = args[i + 1]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    self._nested(code.value, "code passed to a child interpreter (-c)")
                elif self._decode(code) is not None or self._contains_decoder(code):
                    self.state.caps.update((DECODE, DECODE_EXEC))
                else:
                    self.state.caps.add(DYNAMIC_CODE)

    def _nested(self, code: str, method: str) -> None:
        if self.depth >= MAX_DEPTH:
            return
        if method:
            self.state.stages.append(Stage(method, code[:PREVIEW]))
        _analyse(code, self.state, self.depth + 1)

    def _contains_decoder(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Call) and self.resolve(n.func) in _DECODERS for n in ast.walk(node))

    def _decode(self, node: ast.AST, budget: int = MAX_DEPTH) -> str | None:
        """Statically evaluate decoder calls over literals; None when it cannot be done."""
        value = self._value(node, budget)
        if value is None:
            return None
        return _as_text(value)

    def _value(self, node: ast.AST, budget: int) -> bytes | str | None:  # noqa: PLR0911 - one return per form
        if budget <= 0:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            return node.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "decode":
            inner = self._value(node.func.value, budget - 1)
            return _as_text(inner) if inner is not None else None
        if not isinstance(node, ast.Call) or not node.args:
            return None
        method = _DECODERS.get(self.resolve(node.func))
        if method is None:
            return None
        inner = self._value(node.args[0], budget - 1)
        if inner is None:
            return None
        extra = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else None
        out = _run_decoder(method, inner, extra)
        if out is not None:
            self.state.stages.append(Stage(method, _as_text(out)[:PREVIEW]))
        return out


def _writes(node: ast.Call) -> bool:
    mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")


def _as_text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return value.decode("utf-8", "replace")


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1", "replace")


def _run_decoder(method: str, data: bytes | str, extra: object) -> bytes | str | None:  # noqa: PLR0911
    raw = _as_bytes(data)
    try:
        if method == "base64":
            return base64.b64decode(raw + b"=" * (-len(raw.strip()) % 4), altchars=None)[:MAX_DECODED]
        if method == "base32":
            return base64.b32decode(raw)[:MAX_DECODED]
        if method == "base16":
            return base64.b16decode(raw, casefold=True)[:MAX_DECODED]
        if method == "base85":
            return base64.b85decode(raw)[:MAX_DECODED]
        if method == "ascii85":
            return base64.a85decode(raw)[:MAX_DECODED]
        if method == "hex":
            return bytes.fromhex(_as_text(data))[:MAX_DECODED]
        if method in ("zlib", "gzip"):
            wbits = 47 if method == "gzip" else 15 + 32
            return zlib.decompressobj(wbits).decompress(raw, MAX_DECODED)
        if method == "bz2":
            return bz2.BZ2Decompressor().decompress(raw, MAX_DECODED)
        if method == "lzma":
            return lzma.LZMADecompressor().decompress(raw, MAX_DECODED)
        if method == "codecs" and isinstance(extra, str) and extra.replace("_", "").lower() in ("rot13", "rot_13"):
            return codecs.decode(_as_text(data), "rot13")
        if method == "codecs" and isinstance(extra, str) and extra.lower() in ("base64", "hex", "zlib"):
            return _run_decoder(extra.lower(), data, None)
    except (ValueError, binascii.Error, zlib.error, OSError, EOFError, lzma.LZMAError, LookupError):
        return None
    return None
