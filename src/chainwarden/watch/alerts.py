"""Deliver alerts at least once: webhook (generic JSON or Slack-compatible) and/or JSON lines.

Alerts are rows in the store before anyone is told (an outbox). Delivery retries with
exponential backoff and never drops an alert; every attempt of one alert carries the same
`Idempotency-Key` header and `idempotency_key` field, so receivers can drop duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from chainwarden.watch.store import Alert, Store

_MAX_BACKOFF = 15 * 60


def slack_body(alert: Alert) -> dict[str, Any]:
    p = alert.payload
    lines = [f"*chainwarden*: {p.get('title', alert.kind)}"]
    if p.get("projects"):
        lines.append("Exposed: " + ", ".join(f"`{x['path']}`" for x in p["projects"]))
    for change in p.get("what_changed", [])[:3]:
        lines.append(f"• {change}")
    for f in p.get("findings", [])[:3]:
        lines.append(f"• {f['rule_id']} {f['severity']}: {f['message']} ({f['path']})")
    if p.get("cooldown", {}).get("text"):
        lines.append(p["cooldown"]["text"])
    if p.get("advice"):
        lines.append(p["advice"])
    return {"text": "\n".join(lines), "idempotency_key": alert.key}


def generic_body(alert: Alert) -> dict[str, Any]:
    return {"idempotency_key": alert.key, "kind": alert.kind, "created": alert.created, **alert.payload}


def post(url: str, body: dict[str, Any], key: str, timeout: float = 10.0) -> str:
    """'' on success, else why it failed."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the configured webhook
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": "chainwarden-watch"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(1024)
            return ""
    except urllib.error.HTTPError as err:
        err.close()
        return f"HTTP {err.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        return str(getattr(err, "reason", err))


def deliver_pending(
    store: Store,
    *,
    webhook: str | None,
    slack: bool = False,
    stream: TextIO | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Try every alert that is due; returns (delivered, failed)."""
    now = now or dt.datetime.now(dt.UTC)
    delivered = failed = 0
    for alert in store.undelivered(now.isoformat(timespec="seconds")):
        error = ""
        if webhook:
            error = post(webhook, slack_body(alert) if slack else generic_body(alert), alert.key)
        if not error and stream is not None:
            stream.write(json.dumps(generic_body(alert)) + "\n")
            stream.flush()
        if error:
            backoff = min(_MAX_BACKOFF, 5 * 2 ** min(alert.attempts, 10))
            store.mark_attempt(alert.id, error, (now + dt.timedelta(seconds=backoff)).isoformat(timespec="seconds"))
            failed += 1
        else:
            store.mark_delivered(alert.id)
            delivered += 1
    return delivered, failed
