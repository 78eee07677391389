"""`chainwarden proxy`: a local filtering package index in front of the real one.

Installers (pip, uv, poetry, uvx, Docker builds) point at it; they only ever see files the
gate allows: old enough, not denied, not known malicious. A file is downloaded, hash-checked
and scanned the first time an installer asks for it; blocked files answer 403 with the
reason, which `/_chainwarden/why/<filename>` also gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

from chainwarden import codec
from chainwarden.gate.config import GatePolicy
from chainwarden.gate.decisions import AdvisoryCheck, Decision, decide_listing
from chainwarden.index_client import IndexClient, IndexClientError, IndexFile, ProjectNotFound

log = logging.getLogger("chainwarden.proxy")
_JSON = "application/vnd.pypi.simple.v1+json"


class FileScanner(Protocol):
    def __call__(self, path: Path) -> Decision:
        """Scan a downloaded file and say whether installers may have it."""


@dataclass
class GateIndex:
    """The proxy's state: upstream, policy, what it decided and why. Thread-safe."""

    upstream: IndexClient
    policy: GatePolicy
    cache_dir: Path
    scanner: FileScanner | None = None
    advisories: AdvisoryCheck | None = None
    clock: object = None  # a callable returning an aware datetime; None = now
    offline: bool = False  # never contact the index: project pages and files from the cache only
    _why: dict[str, str] = field(default_factory=dict)
    _listed: dict[str, IndexFile] = field(default_factory=dict)
    _verdicts: dict[str, Decision] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """Release what the index owns (the scanner `build_gate_index` made: its workers and cache)."""
        close = getattr(self.scanner, "close", None)
        if callable(close):
            close()

    def now(self) -> dt.datetime:
        if callable(self.clock):
            value = self.clock()
            if isinstance(value, dt.datetime):
                return value
        return dt.datetime.now(dt.UTC)

    def _page_path(self, name: str) -> Path:
        return self.cache_dir / "pages" / f"{canonicalize_name(name)}.json"

    def project_files(self, name: str) -> tuple[IndexFile, ...]:
        """The project's files from the index (remembered in the cache), or from the cache offline."""
        page = self._page_path(name)
        if self.offline:
            try:
                raw = json.loads(page.read_text(encoding="utf-8"))
                return codec.from_jsonable(tuple[IndexFile, ...], raw)
            except FileNotFoundError:
                msg = f"{name}: offline and the project page is not cached (run once online first)"
                raise IndexClientError(msg) from None
            except (OSError, ValueError) as err:
                msg = f"{name}: offline and the cached project page is unreadable ({err})"
                raise IndexClientError(msg) from None
        files = self.upstream.files(name)
        page.parent.mkdir(parents=True, exist_ok=True)
        tmp = page.with_name(page.name + f".{threading.get_ident()}.part")
        tmp.write_text(json.dumps(codec.to_jsonable(files)), encoding="utf-8")
        tmp.replace(page)
        return files

    def visible_files(self, name: str) -> tuple[IndexFile, ...]:
        files = self.project_files(name)
        now = self.now()
        visible: list[IndexFile] = []
        for file in files:
            decision = decide_listing(file, self.policy, now, self.advisories)
            with self._lock:
                scanned = self._verdicts.get(file.sha256)
            if decision.allowed and scanned is not None and not scanned.allowed:
                decision = scanned  # blocked by an earlier scan: hide it so resolvers pick another version
            with self._lock:
                self._listed[file.filename] = file
                if decision.allowed:
                    self._why.pop(file.filename, None)
                else:
                    self._why[file.filename] = decision.reason
            if decision.allowed:
                visible.append(file)
            else:
                log.info("hidden %s: %s", file.filename, decision.reason)
        return tuple(visible)

    def refusals(self) -> tuple[tuple[str, str], ...]:
        """Every (filename, reason) refused so far."""
        with self._lock:
            return tuple(sorted(self._why.items()))

    def why(self, filename: str) -> str | None:
        with self._lock:
            if filename in self._why:
                return self._why[filename]
            if filename in self._listed:
                return "allowed"
        return None

    def fetch(self, filename: str) -> tuple[Path | None, str]:
        """The local path of an allowed, scanned file, or None and the reason it is refused."""
        with self._lock:
            file = self._listed.get(filename)
            refused = self._why.get(filename)
        if file is None:
            return None, "not listed by this proxy (ask for the project page first)"
        if refused:
            return None, refused
        if self.offline:
            blob = IndexClient.cached_path(file, self.cache_dir)
            if blob is None:
                return None, "offline and this file is not in the cache"
        else:
            blob = self.upstream.download(file, self.cache_dir)
        target = self._named_copy(file, blob)
        if self.scanner is not None:
            with self._lock:
                decision = self._verdicts.get(file.sha256)
            if decision is None:
                decision = self.scanner(target)
                with self._lock:
                    self._verdicts[file.sha256] = decision
            if not decision.allowed:
                with self._lock:
                    self._why[filename] = decision.reason
                log.warning("refused %s: %s", filename, decision.reason)
                return None, decision.reason
        return target, "allowed"

    def _named_copy(self, file: IndexFile, blob: Path) -> Path:
        """The verified cached blob under its real file name (scanners and pip read names)."""
        target = self.cache_dir / "named" / file.sha256 / file.filename
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == file.sha256:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(blob.read_bytes())
        tmp.replace(target)
        return target


