"""`.pth` and PEP 829 `.start` files: what each CPython version's `site` would run at start-up.

`site.addpackage` reads every `*.pth` file in site-packages at *every* interpreter start.
A line that starts with `import ` or `import\\t` is passed to `exec()`; `#` lines and blank
lines are skipped; every other line is a directory appended to `sys.path`. How the file is
split into lines depends on the version, and that difference can hide code:

* 3.11 and 3.12 read the file as text in the locale encoding with universal newlines
  (lines end only at `\\n`, `\\r`, `\\r\\n`; a UTF-8 BOM is *not* removed);
* 3.13 and later decode it as `utf-8-sig` (falling back to the locale encoding) and split it
  with `str.splitlines()`, which also breaks at `\\v`, `\\f`, `\\x1c`-`\\x1e`, `\\x85`,
  `\\u2028` and `\\u2029` -- so `# comment\\fimport os; ...` is a comment up to 3.12 and
  code from 3.13 on;
* from 3.15 (PEP 829) a `<name>.start` file lists `pkg.mod:callable` entry points to call at
  start-up, and its presence disables the `import` lines of the matching `<name>.pth`.

`extract` emulates each reading and classifies every executable line with
`chainwarden.analyzers.linecode`; `judge` decides which files actually reach site-packages
(wheel root, `*.data/purelib`, `*.data/platlib`, `*.data/data/lib/pythonX.Y/site-packages/`)
and how severe each line is. There is no allowlist of names or texts: a line is judged by
what it does.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from chainwarden.analyzers import linecode as lc
from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.models import (
    ArtifactKind,
    Confidence,
    DecodedStage,
    Evidence,
    Finding,
    Location,
    Member,
    Trigger,
)
from chainwarden.rules import pth as rules
from chainwarden.sources.wheel import wheel_install_path

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from chainwarden.rules import Rule

#: The CPython versions whose `site` is emulated, oldest first.
VERSIONS = ("3.11", "3.12", "3.13", "3.14", "3.15")
_LEGACY = ("3.11", "3.12")  # locale encoding, universal newlines
_MODERN = ("3.13", "3.14", "3.15")  # utf-8-sig (locale fallback), str.splitlines()
_PEP829 = ("3.15",)  # `.start` files; a matching `.start` disables the `.pth` import lines

_MAX_SNIPPET = 20_000
_MAX_EXEC_LINES = 2_000
_UNIVERSAL_NEWLINE = re.compile(r"\r\n|\r|\n")
_ENTRY_POINT = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$")
_DANGER_WORDS = re.compile(r"exec|eval|compile|b64decode|decompress|subprocess|system|popen|socket|urlopen|Popen")


@dataclass(frozen=True, slots=True)
class ExecLine:
    """A line that `site` passes to `exec()` in the listed versions."""

    line: int  # physical line (counting \n, \r, \r\n) where the code starts
    text: str
    versions: tuple[str, ...]
    hidden_from: tuple[str, ...]  # versions that read this physical line as a comment or path
    code: lc.CodeFacts


@dataclass(frozen=True, slots=True)
class PathLine:
    line: int
    text: str
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StartEntry:
    """One line of the file read as a PEP 829 `.start` file."""

    line: int
    text: str
    module: str
    attribute: str
    valid: bool


@dataclass(frozen=True, slots=True)
class PthFacts:
    exec_lines: tuple[ExecLine, ...]
    path_lines: tuple[PathLine, ...]
    start_entries: tuple[StartEntry, ...]
    encodings: tuple[tuple[str, str], ...]  # (versions, how the bytes were decoded)
    binary: bool  # looks like a model checkpoint or other binary, not a text config file
    size: int
    unanalysed_exec_lines: int = 0  # beyond _MAX_EXEC_LINES: judged as dangerous, unread


# ---------------------------------------------------------------- reading like `site`


@dataclass(frozen=True, slots=True)
class _Line:
    physical: int
    text: str


def _physical_lines(text: str) -> list[int]:
    """Offsets at which each universal-newline line starts."""
    return [0, *(m.end() for m in _UNIVERSAL_NEWLINE.finditer(text))]


def _physical(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def read_legacy(data: bytes) -> tuple[str, list[_Line]]:
    """3.11/3.12: `TextIOWrapper(open_code(f), encoding="locale")`, iterated by line."""
    try:
        text, how = data.decode("utf-8"), "utf-8 locale (BOM kept)"
    except UnicodeDecodeError:
        text, how = data.decode("latin-1"), "not UTF-8: read with a single-byte locale (latin-1 assumed)"
    starts = _physical_lines(text)
    lines = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        raw = text[start:end]
        if raw:
            lines.append(_Line(i + 1, _UNIVERSAL_NEWLINE.sub("\n", raw)))
    return how, lines


def read_modern(data: bytes) -> tuple[str, list[_Line]]:
    """3.13+: `bytes.decode("utf-8-sig")` (locale fallback), then `str.splitlines()`."""
    try:
        text, how = data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        text, how = data.decode("latin-1"), "not UTF-8: locale fallback (latin-1 assumed)"
    starts = _physical_lines(text)
    lines, offset = [], 0
    for chunk in text.splitlines(keepends=True):
        body = chunk.splitlines()[0] if chunk.splitlines() else ""
        lines.append(_Line(_physical(starts, offset), body))
        offset += len(chunk)
    return how, lines


def _is_exec(line: str) -> bool:
    return line.startswith(("import ", "import\t"))


def _kind(line: str) -> str:
    if line.startswith("#"):
        return "comment"
    if line.strip() == "":
        return "blank"
    return "exec" if _is_exec(line) else "path"


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    return b"\x00" in head or head.startswith((b"PK\x03\x04", b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"))


def read_start(data: bytes) -> tuple[StartEntry, ...]:
    """The content read as a PEP 829 `.start` file: one `pkg.mod:callable` per line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    entries = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _ENTRY_POINT.match(line)
        entries.append(StartEntry(n, line[:500], m.group(1) if m else "", m.group(2) if m else "", valid=m is not None))
    return tuple(entries)


