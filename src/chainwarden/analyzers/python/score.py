"""Severity by combination: trigger x capability x concealment, per unit of code that runs together.

A unit is a module's top level (or another root: an entry-point function, a setup.py command)
plus every function it calls or starts in a thread inside the package. Its trigger is the most
automatic one that reaches its root. Rules look at the set of capability tags in the unit; the
same capability means little in a function nobody calls and a lot at interpreter start.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.facts import MODULE_SCOPE, Signal
from chainwarden.analyzers.python.package import Node, Package
from chainwarden.analyzers.python.reach import Reached, chain
from chainwarden.models import Confidence, Evidence, Finding, Location, Severity, Trigger
from chainwarden.rules import Rule
from chainwarden.rules import python as rules

_AUTO = frozenset({Trigger.INTERPRETER_START, Trigger.INSTALL, Trigger.IMPORT, Trigger.ENTRY_POINT})
_CONCEALING = frozenset({cap.PACKED, cap.HIDDEN_CODE, cap.DECODE_EXEC, cap.OBFUSCATED, cap.HIDDEN_BUILTIN})
_MAX_CLOSURE = 2000
_RAW_NETWORK = re.compile(r"^(?:socket\.|dig |nslookup |host |ping )")
_WALLET = re.compile(r"wallet|exodus|electrum|metamask|nkbih")
#: Signals that make a function worth judging even when nothing runs it by itself.
_CALL_WORTHY = frozenset({*_CONCEALING, cap.REMOTE_CODE, cap.REVERSE_SHELL, cap.STEALER_TARGET})
_FETCH = frozenset({cap.NETWORK, cap.SHELL_DOWNLOAD, cap.DOWNLOAD})
_RUN = frozenset({cap.PROCESS, cap.MAKE_EXECUTABLE, cap.DYNAMIC_CODE})
_BINARY = frozenset({cap.EXECUTABLE_FILE, cap.MAKE_EXECUTABLE, cap.SHELL_DOWNLOAD, cap.DOWNLOAD})
#: What turns a download-and-run nobody triggers into a dropper: the file comes from a bare IP
#: address, a paste site or a webhook host, or is started with its window hidden / detached.
_DROPPER_TELLS = frozenset({cap.EXFIL_ENDPOINT, cap.DETACHED})
#: The file run is an executable fetched or made runnable (not merely `curl` run to upload something).
_DROPPED = frozenset({cap.EXECUTABLE_FILE, cap.MAKE_EXECUTABLE, cap.DOWNLOAD})
_MAX_LISTED = 8
C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
INTERP, S, P, E, X = Trigger.INTERPRETER_START, Trigger.INSTALL, Trigger.IMPORT, Trigger.ENTRY_POINT, Trigger.CALL


@dataclass(frozen=True, slots=True)
class Hit:
    node: Node
    signal: Signal
    threaded: bool


@dataclass(frozen=True, slots=True)
class Unit:
    root: Node
    trigger: Trigger
    hits: tuple[Hit, ...]

    def kinds(self, *, threaded_only: bool = False) -> set[str]:
        return {h.signal.kind for h in self.hits if h.threaded or not threaded_only}

    def together(self, *groups: set[str] | frozenset[str]) -> bool:
        """Whether one scope shows a capability from every group: evidence that is one action,
        not a constant here and a call elsewhere."""
        by_node: dict[Node, set[str]] = {}
        for h in self.hits:
            by_node.setdefault(h.node, set()).add(h.signal.kind)
        return any(all(kinds & g for g in groups) for kinds in by_node.values())

    def stealer_categories(self) -> set[str]:
        """Which kinds of personal stores the unit names: browser profiles, Discord, wallets."""
        found: set[str] = set()
        for h in self.hits:
            if h.signal.kind == cap.STEALER_TARGET:
                text = h.signal.detail.lower()
                found.add("discord" if "discord" in text else "wallet" if _WALLET.search(text) else "browser")
        return found

    @property
    def concealed(self) -> bool:
        return any(h.signal.stages or h.signal.kind in _CONCEALING for h in self.hits)


def units(pkg: Package, reached: dict[Node, Reached]) -> list[Unit]:
    out: list[Unit] = []
    covered: set[Node] = set()
    for node, info in reached.items():
        if node.scope != MODULE_SCOPE and info.parent is not None:
            continue
        hits = _closure(pkg, node, covered if info.trigger in _AUTO else set())
        if hits:
            out.append(Unit(node, info.trigger, tuple(hits)))
    for node, scope in pkg.scopes.items():
        if node in covered or (node in reached and reached[node].trigger in _AUTO):
            continue
        if len(scope.signals) < 3:  # noqa: PLR2004 - a dropper or credential upload takes three kinds at least
            worthy = any(s.kind in _CALL_WORTHY for s in scope.signals)
        else:
            kinds = {s.kind for s in scope.signals}
            worthy = bool(kinds & _CALL_WORTHY) or _drops(_tell_kinds(scope.signals))
        if worthy:
            out.append(Unit(node, Trigger.CALL, tuple(_closure(pkg, node, set()))))
    return out


def _tell_kinds(signals: tuple[Signal, ...] | list[Signal]) -> set[str]:
    """Kinds of signals as dropper evidence: output sent to DEVNULL alone is not hiding (honest
    tools silence the binaries they run); a hidden window, `start`, `&` or a new session is."""
    return {s.kind for s in signals if s.kind != cap.DETACHED or not s.detail.endswith("=DEVNULL")}


def _dropper(unit: Unit) -> bool:
    """Whether one function of the unit fetches, names or makes an executable, runs it and shows a tell."""
    by_node: dict[Node, list[Signal]] = {}
    for h in unit.hits:
        by_node.setdefault(h.node, []).append(h.signal)
    return any(_fetches_and_runs(_tell_kinds(signals)) for signals in by_node.values())


def _fetches_and_runs(kinds: set[str]) -> bool:
    return bool(kinds & _FETCH and kinds & _RUN and kinds & _DROPPED and kinds & _DROPPER_TELLS)


def _drops(kinds: set[str]) -> bool:
    """One function that fetches, runs and names an executable, from a tell-tale host or hidden;
    or one that names credential files and sends to a bare IP address or webhook host."""
    return _fetches_and_runs(kinds) or bool(kinds & _FETCH and cap.SECRETS in kinds and cap.EXFIL_ENDPOINT in kinds)


def _closure(pkg: Package, root: Node, covered: set[Node]) -> list[Hit]:
    """Signals of the root and what it calls or starts: any call inside one file, but into
    another file only from the root itself. Call trees of big libraries reach everything
    through helper modules (a config getter that can query a cloud metadata server); the code
    a trigger runs on purpose sits in the root's file or is called from the root directly."""
    hits: list[Hit] = []
    seen = {root: False}
    queue = deque([root])
    while queue and len(seen) < _MAX_CLOSURE:
        node = queue.popleft()
        covered.add(node)
        scope = pkg.scopes.get(node)
        threaded = seen[node]
        if scope is not None:
            hits.extend(Hit(node, s, threaded) for s in scope.signals)
        for edge in pkg.edges(node):
            target = edge.target
            if edge.imported or target in seen or (target.path != node.path and node != root):
                continue
            seen[target] = threaded or edge.spawn
            queue.append(target)
    return hits


