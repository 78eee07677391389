"""The results store: projects, dependencies, releases, scans, findings, alerts, acknowledgements.

One schema, two engines: SQLite (embedded, WAL, crash-safe: the default) and PostgreSQL (for a
team; `postgresql://…` URL, needs the `watch-postgres` extra). Migrations are numbered and
applied in order inside a transaction; the schema version lives in the database. Every write
that matters is committed before the side effect it enables (an alert row before delivery, a
release's "scanning" state before the scan), so a `kill -9` at any point loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added TEXT NOT NULL,
        refreshed TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE dependencies (
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        spec TEXT NOT NULL DEFAULT '',
        direct INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, name)
    );
    CREATE TABLE packages (
        name TEXT PRIMARY KEY,
        etag TEXT NOT NULL DEFAULT '',
        serial TEXT NOT NULL DEFAULT '',
        checked TEXT NOT NULL DEFAULT '',
        known_versions TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE releases (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        uploaded TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        verdict TEXT NOT NULL DEFAULT '',
        worst TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        blocked INTEGER NOT NULL,
        report TEXT NOT NULL
    );
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        trigger_kind TEXT NOT NULL,
        path TEXT NOT NULL,
        line INTEGER,
        message TEXT NOT NULL,
        evidence TEXT NOT NULL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        created TEXT NOT NULL,
        payload TEXT NOT NULL,
        delivered TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open',
        ack_reason TEXT NOT NULL DEFAULT '',
        ack_time TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX alerts_pending ON alerts (delivered, next_attempt);
    CREATE INDEX releases_state ON releases (state);
    CREATE INDEX findings_scan ON findings (scan_id);
    """,
    # 2: what the dashboard looks up most
    """
    CREATE INDEX scans_release ON scans (name, version);
    CREATE INDEX findings_rule ON findings (rule_id);
    """,
)