def extract_pth(data: bytes) -> PthFacts:
    legacy_how, legacy = read_legacy(data)
    modern_how, modern = read_modern(data)
    by_version = dict.fromkeys(_LEGACY, legacy) | dict.fromkeys(_MODERN, modern)
    exec_at: dict[str, set[int]] = {
        v: {ln.physical for ln in lines if _kind(ln.text) == "exec"} for v, lines in by_version.items()
    }
    execs: dict[tuple[int, str], list[str]] = {}
    paths: dict[tuple[int, str], list[str]] = {}
    for version, lines in by_version.items():
        for ln in lines:
            kind = _kind(ln.text)
            if kind == "exec":
                execs.setdefault((ln.physical, ln.text.rstrip("\n")), []).append(version)
            elif kind == "path":
                paths.setdefault((ln.physical, ln.text.rstrip()), []).append(version)
    legacy_text = {ln.physical: ln.text.rstrip("\n") for ln in legacy}
    exec_lines = []
    classified: dict[str, lc.CodeFacts] = {}
    ordered = sorted(execs.items())
    for (physical, text), versions in ordered[:_MAX_EXEC_LINES]:
        # A UTF-8 BOM before `import` stops 3.11/3.12 from running the line: a difference, not a disguise.
        bom_only = legacy_text.get(physical, "").lstrip("\ufeff") == text
        hidden = tuple(v for v in VERSIONS if v not in versions and physical not in exec_at[v] and not bom_only)
        code = classified.get(text) or classified.setdefault(text, lc.classify(text))
        exec_lines.append(ExecLine(physical, text[:_MAX_SNIPPET], tuple(versions), hidden, code))
    return PthFacts(
        exec_lines=tuple(exec_lines),
        path_lines=tuple(PathLine(p, t[:1000], tuple(v)) for (p, t), v in sorted(paths.items())[:200]),
        start_entries=read_start(data)[:200],
        encodings=(("3.11-3.12", legacy_how), ("3.13+", modern_how)),
        binary=_looks_binary(data),
        size=len(data),
        unanalysed_exec_lines=max(0, len(ordered) - _MAX_EXEC_LINES),
    )


