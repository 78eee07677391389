"""A small, reusable client for Python package indexes (PEP 503 / 691 / 700).

Lists a project's files and versions (JSON simple API, falling back to HTML), and downloads
files into a content-addressed cache (`<cache>/files/<sha256>`) after checking them against
the hashes the index published. Standard library only; every network failure becomes an
`IndexClientError` with a one-line message. Used by the index source and by diff, gate and
watch.
"""

from __future__ import annotations

import contextlib
import hashlib
import html.parser
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from chainwarden.artifact import ArtifactError

if TYPE_CHECKING:
    from pathlib import Path

PYPI_SIMPLE = "https://pypi.org/simple/"
USER_AGENT = "chainwarden (+https://github.com/chainwarden)"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".zip", ".tar")
_WEAK = frozenset({"md5", "sha1"})
_CHUNK = 1024 * 1024


class IndexClientError(ArtifactError):
    """The index could not answer, or answered something unusable."""


class IndexUnavailable(IndexClientError):  # noqa: N818 - reads as a state, like ProjectNotFound
    """The index could not be reached (network down, timeout, server error)."""


class ProjectNotFound(IndexClientError):  # noqa: N818
    """The index has no such project (HTTP 404)."""


class HashMismatch(IndexClientError):  # noqa: N818
    """A downloaded file does not match the hash the index published; it was deleted."""


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file of a project as the index lists it."""

    project: str  # normalized name
    filename: str
    url: str  # absolute
    hashes: tuple[tuple[str, str], ...]  # (algorithm, hex digest)
    requires_python: str = ""
    yanked: bool = False
    yanked_reason: str = ""
    upload_time: str = ""  # PEP 700 ISO 8601 timestamp, "" when the index gives none (HTML)
    size: int | None = None
    core_metadata: bool = False  # PEP 658/714: METADATA served beside the file (at url + ".metadata")
    core_metadata_hashes: tuple[tuple[str, str], ...] = ()

    @property
    def sha256(self) -> str:
        return dict(self.hashes).get("sha256", "")

    @property
    def kind(self) -> str:
        """'wheel', 'sdist' or 'other' (eggs, installers)."""
        lower = self.filename.lower()
        if lower.endswith(".whl"):
            return "wheel"
        return "sdist" if lower.endswith(_SDIST_SUFFIXES) else "other"

    @property
    def version(self) -> str:
        return version_from_filename(self.filename)

    @property
    def uploaded(self) -> datetime | None:
        if not self.upload_time:
            return None
        try:
            return datetime.fromisoformat(self.upload_time)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """A project's simple-API page: every file, and the versions the index lists."""

    name: str
    files: tuple[IndexFile, ...]
    versions: tuple[str, ...]

    def for_version(self, version: str) -> tuple[IndexFile, ...]:
        return tuple(f for f in self.files if same_version(f.version, version))


def version_from_filename(filename: str) -> str:
    if filename.lower().endswith(".whl"):
        try:
            return str(parse_wheel_filename(filename)[1])
        except (InvalidWheelFilename, InvalidVersion):
            parts = filename.split("-")
            return parts[1] if len(parts) > 1 else ""
    lower = filename.lower()
    for suffix in (*_SDIST_SUFFIXES, ".egg", ".exe", ".msi"):
        if lower.endswith(suffix):
            stem = filename[: -len(suffix)]
            if suffix == ".egg":
                stem = stem.split("-py", 1)[0]
            return stem.rpartition("-")[2]
    return ""


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _sort_versions(versions: set[str]) -> tuple[str, ...]:
    def key(v: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(v))
        except InvalidVersion:
            return (0, v)

    valid = sorted((v for v in versions if key(v)[0]), key=Version)
    return (*sorted(v for v in versions if not key(v)[0]), *valid)


