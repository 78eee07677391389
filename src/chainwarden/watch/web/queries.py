"""Read-only queries the dashboard needs beyond the `Store` API, for SQLite and PostgreSQL alike.

All go through `Store.query` with `?` placeholders (the store converts them for PostgreSQL);
literal `%` never appears in the SQL text, since psycopg would read it as a placeholder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from chainwarden.models import Severity
from chainwarden.watch.store import Release

if TYPE_CHECKING:
    from chainwarden.watch.store import Store

_RELEASE_COLUMNS = "name, version, first_seen, uploaded, state, verdict, worst, summary"
RISK_ORDER = ("blocked", "error", "warn", "pending", "clean", "unseen")
RISK_LABEL = {
    "blocked": "a release was blocked",
    "error": "a scan failed",
    "warn": "findings below the threshold",
    "pending": "a new release waits for its scan",
    "clean": "scanned, nothing notable",
    "unseen": "no new release seen yet",
}


@dataclass(frozen=True, slots=True)
class Counts:
    projects: int
    dependencies: int
    releases: int
    blocked: int
    pending: int
    failed: int
    open_alerts: int


@dataclass
class PackageRisk:
    """What the watcher has seen of one package's releases, reduced to one colour."""

    name: str
    seen: int = 0
    blocked: list[str] = field(default_factory=list)
    failed: int = 0
    pending: int = 0
    worst: str = ""
    latest: str = ""

    @property
    def risk(self) -> str:
        if self.blocked:
            return "blocked"
        if self.failed:
            return "error"
        if self.worst and Severity.parse(self.worst) >= Severity.MEDIUM:
            return "warn"
        if self.pending:
            return "pending"
        return "clean" if self.seen else "unseen"


def _int(store: Store, sql: str, params: tuple[str, ...] = ()) -> int:
    rows = store.query(sql, params)
    return int(rows[0][0] or 0) if rows else 0


def counts(store: Store) -> Counts:
    return Counts(
        projects=_int(store, "SELECT count(*) FROM projects"),
        dependencies=_int(store, "SELECT count(DISTINCT name) FROM dependencies"),
        releases=_int(store, "SELECT count(*) FROM releases"),
        blocked=_int(store, "SELECT count(*) FROM releases WHERE verdict = ?", ("blocked",)),
        pending=_int(store, "SELECT count(*) FROM releases WHERE state IN (?, ?)", ("new", "scanning")),
        failed=_int(store, "SELECT count(*) FROM releases WHERE state = ?", ("failed",)),
        open_alerts=open_alerts(store),
    )


def open_alerts(store: Store) -> int:
    return _int(store, "SELECT count(*) FROM alerts WHERE status = ?", ("open",))


def _releases(store: Store, where: str, params: tuple[object, ...]) -> list[Release]:
    sql = f"SELECT {_RELEASE_COLUMNS} FROM releases {where}"  # noqa: S608 - `where` is our own literal
    return [Release(*map(str, r)) for r in store.query(sql, params)]


def blocked_releases(store: Store, limit: int = 10) -> list[Release]:
    return _releases(store, "WHERE verdict = ? ORDER BY first_seen DESC, name LIMIT ?", ("blocked", limit))


def releases_of(store: Store, name: str) -> list[Release]:
    return _releases(store, "WHERE name = ? ORDER BY first_seen DESC, version DESC", (name,))


def package_risks(store: Store, project_id: int | None = None) -> dict[str, PackageRisk]:
    """Every watched package's risk (of one project's dependencies, or of all)."""
    where, params = "", cast("tuple[object, ...]", ())
    if project_id is not None:
        where, params = "WHERE name IN (SELECT name FROM dependencies WHERE project_id = ?)", (project_id,)
    risks: dict[str, PackageRisk] = {}
    newest: dict[str, str] = {}
    for rel in _releases(store, where + " ORDER BY first_seen", params):
        risk = risks.setdefault(rel.name, PackageRisk(rel.name))
        risk.seen += 1
        if rel.verdict == "blocked":
            risk.blocked.append(rel.version)
        if rel.state == "failed":
            risk.failed += 1
        if rel.state in ("new", "scanning"):
            risk.pending += 1
        if rel.worst and _severity(rel.worst) > _severity(risk.worst):
            risk.worst = rel.worst
        if rel.first_seen >= newest.get(rel.name, ""):
            newest[rel.name] = rel.first_seen
            risk.latest = rel.version
    return risks


def _severity(label: str) -> int:
    try:
        return int(Severity.parse(label)) if label else -1
    except ValueError:
        return -1


def changes(store: Store, releases: list[Release]) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """The diff findings (CW6xx) of each release's latest scan: (rule id, severity, message)."""
    wanted = {(r.name, r.version) for r in releases}
    if not wanted:
        return {}
    names = sorted({name for name, _ in wanted})
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for start in range(0, len(names), 200):  # keep the IN list well under every engine's limit
        chunk = names[start : start + 200]
        marks = ", ".join("?" * len(chunk))
        sql = (
            "SELECT s.name, s.version, f.rule_id, f.severity, f.message FROM findings f "  # noqa: S608 - `marks` is "?, ?…"
            "JOIN scans s ON s.id = f.scan_id WHERE f.rule_id LIKE ? "
            f"AND s.name IN ({marks}) "
            "AND s.id IN (SELECT max(id) FROM scans GROUP BY name, version) ORDER BY f.id"
        )
        rows = store.query(sql, ("CW6%", *chunk))
        for name, version, rule_id, severity, message in rows:
            if (str(name), str(version)) in wanted:
                found[str(name), str(version)].append((str(rule_id), str(severity), str(message)))
    return dict(found)


def alerts_for(store: Store, name: str, version: str) -> list[tuple[int, str, str, str]]:
    """(id, kind, status, created) of the alerts about one release."""
    rows = store.query(
        "SELECT id, kind, status, created FROM alerts WHERE name = ? AND version = ? ORDER BY id DESC", (name, version)
    )
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def ack_time(store: Store, alert_id: int) -> str:
    rows = store.query("SELECT ack_time FROM alerts WHERE id = ?", (alert_id,))
    return str(rows[0][0]) if rows else ""


def packages_matching(store: Store, text: str, limit: int = 100) -> list[tuple[str, int, str]]:
    """(name, projects depending on it, pinned versions) of watched packages whose name contains `text`."""
    rows = store.query(
        "SELECT name, count(DISTINCT project_id), min(version), max(version) FROM dependencies "
        "WHERE lower(name) LIKE ? GROUP BY name ORDER BY name LIMIT ?",
        (f"%{text.lower()}%", limit),
    )
    out = []
    for name, projects, low, high in rows:
        pins = str(low) if low == high else f"{low} … {high}"
        out.append((str(name), int(projects), pins))
    return out


__all__ = [
    "RISK_LABEL",
    "RISK_ORDER",
    "Counts",
    "PackageRisk",
    "ack_time",
    "alerts_for",
    "blocked_releases",
    "changes",
    "counts",
    "open_alerts",
    "package_risks",
    "packages_matching",
    "releases_of",
]
