"""The web dashboard (`chainwarden serve`): auth, CSRF, escaping and every page, over HTTP and in Chromium.

The HTTP tests run against both store engines (the `store_url` fixture: SQLite, and PostgreSQL
when `.ci/run` provides it). The browser test drives Debian's Chromium through Playwright.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from dashboard_data import HOSTILE_MESSAGE, HOSTILE_PATH, PAYLOAD_PREVIEW, PROJECT, populate

from chainwarden.cli import main, serve
from chainwarden.cli.common import IO
from chainwarden.watch.store import Store
from chainwarden.watch.web import Auth, make_server
from chainwarden.watch.web.auth import SESSION_COOKIE, TokenError
from chainwarden.watch.web.layout import CSP, CSS, STYLE_HASH

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainwarden.watch.web import DashboardServer

TOKEN = "test-token-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class Reply:
    def __init__(self, status: int, headers: Any, body: str) -> None:
        self.status, self.headers, self.body = status, headers, body


def fetch(url: str, *, form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Reply:
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=15) as resp:
            return Reply(resp.status, resp.headers, resp.read().decode())
    except urllib.error.HTTPError as err:
        with err:
            return Reply(err.code, err.headers, err.read().decode())


class Dashboard:
    """A running dashboard over a populated store, plus a signed-in cookie."""

    def __init__(self, server: DashboardServer, store: Store, alert_id: int) -> None:
        self.server, self.store, self.alert_id = server, store, alert_id
        self.base = server.url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path

    def login(self) -> str:
        reply = fetch(self.url("/login"), form={"token": TOKEN, "next": "/"})
        assert reply.status == 303
        cookie = reply.headers["Set-Cookie"].split(";", 1)[0]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        return cookie

    def get(self, path: str, cookie: str) -> Reply:
        return fetch(self.url(path), headers={"Cookie": cookie})

    def csrf(self, cookie: str) -> str:
        page = self.get(f"/alerts/{self.alert_id}", cookie).body
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert match, "the alert page carries a CSRF token"
        return match.group(1)


def _start(store: Store, alert_id: int, auth: Auth | None = None) -> Iterator[Dashboard]:
    server = make_server(store, auth or Auth(TOKEN), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Dashboard(server, store, alert_id)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        store.close()


@pytest.fixture
def dashboard(store_url: str) -> Iterator[Dashboard]:
    """On both engines."""
    store = Store.open(store_url)
    yield from _start(store, populate(store))


@pytest.fixture
def sqlite_dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    store = Store.open(str(tmp_path / "watch.sqlite3"))
    yield from _start(store, populate(store))


# -- authentication


def test_pages_need_the_token(sqlite_dashboard: Dashboard) -> None:
    d = sqlite_dashboard
    browser = fetch(d.url(f"/alerts/{d.alert_id}"))
    assert browser.status == 303
    assert browser.headers["Location"] == f"/login?next=%2Falerts%2F{d.alert_id}"
    assert "quietpkg" not in browser.body
    api = fetch(d.url("/api/alerts"))
    assert api.status == 401
    assert api.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = fetch(d.url("/"), headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status == 401
    assert "quietpkg" not in wrong.body
    assert fetch(d.url("/"), headers={"Authorization": "Basic " + TOKEN}).status == 401
    right = fetch(d.url("/api/alerts"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status == 200
    assert json.loads(right.body)["alerts"][0]["package"] == "quietpkg"
    assert fetch(d.url("/"), headers={"Authorization": f"Bearer {TOKEN}"}).status == 200


def test_login_sets_a_strict_httponly_session(sqlite_dashboard: Dashboard) -> None:
    d = sqlite_dashboard
    assert fetch(d.url("/login")).status == 200
    bad = fetch(d.url("/login"), form={"token": TOKEN + "x", "next": "/"})
    assert bad.status == 401
    assert "Set-Cookie" not in bad.headers
    assert "not right" in bad.body
    good = fetch(d.url("/login"), form={"token": TOKEN, "next": "/releases"})
    assert good.status == 303
    assert good.headers["Location"] == "/releases"
    attributes = {a.strip().split("=")[0] for a in good.headers["Set-Cookie"].split(";")}
    assert {"HttpOnly", "SameSite", "Max-Age", "Path"} <= attributes
    assert "SameSite=Strict" in good.headers["Set-Cookie"]
    cookie = good.headers["Set-Cookie"].split(";", 1)[0]
    assert d.get("/", cookie).status == 200
    forged = cookie[:-4] + ("0000" if not cookie.endswith("0000") else "1111")
    assert d.get("/", forged).status == 303
    other_key = Auth("another-token-0123456789").new_session()[1]
    assert d.get("/", f"{SESSION_COOKIE}={other_key}").status == 303


def test_login_redirects_only_to_local_paths(sqlite_dashboard: Dashboard) -> None:
    for target in ("//evil.invalid/x", "https://evil.invalid/", "/\\evil.invalid"):
        reply = fetch(sqlite_dashboard.url("/login"), form={"token": TOKEN, "next": target})
        assert reply.headers["Location"] == "/"


def test_sessions_expire() -> None:
    now = [1_000_000.0]
    auth = Auth(TOKEN, lifetime=60, clock=lambda: now[0])
    session, cookie = auth.new_session()
    assert auth.session_from_cookie(f"a=b; {SESSION_COOKIE}={cookie}") == session
    now[0] += 61
    assert auth.session_from_cookie(f"{SESSION_COOKIE}={cookie}") is None
    with pytest.raises(TokenError):
        Auth("short")


def test_wrong_tokens_are_throttled(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "w.sqlite3"))
    for d in _start(store, 0):
        for _ in range(20):
            assert fetch(d.url("/login"), form={"token": "wrong-token-xxxxxxxxxx"}).status == 401
        assert fetch(d.url("/login"), form={"token": TOKEN}).status == 429
        assert fetch(d.url("/api/alerts"), headers={"Authorization": f"Bearer {TOKEN}"}).status == 401


def test_security_headers_and_host_check(sqlite_dashboard: Dashboard) -> None:
    d = sqlite_dashboard
    cookie = d.login()
    for path in ("/", "/login", "/nowhere"):
        headers = d.get(path, cookie).headers
        assert headers["Content-Security-Policy"] == CSP
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
    assert "script-src" not in CSP  # no scripts at all: default-src 'none' covers them
    assert "'unsafe-inline'" not in CSP
    import base64
    import hashlib

    assert "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode() == STYLE_HASH
    rebinding = fetch(d.url("/"), headers={"Cookie": cookie, "Host": "attacker.invalid"})
    assert rebinding.status == 421
    assert "quietpkg" not in rebinding.body


# -- pages (both engines)


def test_every_page_renders(dashboard: Dashboard) -> None:
    d = dashboard
    cookie = d.login()
    pages = {
        "/": ["Open alerts", "quietpkg 1.1", "blocked releases"],
        "/projects": [PROJECT, "10 <span"],
        "/projects/1": ["Dependency graph", 'class="node blocked"', 'class="node warn"', "direct dependencies (4)"],
        "/packages/quietpkg": [PROJECT, "quietpkg 1.1"],
        "/releases": ["quietpkg 1.1", "CW600", "pending", "allowed"],
        "/releases?verdict=blocked": ["quietpkg 1.1"],
        "/releases/quietpkg/1.1": ["quietpkg_init.pth:1", "interpreter-start", "Decoded stages (1)", "base64"],
        "/alerts": [f"#{d.alert_id}", "release-blocked"],
        f"/alerts/{d.alert_id}": ["Acknowledge", "Ignore", "quietpkg_init.pth:1", "the cooldown holds it back"],
        "/search?q=pth": ["quietpkg_init.pth", "CW101"],
        "/search?q=quiet": ["/packages/quietpkg"],
        "/search": ["Type a package name"],
    }
    for path, expected in pages.items():
        reply = d.get(path, cookie)
        assert reply.status == 200, path
        for text in expected:
            assert text in reply.body, (path, text)
    assert "tqdm 4.66.6" not in d.get("/releases?verdict=blocked", cookie).body
    for path in ("/projects/99", "/alerts/999", "/releases/nope/1.0", "/packages/nope", "/nowhere"):
        assert d.get(path, cookie).status == 404, path


def test_evidence_shows_the_decoded_payload(dashboard: Dashboard) -> None:
    d = dashboard
    body = d.get(f"/alerts/{d.alert_id}", d.login()).body
    # the decoded stage, escaped for HTML (its quotes become entities)
    assert "urllib.request.urlopen(&#x27;https://models.litellm.invalid/&#x27;" in body
    assert PAYLOAD_PREVIEW.split("(")[0] in body


def test_hostile_text_renders_as_text(dashboard: Dashboard) -> None:
    d = dashboard
    cookie = d.login()
    for path in ("/releases/quietpkg/1.1", f"/alerts/{d.alert_id}", "/search?q=script", "/search?q=<script>"):
        body = d.get(path, cookie).body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.py" in body, path
        assert "<script" not in body.lower(), path
        assert "<img" not in body.lower(), path
    assert "&lt;img src=x onerror=alert(2)&gt;" in d.get("/releases/quietpkg/1.1", cookie).body
    assert HOSTILE_PATH in d.store.search_findings("script")[0][4]
    assert "&lt;img src=x onerror=alert(2)&gt;" in d.get("/search?q=onerror", cookie).body
    assert HOSTILE_MESSAGE in d.store.search_findings("onerror")[0][6]
    missing = d.get("/packages/%3Cscript%3Ealert(4)%3C%2Fscript%3E", cookie)
    assert missing.status == 404
    assert "&lt;script&gt;alert(4)" in missing.body
    assert "<script" not in missing.body.lower()
    # control and bidi characters are shown as escapes, not applied to the page
    d.store.acknowledge(d.alert_id, "ignored", "looks fine \u202egnp.exe\x1b[31m")
    body = d.get(f"/alerts/{d.alert_id}", cookie).body
    assert "\\u202e" in body
    assert "\u202e" not in body
    assert "\x1b" not in body


def test_acknowledging_needs_the_csrf_token(dashboard: Dashboard) -> None:
    d = dashboard
    cookie = d.login()
    url = d.url(f"/alerts/{d.alert_id}")
    ack = {"status": "acknowledged", "reason": "pinned quietpkg<1.1"}
    assert fetch(url, form=ack, headers={"Cookie": cookie}).status == 403
    assert fetch(url, form={**ack, "csrf": "0" * 40}, headers={"Cookie": cookie}).status == 403
    assert fetch(url, form=ack).status == 303  # no session: off to /login, nothing changed
    assert d.store.alert(d.alert_id).status == "open"
    csrf = d.csrf(cookie)
    cross = fetch(url, form={**ack, "csrf": csrf}, headers={"Cookie": cookie, "Origin": "http://evil.invalid"})
    assert cross.status == 403
    assert d.store.alert(d.alert_id).status == "open"
    no_reason = fetch(url, form={"status": "ignored", "reason": " ", "csrf": csrf}, headers={"Cookie": cookie})
    assert no_reason.status == 400
    assert "needs a reason" in no_reason.body
    assert d.store.alert(d.alert_id).status == "open"
    done = fetch(url, form={**ack, "csrf": csrf}, headers={"Cookie": cookie})
    assert done.status == 303
    assert done.headers["Location"] == f"/alerts/{d.alert_id}?done=acknowledged"
    alert = d.store.alert(d.alert_id)
    assert (alert.status, alert.ack_reason) == ("acknowledged", "pinned quietpkg<1.1")
    page = d.get(done.headers["Location"], cookie).body
    assert "Alert acknowledged." in page
    assert "pinned quietpkg&lt;1.1" in page
    assert f'href="/alerts/{d.alert_id}"' not in d.get("/alerts", cookie).body  # gone from the open list
    # a script with the Bearer token needs no CSRF token (a browser never sends it on its own)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert fetch(url, form={"status": "ignored", "reason": "test fixture"}, headers=bearer).status == 303
    assert d.store.alert(d.alert_id).status == "ignored"


def test_logout_needs_csrf_and_clears_the_cookie(sqlite_dashboard: Dashboard) -> None:
    d = sqlite_dashboard
    cookie = d.login()
    assert fetch(d.url("/logout"), form={}, headers={"Cookie": cookie}).status == 403
    out = fetch(d.url("/logout"), form={"csrf": d.csrf(cookie)}, headers={"Cookie": cookie})
    assert out.status == 303
    assert "Max-Age=0" in out.headers["Set-Cookie"]


def test_an_empty_store_renders(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "empty.sqlite3"))
    for d in _start(store, 0):
        cookie = d.login()
        for path in ("/", "/projects", "/releases", "/alerts", "/alerts?status=all", "/search?q=x"):
            assert d.get(path, cookie).status == 200, path


# -- the command


def test_serve_command_refuses_short_tokens_and_bad_ports(tmp_path: Path) -> None:
    err = io.StringIO()
    db = str(tmp_path / "w.sqlite3")
    assert main(["serve", "--db", db, "--token", "short"], IO(io.StringIO(), err)) == 2
    assert "at least 16 characters" in err.getvalue()
    assert main(["serve", "--db", db, "--token", TOKEN, "--port", "70000"], IO(io.StringIO(), io.StringIO())) == 2


class _FakeServer:
    url = "http://0.0.0.0:1/"

    def serve_forever(self) -> None:
        raise KeyboardInterrupt

    def server_close(self) -> None:
        pass


def test_serve_generates_a_token_and_warns_off_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINWARDEN_DASHBOARD_TOKEN", raising=False)
    seen: list[tuple[str, int]] = []

    def fake_make_server(store: Store, auth: Auth, host: str, port: int, **kwargs: Any) -> _FakeServer:
        seen.append((host, port))
        assert auth.token_ok(re.findall(r"^    (\S+)$", err.getvalue(), re.MULTILINE)[0])
        return _FakeServer()

    monkeypatch.setattr(serve, "make_server", fake_make_server)
    err = io.StringIO()
    assert main(["serve", "--db", str(tmp_path / "w.sqlite3"), "--host", "0.0.0.0"], IO(io.StringIO(), err)) == 0
    assert seen == [("0.0.0.0", 8765)]
    assert "WARNING" in err.getvalue()
    assert "non-loopback" in err.getvalue()
    err = io.StringIO()
    monkeypatch.setenv("CHAINWARDEN_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setattr(serve, "make_server", lambda *a, **k: _FakeServer())
    assert main(["serve", "--db", str(tmp_path / "w.sqlite3")], IO(io.StringIO(), err)) == 0
    assert "WARNING" not in err.getvalue()
    assert TOKEN not in err.getvalue()


# -- a real browser


def _chromium() -> Any:
    """Playwright's sync API, or skip (locally) / fail (in CI) when Chromium or Playwright is missing."""
    problem = ""
    if not Path(CHROMIUM).exists():
        problem = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright import sync_api
    except ImportError:
        problem = problem or "needs the playwright package (the dev extra)"
        sync_api = None
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the browser: {problem}")
        pytest.skip(problem)
    return sync_api


CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _tour(page: Any, d: Dashboard, shots: Path) -> None:
    """Screenshots of the other pages for the docs (while the alert is still open)."""
    for path, name in (("/", "overview"), ("/projects/1", "project"), ("/releases", "releases")):
        page.goto(d.url(path))
        assert page.locator("main h1").count() == 1
        page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)


def _stranger_is_refused(browser: Any, d: Dashboard) -> None:
    """Another browser without the session is sent to /login, and the API refuses it."""
    stranger = browser.new_context()
    assert stranger.request.get(d.url("/api/alerts")).status == 401
    other = stranger.new_page()
    other.goto(d.url("/releases/quietpkg/1.1"))
    assert "/login" in other.url
    assert other.get_by_text("quietpkg_init.pth").count() == 0
    stranger.close()


@pytest.mark.browser
def test_in_chromium(sqlite_dashboard: Dashboard, tmp_path: Path) -> None:
    sync_api = _chromium()
    d = sqlite_dashboard
    shots = Path(os.environ.get("CHAINWARDEN_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            # without the token: the alert is not shown, the login form is
            page.goto(d.url(f"/alerts/{d.alert_id}"))
            assert "/login" in page.url
            assert page.get_by_text("quietpkg_init.pth").count() == 0
            page.screenshot(path=str(shots / "dashboard-login.png"))
            page.fill("#token", "wrong-token-0000000000")
            page.click("button[type=submit]")
            assert page.get_by_text("That token is not right.").is_visible()
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            # back where it was going: the alert, with its evidence
            assert page.url.endswith(f"/alerts/{d.alert_id}")
            assert page.get_by_role("heading", name=re.compile(r"Alert #\d+: quietpkg 1\.1")).is_visible()
            evidence = page.locator("article.finding").first
            assert "quietpkg_init.pth:1" in evidence.inner_text()
            assert "interpreter-start" in evidence.inner_text()
            assert "models.litellm.invalid" in evidence.locator("ol.stages").inner_text()
            page.screenshot(path=str(shots / "dashboard-alert.png"), full_page=True)
            _tour(page, d, shots)
            page.get_by_role("link", name="Alerts").click()
            page.get_by_role("link", name=f"#{d.alert_id}").click()
            page.fill("#ack-reason", "Pinned quietpkg<1.1 in every project; reported upstream.")
            page.click("text=Acknowledge >> nth=-1")
            assert page.get_by_role("status").inner_text() == "Alert acknowledged."
            assert page.locator(".tag.st-acknowledged").first.is_visible()
            assert page.get_by_text("Pinned quietpkg<1.1 in every project; reported upstream.").is_visible()
            assert d.store.alert(d.alert_id).status == "acknowledged"
            # the hostile file name is text, and nothing ran
            page.goto(d.url("/releases/quietpkg/1.1"))
            assert page.get_by_text(HOSTILE_PATH + ":3", exact=True).is_visible()
            assert page.locator("script").count() == 0
            assert page.locator("img").count() == 0
            page.screenshot(path=str(shots / "dashboard-release.png"), full_page=True)
            assert dialogs == []
            _stranger_is_refused(browser, d)
        finally:
            browser.close()
