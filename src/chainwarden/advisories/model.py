"""The OSV advisory record as frozen values, parsed leniently from OSV JSON.

Only what matching and reporting need is kept: ids and aliases, withdrawal, severity, and the
PyPI `affected` entries (ranges and enumerated versions). A record that is not an object or has
no `id` raises `AdvisoryFormatError`; odd fields inside a valid record are dropped, not fatal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name

from chainwarden.advisories.cvss import cvss3_base_score
from chainwarden.models import Severity

PYPI = "PyPI"


class AdvisoryFormatError(ValueError):
    """An OSV record that cannot be used at all (not an object, no id)."""


class EventKind(enum.StrEnum):
    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


class RangeType(enum.StrEnum):
    ECOSYSTEM = "ECOSYSTEM"
    SEMVER = "SEMVER"
    GIT = "GIT"
    OTHER = "OTHER"


_EVENT_KINDS = {kind.value: kind for kind in EventKind}
_RANGE_TYPES = {kind.value: kind for kind in RangeType}


def event_kind(text: str) -> EventKind | None:
    return _EVENT_KINDS.get(text)


def range_type(text: str) -> RangeType:
    return _RANGE_TYPES.get(text, RangeType.OTHER)


@lru_cache(maxsize=65536)
def package_key(name: str) -> str:
    """The canonical PyPI name (cached: the same few names are asked about again and again)."""
    return canonicalize_name(name)


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    value: str


@dataclass(frozen=True, slots=True)
class Range:
    type: RangeType
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Affected:
    """One `affected[]` entry: a package, the ranges that affect it and an enumerated list."""

    name: str  # canonical PyPI name
    ecosystem: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    modified: str = ""
    published: str = ""
    withdrawn: str = ""
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: Severity | None = None  # None: the record does not say
    affected: tuple[Affected, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def malicious(self) -> bool:
        """`MAL-` records come from ossf/malicious-packages: the package itself is malware."""
        return self.id.startswith("MAL-")

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))

    @property
    def url(self) -> str:
        return f"https://osv.dev/vulnerability/{self.id}"

    def affected_for(self, name: str) -> tuple[Affected, ...]:
        key = package_key(name)
        return tuple(a for a in self.affected if a.name == key and a.ecosystem == PYPI)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple([v for v in value if isinstance(v, str)])


def _events(raw: object) -> tuple[Event, ...]:
    out: list[Event] = []
    if not isinstance(raw, list):
        return ()
    for item in raw:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            kind = _EVENT_KINDS.get(key)
            if kind is not None and isinstance(value, str):
                out.append(Event(kind, value))
    return tuple(out)


def _range(raw: object) -> Range | None:
    if not isinstance(raw, dict):
        return None
    return Range(range_type(_str(raw.get("type"))), _events(raw.get("events")))


def _affected(raw: object) -> Affected | None:
    if not isinstance(raw, dict):
        return None
    package = raw.get("package")
    if not isinstance(package, dict):
        return None
    name = _str(package.get("name"))
    if not name:
        return None
    ranges = raw.get("ranges")
    parsed = [_range(r) for r in ranges] if isinstance(ranges, list) else []
    return Affected(
        name=package_key(name),
        ecosystem=_str(package.get("ecosystem")),
        ranges=tuple(r for r in parsed if r is not None),
        versions=_strs(raw.get("versions")),
    )


_GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0+ critical)."""
    if score >= 9.0:  # noqa: PLR2004 - CVSS rating boundaries
        return Severity.CRITICAL
    if score >= 7.0:  # noqa: PLR2004
        return Severity.HIGH
    if score >= 4.0:  # noqa: PLR2004
        return Severity.MEDIUM
    if score > 0:
        return Severity.LOW
    return Severity.INFO


def _severity(doc: dict[str, Any]) -> Severity | None:
    specific = doc.get("database_specific")
    if isinstance(specific, dict):
        label = specific.get("severity")
        if isinstance(label, str) and label.upper() in _GHSA_SEVERITY:
            return _GHSA_SEVERITY[label.upper()]
    best: Severity | None = None
    entries = doc.get("severity")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("type") != "CVSS_V3":
            continue
        score = cvss3_base_score(_str(entry.get("score")))
        if score is not None:
            rated = severity_from_score(score)
            best = rated if best is None else max(best, rated)
    return best


def parse_advisory(doc: object) -> Advisory:
    """Build an `Advisory` from a decoded OSV JSON document."""
    if not isinstance(doc, dict):
        raise AdvisoryFormatError("an OSV record must be a JSON object")
    ident = doc.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise AdvisoryFormatError("an OSV record needs a string 'id'")
    affected = doc.get("affected")
    parsed = [_affected(a) for a in affected] if isinstance(affected, list) else []
    refs = doc.get("references")
    return Advisory(
        id=ident.strip(),
        modified=_str(doc.get("modified")),
        published=_str(doc.get("published")),
        withdrawn=_str(doc.get("withdrawn")),
        aliases=tuple(a for a in _strs(doc.get("aliases")) if a != ident),
        summary=_str(doc.get("summary")),
        details=_str(doc.get("details")),
        severity=_severity(doc),
        affected=tuple(a for a in parsed if a is not None),
        references=tuple(
            _str(r.get("url")) for r in (refs if isinstance(refs, list) else []) if isinstance(r, dict) and r.get("url")
        ),
    )