def render_json_page(name: str, files: tuple[IndexFile, ...]) -> bytes:
    doc = {
        "meta": {"api-version": "1.1"},
        "name": canonicalize_name(name),
        "files": [
            {
                "filename": f.filename,
                "url": f"../../files/{urllib.parse.quote(f.filename)}",
                "hashes": {"sha256": f.sha256} if f.sha256 else {},
                "requires-python": f.requires_python or None,
                "yanked": (f.yanked_reason or True) if f.yanked else False,
                "upload-time": f.upload_time or None,
            }
            for f in files
        ],
        "versions": [],
    }
    return json.dumps(doc).encode()


def render_html_page(name: str, files: tuple[IndexFile, ...]) -> bytes:
    rows = []
    for f in files:
        attrs = ""
        if f.requires_python:
            attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
        if f.yanked:
            attrs += f' data-yanked="{html.escape(f.yanked_reason)}"'
        href = f"../../files/{urllib.parse.quote(f.filename)}#sha256={f.sha256}"
        rows.append(f'<a href="{html.escape(href)}"{attrs}>{html.escape(f.filename)}</a><br/>')
    title = html.escape(canonicalize_name(name))
    body = "\n".join(rows)
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>\n{body}\n</body></html>\n".encode()


def make_handler(index: GateIndex) -> type[BaseHTTPRequestHandler]:  # noqa: C901 - one small method per route
    class Handler(BaseHTTPRequestHandler):
        server_version = "chainwarden-proxy"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            log.debug("%s %s", self.address_string(), format % args)

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            parts = [p for p in path.split("/") if p]
            try:
                if len(parts) == 2 and parts[0] == "simple":  # noqa: PLR2004
                    self._project(parts[1])
                elif len(parts) == 2 and parts[0] == "files":  # noqa: PLR2004
                    self._file(parts[1])
                elif len(parts) == 3 and parts[:2] == ["_chainwarden", "why"]:  # noqa: PLR2004
                    reason = index.why(parts[2])
                    self._send(200 if reason else 404, (reason or "unknown file").encode() + b"\n", "text/plain")
                elif parts == ["simple"]:
                    self._send(200, b"<!DOCTYPE html><html><body></body></html>", "text/html")
                else:
                    self._send(404, b"not found\n", "text/plain")
            except ProjectNotFound:
                self._send(404, b"no such project\n", "text/plain")
            except IndexClientError as err:
                log.error("upstream: %s", err)  # noqa: TRY400 - the reason is the message
                self._send(502, f"upstream index: {err}\n".encode(), "text/plain")

        def _project(self, name: str) -> None:
            files = index.visible_files(name)
            if _JSON in (self.headers.get("Accept") or ""):
                self._send(200, render_json_page(name, files), _JSON)
            else:
                self._send(200, render_html_page(name, files), "text/html; charset=utf-8")

        def _file(self, filename: str) -> None:
            path, reason = index.fetch(filename)
            if path is None:
                self._send(403, f"chainwarden refused {filename}: {reason}\n".encode(), "text/plain")
                return
            self._send(200, path.read_bytes(), "application/octet-stream")

    return Handler


class ProxyServer:
    """Run the proxy on a loopback port in a background thread (tests, `install`) or forever (CLI)."""

    def __init__(self, index: GateIndex, host: str = "127.0.0.1", port: int = 0) -> None:
        self.index = index
        self.httpd = ThreadingHTTPServer((host, port), make_handler(index))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/simple/"

    def start(self) -> ProxyServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="chainwarden-proxy", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and release what the index owns (it still answers `refusals()`)."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.index.close()

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
