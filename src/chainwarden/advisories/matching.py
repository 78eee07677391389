"""Does an OSV record affect `name==version`? OSV's evaluation rules with `packaging` versions.

* `versions` lists and `ECOSYSTEM` ranges are a union: either one naming the version is enough.
* Range events are sorted by version; the version is affected when the last event at or below it
  is `introduced` (or it equals a `last_affected`). `limit` events cap the whole range.
* `SEMVER` ranges are read leniently with the same PEP 440 parser; `GIT` ranges hold commit
  hashes and are skipped, never parsed as versions.
* A withdrawn record never matches. An event whose version PEP 440 cannot parse is ignored
  (the range still counts from the events that parse); `Match.uncertain` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from chainwarden.advisories.model import Advisory, Affected, EventKind, Range, RangeType

_ZERO = Version("0")


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def version_key(text: str) -> Version:
    """Sort key for version strings; unparseable ones sort first."""
    return parse_version(text) or _ZERO


@dataclass(frozen=True, slots=True)
class Match:
    """An advisory that affects a package version, and the versions that fix it."""

    advisory: Advisory
    name: str
    version: str
    fixed: tuple[str, ...] = ()
    uncertain: bool = False


def _range_affects(rng: Range, version: Version) -> tuple[bool, bool]:
    """(affected, uncertain) for one ECOSYSTEM/SEMVER range."""
    uncertain = False
    limits: list[Version] = []
    # (0, ...) is OSV's `introduced: "0"`: before every version, pre-releases of 0 included.
    events: list[tuple[int, Version, int, EventKind]] = []
    for index, event in enumerate(rng.events):
        if event.kind is EventKind.INTRODUCED and event.value == "0":
            events.append((0, _ZERO, index, event.kind))
            continue
        if event.kind is EventKind.LIMIT and event.value == "*":
            continue  # no limit
        parsed = parse_version(event.value)
        if parsed is None:
            uncertain = True
        elif event.kind is EventKind.LIMIT:
            limits.append(parsed)
        else:
            events.append((1, parsed, index, event.kind))
    if limits and all(version >= limit for limit in limits):
        return False, uncertain
    affected = False
    for real, at, _, kind in sorted(events):
        if real and at > version:
            break
        if kind is EventKind.INTRODUCED:
            affected = True
        elif kind is EventKind.FIXED:
            affected = False
        elif kind is EventKind.LAST_AFFECTED:
            affected = at == version
    return affected, uncertain


@lru_cache(maxsize=262144)
def _canonical(text: str) -> str:
    """PEP 440 equality as a string (`1.0` == `1.0.0`); unparseable text stays as written."""
    parts = text.split(".")
    if all(part.isdigit() and part.isascii() for part in parts):  # plain releases: most of them
        numbers = [str(int(part)) for part in parts]
        while len(numbers) > 1 and numbers[-1] == "0":
            numbers.pop()
        return ".".join(numbers)
    parsed = parse_version(text)
    return canonicalize_version(parsed) if parsed is not None else text


def canonical_version(text: str) -> str:
    """The form under which equal PEP 440 versions compare equal as strings."""
    return _canonical(text)


def ranges_may_affect(ranges: tuple[Range, ...], version: str) -> bool:
    """Cheap pre-check used by the offline database: could these ECOSYSTEM/SEMVER ranges
    affect `version`? True when unsure (unparseable version or event); `match` decides."""
    parsed = parse_version(version)
    if parsed is None:
        return True
    for rng in ranges:
        affected, uncertain = _range_affects(rng, parsed)
        if affected or uncertain:
            return True
    return False


def _listed(affected: Affected, version: str) -> bool:
    if version in affected.versions:
        return True
    wanted = _canonical(version)
    return any(_canonical(listed) == wanted for listed in affected.versions)


def _fixes(affected: Affected, version: Version) -> list[str]:
    """The `fixed` versions above `version`: where an upgrade gets out of the range."""
    out: list[str] = []
    for rng in affected.ranges:
        if rng.type not in {RangeType.ECOSYSTEM, RangeType.SEMVER}:
            continue
        for event in rng.events:
            if event.kind is EventKind.FIXED:
                fixed = parse_version(event.value)
                if fixed is not None and fixed > version:
                    out.append(event.value)
    return out


def match(advisory: Advisory, name: str, version: str) -> Match | None:
    """The match of `advisory` against `name==version`, or None if it does not affect it."""
    if advisory.withdrawn:
        return None
    parsed = parse_version(version)
    hit = False
    uncertain = False
    fixed: list[str] = []
    for affected in advisory.affected_for(name):
        entry_hit = _listed(affected, version)
        if parsed is not None:
            for rng in affected.ranges:
                if rng.type not in {RangeType.ECOSYSTEM, RangeType.SEMVER}:
                    continue
                in_range, unsure = _range_affects(rng, parsed)
                uncertain = uncertain or unsure
                entry_hit = entry_hit or in_range
        if entry_hit:
            hit = True
            if parsed is not None:
                fixed.extend(_fixes(affected, parsed))
    if not hit:
        return None
    ordered = sorted(set(fixed), key=version_key)
    return Match(advisory, name, version, tuple(ordered), uncertain)


def affected_versions(advisory: Advisory, name: str, releases: list[str]) -> list[str]:
    """Which of `releases` the advisory's ranges (not its `versions` list) mark as affected.

    Used by the range-evaluation oracle: ranges alone, evaluated over a real release history,
    should reproduce the record's enumerated list.
    """
    out: list[str] = []
    ranged = [
        rng
        for affected in advisory.affected_for(name)
        for rng in affected.ranges
        if rng.type in {RangeType.ECOSYSTEM, RangeType.SEMVER}
    ]
    for release in releases:
        parsed = parse_version(release)
        if parsed is not None and any(_range_affects(rng, parsed)[0] for rng in ranged):
            out.append(release)
    return out