# -- rules ------------------------------------------------------------------------------------


def _by_trigger(trigger: Trigger, table: dict[Trigger, Severity | None]) -> Severity | None:
    return table.get(trigger)


def _bump(severity: Severity, unit: Unit) -> Severity:
    return Severity(min(severity + 1, Severity.CRITICAL)) if unit.concealed else severity


def judge_unit(unit: Unit) -> list[tuple[Rule, Severity, tuple[str, ...]]]:  # noqa: C901, PLR0915 - the rule table, one branch per rule
    """(rule, severity, the capability tags that make the case) for one unit."""
    k = unit.kinds()
    t = unit.trigger
    out: list[tuple[Rule, Severity, tuple[str, ...]]] = []

    def add(rule: Rule, severity: Severity | None, tags: tuple[str, ...], *, bump: bool = True) -> None:
        if severity is not None:
            out.append((rule, _bump(severity, unit) if bump else severity, tags))

    network = k & {cap.NETWORK, cap.SHELL_DOWNLOAD, cap.DOWNLOAD}
    if cap.HIDDEN_CODE in k and t in _AUTO and unit.together({cap.HIDDEN_CODE}, {cap.FILE_WRITE}, {cap.PROCESS}):
        add(rules.DECODE_EXEC, _by_trigger(t, {INTERP: C, S: C, P: C, E: H}), (cap.HIDDEN_CODE,), bump=False)
    if cap.DECODE_EXEC in k:
        hidden_reach = {h.signal.kind for h in unit.hits if h.signal.stages} & {
            cap.NETWORK,
            cap.PROCESS,
            cap.REVERSE_SHELL,
        }
        on_call = H if hidden_reach else M  # decoded code that opens sockets or runs commands: never honest
        add(
            rules.DECODE_EXEC, _by_trigger(t, {INTERP: C, S: C, P: C, E: H, X: on_call}), (cap.DECODE_EXEC,), bump=False
        )
    # fetch, save and run in one function; or a response saved to disk in one and a process run in the unit
    downloads_and_runs = network and (
        unit.together(_FETCH, _RUN, _BINARY) or (cap.PROCESS in k and unit.together(_FETCH, {cap.DOWNLOAD}))
    )
    if cap.REMOTE_CODE in k or downloads_and_runs:
        tags = (cap.REMOTE_CODE,) if cap.REMOTE_CODE in k else (*sorted(network), cap.MAKE_EXECUTABLE, cap.PROCESS)
        # An honest installer (a driver, a CLI tool) fetches from its vendor's site and shows its process;
        # one that fetches from a bare IP or paste site, or starts the file hidden, is a dropper.
        dropper = downloads_and_runs and _dropper(unit)
        table: dict[Trigger, Severity | None] = {INTERP: C, S: C, P: C, E: H if dropper else M, X: H if dropper else L}
        add(rules.REMOTE_CODE, _by_trigger(t, table), tags, bump=False)
    secrets = k & {cap.SECRETS, cap.ENV_DUMP, cap.STEALER_TARGET}
    if t in _AUTO and network and (secrets or ({cap.SECRETS_WEAK, cap.SYSTEM_INFO} <= k)):
        add(
            rules.EXFILTRATION,
            _by_trigger(t, {INTERP: C, S: C, P: C, E: M}),
            (*sorted(network), *sorted(secrets or {cap.SECRETS_WEAK})),
        )
    elif t in {INTERP, S, P} and network and cap.SYSTEM_INFO in k:
        add(rules.EXFILTRATION, H, (*sorted(network), cap.SYSTEM_INFO))
    elif network and cap.STEALER_TARGET in k and (cap.EXFIL_ENDPOINT in k or len(unit.stealer_categories()) >= 2):  # noqa: PLR2004
        # stealer code (browser + Discord + wallets, or posted to a webhook) even when only a call runs it
        add(rules.EXFILTRATION, H, (*sorted(network), cap.STEALER_TARGET), bump=False)
    elif network and cap.SECRETS in k and cap.EXFIL_ENDPOINT in k and k & {cap.ARCHIVE, cap.ENCRYPT}:
        # credential files packed up and sent to a bare IP address or webhook host, whoever calls it
        add(rules.EXFILTRATION, H, (*sorted(network), cap.SECRETS, cap.EXFIL_ENDPOINT), bump=False)
    if cap.CHILD_INTERPRETER in k and t in _AUTO:
        detached = cap.DETACHED in k
        table = {INTERP: C, S: H if detached else L, P: H if detached else M, E: M if detached else None}
        add(
            rules.CHILD_INTERPRETER,
            _by_trigger(t, table),
            (cap.CHILD_INTERPRETER, *((cap.DETACHED,) if detached else ())),
        )
    if t in _AUTO - {E} and unit.together({cap.PERSISTENCE}, {cap.FILE_WRITE, cap.PROCESS}):
        add(rules.PERSISTENCE, C if network else H, (cap.PERSISTENCE,))
    if k & {cap.SECRETS, cap.STEALER_TARGET} and not network and t in _AUTO - {E}:
        severity = H if k & {cap.ARCHIVE, cap.ENCRYPT} else M
        add(rules.CREDENTIAL_ACCESS, severity, tuple(sorted(k & {cap.SECRETS, cap.STEALER_TARGET})))
    if network and t in {INTERP, S, P} and not secrets:
        raw = any(h.signal.kind == cap.NETWORK and _RAW_NETWORK.search(h.signal.detail) for h in unit.hits)
        sends_at_install = t is S and (cap.NETWORK_SEND in k or raw)
        severity = H if t is INTERP or cap.EXFIL_ENDPOINT in k or sends_at_install else M
        add(rules.AUTO_NETWORK, severity, tuple(sorted(network)))
    threaded = unit.kinds(threaded_only=True)
    if t in {INTERP, S, P} and threaded & {cap.PROCESS, cap.RUNTIME, cap.CHILD_INTERPRETER}:
        add(rules.THREAD_AT_IMPORT, H, tuple(sorted(threaded & {cap.PROCESS, cap.RUNTIME, cap.CHILD_INTERPRETER})))
    if cap.RUNTIME in k and t in _AUTO - {E}:
        add(rules.RUNTIME, H, (cap.RUNTIME,))
    obfuscated = k & {cap.OBFUSCATED, cap.HIDDEN_BUILTIN}
    if (obfuscated or unit.together({cap.PACKED}, {cap.FILE_WRITE})) and t in _AUTO - {E}:
        add(rules.PACKED, H, (cap.OBFUSCATED, cap.HIDDEN_BUILTIN, cap.PACKED), bump=False)
    elif unit.together({cap.HIDDEN_BUILTIN}, {cap.DYNAMIC_CODE, cap.DECODE_EXEC}):
        # `globals()["eval"](...)` feeding exec: written to hide what runs, whoever runs it
        add(rules.PACKED, H, (cap.HIDDEN_BUILTIN, cap.DYNAMIC_CODE, cap.DECODE_EXEC), bump=False)
    elif cap.PACKED in k and t in _AUTO - {E}:
        add(rules.PACKED, M, (cap.PACKED,), bump=False)
    if cap.DYNAMIC_CODE in k and t in {INTERP, S}:
        add(rules.AUTO_DYNAMIC_CODE, M if t is INTERP else L, (cap.DYNAMIC_CODE,))
    if cap.HIDDEN_CODE in k and t in _AUTO:
        add(rules.HIDDEN_CODE, M, (cap.HIDDEN_CODE,), bump=False)
    if cap.REVERSE_SHELL in k and k & {cap.PROCESS, cap.NETWORK}:
        # a connection wired onto a shell's stdin/stdout in one function is a remote shell whoever calls it
        wired = unit.together({cap.REVERSE_SHELL}, {cap.NETWORK}, {cap.PROCESS})
        add(rules.REVERSE_SHELL, C if t in _AUTO else H if wired else M, (cap.REVERSE_SHELL,), bump=False)
    return out


