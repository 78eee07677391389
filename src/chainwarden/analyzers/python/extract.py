"""One pass over a Python file's tree: scopes, imports, calls, capabilities and decoded payloads.

Every function and method is its own scope (nested functions and classes are folded into the
scope that defines them); the module scope holds everything that runs at import, class bodies
and decorators included. Calls are resolved through the file's import aliases. Arguments of
`exec`/`eval`/`compile` and code handed to a child interpreter are folded by `deobfuscate`
and, when they yield text, analysed as code in turn (bounded depth), their signals carrying
the decoding stages.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass, field

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.astutil import (
    ALIASABLE,
    BUILTIN_PREFIXES,
    CHILD_FIELDS,
    DEVNULL,
    ENV_METHODS,
    ENV_WHOLE_CALLS,
    INTERESTING_HEADS,
    PYTHON_CMD,
    SPECIAL,
    STDLIB,
    URL_METHODS,
    child_fields,
    codec_decode,
    const_arg,
    dedupe,
    is_main_guard,
    leftmost,
    partial_text,
    sends_data,
)
from chainwarden.analyzers.python.deobfuscate import DECODER_HINTS, CodeBlob, Evaluator, Value, as_text, preview
from chainwarden.analyzers.python.facts import (
    MAIN_SCOPE,
    MODULE_SCOPE,
    PYTHON,
    ClassInfo,
    Import,
    Problem,
    PyFacts,
    Scope,
    Signal,
)
from chainwarden.analyzers.python.payloads import EXECUTABLE, blind_decode, powershell_encoded, shell_code
from chainwarden.analyzers.python.source import read_source
from chainwarden.analyzers.python.special import start_entries
from chainwarden.models import DecodedStage

MAX_PAYLOAD_DEPTH = 8
MAX_BLIND = 16  # long constants tried blind per file
MAX_WRITTEN = 64  # source-code literals written to files, analysed per file
WRITTEN_MIN = 24
_NAMESPACES = frozenset({"globals", "vars", "locals"})
#: First words of a command line handed to a local helper that are worth reading as a command.
_SHELL_PROGRAMS = frozenset(
    {"powershell", "powershell.exe", "pwsh", "cmd", "cmd.exe", "curl", "wget", "mshta", "certutil", "bitsadmin"}
)
_HOST_KEYS = frozenset({"Host"})  # the header's spelling; `"host"` keys are mostly connection settings
#: boto3/botocore methods that hand out the caller's cloud keys.
_CREDENTIAL_GETTERS = frozenset({"get_credentials", "get_frozen_credentials"})
_CODE_WORDS = re.compile(r"\bimport\s|\bexec\s*\(|\beval\s*\(")
BLIND_MIN = 160
SNIPPET = 200
START_FILE_MAX = 64 * 1024


@dataclass(slots=True)
class _ScopeState:
    name: str
    line: int
    calls: set[str] = field(default_factory=set)
    spawns: set[str] = field(default_factory=set)
    signals: list[Signal] = field(default_factory=list)
    strings: list[tuple[int, str]] = field(default_factory=list)  # (line, constant)
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    augments: dict[str, list[ast.expr]] = field(default_factory=dict)  # `name += expr`, for hints
    sinks: list[tuple[ast.Call, ast.expr, str]] = field(default_factory=list)  # call, code arg, how


def extract_python(data: bytes, depth: int = 0) -> PyFacts:
    """Facts of one Python source file."""
    src = read_source(data)
    if src.tree is None:
        return PyFacts(kind=PYTHON, encoding=src.encoding, problems=src.problems)
    walker = _Walker(src.text, depth)
    try:
        walker.run(src.tree)
    except (RecursionError, MemoryError) as err:
        problem = Problem("too-complex", 1, f"analysis gave up: {type(err).__name__}")
        return PyFacts(kind=PYTHON, encoding=src.encoding, problems=(*src.problems, problem))
    facts = walker.facts(src.encoding, src.problems)
    if len(data) < START_FILE_MAX:
        entries = start_entries(src.tree, src.text)
        if entries:
            facts = dataclasses.replace(facts, startup_targets=entries)
    return facts


def _may_run(annotation: ast.expr) -> bool:
    """Whether evaluating an annotation can do more than look names up: plain type expressions
    (`int`, `Optional[a.B]`, `list[str] | None`) cannot; a call hidden in one can."""
    stack: list[ast.AST] = [annotation]
    while stack:
        node = stack.pop()
        t = type(node)
        if t is ast.Name or t is ast.Constant:
            continue
        if t is ast.Attribute:
            stack.append(node.value)  # type: ignore[attr-defined]
        elif t is ast.Subscript:
            stack.append(node.value)  # type: ignore[attr-defined]
            stack.append(node.slice)  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            stack.extend(node.elts)  # type: ignore[attr-defined]
        elif t is ast.BinOp:
            stack.append(node.left)  # type: ignore[attr-defined]
            stack.append(node.right)  # type: ignore[attr-defined]
        else:
            return True
    return False


def payload_signals(text: str, depth: int, stages: tuple[DecodedStage, ...], line: int) -> list[Signal]:
    """Signals of code found inside data, re-anchored at the outer line and carrying the stages."""
    if depth > MAX_PAYLOAD_DEPTH:
        return [Signal(cap.DECODE_EXEC, "decoding depth limit reached", line, "", stages)]
    facts = extract_python(text.encode("utf-8", "surrogatepass"), depth)
    out: list[Signal] = []
    for scope in facts.scopes:
        for s in scope.signals:
            detail = s.detail if s.detail.startswith("in decoded code") else f"in decoded code: {s.detail}"
            out.append(Signal(s.kind, detail, line, s.snippet, stages + s.stages))
        out.extend(Signal(cap.THREAD, f"in decoded code: {t}", line, "", stages) for t in scope.spawns.split() if t)
    return out


def _fronted(value: ast.expr) -> bool:
    """A Host header naming a public host name (not localhost or an address)."""
    if type(value) is not ast.Constant or not isinstance(value.value, str):
        return False
    host = value.value.strip().lower()
    return "." in host and " " not in host and not host.startswith(("localhost", "127.")) and not host[:1].isdigit()


class _Walker:
    def __init__(self, text: str, depth: int) -> None:
        self.text = text
        self.depth = depth
        self.lines: list[str] | None = None
        self.aliases: dict[str, str] = {}
        self.defined: set[str] = set()
        self.module = _ScopeState(MODULE_SCOPE, 0)
        self.scopes: list[_ScopeState] = [self.module]
        self.imports: list[Import] = []
        self.classes: list[ClassInfo] = []
        self.class_stack: list[str] = []
        self.blind_left = MAX_BLIND
        self.lazy_annotations = False  # `from __future__ import annotations`: never evaluated
        self.written_left = MAX_WRITTEN

    # -- driver ---------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self._prescan(tree.body)
        self._walk_block(tree.body, self.module, "")
        for scope in self.scopes:
            self._finish_scope(scope)

    def facts(self, encoding: str, problems: tuple[Problem, ...]) -> PyFacts:
        scopes = tuple(
            Scope(
                name=s.name,
                line=s.line,
                calls=" ".join(sorted(s.calls)),
                spawns=" ".join(sorted(s.spawns)),
                signals=tuple(dedupe(s.signals)),
            )
            for s in self.scopes
            if s.calls or s.spawns or s.signals or s is self.module
        )
        return PyFacts(
            kind=PYTHON,
            encoding=encoding,
            problems=problems,
            imports=tuple(self.imports),
            scopes=scopes,
            classes=tuple(self.classes),
        )

    def _prescan(self, body: list[ast.stmt]) -> None:
        """Module-level names (functions, classes, imports) before any call is resolved."""
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defined.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                self._alias(node)
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    self.lazy_annotations |= any(a.name == "annotations" for a in node.names)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for sub in (getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                    self._prescan(sub)
                for handler in getattr(node, "handlers", []):
                    self._prescan(handler.body)

    def _alias(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.aliases[a.asname] = a.name
                else:
                    head = a.name.split(".", 1)[0]
                    self.aliases.setdefault(head, head)
            return
        base = "." * node.level + (node.module or "")
        for a in node.names:
            if a.name == "*":
                continue
            target = f"{base}.{a.name}" if base and not base.endswith(".") else f"{base}{a.name}"
            self.aliases[a.asname or a.name] = target

    # -- walking --------------------------------------------------------------------------

    def _walk_block(self, body: list[ast.stmt], scope: _ScopeState, prefix: str) -> None:
        stack: list[ast.AST] = list(reversed(body))
        name_t, attr_t, const_t, call_t = ast.Name, ast.Attribute, ast.Constant, ast.Call
        fields_of = CHILD_FIELDS
        sysinfo_names = cap.SYSINFO_VARIABLES
        while stack:
            node = stack.pop()
            t = type(node)
            if t is name_t:
                continue
            if t is attr_t:
                stack.append(node.value)  # type: ignore[attr-defined]
                continue
            if t is const_t:
                value = node.value  # type: ignore[attr-defined]
                if type(value) is str and len(value) >= 4:  # noqa: PLR2004
                    scope.strings.append((node.lineno, value))  # type: ignore[attr-defined]
                    if value in sysinfo_names:
                        self._signal(scope, cap.SYSTEM_INFO, f"{value} (user/host name variable)", node)
                elif type(value) is bytes and len(value) >= BLIND_MIN:
                    self._blind(value, node.lineno, scope)  # type: ignore[attr-defined]
                continue
            if t is call_t:
                self._call(node, scope)  # type: ignore[arg-type]
            elif t in SPECIAL and not self._statement(node, t, scope, prefix, stack):
                continue
            fields = fields_of.get(t)
            if fields is None:
                fields = child_fields(t)
            for field_name in fields:
                child = getattr(node, field_name)
                if type(child) is list:
                    stack.extend(child)
                elif child is not None:
                    stack.append(child)

    def _statement(self, node: ast.AST, t: type, scope: _ScopeState, prefix: str, stack: list[ast.AST]) -> bool:  # noqa: C901, PLR0912
        """Handle the node types that need more than a walk; False when children are done."""
        if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            self._enter_function(node, scope, prefix, stack)  # type: ignore[arg-type]
            return False
        if t is ast.ClassDef:
            self._enter_class(node, scope, prefix, stack)  # type: ignore[arg-type]
            return False
        if t is ast.Expr and type(node.value) is ast.Constant:  # type: ignore[attr-defined]
            return False  # docstrings say nothing about behaviour
        if t is ast.If and scope is self.module and is_main_guard(node.test):  # type: ignore[attr-defined]
            main = _ScopeState(MAIN_SCOPE, node.lineno)  # type: ignore[attr-defined]
            self.scopes.append(main)
            self._walk_block(node.body, main, prefix)  # type: ignore[attr-defined]
            stack.extend(node.orelse)  # type: ignore[attr-defined]
            return False
        if t is ast.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                if type(target) is ast.Name:
                    scope.assigns[target.id] = node.value  # type: ignore[attr-defined]
                    self._builtin_alias(target.id, node.value, scope)  # type: ignore[attr-defined]
                elif type(target) is ast.Tuple and type(node.value) is ast.Tuple:  # type: ignore[attr-defined]
                    for name, value in zip(target.elts, node.value.elts, strict=False):  # type: ignore[attr-defined]
                        if type(name) is ast.Name:
                            self._builtin_alias(name.id, value, scope)
        elif t is ast.AnnAssign:
            # `x: T = v` at module or class level evaluates T (stored in __annotations__).
            annotation = node.annotation  # type: ignore[attr-defined]
            if scope is self.module and not self.lazy_annotations and _may_run(annotation):
                stack.append(annotation)
        elif t is ast.AugAssign:
            target = node.target  # type: ignore[attr-defined]
            if type(target) is ast.Name:
                scope.augments.setdefault(target.id, []).append(node.value)  # type: ignore[attr-defined]
        elif t is ast.Import or t is ast.ImportFrom:
            self._import(node, scope)  # type: ignore[arg-type]
            return False
        elif t is ast.For or t is ast.AsyncFor or t is ast.comprehension:
            if self._resolve(node.iter) == "os.environ":  # type: ignore[attr-defined]
                self._signal(scope, cap.ENV_DUMP, "iterates os.environ", node.iter)  # type: ignore[attr-defined]
        elif t is ast.With or t is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                if type(item.optional_vars) is ast.Name:  # `with urlopen(url) as r:` binds r before the body
                    scope.assigns[item.optional_vars.id] = item.context_expr
        elif t is ast.Dict:
            for key, value in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
                if key is None and self._resolve(value) == "os.environ":
                    self._signal(scope, cap.ENV_DUMP, "{**os.environ}", value)
                elif type(key) is ast.Constant and key.value in _HOST_KEYS and _fronted(value):
                    # a hand-set Host header sends the request to another site than its URL names (fronting)
                    self._signal(scope, cap.EXFIL_ENDPOINT, f"Host header set to {str(value.value)[:60]!r}", value)
        return True

    def _builtin_alias(self, name: str, value: ast.expr, scope: _ScopeState) -> None:
        """`e = eval` and the obfuscated `e = eval("eval")`: later calls through `e` are calls to eval."""
        if type(value) is ast.Name and value.id in ALIASABLE:
            self.aliases[name] = value.id
        elif type(value) is ast.Call and value.args and type(value.args[0]) is ast.Constant:
            fn = self._resolve(value.func)
            text = value.args[0].value
            if fn in {"eval", "exec"} and isinstance(text, str) and text.strip() in ALIASABLE:
                self.aliases[name] = text.strip()
                self._signal(scope, cap.OBFUSCATED, f"{fn}({text.strip()!r}) to reach a builtin", value)

    def _enter_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _ScopeState, prefix: str, stack: list[ast.AST]
    ) -> None:
        # Decorators and defaults run where the function is defined; so do annotations, unless
        # the module has `from __future__ import annotations`.
        stack.extend(node.decorator_list)
        stack.extend(d for d in node.args.defaults)
        stack.extend(d for d in node.args.kw_defaults if d is not None)
        if not self.lazy_annotations:
            args = node.args
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if a is not None and a.annotation is not None and _may_run(a.annotation):
                    stack.append(a.annotation)
            if node.returns is not None and _may_run(node.returns):
                stack.append(node.returns)
        if scope is self.module:
            inner = _ScopeState(prefix + node.name, node.lineno)
            self.scopes.append(inner)
            self._walk_block(node.body, inner, prefix + node.name + ".")
        else:  # a function nested in a function: folded into its parent
            self._walk_block(node.body, scope, prefix)

    def _enter_class(self, node: ast.ClassDef, scope: _ScopeState, prefix: str, stack: list[ast.AST]) -> None:
        stack.extend(node.decorator_list)
        stack.extend(node.bases)
        stack.extend(k.value for k in node.keywords)
        if scope is self.module:
            self.classes.append(ClassInfo(prefix + node.name, tuple(self._resolve(b) for b in node.bases), node.lineno))
            self.class_stack.append(prefix + node.name)
            try:
                self._walk_block(node.body, scope, prefix + node.name + ".")
            finally:
                self.class_stack.pop()
        else:
            self._walk_block(node.body, scope, prefix)

    def _import(self, node: ast.Import | ast.ImportFrom, scope: _ScopeState) -> None:
        self._alias(node)
        # Standard-library imports never lead into the package: left out to keep facts small.
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".", 1)[0] not in STDLIB:
                    self.imports.append(Import(a.name, 0, (), scope.name, node.lineno))
                    self._packed_import(a.name, node, scope)
        elif node.level or (node.module or "").split(".", 1)[0] not in STDLIB:
            names = tuple(f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names)
            self.imports.append(Import(node.module or "", node.level, names, scope.name, node.lineno))
            self._packed_import(node.module or "", node, scope)

    def _packed_import(self, module: str, node: ast.stmt, scope: _ScopeState) -> None:
        if module.startswith(("pytransform", "pyarmor_runtime")):
            self._signal(scope, cap.PACKED, f"imports {module} (PyArmor)", node)

    # -- names ----------------------------------------------------------------------------

    def _resolve(self, node: ast.expr, hops: int = 0) -> str:  # noqa: PLR0911
        """Dotted name of an expression (`np.array` -> `numpy.array`), or "" when not a name."""
        if hops > 12:  # noqa: PLR2004
            return ""
        t = type(node)
        if t is ast.Name:
            ident: str = node.id  # type: ignore[attr-defined]
            return self.aliases.get(ident, ident)
        if t is ast.Attribute:
            base = self._resolve(node.value, hops + 1)  # type: ignore[attr-defined]
            if not base:
                return ""
            if base in {"self", "cls"} and self.class_stack:
                return f"{self.class_stack[-1]}.{node.attr}"  # type: ignore[attr-defined]
            full = f"{base}.{node.attr}"  # type: ignore[attr-defined]
            return full.split(".", 1)[1] if full.startswith(BUILTIN_PREFIXES) else full
        if t is ast.Call:
            fn = self._resolve(node.func, hops + 1)  # type: ignore[attr-defined]
            args = node.args  # type: ignore[attr-defined]
            if fn in cap.IMPORT_SINKS and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                return args[0].value
            if fn in _NAMESPACES and not args:
                return fn  # `globals()["eval"]`: resolved by the subscript below
            if (
                fn == "getattr"
                and len(args) >= 2  # noqa: PLR2004 - getattr(obj, name)
                and isinstance(args[1], ast.Constant)
                and isinstance(args[1].value, str)
            ):
                base = self._resolve(args[0], hops + 1)
                return f"{base}.{args[1].value}" if base and base not in BUILTIN_PREFIXES else args[1].value
            return ""
        if t is ast.Subscript:
            sl = node.slice  # type: ignore[attr-defined]
            if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                base = self._resolve(node.value, hops + 1)  # type: ignore[attr-defined]
                if base in {"__builtins__", "builtins", "builtins.__dict__"} or base in _NAMESPACES:
                    return sl.value
            return ""
        return ""

    def _lookup(self, scope: _ScopeState) -> Evaluator:
        def lookup(name: str) -> ast.expr | None:
            if name in scope.augments or name in self.module.augments:
                return None  # built up in steps (`+=` in a loop): not a constant
            return scope.assigns.get(name) or self.module.assigns.get(name)

        return Evaluator(self._resolve, lookup)

    # -- calls ----------------------------------------------------------------------------

    def _call(self, node: ast.Call, scope: _ScopeState) -> None:  # noqa: C901, PLR0912
        name = self._resolve(node.func)
        head = name.partition(".")[0]
        if not head:
            if name:  # relative import: inside the package
                scope.calls.add(name)
            return
        written = leftmost(node.func)
        if (head not in STDLIB and (written in self.defined or written in self.aliases)) or (
            self.class_stack and name.startswith(self.class_stack[-1] + ".")
        ):
            scope.calls.add(name)
        if head not in INTERESTING_HEADS and head not in self.aliases:
            self._plain_call(node, scope)
            return
        if type(node.func) is ast.Subscript and (name in cap.EXEC_SINKS or name in cap.IMPORT_SINKS):
            self._signal(scope, cap.HIDDEN_BUILTIN, f"{name} looked up by a string", node)
        for tag in cap.classify_call(name):
            self._signal(scope, tag, name, node)
            if tag == cap.NETWORK and (sends_data(name, node) or self._carries_output(node)):
                self._signal(scope, cap.NETWORK_SEND, name, node)
        if name in cap.EXEC_SINKS:
            if node.args:
                scope.sinks.append((node, node.args[0], "exec"))
        elif name in cap.IMPORT_SINKS:
            if node.args and not isinstance(node.args[0], ast.Constant):
                self._signal(scope, cap.DYNAMIC_IMPORT, f"{name} of a computed name", node)
        elif name in cap.PROCESS_CALLS or name.startswith(("os.exec", "os.spawn")):
            self._process(node, name, scope)
        elif name in cap.SPAWNERS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in {"submit", "run_in_executor"}
        ):
            self._spawn(node, name, scope)
        elif name in {"marshal.loads", "pickle.loads"}:
            self._signal(scope, cap.PACKED, name, node)
        elif name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):  # noqa: PLR2004
            if self._resolve(node.args[0]) in {"__builtins__", "builtins", "__builtin__"}:
                self._signal(scope, cap.OBFUSCATED, "builtin looked up by a computed name", node)
        elif name in {"os.getenv", "os.environ.get"} and node.args:
            if const_arg(node, 0, "key") in cap.SYSINFO_VARIABLES:
                self._signal(scope, cap.SYSTEM_INFO, f"{name}({const_arg(node, 0, 'key')!r})", node)
        elif name in ENV_WHOLE_CALLS and node.args and self._resolve(node.args[0]) == "os.environ":
            self._signal(scope, cap.ENV_DUMP, f"{name}(os.environ)", node)
        elif name in ENV_METHODS:
            self._signal(scope, cap.ENV_DUMP, name, node)
        elif name in {"open", "io.open", "codecs.open"} or name.endswith((".write_text", ".write_bytes")):
            self._file_write(node, name, scope)
        elif name in {"os.chmod", "os.dup2"} and len(node.args) >= 2:  # noqa: PLR2004
            (self._chmod if name == "os.chmod" else self._dup2)(node, scope)
        elif name in {"tarfile.open", "zipfile.ZipFile"}:
            mode = const_arg(node, 1, "mode")
            if isinstance(mode, str) and mode[:1] in {"w", "a", "x"}:
                self._signal(scope, cap.ARCHIVE, name, node)
        elif isinstance(node.func, ast.Attribute) and node.args:
            self._unknown_method(node, node.func.attr, scope)
        if name.rsplit(".", 1)[-1] == "decrypt" or name.endswith(".Fernet"):
            self._signal(scope, cap.ENCRYPT, name, node)

    def _plain_call(self, node: ast.Call, scope: _ScopeState) -> None:
        """A call of something not imported from a module of interest: methods, local helpers."""
        if node.args and type(node.func) is ast.Attribute:
            self._unknown_method(node, node.func.attr, scope)
        elif len(node.args) >= 2 and type(node.args[1]) is ast.Constant:  # noqa: PLR2004
            self._module_written(node, scope)
        elif node.args and type(node.args[0]) is ast.Constant and type(node.func) is ast.Name:
            self._command_helper(node, node.func.id, node.args[0].value, scope)
        elif type(node.func) is ast.Attribute and node.func.attr in _CREDENTIAL_GETTERS:
            self._signal(scope, cap.SECRETS, f".{node.func.attr}() (cloud credentials)", node)

    def _unknown_method(self, node: ast.Call, attr: str, scope: _ScopeState) -> None:
        first = node.args[0]
        if attr in URL_METHODS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            if first.value.startswith(("http://", "https://")):
                self._signal(scope, cap.NETWORK, f".{attr}({first.value[:80]!r})", node)
        elif attr in {"connect", "sendall", "sendto"} and isinstance(first, ast.Tuple):
            self._signal(scope, cap.NETWORK, f".{attr}()", node)
        elif attr in {"write_text", "write_bytes"}:
            self._signal(scope, cap.FILE_WRITE, f".{attr}()", node)
            self._written_code(first, node, scope)
        elif attr == "write":
            self._written_code(first, node, scope)
            self._written_download(first, node, scope)

    def _written_download(self, arg: ast.expr, node: ast.Call, scope: _ScopeState) -> None:
        """`fh.write(requests.get(url).content)`, `r = urlopen(url)` ... `fh.write(r.read())`: a response
        body saved to a file is a download."""
        for _ in range(2):  # the expression, then what its name was bound to
            while isinstance(arg, ast.Attribute | ast.Call):
                if isinstance(arg, ast.Call):
                    fetched = self._resolve(arg.func)
                    if cap.NETWORK in cap.classify_call(fetched):
                        self._signal(scope, cap.DOWNLOAD, f"response of {fetched} written to a file", node)
                        return
                    if not isinstance(arg.func, ast.Attribute):
                        return
                    arg = arg.func.value
                else:
                    arg = arg.value
            if not isinstance(arg, ast.Name) or arg.id not in scope.assigns:
                return
            arg = scope.assigns[arg.id]

    def _carries_output(self, node: ast.Call) -> bool:
        """A request whose URL or body is built from a command's output (`os.popen("id").read()`)."""
        for arg in (*node.args, *(k.value for k in node.keywords)):
            if type(arg) is ast.Constant or type(arg) is ast.Name:
                continue
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Call) and cap.PROCESS in cap.classify_call(self._resolve(sub.func)):
                    return True
        return False

    def _command_helper(self, node: ast.Call, helper: str, value: object, scope: _ScopeState) -> None:
        """`run("powershell -command ...")`: a command line handed to a helper of this file, which
        setup.py droppers define to wrap `subprocess.Popen(cmd, shell=True)`."""
        if helper not in self.defined or not isinstance(value, str):
            return
        first = value.split(None, 1)[0].rsplit("\\", 1)[-1].lower() if value.strip() else ""
        if first in _SHELL_PROGRAMS:
            self._signal(scope, cap.PROCESS, f"{helper}({value[:40]!r}…)", node)
            self._shell(value, (), node, scope)

    def _module_written(self, node: ast.Call, scope: _ScopeState) -> None:
        """`write_module("pkg/mod.py", b"import os ...")`: a helper handed a module's name and source
        (bundlers such as stickytape unpack a whole program this way)."""
        name = node.args[0]
        if type(name) is ast.Constant and isinstance(name.value, str) and name.value.endswith(".py"):
            self._written_code(node.args[1], node, scope)

    def _written_code(self, arg: ast.expr, node: ast.Call, scope: _ScopeState) -> None:
        """Source code written out as a literal (to be run from the file later): analysed as code,
        its signals carrying a `written to a file` stage."""
        if type(arg) is not ast.Constant or self.written_left <= 0:
            return
        value = arg.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str) or len(value) < WRITTEN_MIN or not _CODE_WORDS.search(value):
            return
        self.written_left -= 1
        stage = (DecodedStage("source code written to a file", preview(value)),)
        scope.signals.extend(payload_signals(value, self.depth + 1, stage, node.lineno))

    def _file_write(self, node: ast.Call, name: str, scope: _ScopeState) -> None:
        if name.endswith((".write_text", ".write_bytes")):
            self._signal(scope, cap.FILE_WRITE, name, node)
            return
        mode = const_arg(node, 1, "mode")
        if isinstance(mode, str) and any(c in mode for c in "wax"):
            target = const_arg(node, 0, "file")
            detail = f"open({target!r}, {mode!r})" if isinstance(target, str) else f"open(..., {mode!r})"
            self._signal(scope, cap.FILE_WRITE, detail, node)

    def _chmod(self, node: ast.Call, scope: _ScopeState) -> None:
        mode = node.args[1]
        if isinstance(mode, ast.Constant) and isinstance(mode.value, int) and mode.value & 0o111:
            self._signal(scope, cap.MAKE_EXECUTABLE, f"os.chmod(..., {mode.value:#o})", node)
        elif any(
            "EXEC" in self._resolve(n) or "IX" in self._resolve(n)
            for n in ast.walk(mode)
            if isinstance(n, ast.Attribute)
        ):
            self._signal(scope, cap.MAKE_EXECUTABLE, "os.chmod(..., +x)", node)

    def _dup2(self, node: ast.Call, scope: _ScopeState) -> None:
        """`os.dup2(s.fileno(), 0)`: a socket (or other object) wired onto stdin/stdout/stderr."""
        source, target = node.args[0], node.args[1]
        if (
            type(source) is ast.Call
            and type(source.func) is ast.Attribute
            and source.func.attr == "fileno"
            and type(source.func.value) is ast.Name
            and type(target) is ast.Constant
            and target.value in {0, 1, 2}
        ):
            self._signal(scope, cap.REVERSE_SHELL, f"os.dup2({source.func.value.id}.fileno(), {target.value})", node)

    def _spawn(self, node: ast.Call, name: str, scope: _ScopeState) -> None:
        target: ast.expr | None = None
        for kw in node.keywords:
            if kw.arg in {"target", "function"}:
                target = kw.value
        if target is None and node.args:
            index = 1 if name in {"threading.Timer", "signal.signal"} or name.endswith("run_in_executor") else 0
            if len(node.args) > index:
                target = node.args[index]
        if target is None:
            return
        if isinstance(target, ast.Lambda):
            self._signal(scope, cap.THREAD, f"{name or 'submit'}(lambda)", node)
            return
        callee = self._resolve(target)
        if not callee and isinstance(target, ast.Attribute) and isinstance(target.value, ast.Call):
            made = self._resolve(target.value.func)  # `Thread(target=Grabber().main)`: a method of a new instance
            callee = f"{made}.{target.attr}" if made in self.defined else ""
        if callee:
            scope.spawns.add(callee)
            self._signal(scope, cap.THREAD, f"{name or 'submit'}({callee})", node)

    def _process(self, node: ast.Call, name: str, scope: _ScopeState) -> None:
        self._signal(scope, cap.PROCESS, name, node)
        if name == "os.startfile":  # ShellExecute: the program starts on its own, detached from Python
            self._signal(scope, cap.DETACHED, name, node)
        for kw in node.keywords:
            value = kw.value
            if kw.arg == "start_new_session" and isinstance(value, ast.Constant) and value.value is True:
                self._signal(scope, cap.DETACHED, "start_new_session=True", node)
            elif kw.arg in {"stdout", "stderr", "stdin"} and self._resolve(value) in DEVNULL:
                self._signal(scope, cap.DETACHED, f"{kw.arg}=DEVNULL", node)
            elif kw.arg == "creationflags" or (kw.arg == "preexec_fn" and self._resolve(value) == "os.setsid"):
                self._signal(scope, cap.DETACHED, kw.arg, node)
        command = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
        if command is None:
            return
        if isinstance(command, ast.List | ast.Tuple):
            self._argv(command.elts, node, scope)
            return
        folded = self._lookup(scope).evaluate(command)
        text = as_text(folded) if folded is not None else None
        if text is not None and folded is not None:
            self._shell(text, folded.stages, node, scope)
        else:
            if type(command) is ast.Name and command.id in scope.assigns:
                command = scope.assigns[command.id]  # `cmd = "curl -F ... " + path; os.system(cmd)`
            partial = partial_text(command)
            if partial:
                self._shell(partial, (), node, scope)

    def _argv(self, elts: list[ast.expr], node: ast.Call, scope: _ScopeState) -> None:
        evaluator = self._lookup(scope)
        words: list[str | None] = []
        for e in elts:
            if self._resolve(e) == "sys.executable":
                words.append("python")
                continue
            v = evaluator.evaluate(e)
            words.append(as_text(v) if v is not None else None)
        first = words[0] if words else None
        if first is not None and PYTHON_CMD.search(first.strip()):
            self._signal(scope, cap.CHILD_INTERPRETER, "python " + " ".join(w or "…" for w in words[1:3]), node)
            for i, w in enumerate(words[1:-1], start=1):
                if w == "-c":
                    scope.sinks.append((node, elts[i + 1], "child"))
        elif first is not None and first.rsplit("/", 1)[-1].lower() in cap.NETWORK_COMMANDS:
            self._signal(scope, cap.NETWORK, " ".join(w or "…" for w in words[:4]), node)
        elif first is not None and first.rsplit("/", 1)[-1].lower() in cap.RUNTIME_COMMANDS:
            self._signal(scope, cap.RUNTIME, " ".join(w or "…" for w in words[:3]), node)
        if any(w is not None and w.endswith((".js", ".mjs", ".cjs")) for w in words):
            self._signal(scope, cap.RUNTIME, "runs a JavaScript file", node)
        known = [w for w in words if w is not None]
        if known and first is not None and not PYTHON_CMD.search(first.strip()):
            self._shell(" ".join(known), (), node, scope)

    def _shell(self, text: str, stages: tuple[DecodedStage, ...], node: ast.Call, scope: _ScopeState) -> None:
        words = text.split()
        if words and words[0].rsplit("/", 1)[-1].lower() in cap.NETWORK_COMMANDS:
            self._signal(scope, cap.NETWORK, text[:80], node)
        if words and words[0].rsplit("/", 1)[-1].lower() in cap.RUNTIME_COMMANDS:
            self._signal(scope, cap.RUNTIME, text[:80], node)
        if words and (
            words[0].rsplit("/", 1)[-1].lower() in cap.SYSINFO_COMMANDS or text.strip() in cap.SYSINFO_COMMANDS
        ):
            self._signal(scope, cap.SYSTEM_INFO, text[:80], node)
        encoded = powershell_encoded(text)
        if encoded is not None:
            stage = (*stages, DecodedStage("base64 (powershell -EncodedCommand)", preview(encoded)))
            self._signal(scope, cap.DECODE_EXEC, "powershell -EncodedCommand", node, stage)
            for _, tag, match in cap.scan_strings(encoded):
                self._signal(scope, tag, f"in decoded command: {match}", node, stage)
        code = shell_code(text)
        if code is not None:
            self._signal(scope, cap.CHILD_INTERPRETER, "python -c in a shell command", node)
            scope.signals.extend(payload_signals(code, self.depth + 1, stages, node.lineno))
        for _, tag, match in cap.scan_strings(text):
            self._signal(scope, tag, match, node, stages)

    # -- deferred work --------------------------------------------------------------------

    def _finish_scope(self, scope: _ScopeState) -> None:
        for call, arg, how in scope.sinks:
            self._sink(call, arg, how, scope)
        if scope.strings:
            self._scan_strings(scope)
        scope.assigns.clear()
        scope.augments.clear()
        scope.sinks.clear()

    def _scan_strings(self, scope: _ScopeState) -> None:
        offsets: list[int] = []
        pos = 0
        for _, s in scope.strings:
            offsets.append(pos)
            pos += len(s) + 1
        joined = "\n".join(s for _, s in scope.strings)
        import bisect  # noqa: PLC0415 - only needed when strings exist

        for offset, tag, match in cap.scan_strings(joined):
            if tag in cap.COMMAND_ONLY:
                continue
            i = bisect.bisect_right(offsets, offset) - 1
            line = scope.strings[i][0]
            scope.signals.append(Signal(tag, match, line, self._snippet(line)))
        for line, s in scope.strings:
            if len(s) >= BLIND_MIN and self.blind_left > 0:
                self._blind(s, line, scope)

    def _blind(self, data: str | bytes, line: int, scope: _ScopeState) -> None:
        found = blind_decode(data)
        if found is None:
            return
        self.blind_left -= 1
        text, stages = found
        if text == EXECUTABLE:
            scope.signals.append(
                Signal(cap.HIDDEN_CODE, "encoded blob decodes to a native executable", line, "", stages)
            )
            return
        nested = payload_signals(text, self.depth + 1, stages, line)
        if nested:
            scope.signals.append(
                Signal(cap.HIDDEN_CODE, "encoded blob decodes to code", line, self._snippet(line), stages)
            )
            scope.signals.extend(nested)

    def _sink(self, call: ast.Call, arg: ast.expr, how: str, scope: _ScopeState) -> None:
        value = self._lookup(scope).evaluate(arg)
        if value is not None:
            self._folded_sink(call, value, how, scope)
            return
        hints, network = self._arg_hints(arg, scope)
        if network:
            self._signal(scope, cap.REMOTE_CODE, f"{how} of data fetched with {network}", call)
        elif hints:
            stage = DecodedStage("not folded: " + ", ".join(sorted(hints)), "")
            self._signal(scope, cap.DECODE_EXEC, f"{how} of decoded data", call, (stage,))
        elif how == "exec":
            self._signal(scope, cap.DYNAMIC_CODE, "exec/eval of computed data", call)

    def _folded_sink(self, call: ast.Call, value: Value, how: str, scope: _ScopeState) -> None:
        if isinstance(value.data, CodeBlob):
            self._signal(scope, cap.DECODE_EXEC, f"{how} of marshalled code", call, value.stages)
            for _, tag, match in cap.scan_strings("\n".join(value.data.strings)):
                self._signal(scope, tag, f"in marshalled code: {match}", call, value.stages)
            return
        text = as_text(value)
        if value.stages:
            self._signal(
                scope, cap.DECODE_EXEC, f"{how} of decoded data: {preview(text or value.data)[:60]}", call, value.stages
            )
        if text is not None:
            scope.signals.extend(payload_signals(text, self.depth + 1, value.stages, call.lineno))

    def _arg_hints(self, arg: ast.expr, scope: _ScopeState) -> tuple[set[str], str]:
        hints: set[str] = set()
        network = ""
        todo: list[tuple[ast.expr, int]] = [(arg, 0)]
        seen = 0
        while todo and seen < 2000:  # noqa: PLR2004
            expr, hop = todo.pop()
            for n in ast.walk(expr):
                seen += 1
                if isinstance(n, ast.Call):
                    name = self._resolve(n.func)
                    last = (
                        name.rsplit(".", 1)[-1] if name else (n.func.attr if isinstance(n.func, ast.Attribute) else "")
                    )
                    if cap.NETWORK in cap.classify_call(name):
                        network = name
                    elif (
                        last in DECODER_HINTS and (last != "decode" or codec_decode(n)) and last != "loads"
                    ) or name == "marshal.loads":
                        hints.add(last)
                elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitXor):
                    hints.add("xor")
                elif isinstance(n, ast.Name) and hop < 2:  # noqa: PLR2004
                    bound = scope.assigns.get(n.id) or self.module.assigns.get(n.id)
                    if bound is not None:
                        todo.append((bound, hop + 1))
                    todo.extend((extra, hop + 1) for extra in scope.augments.get(n.id, ())[:8])
        return hints, network

    # -- output ---------------------------------------------------------------------------

    def _snippet(self, line: int, column: int = 0) -> str:
        if self.lines is None:
            self.lines = self.text.splitlines()
        if not 1 <= line <= len(self.lines):
            return ""
        text = self.lines[line - 1]
        if len(text) > SNIPPET and column > SNIPPET // 4:
            text = "…" + text[column - SNIPPET // 4 :]  # long (padded, minified) lines: show the call itself
        return text.strip()[:SNIPPET]

    def _signal(
        self, scope: _ScopeState, tag: str, detail: str, node: ast.AST, stages: tuple[DecodedStage, ...] = ()
    ) -> None:
        line = getattr(node, "lineno", 0)
        snippet = self._snippet(line, getattr(node, "col_offset", 0))
        scope.signals.append(Signal(tag, detail[:160], line, snippet, stages))
