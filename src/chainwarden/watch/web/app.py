"""The dashboard's HTTP server: a stdlib ThreadingHTTPServer, explicit routes, auth on every page.

Requests pass, in order: the Host check (a loopback-bound server answers only to loopback
names, which defeats DNS rebinding), authentication (Bearer token or signed session cookie;
otherwise 401 for API and Bearer clients, a redirect to /login for browsers), the CSRF check
on every cookie-authenticated POST, then the route. Every response carries the security
headers; pages are never cached.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from chainwarden.report.common import visible
from chainwarden.watch.store import StoreError
from chainwarden.watch.web import alert_pages, pages, queries
from chainwarden.watch.web.auth import Auth, Session
from chainwarden.watch.web.layout import CSP, Chrome, document, esc, page

if TYPE_CHECKING:
    from typing import TextIO

    from chainwarden.watch.store import Store

log = logging.getLogger("chainwarden.serve")

MAX_BODY = 64 * 1024
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cache-Control", "no-store"),
)
_DONE = {"acknowledged": "Alert acknowledged.", "ignored": "Alert ignored.", "open": "Alert reopened."}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "::1"})


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DashboardServer(ThreadingHTTPServer):
    """The server holds what every request needs: the store, the auth and where to log."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: Store, auth: Auth, *, access_log: TextIO | None = None) -> None:
        self.store = store
        self.auth = auth
        self.access_log = access_log
        self.loopback_only = is_loopback(address[0])
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"


def make_server(
    store: Store, auth: Auth, host: str = "127.0.0.1", port: int = 0, *, access_log: TextIO | None = None
) -> DashboardServer:
    return DashboardServer((host, port), store, auth, access_log=access_log)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


