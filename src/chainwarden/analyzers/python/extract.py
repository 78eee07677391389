"""One pass over a Python file's tree: scopes, imports, calls, capabilities and decoded payloads.

Every function and method is its own scope (nested functions and classes are folded into the
scope that defines them); the module scope holds everything that runs at import, class bodies
and decorators included. Calls are resolved through the file's import aliases. Arguments of
`exec`/`eval`/`compile` and code handed to a child interpreter are folded by `deobfuscate`
and, when they yield text, analysed as code in turn (bounded depth), their signals carrying
the decoding stages. How each call is read lives in `calls`; the state both share in `walkbase`.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
from typing import TYPE_CHECKING

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.astutil import (
    ALIASABLE,
    CHILD_FIELDS,
    SPECIAL,
    STDLIB,
    child_fields,
    dedupe,
    is_main_guard,
)
from chainwarden.analyzers.python.calls import CallRules
from chainwarden.analyzers.python.facts import (
    MAIN_SCOPE,
    PYTHON,
    ClassInfo,
    Import,
    Problem,
    PyFacts,
    Scope,
    Signal,
)
from chainwarden.analyzers.python.payloads import EXECUTABLE, blind_decode
from chainwarden.analyzers.python.source import read_source
from chainwarden.analyzers.python.special import start_entries
from chainwarden.analyzers.python.walkbase import ScopeState

if TYPE_CHECKING:
    from chainwarden.models import DecodedStage

MAX_PAYLOAD_DEPTH = 8
_HOST_KEYS = frozenset({"Host"})  # the header's spelling; `"host"` keys are mostly connection settings
BLIND_MIN = 160
START_FILE_MAX = 64 * 1024


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


class _Walker(CallRules):
    """One pass over a module: scopes, imports, classes and every call's signals."""

    # -- driver ---------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self._prescan(tree.body)
        self._walk_block(tree.body, self.module, "")
        # Every scope's sinks before any scope forgets its assignments: a function's
        # `exec(b64decode(PAYLOAD))` folds a module-level PAYLOAD.
        for scope in self.scopes:
            for call, arg, how in scope.sinks:
                self._sink(call, arg, how, scope)
        self._scan_strings()

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

    def _walk_block(self, body: list[ast.stmt], scope: ScopeState, prefix: str) -> None:
        stack: list[ast.AST] = list(reversed(body))
        name_t, attr_t, const_t, call_t, kw_t = ast.Name, ast.Attribute, ast.Constant, ast.Call, ast.keyword
        fields_of = CHILD_FIELDS
        sysinfo_names = cap.SYSINFO_VARIABLES
        pop, push, extend = stack.pop, stack.append, stack.extend
        # The commonest node types are handled inline, children pushed in `_fields` order like
        # the generic loop below (the order decides which assignment of a name is seen last).
        while stack:
            node = pop()
            t = type(node)
            if t is name_t:
                continue
            if t is attr_t or t is kw_t:
                push(node.value)  # type: ignore[attr-defined]
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
                push(node.func)  # type: ignore[attr-defined]
                extend(node.args)  # type: ignore[attr-defined]
                extend(node.keywords)  # type: ignore[attr-defined]
                continue
            if t in SPECIAL and not self._statement(node, t, scope, prefix, stack):
                continue
            fields = fields_of.get(t)
            if fields is None:
                fields = child_fields(t)
            for field_name in fields:
                child = getattr(node, field_name)
                if type(child) is list:
                    extend(child)
                elif child is not None:
                    push(child)

    def _statement(self, node: ast.AST, t: type, scope: ScopeState, prefix: str, stack: list[ast.AST]) -> bool:  # noqa: C901, PLR0912
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
            main = ScopeState(MAIN_SCOPE, node.lineno)  # type: ignore[attr-defined]
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

    def _builtin_alias(self, name: str, value: ast.expr, scope: ScopeState) -> None:
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
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: ScopeState, prefix: str, stack: list[ast.AST]
    ) -> None:
        # Decorators and defaults run where the function is defined; so do annotations, unless
        # the module has `from __future__ import annotations`.
        stack.extend(node.decorator_list)
        stack.extend(d for d in node.args.defaults)
        stack.extend(d for d in node.args.kw_defaults if d is not None)
        if not self.lazy_annotations:
            args = node.args
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if (
                    a is not None
                    and a.annotation is not None
                    and type(a.annotation) is not ast.Name
                    and _may_run(a.annotation)
                ):
                    stack.append(a.annotation)
            if node.returns is not None and _may_run(node.returns):
                stack.append(node.returns)
        if scope is self.module:
            inner = ScopeState(prefix + node.name, node.lineno)
            self.scopes.append(inner)
            self._walk_block(node.body, inner, prefix + node.name + ".")
        else:  # a function nested in a function: folded into its parent
            self._walk_block(node.body, scope, prefix)

    def _enter_class(self, node: ast.ClassDef, scope: ScopeState, prefix: str, stack: list[ast.AST]) -> None:
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

    def _import(self, node: ast.Import | ast.ImportFrom, scope: ScopeState) -> None:
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

    def _packed_import(self, module: str, node: ast.stmt, scope: ScopeState) -> None:
        if module.startswith(("pytransform", "pyarmor_runtime")):
            self._signal(scope, cap.PACKED, f"imports {module} (PyArmor)", node)

    # -- deferred work --------------------------------------------------------------------

    def _scan_strings(self) -> None:
        """Every scope's string constants searched in one pass, each distinct text once: the
        tables have over a hundred anchors, so per file, not per function or per use.
        Command-only tags are left to `_shell` (help texts mention `curl -o` all the time)."""
        uses: dict[str, list[tuple[ScopeState, int]]] = {}
        for scope in self.scopes:
            for line, s in scope.strings:
                uses.setdefault(s, []).append((scope, line))
        if not uses:
            return
        texts = list(uses)
        offsets: list[int] = []
        pos = 0
        for s in texts:
            offsets.append(pos)
            pos += len(s) + 1
        for offset, tag, match in cap.scan_strings("\n".join(texts), cap.COMMAND_ONLY):
            for scope, line in uses[texts[bisect.bisect_right(offsets, offset) - 1]]:
                scope.signals.append(Signal(tag, match, line, self._snippet(line)))
        for scope in self.scopes:
            for line, s in scope.strings:
                if len(s) >= BLIND_MIN and self.blind_left > 0:
                    self._blind(s, line, scope)

    def _blind(self, data: str | bytes, line: int, scope: ScopeState) -> None:
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
        nested = self._nested(text, stages, line)
        if nested:
            scope.signals.append(
                Signal(cap.HIDDEN_CODE, "encoded blob decodes to code", line, self._snippet(line), stages)
            )
            scope.signals.extend(nested)

    def _nested(self, text: str, stages: tuple[DecodedStage, ...], line: int) -> list[Signal]:
        return payload_signals(text, self.depth + 1, stages, line)
