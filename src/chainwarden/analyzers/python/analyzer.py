"""`PythonAnalyzer`: the detection engine for Python code (see the package docstring)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar

from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.facts import MODULE_SCOPE, PYC, PyFacts
from chainwarden.analyzers.python.package import Node, Package
from chainwarden.analyzers.python.reach import COMMAND_BASES, Reached, reach, roots
from chainwarden.analyzers.python.reader import read_facts
from chainwarden.analyzers.python.score import dedupe, findings_for, units
from chainwarden.models import ArtifactKind, Evidence, Finding, Location, MemberKind, Severity, Trigger
from chainwarden.rules import Rule
from chainwarden.rules import python as rules

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from chainwarden.models import Member

_SUFFIXES = (".py", ".pyw", ".pth", ".start", ".pyc")
_INSTALL_SIGNALS = frozenset({cap.PROCESS, cap.NETWORK, cap.FILE_WRITE, cap.DYNAMIC_CODE, cap.DECODE_EXEC, cap.SECRETS})
_STDLIB = frozenset(sys.stdlib_module_names) - {"__future__", "_pydev_bundle"}


class PythonAnalyzer(Analyzer[PyFacts]):
    """Reachability, capabilities, deobfuscation and scoring for Python code."""

    name: ClassVar[str] = "python"
    version: ClassVar[str] = "4"
    facts_type: ClassVar[type[PyFacts]] = PyFacts

    def select(self, member: Member, view: ArtifactView) -> bool:  # noqa: ARG002 - the interface's signature
        if member.kind is not MemberKind.FILE:
            return False
        path = member.path
        if path.endswith(_SUFFIXES) or path.rsplit("/", 1)[-1] == "pyproject.toml":
            return True
        return ".data/scripts/" in path

    def extract(self, data: bytes) -> PyFacts:
        return read_facts(data)

    def judge(self, view: ArtifactView, facts: Mapping[str, PyFacts]) -> Iterable[Finding]:
        pkg = Package(view, facts)
        reached = reach(pkg, roots(pkg))
        found: list[Finding] = []
        for unit in units(pkg, reached):
            found.extend(findings_for(unit, pkg, reached, view.label))
        found.extend(_file_findings(pkg, reached, view))
        return dedupe(found)


def _finding(  # noqa: PLR0917 - one call shape for every file-level finding
    rule: Rule, severity: Severity, view: ArtifactView, path: str, line: int, message: str, **kw: object
) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=severity,
        message=message,
        location=Location(artifact=view.label, path=path, line=line or None),
        **kw,  # type: ignore[arg-type]
    )


def _file_findings(pkg: Package, reached: dict[Node, Reached], view: ArtifactView) -> list[Finding]:
    out: list[Finding] = []
    sources = pkg.sources()
    for path, f in pkg.facts.items():
        rel = pkg.rel[path]
        for problem in f.problems:
            if problem.kind == "exotic-encoding":
                out.append(
                    _finding(
                        rules.EXOTIC_ENCODING,
                        Severity.HIGH,
                        view,
                        path,
                        problem.line,
                        f"{rel}: {problem.message}",
                        trigger=_trigger(reached, path),
                    )
                )
            elif path.endswith((".py", ".pyw")):
                severity = Severity.MEDIUM if problem.kind == "too-complex" else Severity.LOW
                out.append(
                    _finding(
                        rules.SYNTAX_ERROR,
                        severity,
                        view,
                        path,
                        problem.line,
                        f"{rel}: {problem.kind}: {problem.message}",
                        evidence=Evidence(snippet=problem.message),
                    )
                )
        if f.kind == PYC and path in pkg.module_of and pkg.module_of[path] not in sources:
            module = pkg.module_of[path]
            auto = (
                pkg.is_pkg.get(path)
                or module in {"sitecustomize", "usercustomize"}
                or _trigger(reached, path) is Trigger.INTERPRETER_START
            )
            out.append(
                _finding(
                    rules.BYTECODE_ONLY,
                    Severity.HIGH if auto else Severity.MEDIUM,
                    view,
                    path,
                    0,
                    f"{rel}: compiled module {module} has no source in the package",
                    trigger=_trigger(reached, path),
                )
            )
        module = pkg.module_of.get(path, "")
        if module and "." not in module and module in _STDLIB and view.kind is not ArtifactKind.SDIST:
            out.append(
                _finding(
                    rules.STDLIB_SHADOW,
                    Severity.LOW,
                    view,
                    path,
                    0,
                    f"{rel} shadows the standard-library module {module}",
                    trigger=Trigger.IMPORT,
                )
            )
        if module in {"sitecustomize", "usercustomize"} or (
            path.endswith(".start") and f.startup_targets and "/" not in rel
        ):
            out.append(
                _finding(
                    rules.STARTUP_HOOK,
                    Severity.MEDIUM,
                    view,
                    path,
                    0,
                    f"{rel} runs at every interpreter start",
                    trigger=Trigger.INTERPRETER_START,
                )
            )
        if rel == "setup.py" and pkg.runs_as_python(path):
            out.extend(_install_hooks(pkg, path, view))
    return out


def _install_hooks(pkg: Package, path: str, view: ArtifactView) -> list[Finding]:
    f = pkg.facts[path]
    out: list[Finding] = []
    for cls in f.classes:
        if any(b.rsplit(".", 1)[-1] in COMMAND_BASES for b in cls.bases):
            kinds = sorted(
                {
                    s.kind
                    for n, sc in pkg.scopes.items()
                    if n.path == path and n.scope.startswith(cls.name + ".")
                    for s in sc.signals
                }
            )
            out.append(
                _finding(
                    rules.INSTALL_HOOK,
                    Severity.LOW,
                    view,
                    path,
                    cls.line,
                    f"setup.py command {cls.name} ({', '.join(cls.bases)}) runs at install"
                    + (f": {', '.join(kinds)}" if kinds else ""),
                    trigger=Trigger.INSTALL,
                    capabilities=tuple(kinds),
                )
            )
    top = pkg.scopes.get(Node(path, MODULE_SCOPE))
    if top is not None:
        kinds = sorted({s.kind for s in top.signals} & _INSTALL_SIGNALS)
        if kinds:
            first = next(s for s in top.signals if s.kind in kinds)
            out.append(
                _finding(
                    rules.INSTALL_HOOK,
                    Severity.LOW,
                    view,
                    path,
                    first.line,
                    f"setup.py runs code at install besides setup(): {', '.join(kinds)}",
                    trigger=Trigger.INSTALL,
                    capabilities=tuple(kinds),
                    evidence=Evidence(snippet=first.snippet),
                )
            )
    return out


def _trigger(reached: dict[Node, Reached], path: str) -> Trigger:
    info = reached.get(Node(path, MODULE_SCOPE))
    return info.trigger if info is not None else Trigger.NONE