class StoreError(Exception):
    """The store cannot be opened or used; the message says what to do."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    key: str
    kind: str
    name: str
    version: str
    created: str
    payload: dict[str, Any]
    delivered: str
    attempts: int
    status: str
    ack_reason: str
    last_error: str


@dataclass(frozen=True, slots=True)
class Release:
    name: str
    version: str
    first_seen: str
    uploaded: str
    state: str  # new | scanning | scanned | failed
    verdict: str
    worst: str
    summary: str


class Store:
    """A thread-safe handle on the store. `Store.open(url)` picks the engine from the URL."""

    def __init__(self, conn: Any, *, dialect: str, label: str) -> None:  # noqa: ANN401 - DB-API connection
        self._conn = conn
        self.dialect = dialect
        self.label = label
        self._lock = threading.RLock()

    # -- opening

    @classmethod
    def open(cls, url: str) -> Store:
        if url.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg  # noqa: PLC0415 - optional dependency
            except ImportError as err:
                msg = "PostgreSQL needs the psycopg package: pip install 'chainwarden[watch-postgres]'"
                raise StoreError(msg) from err
            try:
                conn = psycopg.connect(url, autocommit=False, connect_timeout=10)
            except psycopg.Error as err:
                raise StoreError(f"cannot connect to PostgreSQL: {err}".strip()) from err
            return cls._ready(conn, "postgres", _redact(url))
        return cls._open_sqlite(url)

    @classmethod
    def _ready(cls, conn: Any, dialect: str, label: str) -> Store:  # noqa: ANN401 - DB-API connection
        store = cls(conn, dialect=dialect, label=label)
        store.migrate()
        return store

    @classmethod
    def _open_sqlite(cls, url: str) -> Store:
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            return cls._ready(conn, "sqlite", str(path))
        except (sqlite3.Error, OSError) as err:
            if conn is not None:
                conn.close()
            raise StoreError(f"{path}: cannot open the store: {err}") from err
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- plumbing

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s") if self.dialect == "postgres" else query

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                if self.dialect == "sqlite":
                    cur.execute("BEGIN IMMEDIATE")
                yield cur
                self._conn.commit() if self.dialect == "postgres" else cur.execute("COMMIT")
            except BaseException:
                if self.dialect == "postgres":
                    self._conn.rollback()
                else:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def _run(self, cur: Any, query: str, params: Sequence[Any] = ()) -> Any:  # noqa: ANN401 - DB-API cursor
        try:
            cur.execute(self._sql(query), tuple(params))
        except sqlite3.OperationalError as err:
            raise StoreError(
                f"{self.label}: {err} (is the database locked by another process, or the disk full?)"
            ) from err
        return cur

    def query(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read. On SQLite it takes no write lock (WAL readers never wait for the writer)."""
        if self.dialect == "postgres":
            with self.transaction() as cur:
                return list(self._run(cur, query, params).fetchall())
        with self._lock:
            cur = self._conn.cursor()
            try:
                return list(self._run(cur, query, params).fetchall())
            finally:
                cur.close()

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        with self.transaction() as cur:
            return int(self._run(cur, query, params).rowcount or 0)

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self.transaction() as cur:
            self._run(cur, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            rows = self._run(cur, "SELECT version FROM schema_version").fetchall()
            current = int(rows[0][0]) if rows else 0
            if current > len(MIGRATIONS):
                raise StoreError(f"{self.label}: schema version {current} is newer than this chainwarden knows")
            for number in range(current, len(MIGRATIONS)):
                script = MIGRATIONS[number]
                if self.dialect == "postgres":
                    script = script.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        self._run(cur, statement)
            if not rows:
                self._run(cur, "INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
            else:
                self._run(cur, "UPDATE schema_version SET version = ?", (len(MIGRATIONS),))
        return len(MIGRATIONS)

    # -- projects and dependencies

    def upsert_project(self, path: str, deps: Sequence[tuple[str, str, str, bool]]) -> int:
        """Record a watched project and replace its dependency list: (name, version, spec, direct)."""
        with self.transaction() as cur:
            rows = self._run(cur, "SELECT id FROM projects WHERE path = ?", (path,)).fetchall()
            if rows:
                pid = int(rows[0][0])
            else:
                self._run(cur, "INSERT INTO projects (path, added) VALUES (?, ?)", (path, now_iso()))
                pid = int(self._run(cur, "SELECT id FROM projects WHERE path = ?", (path,)).fetchall()[0][0])
            self._run(cur, "UPDATE projects SET refreshed = ? WHERE id = ?", (now_iso(), pid))
            self._run(cur, "DELETE FROM dependencies WHERE project_id = ?", (pid,))
            for name, version, spec, direct in deps:
                self._run(
                    cur,
                    "INSERT INTO dependencies (project_id, name, version, spec, direct) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (project_id, name) DO NOTHING",
                    (pid, name, version, spec, int(direct)),
                )
                self._run(cur, "INSERT INTO packages (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,))
        return pid

    def projects(self) -> list[tuple[int, str, str]]:
        return [
            (int(r[0]), str(r[1]), str(r[2]))
            for r in self.query("SELECT id, path, refreshed FROM projects ORDER BY path")
        ]

    def dependencies(self, project_id: int | None = None) -> list[tuple[int, str, str, str, bool]]:
        sql = "SELECT project_id, name, version, spec, direct FROM dependencies"
        params: tuple[Any, ...] = ()
        if project_id is not None:
            sql += " WHERE project_id = ?"
            params = (project_id,)
        return [
            (int(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4])) for r in self.query(sql + " ORDER BY name", params)
        ]

    def exposed_projects(self, name: str) -> list[tuple[str, str, str]]:
        """(project path, pinned version, spec) of every project depending on `name`."""
        rows = self.query(
            "SELECT p.path, d.version, d.spec FROM dependencies d JOIN projects p ON p.id = d.project_id "
            "WHERE d.name = ? ORDER BY p.path",
            (name,),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    # -- packages (poll state)

    def package_names(self) -> list[str]:
        return [str(r[0]) for r in self.query("SELECT name FROM packages ORDER BY name")]

    def poll_state(self, name: str) -> tuple[str, str, list[str]]:
        rows = self.query("SELECT etag, serial, known_versions FROM packages WHERE name = ?", (name,))
        if not rows:
            return "", "", []
        return str(rows[0][0]), str(rows[0][1]), list(json.loads(rows[0][2]))

    def save_poll_state(self, name: str, etag: str, serial: str, versions: Sequence[str]) -> None:
        self.execute(
            "UPDATE packages SET etag = ?, serial = ?, checked = ?, known_versions = ? WHERE name = ?",
            (etag, serial, now_iso(), json.dumps(list(versions)), name),
        )

    # -- releases and scans

    def add_release(self, name: str, version: str, uploaded: str) -> bool:
        """Record a newly seen release; False if it was already known."""
        with self.transaction() as cur:
            found = self._run(cur, "SELECT 1 FROM releases WHERE name = ? AND version = ?", (name, version)).fetchall()
            if found:
                return False
            self._run(
                cur,
                "INSERT INTO releases (name, version, first_seen, uploaded, state) VALUES (?, ?, ?, ?, 'new')",
                (name, version, now_iso(), uploaded),
            )
            return True

    def pending_releases(self, max_attempts: int = 5) -> list[Release]:
        """Releases not yet scanned, including those a crash left in 'scanning'."""
        rows = self.query(
            "SELECT name, version, first_seen, uploaded, state, verdict, worst, summary FROM releases "
            "WHERE state IN ('new', 'scanning') AND attempts < ? ORDER BY first_seen, name",
            (max_attempts,),
        )
        return [Release(*map(str, r)) for r in rows]

    def mark_scanning(self, name: str, version: str) -> None:
        self.execute(
            "UPDATE releases SET state = 'scanning', attempts = attempts + 1 WHERE name = ? AND version = ?",
            (name, version),
        )

    def record_scan(
        self,
        name: str,
        version: str,
        *,
        started: str,
        blocked: bool,
        worst: str,
        summary: str,
        report: dict[str, Any],
        findings: Sequence[tuple[str, str, str, str, int | None, str, str]],
        alert: tuple[str, str, dict[str, Any]] | None,
    ) -> int:
        """Store a finished scan, its findings, the release verdict and (atomically) its alert."""
        with self.transaction() as cur:
            self._run(
                cur,
                "INSERT INTO scans (name, version, started, finished, blocked, report) VALUES (?, ?, ?, ?, ?, ?)",
                (name, version, started, now_iso(), int(blocked), json.dumps(report)),
            )
            scan_id = int(
                self._run(cur, "SELECT max(id) FROM scans WHERE name = ? AND version = ?", (name, version)).fetchall()[
                    0
                ][0]
            )
            for rule_id, severity, trigger, path, line, message, evidence in findings:
                self._run(
                    cur,
                    "INSERT INTO findings (scan_id, rule_id, severity, trigger_kind, path, line, message, evidence) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (scan_id, rule_id, severity, trigger, path, line, message, evidence),
                )
            self._run(
                cur,
                "UPDATE releases SET state = 'scanned', verdict = ?, worst = ?, summary = ? "
                "WHERE name = ? AND version = ?",
                ("blocked" if blocked else "allowed", worst, summary, name, version),
            )
            if alert is not None:
                self._insert_alert(cur, alert[0], alert[1], name, version, alert[2])
        return scan_id

    def mark_failed(self, name: str, version: str, reason: str) -> None:
        self.execute(
            "UPDATE releases SET state = CASE WHEN attempts >= 5 THEN 'failed' ELSE 'new' END, summary = ? "
            "WHERE name = ? AND version = ?",
            (reason[:500], name, version),
        )

    def releases(self, limit: int = 200, query: str = "") -> list[Release]:
        sql = "SELECT name, version, first_seen, uploaded, state, verdict, worst, summary FROM releases"
        params: tuple[Any, ...] = ()
        if query:
            sql += " WHERE name LIKE ? OR summary LIKE ?"
            params = (f"%{query}%", f"%{query}%")
        rows = self.query(sql + " ORDER BY first_seen DESC, name LIMIT ?", (*params, limit))
        return [Release(*map(str, r)) for r in rows]

    def release(self, name: str, version: str) -> Release | None:
        rows = self.query(
            "SELECT name, version, first_seen, uploaded, state, verdict, worst, summary FROM releases "
            "WHERE name = ? AND version = ?",
            (name, version),
        )
        return Release(*map(str, rows[0])) if rows else None

    def latest_scan(self, name: str, version: str) -> tuple[int, dict[str, Any]] | None:
        rows = self.query(
            "SELECT id, report FROM scans WHERE name = ? AND version = ? ORDER BY id DESC LIMIT 1", (name, version)
        )
        return (int(rows[0][0]), json.loads(rows[0][1])) if rows else None

    def findings(self, scan_id: int) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT id, rule_id, severity, trigger_kind, path, line, message, evidence FROM findings "
            "WHERE scan_id = ? ORDER BY id",
            (scan_id,),
        )

    def search_findings(self, text: str, limit: int = 100) -> list[tuple[Any, ...]]:
        pattern = f"%{text}%"
        return self.query(
            "SELECT s.name, s.version, f.rule_id, f.severity, f.path, f.line, f.message FROM findings f "
            "JOIN scans s ON s.id = f.scan_id WHERE f.message LIKE ? OR f.path LIKE ? OR s.name LIKE ? "
            "OR f.rule_id LIKE ? ORDER BY f.id DESC LIMIT ?",
            (pattern, pattern, pattern, pattern, limit),
        )

    # -- alerts (an outbox: written first, delivered after, at least once)

    def _insert_alert(  # noqa: PLR0917 - mirrors the table's columns
        self,
        cur: Any,  # noqa: ANN401 - DB-API cursor
        key: str,
        kind: str,
        name: str,
        version: str,
        payload: dict[str, Any],
    ) -> None:
        self._run(
            cur,
            "INSERT INTO alerts (key, kind, name, version, created, payload, next_attempt) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, kind, name, version, now_iso(), json.dumps(payload), ""),
        )

    def add_alert(self, key: str, kind: str, name: str, version: str, payload: dict[str, Any]) -> None:
        with self.transaction() as cur:
            self._insert_alert(cur, key, kind, name, version, payload)

    def _alerts(self, where: str, params: Sequence[Any], limit: int) -> list[Alert]:
        columns = "id, key, kind, name, version, created, payload, delivered, attempts, status, ack_reason, last_error"
        sql = f"SELECT {columns} FROM alerts {where} ORDER BY id DESC LIMIT ?"  # noqa: S608 - `where` is our literal
        rows = self.query(sql, (*params, limit))
        return [
            Alert(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), json.loads(r[6]), str(r[7]),
                  int(r[8]), str(r[9]), str(r[10]), str(r[11]))
            for r in rows
        ]  # fmt: skip

    def undelivered(self, now: str, limit: int = 100) -> list[Alert]:
        return list(reversed(self._alerts("WHERE delivered = '' AND next_attempt <= ?", (now,), limit)))

    def alerts(self, limit: int = 200, status: str = "") -> list[Alert]:
        if status:
            return self._alerts("WHERE status = ?", (status,), limit)
        return self._alerts("", (), limit)

    def alert(self, alert_id: int) -> Alert | None:
        found = self._alerts("WHERE id = ?", (alert_id,), 1)
        return found[0] if found else None

    def mark_delivered(self, alert_id: int) -> None:
        self.execute("UPDATE alerts SET delivered = ?, last_error = '' WHERE id = ?", (now_iso(), alert_id))

    def mark_attempt(self, alert_id: int, error: str, next_attempt: str) -> None:
        self.execute(
            "UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE id = ?",
            (error[:500], next_attempt, alert_id),
        )

    def acknowledge(self, alert_id: int, status: str, reason: str) -> bool:
        if status not in ("acknowledged", "ignored", "open"):
            raise StoreError(f"unknown alert status {status!r}")
        changed = self.execute(
            "UPDATE alerts SET status = ?, ack_reason = ?, ack_time = ? WHERE id = ?",
            (status, reason[:2000], now_iso(), alert_id),
        )
        return changed > 0


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
