"""Index and metadata signals: typosquats, dependency confusion, late uploads, dormancy,
yanked files, project status, vanished releases, owner changes.

Each check takes parsed index data (`ProjectInfo`) and returns findings; none touches the
network. A release the index no longer has is a finding (`CW528`), never a clean result.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from chainwarden.models import Confidence, Evidence, Finding, Location, Severity
from chainwarden.rules.archive import INDEX_YANKED
from chainwarden.rules.provenance import (
    DEPENDENCY_CONFUSION,
    DORMANT_RELEASE,
    LATE_FILE,
    MAINTAINER_CHANGED,
    PROJECT_INACTIVE,
    PROJECT_QUARANTINED,
    RELEASE_VANISHED,
    TYPOSQUAT,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from chainwarden.provenance.index import ProjectInfo
    from chainwarden.rules import Rule

ANALYZER = "index-signals"
ANALYZER_VERSION = "1"

#: Pairs of real, unrelated projects whose names are one edit apart (canonical names).
KNOWN_PAIRS: frozenset[frozenset[str]] = frozenset(
    frozenset(p)
    for p in (
        ("request", "requests"),
        ("pyyaml", "ruamel-yaml"),
        ("jinja2", "jinja"),
        ("pillow", "pylow"),
        ("urllib3", "urllib2"),
        ("boto", "boto3"),
        ("botocore", "aiobotocore"),
        ("pytest", "pytest2"),
        ("click", "clint"),
        ("mock", "moto"),
        ("six", "sip"),
        ("attrs", "cattrs"),
        ("black", "blake3"),
        ("dask", "flask"),
        ("tox", "toml"),
        ("nox", "tox"),
    )
)
_HOMOGLYPHS = (("rn", "m"), ("1", "l"), ("0", "o"), ("vv", "w"), ("cl", "d"))
_MIN_LENGTH = 5  # shorter names are one edit from far too many others
_SWAP = 2  # an adjacent transposition differs in exactly two neighbouring places


@dataclass(frozen=True, slots=True)
class SignalContext:
    """What the checks need besides index data; all optional."""

    now: dt.datetime | None = None
    late_after: dt.timedelta = dt.timedelta(days=2)
    dormant_after: dt.timedelta = dt.timedelta(days=730)


def _finding(
    rule: Rule,
    label: str,
    message: str,
    *,
    path: str = "",
    severity: Severity | None = None,
    confidence: Confidence = Confidence.HIGH,
    detail: tuple[tuple[str, str], ...] = (),
) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=severity if severity is not None else rule.severity,
        message=message,
        location=Location(artifact=label, path=path),
        confidence=confidence,
        evidence=Evidence(snippet=message, detail=detail),
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


# ------------------------------------------------------------------ typosquatting


@functools.cache
def popular_names() -> tuple[str, ...]:
    """The bundled list of popular project names, most popular first."""
    text = resources.files("chainwarden.provenance").joinpath("popular.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _distance_at_most_one(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insert, delete, substitution or adjacent swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        if len(diffs) != _SWAP:
            return False
        i, j = diffs
        return j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _squashed(name: str) -> str:
    return name.replace("-", "")


def _deglyph(name: str) -> str:
    for fake, real in _HOMOGLYPHS:
        name = name.replace(fake, real)
    return name


def typosquat_target(
    name: str, popular: Iterable[str] | None = None, known_pairs: Collection[frozenset[str]] = KNOWN_PAIRS
) -> str:
    """The popular name `name` imitates, or "" (also "" when `name` is itself popular)."""
    canon = canonicalize_name(name)
    names = tuple(popular) if popular is not None else popular_names()
    if canon in names or len(_squashed(canon)) < _MIN_LENGTH:
        return ""
    squashed, glyphless = _squashed(canon), _deglyph(_squashed(canon))
    for target in names:
        if frozenset((canon, target)) in known_pairs or len(_squashed(target)) < _MIN_LENGTH:
            continue
        t = _squashed(target)
        if squashed == t or glyphless == _deglyph(t) or _distance_at_most_one(squashed, t):
            return target
    return ""


def check_typosquat(name: str, label: str, popular: Iterable[str] | None = None) -> list[Finding]:
    target = typosquat_target(name, popular)
    if not target:
        return []
    return [
        _finding(
            TYPOSQUAT,
            label,
            f"`{canonicalize_name(name)}` is one edit away from the popular package `{target}`",
            confidence=Confidence.MEDIUM,
            detail=(("imitates", target),),
        )
    ]


# ------------------------------------------------------------------ index signals


def check_dependency_confusion(
    name: str, internal: Collection[str], public: ProjectInfo | None, label: str
) -> list[Finding]:
    """`public` is the public index's view of `name` (None if it does not exist there)."""
    canon = canonicalize_name(name)
    if canon not in {canonicalize_name(n) for n in internal} or public is None or not public.files:
        return []
    newest = public.versions()[-1:] or ["?"]
    return [
        _finding(
            DEPENDENCY_CONFUSION,
            label,
            f"`{canon}` is configured as internal but exists on the public index (newest public version {newest[0]})",
        )
    ]


