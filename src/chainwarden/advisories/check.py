"""Ask a service about package versions and decide which records really affect them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.advisories.matching import match
from chainwarden.advisories.merge import MergedMatch, merge
from chainwarden.advisories.services.base import Skipped

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainwarden.advisories.services.base import AdvisoryService, Query


@dataclass(frozen=True, slots=True)
class AdvisoryReport:
    matches: tuple[MergedMatch, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()


def check(service: AdvisoryService, queries: Sequence[Query]) -> AdvisoryReport:
    """Matches for every query the service answered; `ServiceError` propagates."""
    unique = list(dict.fromkeys(queries))
    result = service.lookup(unique)
    merged: list[MergedMatch] = []
    for answer in result.answers:
        hits = [m for a in answer.advisories if (m := match(a, answer.query.name, answer.query.version))]
        merged.extend(merge(hits))
    return AdvisoryReport(tuple(merged), result.skipped, result.notes)
