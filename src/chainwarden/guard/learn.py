"""`learn` mode: turn the guard's JSON-lines event log into the smallest policy that allows it.

Every third-party distribution on an event's call chain gets exactly the grant the event needed;
hosts are learned by name when the connection followed a lookup, writes in the temporary directory
collapse to `$TMP/**`. The application's own table is left as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from typing import TYPE_CHECKING

from chainwarden.guard.policy import Capabilities, GuardPolicy

if TYPE_CHECKING:
    from pathlib import Path

_SKIP = frozenset({"app", "unattributed", "?"})
_CAPABILITIES = frozenset({"net", "read", "write", "exec", "native", "dynamic_code", "introspect"})


def read_events(path: Path) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return events
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            events.append(record)
    return events


def _merge(values: tuple[str, ...], new: str) -> tuple[str, ...]:
    return values if new in values else tuple(sorted((*values, new)))


def _grant(caps: Capabilities, record: dict[str, object], tmp: str) -> Capabilities:
    cap, target = record.get("capability"), str(record.get("target", ""))
    if cap == "net":
        via = record.get("via")
        port = target.rpartition(":")[2]
        for host in via if isinstance(via, list) and via else [target.rpartition(":")[0]]:
            caps = replace(caps, net=_merge(caps.net, f"{host}:{port}" if not str(host).startswith("unix:")
                                            else str(host)))
    elif cap == "read":
        caps = replace(caps, read=_merge(caps.read, target))
    elif cap == "write":
        shown = "$TMP/**" if target.startswith(tmp.rstrip("/") + "/") else target
        caps = replace(caps, write=_merge(caps.write, shown))
    elif cap == "exec" and caps.exec is not True:
        program = target if target == "<fork>" else target.rsplit("/", 1)[-1]
        caps = replace(caps, exec=_merge(caps.exec if isinstance(caps.exec, tuple) else (), program))
    elif cap == "native":
        caps = replace(caps, native=True)
    elif cap == "dynamic_code":
        caps = replace(caps, dynamic_code=True)
    elif cap == "introspect":
        caps = replace(caps, introspect=True)
    return caps


def learn_policy(events: list[dict[str, object]], base: GuardPolicy) -> GuardPolicy:
    """`base` extended with every grant the logged events needed."""
    tmp = os.environ.get("TMPDIR") or tempfile.gettempdir()
    packages = dict(base.packages)
    for record in events:
        if record.get("decision") not in ("allowed", "would-deny", "denied"):
            continue
        if record.get("capability") not in _CAPABILITIES:
            continue  # .pth lines are approved in the baseline, not in the policy
        chain = record.get("chain")
        for name in chain if isinstance(chain, list) else []:
            if not isinstance(name, str) or name in _SKIP:
                continue
            packages[name] = _grant(packages.get(name, Capabilities()), record, tmp)
    return replace(base, packages=packages)
