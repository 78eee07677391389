"""State shared by the passes over one file's tree: the scopes being filled, the file's import
aliases, name resolution and how a signal is recorded (with the source line as its snippet).

`extract._Walker` walks the tree; `calls.CallRules` (between the two) reads each call."""

from __future__ import annotations

import abc
import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.astutil import BUILTIN_PREFIXES
from chainwarden.analyzers.python.deobfuscate import Evaluator
from chainwarden.analyzers.python.facts import MODULE_SCOPE, ClassInfo, Import, Signal

if TYPE_CHECKING:
    from chainwarden.models import DecodedStage

MAX_BLIND = 16  # long constants tried blind per file
MAX_WRITTEN = 64  # source-code literals written to files, analysed per file
SNIPPET = 200
_NAMESPACES = frozenset({"globals", "vars", "locals"})


@dataclass(slots=True)
class ScopeState:
    """What is collected for one scope while the file is walked; `Scope` is what remains of it."""

    name: str
    line: int
    calls: set[str] = field(default_factory=set)
    spawns: set[str] = field(default_factory=set)
    signals: list[Signal] = field(default_factory=list)
    strings: list[tuple[int, str]] = field(default_factory=list)  # (line, constant)
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    augments: dict[str, list[ast.expr]] = field(default_factory=dict)  # `name += expr`, for hints
    sinks: list[tuple[ast.Call, ast.expr, str]] = field(default_factory=list)  # call, code arg, how


class WalkerBase(abc.ABC):
    """The walker's state, name resolution and signal recording; `_nested` analyses decoded code."""

    def __init__(self, text: str, depth: int) -> None:
        self.text = text
        self.depth = depth
        self.lines: list[str] | None = None
        self.aliases: dict[str, str] = {}
        self.defined: set[str] = set()
        self.module = ScopeState(MODULE_SCOPE, 0)
        self.scopes: list[ScopeState] = [self.module]
        self.imports: list[Import] = []
        self.classes: list[ClassInfo] = []
        self.class_stack: list[str] = []
        self.blind_left = MAX_BLIND
        self.lazy_annotations = False  # `from __future__ import annotations`: never evaluated
        self.written_left = MAX_WRITTEN

    @abc.abstractmethod
    def _nested(self, text: str, stages: tuple[DecodedStage, ...], line: int) -> list[Signal]:
        """Signals of code found inside data (decoded, folded or written out), one level deeper."""

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

    def _lookup(self, scope: ScopeState) -> Evaluator:
        def lookup(name: str) -> ast.expr | None:
            if name in scope.augments or name in self.module.augments:
                return None  # built up in steps (`+=` in a loop): not a constant
            return scope.assigns.get(name) or self.module.assigns.get(name)

        return Evaluator(self._resolve, lookup)

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
        self, scope: ScopeState, tag: str, detail: str, node: ast.AST, stages: tuple[DecodedStage, ...] = ()
    ) -> None:
        line = getattr(node, "lineno", 0)
        snippet = self._snippet(line, getattr(node, "col_offset", 0))
        scope.signals.append(Signal(tag, detail[:160], line, snippet, stages))