# ---------------------------------------------------------------- where a file lands


def site_path(member: Member, kind: ArtifactKind) -> str | None:
    """Where `member` lands relative to site-packages: "" if it does not land there, None if
    that is not known (sdists and directories, judged by file name alone)."""
    if member.install_path:
        return member.install_path
    if kind is ArtifactKind.WHEEL:
        return wheel_install_path(member.path)
    if kind in (ArtifactKind.INSTALLED, ArtifactKind.UNOWNED):
        return member.path
    return None


def _stem(s: _Startup) -> str:
    path = s.site if s.site is not None else s.member.path
    return path.rsplit(".", 1)[0]


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return ".pth" if name.endswith(".pth") else ".start" if name.endswith(".start") else ""


@dataclass(frozen=True, slots=True)
class _Startup:
    """A `.pth`/`.start` file `site` would process (or, by name, might)."""

    member: Member
    site: str | None  # path relative to site-packages, None when only judged by name
    facts: PthFacts


def _startup_files(view: ArtifactView, facts: Mapping[str, PthFacts]) -> Iterator[_Startup]:
    for member in view.members:
        f = facts.get(member.path)
        if f is None:
            continue
        site = site_path(member, view.kind)
        if site == "":
            continue
        if site is not None:
            # Only files directly in site-packages are read by `site`. Dot-files are kept: 3.11.8+
            # and 3.12.2+ skip them, older patch releases still run them.
            if "/" in site or not _suffix(site):
                continue
            yield _Startup(member, site, f)
        elif not f.binary and _suffix(member.path):
            yield _Startup(member, None, f)


def startup_modules(view: ArtifactView, facts: Mapping[str, PthFacts]) -> tuple[str, ...]:
    """Modules imported by executable `.pth` lines and named by `.start` entry points: code
    that runs at every interpreter start (roots for the Python engine's reachability)."""
    modules: list[str] = []
    for s in _startup_files(view, facts):
        if _suffix(s.member.path) == ".pth":
            for line in s.facts.exec_lines:
                modules.extend(line.code.imports)
        else:
            modules.extend(e.module for e in s.facts.start_entries if e.valid)
    return tuple(dict.fromkeys(modules))


# ---------------------------------------------------------------- judging


_CAP_WORDS = {
    lc.DECODE_EXEC: "decodes data and executes it",
    lc.CHILD_INTERPRETER: "starts a child Python interpreter",
    lc.PROCESS: "starts processes",
    lc.NETWORK: "uses the network",
    lc.DYNAMIC_CODE: "executes computed code",
    lc.DECODE: "decodes hidden data",
    lc.ENV_DUMP: "reads the whole environment",
    lc.FILE_WRITE: "writes files",
    lc.DYNAMIC_IMPORT: "imports a computed module name",
    lc.BACKGROUND: "detaches or runs in the background",
    lc.NATIVE: "loads native code",
    lc.EXEC_LITERAL: "executes a string literal",
    lc.ENV_CODE: "executes code taken from an environment variable",
    lc.ENV_READ: "reads environment variables",
}
_HIGH_CAPS = frozenset(
    {
        lc.PROCESS,
        lc.CHILD_INTERPRETER,
        lc.NETWORK,
        lc.DYNAMIC_CODE,
        lc.FILE_WRITE,
        lc.DYNAMIC_IMPORT,
        lc.DECODE,
        lc.BACKGROUND,
        lc.NATIVE,
    }
)


