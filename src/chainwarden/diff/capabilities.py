"""What a release can do that its predecessor could not.

Two sources of change, both turned into findings of their own:

* the analyzers' findings on both sides: a finding on the new side with no counterpart on the
  old side (same rule, same file after renames, same trigger, same capabilities) is a new
  capability; one reached from an automatic trigger is `CW600`;
* structure that needs no analyzer: new startup hooks (`.pth` with code lines, `.start`,
  `sitecustomize`), new native binaries, new or changed install hooks, new dependencies,
  new or retargeted entry points, a changed author or maintainer.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from chainwarden.artifact import ArtifactError
from chainwarden.diff.files import ChangeKind, FileDiff
from chainwarden.models import Confidence, Evidence, Finding, Location, Severity, Trigger
from chainwarden.rules.core import ANALYZER_ERROR
from chainwarden.rules.diff import (
    ENTRY_POINTS_CHANGED,
    NEW_AUTO_CAPABILITY,
    NEW_BINARY,
    NEW_DEPENDENCY,
    NEW_INSTALL_HOOK,
    NEW_STARTUP_HOOK,
)
from chainwarden.rules.provenance import MAINTAINER_CHANGED

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from chainwarden.artifact import Artifact
    from chainwarden.models import PackageMetadata
    from chainwarden.rules import Rule

ANALYZER = "diff"
ANALYZER_VERSION = "1"

#: Triggers that run code without anyone choosing to call it.
AUTOMATIC = frozenset(
    {Trigger.INTERPRETER_START, Trigger.INSTALL, Trigger.IMPORT, Trigger.ENTRY_POINT, Trigger.MODEL_LOAD}
)

_TRIGGER_WORDS = {
    Trigger.INTERPRETER_START: "at interpreter start",
    Trigger.INSTALL: "at install",
    Trigger.IMPORT: "at import",
    Trigger.ENTRY_POINT: "when its entry point is loaded",
    Trigger.MODEL_LOAD: "at model load",
    Trigger.CALL: "when called",
    Trigger.NONE: "",
}

_CAPABILITY_WORDS = {
    "decode-exec": "decode-then-exec",
    "remote-code": "remote code execution",
    "reverse-shell": "a reverse shell",
    "shell-download": "download-and-run",
    "exfil-endpoint": "an exfiltration endpoint",
    "secrets": "credential access",
    "persistence": "persistence",
    "network": "network access",
    "env-dump": "environment dumping",
    "dynamic-code": "dynamic code execution",
    "child-interpreter": "a child interpreter",
    "process": "process spawn",
    "detached": "detached processes",
    "download": "downloads",
    "encrypt": "encryption",
    "hidden-code": "hidden code",
    "obfuscated": "obfuscation",
    "native": "native code (ctypes)",
    "make-executable": "making files executable",
    "executable-file": "writing executables",
    "file-write": "file writes",
    "dynamic-import": "dynamic imports",
    "background": "background execution",
    "thread": "threads",
    "system-info": "system information",
    "secrets-weak": "secret-looking reads",
    "env-read": "environment reads",
}

_BINARY_MAGIC = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_BINARY_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".exe")
_AUTO_GROUPS = ("pytest11", "console_scripts", "gui_scripts")
_PEOPLE_HEADERS = ("Author", "Author-email", "Maintainer", "Maintainer-email")


@dataclass(frozen=True, slots=True)
class CapabilityChange:
    """A finding on the new side with no counterpart on the old side."""

    finding: Finding
    automatic: bool

    @property
    def phrase(self) -> str:
        return describe_capability(self.finding)


#: Most telling first; a capability implied by a stronger one is left out of the phrase.
_CAPABILITY_RANK = tuple(_CAPABILITY_WORDS)
_IMPLIED = {
    "decode": "decode-exec",
    "env-read": "env-dump",
    "exec-literal": "dynamic-code",
    "secrets-weak": "secrets",
    "download": "shell-download",
}
_MAX_WORDS = 4


def describe_capability(finding: Finding) -> str:
    caps = set(finding.capabilities)
    caps -= {weak for weak, strong in _IMPLIED.items() if strong in caps}
    ordered = sorted(
        caps, key=lambda c: (_CAPABILITY_RANK.index(c) if c in _CAPABILITY_RANK else len(_CAPABILITY_RANK), c)
    )
    words = [_CAPABILITY_WORDS.get(c, c) for c in ordered[:_MAX_WORDS]]
    if len(ordered) > _MAX_WORDS:
        words.append(f"{len(ordered) - _MAX_WORDS} more")
    what = ", ".join(words) if words else _rule_title(finding.rule_id)
    when = _TRIGGER_WORDS.get(finding.trigger, "")
    return f"{what} reachable {when}".strip() if when and finding.trigger is not Trigger.CALL else what


def _rule_title(rule_id: str) -> str:
    from chainwarden import rules  # noqa: PLC0415 - the catalogue imports rule modules, keep this lazy

    try:
        return rules.get(rule_id).title.lower()
    except KeyError:
        return rule_id


def _key(finding: Finding, path: str) -> tuple[str, str, str, tuple[str, ...]]:
    return (finding.rule_id, path, finding.trigger.value, tuple(sorted(finding.capabilities)))


def new_capabilities(old: Sequence[Finding], new: Sequence[Finding], renames: dict[str, str]) -> list[CapabilityChange]:
    """New-side findings with no old-side counterpart. `renames` maps new paths to old ones."""
    seen = {_key(f, f.location.path) for f in old}
    out: list[CapabilityChange] = []
    for finding in new:
        if finding.rule_id == ANALYZER_ERROR.id:  # scan errors are reported as they are, not as changes
            continue
        path = renames.get(finding.location.path, finding.location.path)
        if _key(finding, path) in seen:
            continue
        out.append(CapabilityChange(finding, automatic=finding.trigger in AUTOMATIC))
    return out


def _diff_finding(
    rule: Rule,
    label: str,
    path: str,
    message: str,
    *,
    trigger: Trigger = Trigger.NONE,
    severity: Severity | None = None,
    capabilities: tuple[str, ...] = (),
    snippet: str = "",
    detail: tuple[tuple[str, str], ...] = (),
    confidence: Confidence = Confidence.HIGH,
) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=severity if severity is not None else rule.severity,
        message=message,
        location=Location(artifact=label, path=path),
        trigger=trigger,
        confidence=confidence,
        evidence=Evidence(snippet=snippet or message, detail=detail),
        capabilities=capabilities,
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


def raises_cw600(change: CapabilityChange) -> bool:
    """A new capability that runs by itself and matters (medium or above) is a finding of its own."""
    return change.automatic and change.finding.severity >= Severity.MEDIUM


def capability_findings(changes: Iterable[CapabilityChange], label: str) -> list[Finding]:
    """One CW600 per file and trigger that gains capabilities that matter (medium or above) and run
    by themselves; it names every analyzer rule behind it and carries the strongest one's evidence."""
    groups: dict[tuple[str, Trigger], list[Finding]] = {}
    for change in changes:
        if raises_cw600(change):
            groups.setdefault((change.finding.location.path, change.finding.trigger), []).append(change.finding)
    out: list[Finding] = []
    for (path, trigger), found in groups.items():
        found.sort(key=lambda f: (-f.severity, -f.confidence, f.rule_id))
        top = found[0]
        caps = tuple(dict.fromkeys(c for f in found for c in f.capabilities))
        phrase = describe_capability(dataclasses.replace(top, capabilities=caps))
        rule_ids = ", ".join(dict.fromkeys(f.rule_id for f in found))
        severity = Severity.CRITICAL if top.severity >= Severity.CRITICAL else NEW_AUTO_CAPABILITY.severity
        out.append(
            _diff_finding(
                NEW_AUTO_CAPABILITY,
                label,
                path,
                f"`{path}` gains {phrase} ({rule_ids}; {top.rule_id}: {top.message})",
                trigger=trigger,
                severity=severity,
                capabilities=caps,
                snippet=top.evidence.snippet,
                detail=(("source_rules", rule_ids), *top.evidence.detail),
                confidence=top.confidence,
            )
        )
    return out


