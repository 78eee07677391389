"""Ask the OSV API: `POST /v1/querybatch` for the ids per package version, then
`GET /v1/vulns/{id}` for each record (querybatch returns ids and `modified` only)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from packaging.utils import canonicalize_name

from chainwarden.advisories.http import NetworkError
from chainwarden.advisories.model import PYPI, Advisory, AdvisoryFormatError, parse_advisory
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

DEFAULT_BASE = "https://api.osv.dev/v1"
BATCH_SIZE = 1000  # the API's limit per querybatch call
MAX_PAGES = 20
_OFFLINE_HINT = "check the network, or audit with `--offline` from a local database (`chainwarden db update`)"


class OsvService(AdvisoryService):
    name: ClassVar[str] = "osv"

    def __init__(self, client: HttpClient, base_url: str = DEFAULT_BASE, workers: int = 8) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.workers = workers

    def _post(self, body: object) -> list[object]:
        try:
            doc = json.loads(self.client.post_json(f"{self.base_url}/querybatch", body))
        except NetworkError as exc:
            raise ServiceError(f"OSV API could not be reached ({exc})", _OFFLINE_HINT) from None
        except ValueError:
            raise ServiceError("OSV API answered querybatch with invalid JSON", _OFFLINE_HINT) from None
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, list):
            raise ServiceError("OSV API answer has no 'results' list", _OFFLINE_HINT)
        return results

    def _ids(self, queries: Sequence[Query]) -> list[set[str]]:
        """The record ids per query, following `next_page_token`s."""
        ids: list[set[str]] = [set() for _ in queries]
        pending: list[tuple[int, str]] = [(i, "") for i in range(len(queries))]
        for _ in range(MAX_PAGES):
            if not pending:
                break
            follow: list[tuple[int, str]] = []
            for start in range(0, len(pending), BATCH_SIZE):
                batch = pending[start : start + BATCH_SIZE]
                body = {"queries": [self._query(queries[i], token) for i, token in batch]}
                results = self._post(body)
                if len(results) != len(batch):
                    raise ServiceError("OSV API answered a different number of results than asked", _OFFLINE_HINT)
                for (index, _), result in zip(batch, results, strict=True):
                    if not isinstance(result, dict):
                        continue
                    vulns = result.get("vulns")
                    for vuln in vulns if isinstance(vulns, list) else []:
                        if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                            ids[index].add(vuln["id"])
                    token = result.get("next_page_token")
                    if isinstance(token, str) and token:
                        follow.append((index, token))
            pending = follow
        return ids

    @staticmethod
    def _query(query: Query, token: str) -> dict[str, object]:
        package = {"name": canonicalize_name(query.name), "ecosystem": PYPI}
        out: dict[str, object] = {"package": package, "version": query.version}
        if token:
            out["page_token"] = token
        return out

    def _record(self, ident: str) -> Advisory | str:
        try:
            return parse_advisory(json.loads(self.client.get(f"{self.base_url}/vulns/{quote(ident)}")))
        except NetworkError as exc:
            return f"record {ident} could not be fetched ({exc})"
        except (ValueError, AdvisoryFormatError) as exc:
            return f"record {ident} is not a valid OSV record ({exc})"

    def lookup(self, queries: Sequence[Query]) -> LookupResult:
        ids = self._ids(queries)
        distinct = sorted(set().union(*ids)) if ids else []
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            records = dict(zip(distinct, pool.map(self._record, distinct), strict=True))
        answers: list[Answer] = []
        skipped: list[Skipped] = []
        for query, wanted in zip(queries, ids, strict=True):
            failed = [r for i in sorted(wanted) if isinstance(r := records[i], str)]
            if failed:
                skipped.append(Skipped(query, "; ".join(failed)))
                continue
            answers.append(Answer(query, tuple(r for i in sorted(wanted) if isinstance(r := records[i], Advisory))))
        return LookupResult(tuple(answers), tuple(skipped))