def line_rule(code: lc.CodeFacts, text: str) -> Rule:
    """The rule (and so the severity) an executable line earns from what it does."""
    caps = set(code.capabilities)
    if not code.parses and _DANGER_WORDS.search(text):
        # Our parser may be older than the interpreter that runs the line: never trust a
        # syntax error to make dangerous-looking code harmless.
        caps.add(lc.DYNAMIC_CODE)
    critical = (
        lc.DECODE_EXEC in caps
        or (lc.CHILD_INTERPRETER in caps and bool(caps & {lc.DECODE, lc.DYNAMIC_CODE, lc.NETWORK}))
        or (lc.NETWORK in caps and bool(caps & {lc.PROCESS, lc.DYNAMIC_CODE, lc.FILE_WRITE, lc.ENV_DUMP}))
        or (lc.PROCESS in caps and lc.DYNAMIC_CODE in caps)
    )
    if critical:
        return rules.PTH_EXEC_CRITICAL
    if caps & _HIGH_CAPS:
        return rules.PTH_EXEC_DANGEROUS
    return rules.PTH_EXEC


def _describe(code: lc.CodeFacts) -> str:
    words = [_CAP_WORDS[c] for c in _CAP_WORDS if c in code.capabilities]
    if code.imports:
        words.append("imports " + ", ".join(code.imports[:6]))
    return "; ".join(words) or "runs code"


def _versions(versions: tuple[str, ...]) -> str:
    if versions == VERSIONS:
        return "every supported Python (3.11+)"
    return "Python " + ", ".join(versions)