# ---------------------------------------------------------------- structural changes


def _startup_kind(install_path: str, data: bytes, *, sdist_like: bool = False) -> str:
    """Why this file runs at interpreter start, or "" if it does not. `site` reads only the
    `.pth` files directly in site-packages; an sdist may install one from anywhere (data_files),
    so there every `.pth` with code lines counts."""
    top = "/" not in install_path
    name = install_path.rsplit("/", 1)[-1]
    if name.endswith(".pth") and (top or sdist_like):
        lines = data[:1_000_000].decode("utf-8", "replace").splitlines()
        if any(line.startswith(("import ", "import\t")) for line in lines):
            return "a .pth file with code lines, which executes code at interpreter start"
        return ""
    if name.endswith(".start") and top:
        return "a .start file, which runs an entry point at interpreter start"
    if top and name in ("sitecustomize.py", "usercustomize.py"):
        return f"{name}, which Python imports at interpreter start"
    return ""


def _read(artifact: Artifact, path: str) -> bytes | None:
    try:
        return artifact.read(path)
    except ArtifactError:
        return None


def structural_findings(old: Artifact, new: Artifact, files: FileDiff, label: str) -> list[Finding]:
    out: list[Finding] = []
    sdist_like = new.ref.kind.value in ("sdist", "directory")
    install_paths = {m.path: m.install_path or m.path for m in new.members()}
    backends = _backend_dirs(new) if sdist_like else ()
    for change in files.of(ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.RENAMED):
        data = _read(new, change.path)
        if data is None:
            continue
        install = install_paths.get(change.path, change.path)
        why = _startup_kind(install, data, sdist_like=sdist_like)
        if why:
            old_data = _read(old, change.old_path) if change.old_path else None
            if old_data is None or not _startup_kind(install, old_data, sdist_like=sdist_like):
                verb = "adds" if change.kind is not ChangeKind.MODIFIED else "turns"
                name = change.path.rsplit("/", 1)[-1]
                message = f"{verb} `{name}`, {why}" if verb == "adds" else f"turns `{name}` into {why}"
                out.append(
                    _diff_finding(
                        NEW_STARTUP_HOOK,
                        label,
                        change.path,
                        message,
                        trigger=Trigger.INTERPRETER_START,
                        snippet=data[:300].decode("utf-8", "replace"),
                        confidence=Confidence.MEDIUM if sdist_like else Confidence.HIGH,
                    )
                )
        if change.kind is ChangeKind.ADDED and (
            change.path.endswith(_BINARY_SUFFIXES) or data.startswith(_BINARY_MAGIC)
        ):
            out.append(
                _diff_finding(NEW_BINARY, label, change.path, f"adds native binary `{change.path}` ({len(data)} bytes)")
            )
        if not files.cross_kind and change.kind is not ChangeKind.RENAMED and _is_install_hook(change.path, backends):
            verb = "adds" if change.kind is ChangeKind.ADDED else "changes"
            old_data = _read(old, change.old_path) if change.old_path else None
            if change.path.endswith("pyproject.toml") and old_data is not None and _same_build_system(old_data, data):
                continue
            out.append(
                _diff_finding(
                    NEW_INSTALL_HOOK,
                    label,
                    change.path,
                    f"{verb} install-time code `{change.path}`",
                    trigger=Trigger.INSTALL,
                )
            )
    out.extend(_metadata_findings(old, new, label, cross_kind=files.cross_kind))
    return out


