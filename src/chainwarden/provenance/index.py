"""What the package index says about a project, parsed into frozen values.

Two response formats are understood: the PyPI JSON API (`/pypi/<name>/json`) and the simple
repository API in JSON (PEP 691, with PEP 700 upload times and PEP 792 project status).
Parsing is lenient (unknown keys ignored, a broken file entry skipped and counted) and raises
`IndexDataError` only when the document is not a project at all. Fetching is not done here:
callers pass bytes (recorded in tests, fetched by the sources' index client in use).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version


class IndexDataError(Exception):
    """The index response is not a project description."""


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    version: str
    packagetype: str  # "bdist_wheel" | "sdist" | other
    sha256: str = ""
    upload_time: dt.datetime | None = None
    yanked: bool = False
    yanked_reason: str = ""
    size: int = 0
    url: str = ""

    @property
    def is_wheel(self) -> bool:
        return self.packagetype == "bdist_wheel" or self.filename.endswith(".whl")


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """A project on the index: its files (every release), status and declared repository URLs."""

    name: str
    files: tuple[IndexFile, ...]
    status: str = "active"  # PEP 792: active | archived | quarantined | deprecated
    status_reason: str = ""
    project_urls: tuple[tuple[str, str], ...] = ()
    owners: tuple[str, ...] = ()
    skipped: int = 0  # file entries that could not be read
    empty_versions: tuple[str, ...] = ()  # releases listed with no files (deleted files)

    def versions(self) -> list[str]:
        """Every release with at least one file, oldest first (unparseable versions dropped)."""
        parsed: dict[str, Version] = {}
        for f in self.files:
            if f.version not in parsed:
                try:
                    parsed[f.version] = Version(f.version)
                except InvalidVersion:
                    continue
        return sorted(parsed, key=parsed.__getitem__)

    def release(self, version: str) -> tuple[IndexFile, ...]:
        want = _normal_version(version)
        return tuple(f for f in self.files if _normal_version(f.version) == want)

    def has_version(self, version: str) -> bool:
        return bool(self.release(version))

    def first_upload(self, version: str) -> dt.datetime | None:
        times = [f.upload_time for f in self.release(version) if f.upload_time is not None]
        return min(times) if times else None


def _normal_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _load(data: bytes | str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        msg = f"index response is not JSON: {err}"
        raise IndexDataError(msg) from None
    if not isinstance(doc, dict):
        msg = "index response is not a JSON object"
        raise IndexDataError(msg)
    return doc


def _version_from_filename(filename: str) -> str:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return ""


def _status(raw: object) -> tuple[str, str]:
    if isinstance(raw, dict):
        status = raw.get("status")
        reason = raw.get("reason")
        return (status if isinstance(status, str) and status else "active", reason if isinstance(reason, str) else "")
    return ("active", "")


def parse_pypi_json(data: bytes | str) -> ProjectInfo:
    """Parse a PyPI JSON API project document (`/pypi/<name>/json`)."""
    doc = _load(data)
    info = doc.get("info")
    releases = doc.get("releases")
    if not isinstance(info, dict) or not isinstance(info.get("name"), str) or not isinstance(releases, dict):
        msg = "index response has no project info or releases"
        raise IndexDataError(msg)
    files: list[IndexFile] = []
    skipped = 0
    empty: list[str] = []
    for version, entries in releases.items():
        if not isinstance(entries, list):
            skipped += 1
            continue
        if not entries:
            empty.append(str(version))
        for entry in entries:
            parsed = _pypi_file(str(version), entry)
            if parsed is None:
                skipped += 1
            else:
                files.append(parsed)
    urls = info.get("project_urls")
    project_urls = tuple((str(k), str(v)) for k, v in urls.items()) if isinstance(urls, dict) else ()
    home = info.get("home_page")
    if isinstance(home, str) and home:
        project_urls = (*project_urls, ("Home-page", home))
    ownership = doc.get("ownership")
    roles = ownership.get("roles") if isinstance(ownership, dict) else None
    owners = tuple(
        sorted(str(r.get("user")) for r in roles if isinstance(r, dict) and r.get("user"))
        if isinstance(roles, list)
        else ()
    )
    status, reason = _status(info.get("project_status") or doc.get("project-status"))
    return ProjectInfo(
        name=canonicalize_name(info["name"]),
        files=tuple(files),
        status=status,
        status_reason=reason,
        project_urls=project_urls,
        owners=owners,
        skipped=skipped,
        empty_versions=tuple(empty),
    )


def _pypi_file(version: str, entry: object) -> IndexFile | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
        return None
    digests = entry.get("digests")
    sha = digests.get("sha256", "") if isinstance(digests, dict) else ""
    reason = entry.get("yanked_reason")
    size = entry.get("size")
    return IndexFile(
        filename=entry["filename"],
        version=version,
        packagetype=str(entry.get("packagetype") or ""),
        sha256=sha if isinstance(sha, str) else "",
        upload_time=_time(entry.get("upload_time_iso_8601") or entry.get("upload_time")),
        yanked=bool(entry.get("yanked")),
        yanked_reason=reason if isinstance(reason, str) else "",
        size=size if isinstance(size, int) else 0,
        url=str(entry.get("url") or ""),
    )


def parse_simple_json(data: bytes | str) -> ProjectInfo:
    """Parse a PEP 691 simple-API project page (JSON), with PEP 700 and PEP 792 fields."""
    doc = _load(data)
    name = doc.get("name")
    entries = doc.get("files")
    if not isinstance(name, str) or not isinstance(entries, list):
        msg = "simple-API response has no name or files"
        raise IndexDataError(msg)
    files: list[IndexFile] = []
    skipped = 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            skipped += 1
            continue
        filename = entry["filename"]
        version = _version_from_filename(filename)
        if not version:
            skipped += 1
            continue
        hashes = entry.get("hashes")
        sha = hashes.get("sha256", "") if isinstance(hashes, dict) else ""
        yanked = entry.get("yanked")
        size = entry.get("size")
        files.append(
            IndexFile(
                filename=filename,
                version=version,
                packagetype="bdist_wheel" if filename.endswith(".whl") else "sdist",
                sha256=sha if isinstance(sha, str) else "",
                upload_time=_time(entry.get("upload-time")),
                yanked=bool(yanked),
                yanked_reason=yanked if isinstance(yanked, str) else "",
                size=size if isinstance(size, int) else 0,
                url=str(entry.get("url") or ""),
            )
        )
    status, reason = _status(doc.get("project-status"))
    listed = doc.get("versions")
    have = {_normal_version(f.version) for f in files}
    empty = tuple(str(v) for v in listed if _normal_version(str(v)) not in have) if isinstance(listed, list) else ()
    return ProjectInfo(
        name=canonicalize_name(name),
        files=tuple(files),
        status=status,
        status_reason=reason,
        skipped=skipped,
        empty_versions=empty,
    )
