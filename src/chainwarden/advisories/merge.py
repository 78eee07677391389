"""Merge matches that are one problem under several names (PYSEC / GHSA / CVE / MAL aliases).

Two records for the same package version belong together when their ids or aliases overlap;
the group is reported once, under its most specific id, with every other id as an alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.advisories.matching import Match, version_key
from chainwarden.models import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Which id names the group: malware first, then the Python-specific databases.
_ID_PREFERENCE = ("MAL-", "PYSEC-", "GHSA-", "CVE-")

#: A record that says nothing about severity is treated as this.
DEFAULT_SEVERITY = Severity.HIGH


def _rank(ident: str) -> tuple[int, str]:
    for index, prefix in enumerate(_ID_PREFERENCE):
        if ident.startswith(prefix):
            return index, ident
    return len(_ID_PREFERENCE), ident


@dataclass(frozen=True, slots=True)
class MergedMatch:
    """One problem with one package version, possibly described by several records."""

    name: str
    version: str
    id: str
    aliases: tuple[str, ...]
    malicious: bool
    severity: Severity
    summary: str
    fixed: tuple[str, ...]
    matches: tuple[Match, ...]

    @property
    def url(self) -> str:
        return f"https://osv.dev/vulnerability/{self.id}"


def _severity(matches: Iterable[Match]) -> Severity:
    rated = [m.advisory.severity for m in matches if m.advisory.severity is not None]
    return max(rated) if rated else DEFAULT_SEVERITY


def _merge_group(group: list[Match]) -> MergedMatch:
    ids: set[str] = set()
    for m in group:
        ids |= m.advisory.ids
    primary = min((m.advisory.id for m in group), key=_rank)
    malicious = any(m.advisory.malicious for m in group)
    fixed = sorted({f for m in group for f in m.fixed})
    fixed.sort(key=version_key)
    by_rank = sorted(group, key=lambda m: _rank(m.advisory.id))
    summary = next((m.advisory.summary for m in by_rank if m.advisory.summary), "")
    if not summary:
        details = next((m.advisory.details for m in by_rank if m.advisory.details), "")
        summary = details.strip().split("\n", 1)[0][:200]
    return MergedMatch(
        name=group[0].name,
        version=group[0].version,
        id=primary,
        aliases=tuple(sorted(ids - {primary}, key=_rank)),
        malicious=malicious,
        severity=Severity.CRITICAL if malicious else _severity(group),
        summary=summary,
        fixed=tuple(fixed),
        matches=tuple(by_rank),
    )


def merge(matches: Iterable[Match]) -> tuple[MergedMatch, ...]:
    """Group matches of one package version whose ids overlap (transitively) and merge each group."""
    groups: list[tuple[set[str], list[Match]]] = []
    for m in matches:
        ids = set(m.advisory.ids)
        joined = [g for g in groups if g[0] & ids]
        merged_ids, merged = ids, [m]
        for g in joined:
            merged_ids |= g[0]
            merged.extend(g[1])
            groups.remove(g)
        groups.append((merged_ids, merged))
    out = [_merge_group(g[1]) for g in groups]
    return tuple(sorted(out, key=lambda mm: (-mm.severity, _rank(mm.id))))