class PthAnalyzer(Analyzer[PthFacts]):
    """Executable `.pth` lines and `.start` entry points: code run at every interpreter start."""

    name: ClassVar[str] = "pth"
    version: ClassVar[str] = "2"
    facts_type: ClassVar[type[PthFacts]] = PthFacts

    def select(self, member: Member, view: ArtifactView) -> bool:
        del view
        return member.path.lower().endswith((".pth", ".start"))

    def extract(self, data: bytes) -> PthFacts:
        return extract_pth(data)

    def judge(self, view: ArtifactView, facts: Mapping[str, PthFacts]) -> Iterable[Finding]:
        files = list(_startup_files(view, facts))
        starts = {_stem(s) for s in files if _suffix(s.member.path) == ".start"}
        sites = {site_path(m, view.kind) or m.path for m in view.members}
        for s in files:
            if _suffix(s.member.path) == ".start":
                yield from self._judge_start(view, s)
                continue
            superseded = _stem(s) in starts
            for line in s.facts.exec_lines:
                yield from self._judge_exec(view, s, line, superseded=superseded)
            if s.facts.unanalysed_exec_lines:
                message = (
                    f"{s.facts.unanalysed_exec_lines} more executable lines than chainwarden analyses "
                    f"({_MAX_EXEC_LINES}) run at every interpreter start"
                )
                evidence = Evidence(
                    snippet=f"{len(s.facts.exec_lines) + s.facts.unanalysed_exec_lines} executable lines"
                )
                yield self._finding(view, s, rules.PTH_EXEC_DANGEROUS, line=1, message=message, evidence=evidence)
            yield from self._judge_paths(view, s, sites)

    def _finding(
        self,
        view: ArtifactView,
        s: _Startup,
        rule: Rule,
        *,
        line: int,
        message: str,
        evidence: Evidence,
        capabilities: tuple[str, ...] = (),
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=rule.severity,
            message=message,
            location=Location(artifact=view.label, path=s.member.path, line=line),
            trigger=Trigger.INTERPRETER_START,
            confidence=Confidence.HIGH if s.site is not None else Confidence.MEDIUM,
            evidence=evidence,
            capabilities=capabilities,
        )

    def _judge_exec(self, view: ArtifactView, s: _Startup, line: ExecLine, *, superseded: bool) -> Iterator[Finding]:
        versions = tuple(v for v in line.versions if not (superseded and v in _PEP829))
        if not versions:
            return
        rule = line_rule(line.code, line.text)
        where = "" if s.site is not None else " if installed into site-packages"
        message = (
            f"line {line.line} runs at every interpreter start on {_versions(versions)}{where}: {_describe(line.code)}"
        )
        evidence = Evidence(
            snippet=line.text,
            decoded=tuple(DecodedStage(st.method, st.preview) for st in line.code.stages),
            detail=(
                ("versions", ", ".join(versions)),
                ("capabilities", ", ".join(line.code.capabilities)),
                ("imports", ", ".join(line.code.imports)),
                *((("parse-error", line.code.error),) if line.code.error else ()),
            ),
        )
        caps = tuple(c for c in line.code.capabilities if c != lc.UNPARSABLE)
        yield self._finding(view, s, rule, line=line.line, message=message, evidence=evidence, capabilities=caps)
        hidden = line.hidden_from
        if hidden:
            hide = rules.PTH_HIDDEN_LINE
            msg = (
                f"line {line.line} is code on {', '.join(versions)} but a comment or path on "
                f"{', '.join(hidden)}: the file is split differently by different Python versions"
            )
            yield self._finding(
                view, s, hide, line=line.line, message=msg, evidence=Evidence(snippet=repr(line.text)[:2000])
            )

    def _judge_start(self, view: ArtifactView, s: _Startup) -> Iterator[Finding]:
        for entry in s.facts.start_entries:
            if not entry.valid:
                continue
            rule = rules.START_ENTRY_POINT
            message = (
                f"entry point {entry.text} is imported and called at every interpreter start on "
                f"Python {', '.join(_PEP829)}+ (PEP 829 .start file)"
            )
            detail = (("module", entry.module), ("callable", entry.attribute))
            yield self._finding(
                view, s, rule, line=entry.line, message=message, evidence=Evidence(snippet=entry.text, detail=detail)
            )

    def _judge_paths(self, view: ArtifactView, s: _Startup, sites: set[str]) -> Iterator[Finding]:
        base = posixpath.dirname(s.site if s.site is not None else s.member.path)
        for p in s.facts.path_lines:
            text = p.text.strip()
            target = posixpath.normpath(posixpath.join(base, text.replace("\\", "/")))
            for hook in ("sitecustomize.py", "usercustomize.py", "sitecustomize/__init__.py"):
                if f"{target}/{hook}" in sites:
                    rule = rules.PTH_PATH_TO_SITECUSTOMIZE
                    message = (
                        f"line {p.line} adds {text!r} to sys.path, a directory holding {hook}, "
                        "which Python imports at every start"
                    )
                    detail = (("directory", target), ("hook", hook))
                    yield self._finding(
                        view, s, rule, line=p.line, message=message, evidence=Evidence(snippet=text, detail=detail)
                    )
            odd = _odd_path(text, view.kind)
            if odd:
                rule = rules.PTH_ODD_PATH
                message = f"line {p.line} adds {text!r} to sys.path: {odd}"
                yield self._finding(view, s, rule, line=p.line, message=message, evidence=Evidence(snippet=text))


_TEMP_PLACES = ("/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/", "/private/tmp/")  # noqa: S108 - what we look for


def _odd_path(text: str, kind: ArtifactKind) -> str:  # noqa: PLR0911 - one reason per return
    """Why a path line points somewhere a distributed package has no business, or ""."""
    if text.startswith(("\\\\", "//")):
        return "a network (UNC) path"
    if "://" in text:
        return "a URL"
    posix = text.replace("\\", "/")
    if any((posix + "/").startswith(t) for t in _TEMP_PLACES):
        return "a temporary directory anyone can write to"
    if any(part.startswith(".") and part not in (".", "..") for part in posix.split("/")):
        return "a hidden directory"
    installed = kind in (ArtifactKind.INSTALLED, ArtifactKind.UNOWNED)
    if not installed and (posix.startswith(("/", "~")) or re.match(r"^[A-Za-z]:/", posix)):
        return "an absolute path in a distributed package"
    if not installed and posixpath.normpath(posix).startswith(".."):
        return "a directory outside site-packages"
    return ""