def findings_for(unit: Unit, pkg: Package, reached: dict[Node, Reached], label: str) -> list[Finding]:
    out: list[Finding] = []
    for rule, severity, tags in judge_unit(unit):
        primary = next((h for h in unit.hits if h.signal.kind in tags), unit.hits[0])
        supporting = [h for h in unit.hits if h.signal.kind in tags or h.signal.stages][:_MAX_LISTED]
        how = (
            chain(reached, primary.node, pkg)
            if primary.node in reached
            else f"{pkg.rel[primary.node.path]} (not reached)"
        )
        caps = tuple(sorted(unit.kinds()))
        stages = max((h.signal.stages for h in unit.hits if h.signal.kind in tags), key=len, default=())
        detail = (
            ("trigger", unit.trigger.value),
            ("how it runs", how),
            ("capabilities", ", ".join(caps)),
            *((f"{pkg.rel[h.node.path]}:{h.signal.line}", f"{h.signal.kind}: {h.signal.detail}") for h in supporting),
        )
        path = primary.node.path
        out.append(
            Finding(
                rule_id=rule.id,
                severity=severity,
                message=f"{rule.title} ({unit.trigger.value}): {primary.signal.detail} in {pkg.rel[path]}",
                location=Location(artifact=label, path=path, line=primary.signal.line or None),
                trigger=unit.trigger,
                confidence=Confidence.HIGH if severity >= Severity.HIGH else Confidence.MEDIUM,
                evidence=Evidence(snippet=primary.signal.snippet, decoded=stages, detail=detail),
                capabilities=caps,
            )
        )
    return out


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and place, the most severe (and most automatic) kept."""
    best: dict[tuple[str, str, int | None], Finding] = {}
    for f in findings:
        key = (f.rule_id, f.location.path, f.location.line)
        prior = best.get(key)
        if prior is None or (f.severity, f.trigger.rank) > (prior.severity, prior.trigger.rank):
            best[key] = f
    return list(best.values())