class Unauthorized(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The request carries no valid credentials."""


class Forbidden(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A POST without a valid CSRF token or from another origin."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    params: dict[str, str]
    form: dict[str, str]
    session: Session | None
    bearer: bool


def _first(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in values.items() if v}


def safe_next(target: str) -> str:
    """Only a local path may follow a login (no open redirect to another site)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and target.isprintable():
        return target
    return "/"


def html_response(markup: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, markup.encode("utf-8", "surrogatepass"), headers=headers)


def redirect(location: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(303, b"", "text/plain; charset=utf-8", (("Location", location), *headers))


def login_page(next_path: str, error: str = "", status: int = 200) -> Response:
    problem = f'<div class="flash bad" role="alert">{esc(error)}</div>' if error else ""
    body = (
        '<main><form class="login" method="post" action="/login"><h1>chainwarden</h1>'
        '<p class="muted">The dashboard holds security findings. Sign in with the token that '
        "<code>chainwarden serve</code> was started with.</p>"
        f'{problem}<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>'
        f'<input type="hidden" name="next" value="{esc(next_path)}">'
        '<button class="primary" type="submit">Sign in</button></form></main>'
    )
    return html_response(document("Sign in", body), status)


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "chainwarden"
    sys_version = ""
    timeout = 30  # a slow or stalled client cannot hold a worker thread for long

    # -- http.server hooks

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - the base class's signature
        if self.server.access_log is not None:
            line = visible(format % args)
            self.server.access_log.write(f"{self.address_string()} {line}\n")
            self.server.access_log.flush()

    # -- dispatch

    def _handle(self, method: str) -> None:
        try:
            response = self._respond("GET" if method == "HEAD" else method)
        except StoreError as err:
            log.warning("store error: %s", err)
            response = self._error_page(503, f"The store is not available: {err}")
        except Exception:  # the request boundary: log it, answer 500, keep serving others
            log.exception("dashboard error on %s %s", method, visible(self.path[:200]))
            response = self._error_page(500, "Something went wrong; the server log has the details.")
        self._send(response, head_only=method == "HEAD")

    def _send(self, response: Response, *, head_only: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in (*SECURITY_HEADERS, *response.headers):
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(response.body)

    def _error_page(self, status: int, message: str) -> Response:
        body = (
            f'<main><div class="login"><h1>{status}</h1><p>{esc(message)}</p>'
            '<p><a href="/">Overview</a></p></div></main>'
        )
        return html_response(document(str(status), body), status)

    def _host_ok(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return is_loopback(name)

    def _read_form(self) -> dict[str, str]:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return {}
        size = int(length)
        if size > MAX_BODY:
            raise ValueError("request body too large")
        raw = self.rfile.read(size).decode("utf-8", "replace")
        return _first(parse_qs(raw, max_num_fields=20))

    def _respond(self, method: str) -> Response:  # noqa: PLR0911 - one early answer per check, in order
        if not self._host_ok():
            return self._error_page(421, "This dashboard answers only on a loopback address.")
        parts = urlsplit(self.path)
        path = parts.path or "/"
        params = _first(parse_qs(parts.query, max_num_fields=20))
        try:
            form = self._read_form() if method == "POST" else {}
        except ValueError:
            return self._error_page(413, "The request body is too large.")
        if path == "/favicon.ico":
            return Response(204, b"", "text/plain")
        if path == "/login":
            return self._login(method, params, form)
        try:
            request = self._authenticate(method, path, params, form)
        except Unauthorized:
            if path.startswith("/api/") or "Authorization" in self.headers:
                return Response(
                    401, b'{"error": "a valid token is required"}\n', "application/json",
                    (("WWW-Authenticate", 'Bearer realm="chainwarden"'),),
                )  # fmt: skip
            return redirect("/login?next=" + _quote_next(self.path))
        except Forbidden as err:
            return self._error_page(403, str(err))
        return self._route(request)

    def _authenticate(self, method: str, path: str, params: dict[str, str], form: dict[str, str]) -> Request:
        auth = self.server.auth
        header = self.headers.get("Authorization")
        if header is not None:
            if auth.throttled() or not auth.bearer_ok(header):
                auth.record_failure()
                raise Unauthorized
            return Request(method, path, params, form, None, bearer=True)
        session = auth.session_from_cookie(self.headers.get("Cookie", ""))
        if session is None:
            raise Unauthorized
        if method == "POST":
            origin = self.headers.get("Origin", "")
            if origin and origin != "null" and urlsplit(origin).netloc != self.headers.get("Host", ""):
                raise Forbidden("This form was posted from another site.")
            if not auth.csrf_ok(session, form.get("csrf", "")):
                raise Forbidden("The form's security token is missing or out of date: reload the page and try again.")
        return Request(method, path, params, form, session, bearer=False)

    def _login(self, method: str, params: dict[str, str], form: dict[str, str]) -> Response:
        auth = self.server.auth
        if method != "POST":
            return login_page(safe_next(params.get("next", "/")))
        target = safe_next(form.get("next", "/"))
        if auth.throttled():
            return login_page(target, "Too many wrong tokens: wait a minute and try again.", 429)
        if not auth.token_ok(form.get("token", "")):
            auth.record_failure()
            return login_page(target, "That token is not right.", 401)
        _, cookie = auth.new_session()
        return redirect(target, (("Set-Cookie", auth.set_cookie(cookie)),))

    # -- routes

    def _route(self, request: Request) -> Response:
        table = _POST_ROUTES if request.method == "POST" else _GET_ROUTES
        for pattern, view in table:
            match = pattern.fullmatch(request.path)
            if match:
                args = [unquote(g) for g in match.groups()]
                try:
                    return view(self, request, *args)
                except pages.NotFoundError as err:
                    missing = pages.View("Not found", "", f"<h1>Not found</h1><p>{esc(str(err))}</p>", 404)
                    return self._page(request, missing)
        return self._page(request, pages.View("Not found", "", "<h1>Not found</h1><p>No such page.</p>", 404))

    def _chrome(self, request: Request) -> Chrome:
        csrf = self.server.auth.csrf_for(request.session) if request.session is not None else ""
        query = request.params.get("q", "") if request.path == "/search" else ""
        return Chrome(csrf, queries.open_alerts(self.server.store), query)

    def _page(self, request: Request, view: pages.View, flash: str = "", *, bad: bool = False) -> Response:
        markup = page(view.title, view.content, active=view.active, chrome=self._chrome(request), flash=flash, bad=bad)
        return html_response(markup, view.status)

    def overview(self, request: Request) -> Response:
        return self._page(request, pages.overview(self.server.store))

    def projects(self, request: Request) -> Response:
        return self._page(request, pages.projects(self.server.store))

    def project(self, request: Request, project_id: str) -> Response:
        return self._page(request, pages.project(self.server.store, int(project_id)))

    def package(self, request: Request, name: str) -> Response:
        return self._page(request, pages.package(self.server.store, name))

    def releases(self, request: Request) -> Response:
        view = pages.releases(self.server.store, request.params.get("q", ""), request.params.get("verdict", ""))
        return self._page(request, view)

    def release(self, request: Request, name: str, version: str) -> Response:
        return self._page(request, pages.release(self.server.store, name, version))

    def alerts(self, request: Request) -> Response:
        return self._page(request, alert_pages.alerts(self.server.store, request.params.get("status", "open")))

    def alert(self, request: Request, alert_id: str) -> Response:
        csrf = self._chrome(request).csrf
        view = alert_pages.alert_page(self.server.store, int(alert_id), csrf)
        return self._page(request, view, _DONE.get(request.params.get("done", ""), ""))

    def acknowledge(self, request: Request, alert_id: str) -> Response:
        store = self.server.store
        if store.alert(int(alert_id)) is None:
            raise pages.NotFoundError(f"no alert #{alert_id}")
        try:
            status, reason = alert_pages.parse_acknowledgement(request.form)
        except alert_pages.FormError as err:
            view = alert_pages.alert_page(store, int(alert_id), self._chrome(request).csrf)
            return self._page(request, pages.View(view.title, view.active, view.content, 400), str(err), bad=True)
        store.acknowledge(int(alert_id), status, reason)
        return redirect(f"/alerts/{int(alert_id)}?done={status}")

    def search(self, request: Request) -> Response:
        return self._page(request, pages.search(self.server.store, request.params.get("q", "")))

    def logout(self, request: Request) -> Response:
        del request
        return redirect("/login", (("Set-Cookie", self.server.auth.clear_cookie()),))

    def api_alerts(self, request: Request) -> Response:
        status = request.params.get("status", "")
        found = self.server.store.alerts(limit=500, status=status if status in alert_pages.STATUSES else "")
        data = [
            {
                "id": a.id, "key": a.key, "kind": a.kind, "package": a.name, "version": a.version,
                "created": a.created, "status": a.status, "reason": a.ack_reason, "delivered": a.delivered,
                "title": a.payload.get("title", "") if isinstance(a.payload, dict) else "",
            }
            for a in found
        ]  # fmt: skip
        return Response(200, (json.dumps({"alerts": data}, ensure_ascii=True) + "\n").encode(), "application/json")


def _quote_next(path: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(path, safe="")


_View = Callable[..., Response]
_SEGMENT = r"([^/]+)"
_GET_ROUTES: tuple[tuple[re.Pattern[str], _View], ...] = (
    (re.compile(r"/"), Handler.overview),
    (re.compile(r"/projects"), Handler.projects),
    (re.compile(r"/projects/(\d{1,18})"), Handler.project),
    (re.compile(rf"/packages/{_SEGMENT}"), Handler.package),
    (re.compile(r"/releases"), Handler.releases),
    (re.compile(rf"/releases/{_SEGMENT}/{_SEGMENT}"), Handler.release),
    (re.compile(r"/alerts"), Handler.alerts),
    (re.compile(r"/alerts/(\d{1,18})"), Handler.alert),
    (re.compile(r"/search"), Handler.search),
    (re.compile(r"/api/alerts"), Handler.api_alerts),
)
_POST_ROUTES: tuple[tuple[re.Pattern[str], _View], ...] = (
    (re.compile(r"/alerts/(\d{1,18})"), Handler.acknowledge),
    (re.compile(r"/logout"), Handler.logout),
)

__all__ = ["DashboardServer", "Handler", "is_loopback", "make_server", "safe_next"]
