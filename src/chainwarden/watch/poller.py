"""Ask the index, cheaply and in parallel, which watched packages have new releases.

One conditional GET of the PEP 691 project page per package per interval: `If-None-Match`
with the last ETag (a 304 costs a few bytes), PyPI's `X-PyPI-Last-Serial` to skip parsing an
unchanged page, and a hash of the body where the index gives neither. Many packages are polled
at once on a small thread pool so thousands fit in one interval.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from chainwarden.index_client import JSON_TYPE, parse_json_page

_MAX_PAGE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PollResult:
    name: str
    changed: bool
    etag: str
    serial: str
    versions: tuple[str, ...]  # every version the page lists (when changed)
    uploaded: dict[str, str]  # version -> newest upload time of its files
    error: str = ""
    missing: bool = False  # the index no longer has the project
    bytes: int = 0


def _versions(name: str, url: str, body: bytes) -> tuple[tuple[str, ...], dict[str, str]]:
    page = parse_json_page(name, url, body)
    uploaded: dict[str, str] = {}
    for f in page.files:
        if f.version and f.upload_time:
            uploaded[f.version] = max(uploaded.get(f.version, ""), f.upload_time)
    versions = tuple(page.versions) or tuple(sorted({f.version for f in page.files if f.version}))
    return versions, uploaded


def _unchanged(
    project: str, etag: str, serial: str, *, error: str = "", missing: bool = False, size: int = 0
) -> PollResult:
    return PollResult(
        project,
        changed=False,
        etag=etag,
        serial=serial,
        versions=(),
        uploaded={},
        error=error,
        missing=missing,
        bytes=size,
    )


def poll_one(  # noqa: PLR0911 - one return per kind of answer
    index_url: str, name: str, etag: str, serial: str, timeout: float = 30.0
) -> PollResult:
    project = canonicalize_name(name)
    url = urllib.parse.urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{project}/")
    headers = {"Accept": f"{JSON_TYPE}", "User-Agent": "chainwarden-watch"}
    if etag and not etag.startswith("sha256:"):
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the configured index
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(_MAX_PAGE + 1)
            new_etag = response.headers.get("ETag", "")
            new_serial = response.headers.get("X-PyPI-Last-Serial", "")
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 304:  # noqa: PLR2004
            return _unchanged(project, etag, serial)
        if err.code == 404:  # noqa: PLR2004
            return _unchanged(project, etag, serial, error="not on the index", missing=True)
        return _unchanged(project, etag, serial, error=f"HTTP {err.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        return _unchanged(project, etag, serial, error=str(getattr(err, "reason", err)))
    if len(body) > _MAX_PAGE:
        return _unchanged(project, etag, serial, error="project page too large")
    if not new_etag:
        new_etag = "sha256:" + hashlib.sha256(body).hexdigest()
    if (new_serial and new_serial == serial) or new_etag == etag:
        return _unchanged(project, new_etag, new_serial, size=len(body))
    try:
        versions, uploaded = _versions(project, url, body)
    except (ValueError, json.JSONDecodeError) as err:
        return _unchanged(project, etag, serial, error=f"unreadable project page: {err}")
    return PollResult(
        project, changed=True, etag=new_etag, serial=new_serial, versions=versions, uploaded=uploaded, bytes=len(body)
    )


def poll_many(
    index_url: str, states: dict[str, tuple[str, str]], *, workers: int = 16, timeout: float = 30.0
) -> list[PollResult]:
    """Poll every package in `states` (name -> (etag, serial)) concurrently."""
    if not states:
        return []
    with cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(states)))) as pool:
        futures = [
            pool.submit(poll_one, index_url, name, etag, serial, timeout) for name, (etag, serial) in states.items()
        ]
        return [f.result() for f in futures]