def check_release(
    project: ProjectInfo,
    version: str,
    label: str,
    context: SignalContext | None = None,
    *,
    include_yanked: bool = True,
) -> list[Finding]:
    """Signals about one release: vanished, yanked, late files, dormancy, project status.
    `include_yanked=False` when the index source already reported yanked files (CW029)."""
    ctx = context or SignalContext()
    out: list[Finding] = list(_status(project, label))
    files = project.release(version)
    if not files:
        where = "listed with no files" if version in project.empty_versions else "not on the index"
        out.append(
            _finding(
                RELEASE_VANISHED,
                label,
                f"{project.name} {version} is {where}: it was deleted, or never published here",
            )
        )
        return out
    if include_yanked:
        out.extend(_yanked(files, label))
    out.extend(_late(project, version, label, ctx))
    out.extend(_dormant(project, version, label, ctx))
    return out


def check_file_present(project: ProjectInfo, version: str, filename: str, sha256: str, label: str) -> list[Finding]:
    """A pinned file (by name and hash) that the index no longer serves, or serves with another hash."""
    files = {f.filename: f for f in project.release(version)}
    current = files.get(filename)
    if current is None:
        return [_finding(RELEASE_VANISHED, label, f"{filename} is no longer on the index", path=filename)]
    if sha256 and current.sha256 and current.sha256.lower() != sha256.lower():
        return [
            _finding(
                RELEASE_VANISHED,
                label,
                f"{filename} on the index has sha256 {current.sha256[:16]}…, not the pinned {sha256[:16]}…",
                path=filename,
                severity=Severity.CRITICAL,
            )
        ]
    return []


def check_owners(pinned: Collection[str], current: Collection[str], label: str) -> list[Finding]:
    """Owners/maintainers recorded earlier versus now (from the index's ownership roles)."""
    before = {o.lower() for o in pinned}
    now = {o.lower() for o in current}
    if not before or before == now:
        return []
    added, removed = sorted(now - before), sorted(before - now)
    parts = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else ""]
    return [_finding(MAINTAINER_CHANGED, label, "project owners changed: " + "; ".join(p for p in parts if p))]


def _status(project: ProjectInfo, label: str) -> list[Finding]:
    status = project.status.lower()
    reason = f" ({project.status_reason})" if project.status_reason else ""
    if status == "quarantined":
        return [_finding(PROJECT_QUARANTINED, label, f"the index has quarantined {project.name}{reason}")]
    if status in ("archived", "deprecated"):
        return [_finding(PROJECT_INACTIVE, label, f"the index marks {project.name} {status}{reason}")]
    return []


def _yanked(files: Iterable[object], label: str) -> list[Finding]:
    out: list[Finding] = []
    for f in files:
        if getattr(f, "yanked", False):
            reason = getattr(f, "yanked_reason", "")
            why = f": {reason}" if reason else ""
            name = getattr(f, "filename", "")
            out.append(_finding(INDEX_YANKED, label, f"{name} is yanked{why}", path=name))
    return out


def _late(project: ProjectInfo, version: str, label: str, ctx: SignalContext) -> list[Finding]:
    first = project.first_upload(version)
    if first is None:
        return []
    out: list[Finding] = []
    for f in project.release(version):
        if f.upload_time is not None and f.upload_time - first > ctx.late_after:
            days = (f.upload_time - first).days
            out.append(
                _finding(
                    LATE_FILE,
                    label,
                    f"{f.filename} was uploaded {days} days after the rest of {project.name} {version} "
                    f"({f.upload_time:%Y-%m-%d} vs {first:%Y-%m-%d})",
                    path=f.filename,
                    severity=Severity.HIGH if f.is_wheel else Severity.MEDIUM,
                )
            )
    return out


def _dormant(project: ProjectInfo, version: str, label: str, ctx: SignalContext) -> list[Finding]:
    this = project.first_upload(version)
    if this is None:
        return []
    earlier = [t for v in project.versions() if (t := project.first_upload(v)) is not None and t < this]
    if not earlier:
        return []
    gap = this - max(earlier)
    if gap < ctx.dormant_after:
        return []
    return [
        _finding(
            DORMANT_RELEASE,
            label,
            f"{project.name} {version} comes after {gap.days // 365} years and {gap.days % 365} days without a release",
        )
    ]
