"""A real package index on 127.0.0.1 for tests: PEP 503 HTML, PEP 691 JSON, PEP 700, PyPI JSON API.

Projects and files are described in memory; the server runs in a thread on a random port.

    with IndexServer() as index:
        index.add_file("demo", IndexedFile.from_path(make_wheel(tmp_path, "demo", "1.0")))
        client = IndexClient(index.simple_url)
        ...
        assert index.requests[-1].path == "/files/demo/demo-1.0-py3-none-any.whl"

Routes:
  /simple/                       project list (JSON or HTML by the Accept header)
  /simple/<name>/                project page: files with hashes, `requires-python`, `yanked`,
                                 PEP 700 `upload-time`, `size`, `versions`, `core-metadata`
  /files/<name>/<filename>       file bytes (`.metadata` suffix: core metadata, PEP 658)
  /pypi/<name>/json              PyPI JSON API: info, releases, urls, vulnerabilities
  /pypi/<name>/<version>/json    the same for one version

Knobs: `json_enabled=False` serves only HTML (PEP 691 fallback); `fail_status=503` answers
every request with that status; `requests` records what was asked (method, path, Accept).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
DEFAULT_UPLOAD_TIME = "2026-01-01T00:00:00.000000Z"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return filename.split("-")[1]
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tar"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)].rpartition("-")[2]
    return ""


@dataclass
class IndexedFile:
    """One file the index serves. `hashes` overrides the real sha256 (to test mismatches)."""

    filename: str
    content: bytes
    upload_time: str | None = DEFAULT_UPLOAD_TIME
    yanked: bool | str = False
    requires_python: str | None = None
    core_metadata: bytes | None = None
    hashes: dict[str, str] | None = None

    @classmethod
    def from_path(cls, path: Path, **kwargs: Any) -> IndexedFile:
        return cls(path.name, path.read_bytes(), **kwargs)

    @property
    def version(self) -> str:
        return version_of(self.filename)

    @property
    def digests(self) -> dict[str, str]:
        if self.hashes is not None:
            return self.hashes
        return {"sha256": hashlib.sha256(self.content).hexdigest()}


@dataclass
class IndexedProject:
    name: str
    files: list[IndexedFile] = field(default_factory=list)
    summary: str = ""
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # extra PyPI JSON `info` fields

    @property
    def versions(self) -> list[str]:
        return sorted({f.version for f in self.files})


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    accept: str


class IndexServer:
    """Start with `with IndexServer() as index:` (or `start()` / `stop()`)."""

    def __init__(self, projects: list[IndexedProject] | None = None, *, json_enabled: bool = True) -> None:
        self.projects: dict[str, IndexedProject] = {normalize(p.name): p for p in projects or []}
        self.json_enabled = json_enabled
        self.fail_status: int | None = None
        self.file_delay: dict[str, float] = {}  # filename -> seconds to stall before serving it
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- description
    def add_project(self, project: IndexedProject) -> IndexedProject:
        self.projects[normalize(project.name)] = project
        return project

    def add_file(self, project: str, file: IndexedFile) -> IndexedFile:
        entry = self.projects.get(normalize(project)) or self.add_project(IndexedProject(project))
        entry.files.append(file)
        return file

    # -- lifecycle
    @property
    def url(self) -> str:
        if self._httpd is None:
            msg = "server not started"
            raise RuntimeError(msg)
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    def start(self) -> IndexServer:
        handler = type("Handler", (_Handler,), {"index": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        serve = functools.partial(self._httpd.serve_forever, poll_interval=0.05)  # fast shutdown
        self._thread = threading.Thread(target=serve, name="test-index", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, method: str, path: str, accept: str) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, accept))

    # -- documents
    def file_url(self, project: IndexedProject, file: IndexedFile) -> str:
        return f"{self.url}/files/{normalize(project.name)}/{urllib.parse.quote(file.filename)}"

    def simple_json(self, project: IndexedProject) -> dict[str, Any]:
        files = []
        for f in project.files:
            entry: dict[str, Any] = {
                "filename": f.filename,
                "url": self.file_url(project, f),
                "hashes": f.digests,
                "requires-python": f.requires_python,
                "yanked": f.yanked,
                "size": len(f.content),
            }
            if f.upload_time is not None:
                entry["upload-time"] = f.upload_time
            if f.core_metadata is not None:
                digest = {"sha256": hashlib.sha256(f.core_metadata).hexdigest()}
                entry["core-metadata"] = entry["dist-info-metadata"] = digest
            files.append(entry)
        return {
            "meta": {"api-version": "1.1"},
            "name": normalize(project.name),
            "files": files,
            "versions": project.versions,
        }

    def simple_html(self, project: IndexedProject) -> str:
        rows = []
        for f in project.files:
            href = f"{self.file_url(project, f)}#" + "&".join(f"{k}={v}" for k, v in f.digests.items())
            attrs = [f'href="{html.escape(href)}"']
            if f.requires_python:
                attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
            if f.yanked is not False:
                reason = f.yanked if isinstance(f.yanked, str) else ""
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            if f.core_metadata is not None:
                digest = hashlib.sha256(f.core_metadata).hexdigest()
                attrs.append(f'data-core-metadata="sha256={digest}" data-dist-info-metadata="sha256={digest}"')
            rows.append(f"<a {' '.join(attrs)}>{html.escape(f.filename)}</a><br/>")
        body = "\n".join(rows)
        return (
            '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
            f"<title>Links for {html.escape(project.name)}</title></head>\n<body>\n{body}\n</body></html>\n"
        )

    def pypi_json(self, project: IndexedProject, version: str | None) -> dict[str, Any] | None:
        versions = project.versions
        chosen = version if version is not None else (versions[-1] if versions else "")
        if version is not None and version not in versions:
            return None
        releases: dict[str, list[dict[str, Any]]] = {v: [] for v in versions}
        for f in project.files:
            digest = hashlib.sha256(f.content).hexdigest()
            releases[f.version].append(
                {
                    "filename": f.filename,
                    "url": self.file_url(project, f),
                    "digests": {"sha256": digest, **({} if f.hashes is None else f.hashes)},
                    "packagetype": "bdist_wheel" if f.filename.endswith(".whl") else "sdist",
                    "requires_python": f.requires_python,
                    "size": len(f.content),
                    "upload_time_iso_8601": f.upload_time,
                    "yanked": f.yanked is not False,
                    "yanked_reason": f.yanked if isinstance(f.yanked, str) else None,
                }
            )
        info = {
            "name": project.name,
            "version": chosen,
            "summary": project.summary,
            "requires_dist": None,
            "project_urls": None,
            "yanked": False,
            **project.info,
        }
        return {
            "info": info,
            "last_serial": len(project.files),
            "releases": releases if version is None else {},
            "urls": releases.get(chosen, []),
            "vulnerabilities": project.vulnerabilities,
        }


class _Handler(BaseHTTPRequestHandler):
    index: IndexServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: tests assert on `IndexServer.requests` instead."""

    def do_GET(self) -> None:
        accept = self.headers.get("Accept", "")
        path = urllib.parse.urlsplit(self.path).path
        self.index.record("GET", path, accept)
        if self.index.fail_status is not None:
            self._send(self.index.fail_status, b"index is down\n", "text/plain")
            return
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "simple":
            self._simple(parts[1:], accept)
        elif parts[0] == "files" and len(parts) == 3:
            self._file(parts[1], parts[2])
        elif parts[0] == "pypi" and parts[-1] == "json" and len(parts) in (3, 4):
            self._pypi(parts[1], parts[2] if len(parts) == 4 else None)
        else:
            self._send(404, b"not found\n", "text/plain")

    def _wants_json(self, accept: str) -> bool:
        return self.index.json_enabled and JSON_TYPE in accept

    def _simple(self, rest: list[str], accept: str) -> None:
        as_json = self._wants_json(accept)
        if not rest or rest == [""]:
            names = sorted(self.index.projects)
            if as_json:
                doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
                self._send(200, json.dumps(doc).encode(), JSON_TYPE)
            else:
                links = "\n".join(f'<a href="{n}/">{n}</a>' for n in names)
                self._send(200, f"<!DOCTYPE html><html><body>{links}</body></html>".encode(), "text/html")
            return
        project = self.index.projects.get(normalize(rest[0]))
        if project is None:
            self._send(404, b"no such project\n", "text/plain")
        elif as_json:
            self._send(200, json.dumps(self.index.simple_json(project)).encode(), JSON_TYPE)
        else:
            self._send(200, self.index.simple_html(project).encode(), "text/html; charset=utf-8")

    def _file(self, name: str, filename: str) -> None:
        project = self.index.projects.get(normalize(name))
        metadata = filename.endswith(".metadata")
        wanted = filename.removesuffix(".metadata") if metadata else filename
        for f in project.files if project else []:
            if f.filename == wanted:
                time.sleep(self.index.file_delay.get(wanted, 0.0))
                if metadata and f.core_metadata is not None:
                    self._send(200, f.core_metadata, "text/plain")
                    return
                if not metadata:
                    self._send(200, f.content, "application/octet-stream")
                    return
        self._send(404, b"no such file\n", "text/plain")

    def _pypi(self, name: str, version: str | None) -> None:
        project = self.index.projects.get(normalize(name))
        doc = self.index.pypi_json(project, version) if project else None
        if doc is None:
            self._send(404, b'{"message": "Not Found"}', "application/json")
        else:
            self._send(200, json.dumps(doc).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