def _is_install_hook(path: str, backends: tuple[str, ...] = ()) -> bool:
    """setup.py / pyproject.toml at the root (or an sdist's top directory), or a file of an
    in-tree build backend (`backend-path`), which the installer imports and runs."""
    parts = path.split("/")
    if parts[-1] in ("setup.py", "pyproject.toml") and len(parts) <= 2:  # noqa: PLR2004 - root or sdist top dir
        return True
    return any(path.startswith(prefix) for prefix in backends)


def _backend_dirs(artifact: Artifact) -> tuple[str, ...]:
    """Path prefixes of an in-tree build backend: `[build-system] backend-path` directories joined
    with the top module of `build-backend` (`_build/backend.py` for `backend:api` in `_build`)."""
    pyprojects = [m.path for m in artifact.members() if m.path.endswith("pyproject.toml") and m.path.count("/") <= 1]
    out: list[str] = []
    for path in pyprojects:
        data = _read(artifact, path)
        try:
            doc = tomllib.loads(data.decode("utf-8", "replace")) if data else {}
        except tomllib.TOMLDecodeError:
            continue
        build = doc.get("build-system")
        if not isinstance(build, dict):
            continue
        dirs, backend = build.get("backend-path"), build.get("build-backend")
        if not isinstance(dirs, list) or not isinstance(backend, str) or not backend:
            continue
        top = backend.split(":", 1)[0].split(".", 1)[0].strip()
        root = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        for d in dirs:
            if not isinstance(d, str):
                continue
            base = root + (d.strip("./").rstrip("/") + "/" if d.strip("./") else "")
            out += [f"{base}{top}/", f"{base}{top}.py"]
    return tuple(out)