class _AnchorParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def _hashes_from_fragment(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    base, _, fragment = url.partition("#")
    algorithm, sep, digest = fragment.partition("=")
    return base, (((algorithm.lower(), digest.lower()),) if sep and digest else ())


def parse_html_page(project: str, page_url: str, body: bytes) -> ProjectFiles:
    """A PEP 503 page (plus PEP 592 yanked and PEP 658/714 metadata attributes)."""
    parser = _AnchorParser()
    parser.feed(body.decode("utf-8", "replace"))
    files: list[IndexFile] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = _hashes_from_fragment(urllib.parse.urljoin(page_url, href))
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        files.append(
            IndexFile(
                project=project,
                filename=filename,
                url=url,
                hashes=hashes,
                requires_python=attrs.get("data-requires-python") or "",
                yanked="data-yanked" in attrs,
                yanked_reason=attrs.get("data-yanked") or "",
                core_metadata=metadata_attr is not None and metadata_attr != "false",
                core_metadata_hashes=_hashes_from_fragment("#" + (metadata_attr or ""))[1],
            )
        )
    return ProjectFiles(project, tuple(files), _sort_versions({f.version for f in files if f.version}))


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _hash_pairs(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    return tuple(sorted((str(k).lower(), v.lower()) for k, v in raw.items() if isinstance(v, str)))


def _file_from_json(project: str, page_url: str, raw: object) -> IndexFile:
    if not isinstance(raw, dict) or not isinstance(raw.get("filename"), str) or not isinstance(raw.get("url"), str):
        msg = "a file entry lacks filename or url"
        raise TypeError(msg)
    hashes = _hash_pairs(raw.get("hashes"))
    yanked = raw.get("yanked", False)
    metadata = raw.get("core-metadata", raw.get("dist-info-metadata", False))
    size = raw.get("size")
    url, fragment_hashes = _hashes_from_fragment(urllib.parse.urljoin(page_url, raw["url"]))
    return IndexFile(
        project=project,
        filename=raw["filename"],
        url=url,
        hashes=hashes or fragment_hashes,
        requires_python=_str(raw.get("requires-python")),
        yanked=bool(yanked),
        yanked_reason=yanked if isinstance(yanked, str) else "",
        upload_time=_str(raw.get("upload-time")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        core_metadata=bool(metadata),
        core_metadata_hashes=_hash_pairs(metadata),
    )


def parse_json_page(project: str, page_url: str, body: bytes) -> ProjectFiles:
    """A PEP 691 JSON page (with PEP 700 `versions`, `upload-time` and `size`)."""
    try:
        doc: Any = json.loads(body)
        files = tuple(_file_from_json(project, page_url, f) for f in doc["files"])
    except (ValueError, KeyError, TypeError) as err:
        msg = f"{page_url}: malformed JSON index page ({err})"
        raise IndexClientError(msg) from None
    listed = doc.get("versions")
    versions = {v for v in listed if isinstance(v, str)} if isinstance(listed, list) else set()
    return ProjectFiles(project, files, _sort_versions(versions | {f.version for f in files if f.version}))


class IndexClient:
    """Talks to one simple-API index. `timeout` is per request, in seconds."""

    def __init__(
        self,
        index_url: str = PYPI_SIMPLE,
        *,
        timeout: float = 60.0,
        max_page_bytes: int = 64 * 1024 * 1024,
        max_file_bytes: int = 4 * 1024 * 1024 * 1024,
    ) -> None:
        scheme = urllib.parse.urlsplit(index_url).scheme
        if scheme not in ("https", "http"):
            msg = f"index URL must be http(s): {index_url}"
            raise IndexClientError(msg)
        self.index_url = index_url if index_url.endswith("/") else index_url + "/"
        self.timeout = timeout
        self.max_page_bytes = max_page_bytes
        self.max_file_bytes = max_file_bytes

    def _open(self, url: str, accept: str = "*/*") -> http.client.HTTPResponse:
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            msg = f"refusing to fetch non-HTTP URL {url}"
            raise IndexClientError(msg)
        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT})  # noqa: S310
        try:
            response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == 404:  # noqa: PLR2004
                msg = f"{url}: not found on the index (HTTP 404)"
                raise ProjectNotFound(msg) from None
            msg = f"{url}: the index answered HTTP {err.code}"
            raise IndexUnavailable(msg) from None
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            msg = f"{url}: cannot reach the package index ({reason})"
            raise IndexUnavailable(msg) from None
        return response

    def project(self, name: str) -> ProjectFiles:
        """Every file the index lists for `name`."""
        project = canonicalize_name(name)
        url = urllib.parse.urljoin(self.index_url, f"{project}/")
        with self._open(url, _ACCEPT) as response:
            try:
                body = response.read(self.max_page_bytes + 1)
            except (OSError, http.client.HTTPException) as err:
                msg = f"{url}: connection failed while reading ({err})"
                raise IndexUnavailable(msg) from None
            final_url = response.geturl()
            content_type = response.headers.get_content_type()
        if len(body) > self.max_page_bytes:
            msg = f"{url}: index page larger than {self.max_page_bytes} bytes"
            raise IndexClientError(msg)
        if content_type == JSON_TYPE or (content_type.endswith("json") and body.lstrip().startswith(b"{")):
            return parse_json_page(project, final_url, body)
        return parse_html_page(project, final_url, body)

    def versions(self, name: str) -> tuple[str, ...]:
        """Known versions, oldest first (PEP 440 order; unparsable versions first)."""
        return self.project(name).versions

    def files(self, name: str, version: str | None = None) -> tuple[IndexFile, ...]:
        page = self.project(name)
        return page.files if version is None else page.for_version(version)

    def core_metadata(self, file: IndexFile) -> bytes:
        """The file's METADATA as served beside it (PEP 658), checked against the published hash.
        Lets a resolver read dependencies without downloading (or building) the distribution."""
        if not file.core_metadata:
            msg = f"{file.filename}: the index serves no separate metadata for this file"
            raise IndexClientError(msg)
        url = file.url + ".metadata"
        with self._open(url) as response:
            try:
                data: bytes = response.read(self.max_page_bytes + 1)
            except (OSError, http.client.HTTPException) as err:
                msg = f"{url}: connection failed while reading ({err})"
                raise IndexUnavailable(msg) from None
        if len(data) > self.max_page_bytes:
            msg = f"{url}: metadata larger than {self.max_page_bytes} bytes"
            raise IndexClientError(msg)
        for algorithm, expected in file.core_metadata_hashes:
            usable = algorithm in hashlib.algorithms_guaranteed and algorithm not in _WEAK
            if usable and hashlib.new(algorithm, data).hexdigest() != expected:
                msg = f"{url}: {algorithm} does not match the index's {expected}"
                raise HashMismatch(msg)
        return data

    @staticmethod
    def cached_path(file: IndexFile, cache_dir: Path) -> Path | None:
        """The verified cached copy of `file`, if there is one."""
        if not file.sha256:
            return None
        path = cache_dir / "files" / file.sha256
        return path if path.is_file() and _file_digest(path, "sha256") == file.sha256 else None

    def download(self, file: IndexFile, cache_dir: Path) -> Path:
        """`file` in the cache, downloaded and verified against the index's hashes if needed."""
        cached = self.cached_path(file, cache_dir)
        if cached is not None:
            return cached
        checks = [(a, d) for a, d in file.hashes if a in hashlib.algorithms_guaranteed and a not in _WEAK]
        if not checks:
            msg = f"{file.filename}: the index publishes no usable hash; refusing an unverifiable download"
            raise IndexClientError(msg)
        files_dir = cache_dir / "files"
        try:
            files_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            msg = f"{files_dir}: cannot create cache directory: {err.strerror}"
            raise IndexClientError(msg) from err
        tmp = files_dir / f".partial-{uuid.uuid4().hex}"
        try:
            digests = self._fetch_to(file, tmp, {a for a, _ in checks} | {"sha256"})
            for algorithm, expected in checks:
                if digests[algorithm] != expected:
                    msg = (
                        f"{file.filename}: {algorithm} {digests[algorithm]} does not match the index's "
                        f"{expected}; the download was deleted"
                    )
                    raise HashMismatch(msg)
            target = files_dir / digests["sha256"]
            tmp.replace(target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return target

    def _fetch_to(self, file: IndexFile, tmp: Path, algorithms: set[str]) -> dict[str, str]:
        hashers = {a: hashlib.new(a) for a in algorithms}
        written = 0
        with self._open(file.url) as response, tmp.open("wb") as out:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as err:
                    msg = f"{file.url}: download interrupted ({err})"
                    raise IndexUnavailable(msg) from None
                if not chunk:
                    break
                written += len(chunk)
                if written > self.max_file_bytes:
                    msg = f"{file.filename}: larger than the {self.max_file_bytes}-byte download limit"
                    raise IndexClientError(msg)
                out.write(chunk)
                for h in hashers.values():
                    h.update(chunk)
        return {a: h.hexdigest() for a, h in hashers.items()}


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
