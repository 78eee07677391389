"""Alert pages: the list by status, one alert with its evidence, and the acknowledge/ignore forms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainwarden.watch.web import queries
from chainwarden.watch.web.evidence import items, text, where
from chainwarden.watch.web.layout import csrf_field, esc, href, row, severity_tag, table, tag, when
from chainwarden.watch.web.pages import ALERT_HEAD, NotFoundError, View, alert_rows, release_link, scan_evidence

if TYPE_CHECKING:
    from chainwarden.watch.store import Alert, Store

STATUSES = ("open", "acknowledged", "ignored")
MAX_REASON = 2000


class FormError(ValueError):
    """A submitted form is incomplete; the message says what is missing."""


def alerts(store: Store, status: str) -> View:
    status = status if status in (*STATUSES, "all") else "open"
    on = ' class="on"'
    tabs = "".join(f'<a href="/alerts?status={s}"{on if s == status else ""}>{s}</a>' for s in (*STATUSES, "all"))
    found = store.alerts(limit=500, status="" if status == "all" else status)
    content = f'<h1>Alerts</h1><nav class="tabs" aria-label="status">{tabs}</nav>' + table(
        ALERT_HEAD, alert_rows(found), f"No {status} alerts." if status != "all" else "No alerts."
    )
    return View("Alerts", "alerts", content)


def _projects(payload: dict[str, Any]) -> str:
    rows = []
    for p in items(payload, "projects"):
        receives = p.get("receives_it") if isinstance(p, dict) else None
        verdict = "" if receives is None else ("yes" if receives else "no (its specifier excludes it)")
        rows.append(row(esc(text(p, "path")), esc(text(p, "pinned") or "-"), esc(text(p, "spec") or "-"), esc(verdict)))
    return table(("Project", "Pinned", "Specifier", "Would receive it"), rows, "No watched project is exposed.")


def _payload_facts(alert: Alert) -> str:
    payload = alert.payload if isinstance(alert.payload, dict) else {}
    facts = [("Release", release_link(alert.name, alert.version)), ("Kind", esc(alert.kind))]
    if text(payload, "advisory"):
        aliases = ", ".join(a for a in items(payload, "aliases") if isinstance(a, str))
        facts.append(("Advisory", esc(text(payload, "advisory") + (f" ({aliases})" if aliases else ""))))
    if text(payload, "severity"):
        facts.append(("Severity", severity_tag(text(payload, "severity"))))
    if text(payload, "summary"):
        facts.append(("Summary", esc(text(payload, "summary"))))
    fixed = [f for f in items(payload, "fixed") if isinstance(f, str)]
    if fixed:
        facts.append(("Fixed in", esc(", ".join(fixed))))
    if text(payload, "uploaded"):
        facts.append(("Uploaded", when(text(payload, "uploaded"))))
    cooldown = payload.get("cooldown")
    if isinstance(cooldown, dict) and text(cooldown, "text"):
        holding = cooldown.get("holding") is True
        label = tag("holding it back", "v-allowed") if holding else tag("past the cooldown", "v-blocked")
        facts.append(("Cooldown", f"{label} {esc(text(cooldown, 'text'))}"))
    facts.append(("Created", when(alert.created)))
    delivery = f"delivered {alert.delivered}" if alert.delivered else f"not delivered yet ({alert.attempts} attempt(s))"
    if alert.last_error:
        delivery += f"; last error: {alert.last_error}"
    facts.append(("Delivery", esc(delivery)))
    facts.append(("Idempotency key", f"<code>{esc(alert.key)}</code>"))
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _status_panel(store: Store, alert: Alert, csrf: str) -> str:
    state = f"<p>Status: {tag(alert.status, f'st-{alert.status}')}"
    if alert.status != "open":
        ack = queries.ack_time(store, alert.id)
        state += f" {when(ack)}"
        if alert.ack_reason:
            state += f"</p><p>Reason: {esc(alert.ack_reason)}"
    state += "</p>"
    action = href("alerts", str(alert.id))
    start = f'<form method="post" action="{action}" class="act">{csrf_field(csrf)}'
    if alert.status != "open":
        reopen = (
            f'{start}<input type="hidden" name="status" value="open"><input type="hidden" name="reason" value="">'
            '<button type="submit">Reopen</button></form>'
        )
        return f'<div class="panel">{state}</div>{reopen}'
    acknowledge = (
        f'{start}<input type="hidden" name="status" value="acknowledged">'
        f'<label for="ack-reason">Acknowledge</label><textarea id="ack-reason" name="reason" maxlength="{MAX_REASON}" '
        'placeholder="What was done (optional): pinned the previous version, reported upstream…"></textarea>'
        '<p><button class="primary" type="submit">Acknowledge</button></p></form>'
    )
    ignore = (
        f'{start}<input type="hidden" name="status" value="ignored">'
        f'<label for="ignore-reason">Ignore, with a reason</label><textarea id="ignore-reason" name="reason" required '
        f'maxlength="{MAX_REASON}" placeholder="Why this alert does not apply (required)"></textarea>'
        '<p><button class="danger" type="submit">Ignore</button></p></form>'
    )
    return f'<div class="panel">{state}</div><div class="actions">{acknowledge}{ignore}</div>'


def alert_page(store: Store, alert_id: int, csrf: str) -> View:
    alert = store.alert(alert_id)
    if alert is None:
        raise NotFoundError(f"no alert #{alert_id}")
    payload = alert.payload if isinstance(alert.payload, dict) else {}
    title = text(payload, "title") or f"{alert.kind}: {alert.name} {alert.version}"
    changed = [c for c in items(payload, "what_changed") if isinstance(c, str)]
    top = [
        row(
            severity_tag(text(f, "severity")),
            f"<code>{esc(text(f, 'rule_id'))}</code>",
            esc(text(f, "trigger")),
            f"<code>{esc(where(text(f, 'path'), text(f, 'line')))}</code>",
            esc(text(f, "message")),
        )
        for f in items(payload, "findings")
        if isinstance(f, dict)
    ]
    content = (
        f"<h1>Alert #{alert.id}: {esc(title)}</h1>"
        f'<div class="panel">{_payload_facts(alert)}</div>'
        + (f"<h2>What to do</h2><p>{esc(text(payload, 'advice'))}</p>" if text(payload, "advice") else "")
        + "<h2>Response</h2>"
        + _status_panel(store, alert, csrf)
        + "<h2>Exposed projects</h2>"
        + _projects(payload)
        + ("<h2>What changed</h2><ul>" + "".join(f"<li>{esc(c)}</li>" for c in changed) + "</ul>" if changed else "")
        + ("<h2>Top findings</h2>" + table(("Severity", "Rule", "Trigger", "File", "Message"), top, "") if top else "")
        + "<h2>Evidence</h2>"
        + scan_evidence(store, alert.name, alert.version, only_blocking=True)
    )
    return View(f"Alert #{alert.id}", "alerts", content)


def parse_acknowledgement(form: dict[str, str]) -> tuple[str, str]:
    """(status, reason) from the acknowledge/ignore/reopen form; ignoring needs a reason."""
    status = form.get("status", "")
    reason = form.get("reason", "").strip()
    if status not in STATUSES:
        raise FormError("choose acknowledge, ignore or reopen")
    if status == "ignored" and not reason:
        raise FormError("ignoring an alert needs a reason")
    if len(reason) > MAX_REASON:
        raise FormError(f"the reason is longer than {MAX_REASON} characters")
    return status, reason


__all__ = ["STATUSES", "FormError", "alert_page", "alerts", "parse_acknowledgement"]