def _same_build_system(old: bytes, new: bytes) -> bool:
    def build(data: bytes) -> object:
        try:
            return tomllib.loads(data.decode("utf-8", "replace")).get("build-system")
        except tomllib.TOMLDecodeError:
            return None

    return build(old) == build(new)


def _deps(meta: PackageMetadata | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in meta.requires_dist if meta else ():
        try:
            out[canonicalize_name(Requirement(raw).name)] = raw
        except InvalidRequirement:
            out[raw] = raw
    return out


def _metadata_findings(old: Artifact, new: Artifact, label: str, *, cross_kind: bool = False) -> list[Finding]:
    out: list[Finding] = []
    old_deps, new_deps = _deps(old.metadata), _deps(new.metadata)
    # An sdist's PKG-INFO often leaves dependencies dynamic: with none listed there is nothing to compare.
    comparable = bool(old_deps) or not cross_kind
    for name in sorted(new_deps.keys() - old_deps.keys()) if comparable else ():
        out.append(
            _diff_finding(NEW_DEPENDENCY, label, "", f"adds dependency `{new_deps[name]}`", snippet=new_deps[name])
        )
    old_eps = {(e.group, e.name): e.value for e in (old.metadata.entry_points if old.metadata else ())}
    for ep in new.metadata.entry_points if new.metadata else ():
        before = old_eps.get((ep.group, ep.name))
        if before == ep.value:
            continue
        what = f"adds entry point [{ep.group}] {ep.name} = {ep.value}"
        if before is not None:
            what = f"retargets entry point [{ep.group}] {ep.name} from {before} to {ep.value}"
        severity = Severity.MEDIUM if ep.group in _AUTO_GROUPS and ep.group == "pytest11" else None
        out.append(_diff_finding(ENTRY_POINTS_CHANGED, label, "", what, trigger=Trigger.ENTRY_POINT, severity=severity))
    old_people, new_people = _people(old), _people(new)
    if old_people and new_people and old_people != new_people:
        changed = [
            f"{k}: {old_people.get(k, '-')!r} -> {new_people.get(k, '-')!r}"
            for k in _PEOPLE_HEADERS
            if old_people.get(k) != new_people.get(k)
        ]
        out.append(
            _diff_finding(
                MAINTAINER_CHANGED,
                label,
                "",
                "author/maintainer changed: " + "; ".join(changed),
                confidence=Confidence.MEDIUM,
            )
        )
    return out


def _people(artifact: Artifact) -> dict[str, str]:
    path = next(
        (
            m.path
            for m in artifact.members()
            if m.path.endswith(".dist-info/METADATA")
            or m.path == "PKG-INFO"
            or (m.path.count("/") == 1 and m.path.endswith("/PKG-INFO"))
        ),
        None,
    )
    data = _read(artifact, path) if path else None
    if data is None:
        return {}
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data[:1_000_000], headersonly=True)
    return {k: str(msg[k]).strip() for k in _PEOPLE_HEADERS if msg[k] is not None and str(msg[k]).strip()}
