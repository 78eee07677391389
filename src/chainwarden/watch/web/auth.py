"""Dashboard authentication: one shared token, HMAC-signed expiring session cookies, CSRF tokens.

The dashboard holds security findings, so every page needs the token: sent once to `/login`
(which sets an HttpOnly, SameSite=Strict cookie) or on each request as `Authorization: Bearer`.
Tokens are compared in constant time (on their digests, so not even the length leaks). The
session key is derived from the token: sessions survive a restart, and changing the token ends
them all. A form's CSRF token is an HMAC of the session's nonce, so it cannot be forged without
the session, and repeated wrong tokens are throttled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

SESSION_COOKIE = "cw_session"
SESSION_SECONDS = 12 * 3600
MIN_TOKEN_LENGTH = 16
TOKEN_ENV = "CHAINWARDEN_DASHBOARD_TOKEN"  # noqa: S105 - the variable's name, not a secret
_FAILURE_WINDOW = 60.0
_MAX_FAILURES = 20  # wrong tokens per window before /login answers 429


class TokenError(ValueError):
    """The configured token is unusable (too short)."""


def generate_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    expires: int


class Auth:
    """Checks tokens, issues and verifies session cookies and CSRF tokens."""

    def __init__(self, token: str, *, lifetime: int = SESSION_SECONDS, clock: Callable[[], float] = time.time) -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise TokenError(f"the dashboard token must be at least {MIN_TOKEN_LENGTH} characters")
        self._digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        self._key = hmac.new(token.encode("utf-8", "surrogatepass"), b"chainwarden dashboard v1", "sha256").digest()
        self.lifetime = lifetime
        self._clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    # -- the token itself

    def token_ok(self, candidate: str) -> bool:
        given = hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).digest()
        return hmac.compare_digest(given, self._digest)

    def bearer_ok(self, header: str) -> bool:
        scheme, _, value = header.strip().partition(" ")
        return scheme.lower() == "bearer" and bool(value.strip()) and self.token_ok(value.strip())

    def throttled(self) -> bool:
        """True while too many wrong tokens arrived recently (answer 429, do not even compare)."""
        with self._lock:
            self._expire_failures()
            return len(self._failures) >= _MAX_FAILURES

    def record_failure(self) -> None:
        with self._lock:
            self._failures.append(self._clock())
            self._expire_failures()

    def _expire_failures(self) -> None:
        horizon = self._clock() - _FAILURE_WINDOW
        while self._failures and self._failures[0] < horizon:
            self._failures.popleft()

    # -- sessions

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), "sha256").hexdigest()

    def new_session(self) -> tuple[Session, str]:
        """A fresh session and the cookie value that carries it."""
        session = Session(secrets.token_hex(16), int(self._clock()) + self.lifetime)
        body = f"{session.expires}.{session.nonce}"
        return session, f"{body}.{self._sign(body)}"

    def session_from_cookie(self, cookie_header: str) -> Session | None:
        value = cookie_value(cookie_header, SESSION_COOKIE)
        if value is None:
            return None
        expires, _, rest = value.partition(".")
        nonce, _, signature = rest.partition(".")
        if not (expires.isdigit() and nonce and signature):
            return None
        if not hmac.compare_digest(self._sign(f"{expires}.{nonce}"), signature):
            return None
        if int(expires) <= self._clock():
            return None
        return Session(nonce, int(expires))

    def set_cookie(self, cookie: str) -> str:
        return f"{SESSION_COOKIE}={cookie}; Path=/; Max-Age={self.lifetime}; HttpOnly; SameSite=Strict"

    @staticmethod
    def clear_cookie() -> str:
        return f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"

    # -- CSRF

    def csrf_for(self, session: Session) -> str:
        return self._sign(f"csrf.{session.nonce}")[:40]

    def csrf_ok(self, session: Session, value: str) -> bool:
        return hmac.compare_digest(self.csrf_for(session).encode(), value.encode("utf-8", "surrogatepass"))


def cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a Cookie header, parsed by hand (no lenient SimpleCookie quirks)."""
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip()
    return None


__all__ = ["MIN_TOKEN_LENGTH", "SESSION_COOKIE", "TOKEN_ENV", "Auth", "Session", "TokenError", "generate_token"]
