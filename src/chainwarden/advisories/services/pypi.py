"""Ask PyPI's JSON API (`/pypi/<name>/<version>/json`) for the `vulnerabilities` of each release.

PyPI serves OSV data in a shortened form (`id`, `aliases`, `details`, `fixed_in`, `withdrawn`);
each entry becomes an `Advisory` whose enumerated version is the one asked about.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from chainwarden.advisories.http import NetworkError
from chainwarden.advisories.model import PYPI, Advisory, Affected, Event, EventKind, Range, RangeType
from chainwarden.advisories.services.base import (
    AdvisoryService,
    Answer,
    LookupResult,
    Query,
    ServiceError,
    Skipped,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainwarden.advisories.http import HttpClient

DEFAULT_BASE = "https://pypi.org/pypi"
_NOT_FOUND = 404
_UNREACHABLE = "PyPI did not answer"


def _strs(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def advisory_from_pypi(entry: object, name: str, version: str) -> Advisory | None:
    """One `vulnerabilities[]` entry of PyPI's JSON API as an `Advisory` for `name==version`."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return None
    fixed = _strs(entry.get("fixed_in"))
    events = (Event(EventKind.INTRODUCED, "0"), *(Event(EventKind.FIXED, f) for f in fixed))
    withdrawn = entry.get("withdrawn")
    summary = entry.get("summary")
    details = entry.get("details")
    link = entry.get("link")
    return Advisory(
        id=entry["id"],
        withdrawn=withdrawn if isinstance(withdrawn, str) else "",
        aliases=_strs(entry.get("aliases")),
        summary=summary if isinstance(summary, str) else "",
        details=details if isinstance(details, str) else "",
        affected=(
            Affected(
                name=name,
                ecosystem=PYPI,
                # PyPI answered for this exact release; the fixes are kept as a range so that
                # `fixed` versions reach the report.
                ranges=(Range(RangeType.ECOSYSTEM, events),) if fixed else (),
                versions=(version,),
            ),
        ),
        references=(link,) if isinstance(link, str) else (),
    )


class PyPIService(AdvisoryService):
    name: ClassVar[str] = "pypi"

    def __init__(self, client: HttpClient, base_url: str = DEFAULT_BASE, workers: int = 8) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.workers = workers

    def _one(self, query: Query) -> Answer | Skipped:
        url = f"{self.base_url}/{quote(query.name)}/{quote(query.version)}/json"
        try:
            doc = json.loads(self.client.get(url))
        except NetworkError as exc:
            if exc.status == _NOT_FOUND:
                return Skipped(query, "not found on PyPI (removed, private or local package?)")
            return Skipped(query, f"{_UNREACHABLE}: {exc}")
        except ValueError:
            return Skipped(query, "PyPI answered with invalid JSON")
        raw = doc.get("vulnerabilities") if isinstance(doc, dict) else None
        if not isinstance(raw, list):
            return Skipped(query, "PyPI's answer has no 'vulnerabilities' list")
        parsed = [advisory_from_pypi(e, query.name, query.version) for e in raw]
        return Answer(query, tuple(a for a in parsed if a is not None))

    def lookup(self, queries: Sequence[Query]) -> LookupResult:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            outcomes = list(pool.map(self._one, queries))
        answers = tuple(o for o in outcomes if isinstance(o, Answer))
        skipped = tuple(o for o in outcomes if isinstance(o, Skipped))
        if queries and all(isinstance(o, Skipped) and o.reason.startswith(_UNREACHABLE) for o in outcomes):
            raise ServiceError(
                "PyPI could not be reached",
                hint="check the network, or audit with `--offline` from a local database (`chainwarden db update`)",
            )
        return LookupResult(answers, skipped)
