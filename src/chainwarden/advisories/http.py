"""The network client advisory services are given (never one they build themselves).

Tests inject a client that replays recorded responses; the real one is a small urllib wrapper
with a timeout and a size cap.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Protocol

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
USER_AGENT = "chainwarden (+https://github.com/chainwarden)"


class NetworkError(Exception):
    """The service could not be reached or answered with an error."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HttpClient(Protocol):
    def get(self, url: str) -> bytes: ...

    def post_json(self, url: str, body: object) -> bytes: ...


class UrllibClient:
    """Plain HTTPS with a timeout and a response-size cap."""

    def __init__(self, timeout: float = 30.0, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes

    def _open(self, request: urllib.request.Request) -> bytes:
        if not request.full_url.startswith("https://"):
            msg = f"refusing non-HTTPS URL {request.full_url}"
            raise NetworkError(msg)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https only
                data: bytes = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            msg = f"{request.full_url}: HTTP {exc.code}"
            raise NetworkError(msg, status=exc.code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            msg = f"{request.full_url}: {reason}"
            raise NetworkError(msg) from None
        if len(data) > self.max_bytes:
            msg = f"{request.full_url}: response larger than {self.max_bytes} bytes"
            raise NetworkError(msg)
        return data

    def get(self, url: str) -> bytes:
        return self._open(urllib.request.Request(url, headers={"User-Agent": USER_AGENT}))  # noqa: S310

    def post_json(self, url: str, body: object) -> bytes:
        data = json.dumps(body).encode()
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        return self._open(urllib.request.Request(url, data=data, headers=headers, method="POST"))  # noqa: S310
