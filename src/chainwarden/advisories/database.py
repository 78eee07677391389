"""The offline advisory database: OSV records in SQLite, indexed by PyPI package name.

Built and refreshed from an OSV dump by `update` (incremental: only records whose `modified`
timestamp changed are rewritten; records gone from the dump are removed). A file that is not a
healthy database of our schema is refused with a message that says how to rebuild it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chainwarden.advisories.matching import canonical_version, ranges_may_affect
from chainwarden.advisories.model import (
    PYPI,
    Advisory,
    AdvisoryFormatError,
    Affected,
    Event,
    EventKind,
    Range,
    event_kind,
    parse_advisory,
    range_type,
)
from chainwarden.models import Severity
from chainwarden.paths import default_cache_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from chainwarden.advisories.dump import DumpRecord

SCHEMA_VERSION = "3"
DB_FILENAME = "advisories.sqlite3"
REBUILD_HINT = "rebuild it with `chainwarden db update` (add `--from FILE` to use a downloaded OSV zip)"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_CHUNK = 500
_RANGES = (
    "SELECT f.package, f.advisory_id, f.ranges FROM affected f JOIN advisories a ON a.id = f.advisory_id"
    " WHERE a.withdrawn = 0 AND f.package IN "
)
_LISTED = "SELECT advisory_id FROM affected_versions WHERE package = ? AND version = ?"
_HEADERS = "SELECT id, modified, aliases, summary, severity FROM advisories WHERE withdrawn = 0 AND id IN "

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    aliases TEXT NOT NULL,
    summary TEXT NOT NULL,
    severity INTEGER,
    record BLOB NOT NULL
);
CREATE TABLE affected (
    package TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisories(id),
    ranges TEXT NOT NULL
);
CREATE INDEX affected_package ON affected(package);
CREATE INDEX affected_advisory ON affected(advisory_id);
CREATE TABLE affected_versions (package TEXT NOT NULL, version TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX affected_versions_lookup ON affected_versions(package, version);
CREATE INDEX affected_versions_advisory ON affected_versions(advisory_id);
"""


class DatabaseError(Exception):
    """The database is missing, corrupt or of another schema. `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = REBUILD_HINT) -> None:
        super().__init__(message)
        self.hint = hint


def default_db_path() -> Path:
    """`advisories.sqlite3` in chainwarden's cache directory (`$CHAINWARDEN_CACHE_DIR`, ...)."""
    return default_cache_dir() / DB_FILENAME


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    path: str
    records: int
    packages: int
    updated: str  # ISO 8601 UTC of the last successful update
    source: str
    newest_modified: str

    def age_days(self, now: dt.datetime | None = None) -> float | None:
        try:
            updated = dt.datetime.fromisoformat(self.updated)
        except ValueError:
            return None
        current = now or dt.datetime.now(dt.UTC)
        return (current - updated).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class UpdateStats:
    added: int
    changed: int
    removed: int
    unchanged: int
    rebuilt: bool  # a missing or corrupt database was replaced by a new one


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
    except sqlite3.Error:
        conn.close()  # a corrupt file: report it without leaving the connection open
        raise
    return conn


def _header_problem(path: Path) -> str:
    """Why the SQLite header says the file is not a whole database ("" if it looks whole)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER_BYTES)
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not header.startswith(_SQLITE_MAGIC) or len(header) < _HEADER_BYTES:
        return "not an SQLite file"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is valid when its "version-valid-for" number equals the change counter.
    if header[92:96] == header[24:28] and pages and size < pages * page_size:
        return f"truncated ({size} of {pages * page_size} bytes)"
    return ""


def _check(path: Path, *, thorough: bool) -> None:
    """Raise `DatabaseError` unless `path` looks like a whole database of our schema.

    `thorough` adds SQLite's `quick_check` over every page (what `db update` and `db info`
    do); an audit relies on the header and on SQLite's own checks while it reads.
    """
    problem = _header_problem(path)
    if problem:
        msg = f"advisory database {path} is corrupt ({problem})"
        raise DatabaseError(msg)
    try:
        with contextlib.closing(_connect(path)) as conn:
            status = conn.execute("PRAGMA quick_check").fetchone() if thorough else ("ok",)
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        msg = f"advisory database {path} is corrupt ({exc})"
        raise DatabaseError(msg) from None
    if status is None or status[0] != "ok":
        msg = f"advisory database {path} is corrupt (integrity check: {status[0] if status else 'no answer'})"
        raise DatabaseError(msg)
    if version is None or version[0] != SCHEMA_VERSION:
        found = version[0] if version else "none"
        msg = f"advisory database {path} has schema {found}, this chainwarden needs {SCHEMA_VERSION}"
        raise DatabaseError(msg)


class AdvisoryDatabase:
    """Read access to a checked database. Open with `AdvisoryDatabase.open(path)`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    @classmethod
    def open(cls, path: Path, *, thorough: bool = False) -> AdvisoryDatabase:
        if not path.exists():
            msg = f"no advisory database at {path}"
            raise DatabaseError(msg, hint="create it with `chainwarden db update`")
        _check(path, thorough=thorough)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return cls(path, conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self) -> DatabaseInfo:
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            records = self._conn.execute("SELECT count(*) FROM advisories").fetchone()[0]
            packages = self._conn.execute("SELECT count(DISTINCT package) FROM affected").fetchone()[0]
            newest = self._conn.execute("SELECT max(modified) FROM advisories").fetchone()[0] or ""
        except sqlite3.DatabaseError as exc:
            msg = f"advisory database {self.path} is corrupt ({exc})"
            raise DatabaseError(msg) from None
        return DatabaseInfo(str(self.path), records, packages, meta.get("updated", ""), meta.get("source", ""), newest)

    def candidates(self, queries: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[Advisory, ...]]:
        """Records that may affect each `(canonical name, version)`, withdrawn ones left out.

        Answered from the index alone: the enumerated versions (one indexed lookup per query)
        and the package's ranges. Each `Advisory` carries what matching and reporting need
        (ids, summary, severity, the package's ranges, and the queried version when the record
        lists it); `matching.match` makes the final decision. `record(id)` has the full record.
        """
        unique = sorted(set(queries))
        try:
            listed = self._listed(unique)
            ranges = self._ranges_for(sorted({name for name, _ in unique}))
            wanted = {q: set(listed[q]) for q in unique}
            versions: dict[str, list[str]] = {}
            for name, version in unique:
                versions.setdefault(name, []).append(version)
            for (package, ident), package_ranges in ranges.items():
                for version in versions[package] if package_ranges else ():
                    if ranges_may_affect(package_ranges, version):
                        wanted[(package, version)].add(ident)
            headers = self._headers(sorted(set().union(*wanted.values())) if wanted else [])
        except sqlite3.DatabaseError as exc:
            msg = f"advisory database {self.path} is corrupt ({exc})"
            raise DatabaseError(msg) from None
        out: dict[tuple[str, str], tuple[Advisory, ...]] = {}
        for query in unique:
            name, version = query
            found: list[Advisory] = []
            for ident in sorted(wanted[query]):
                head = headers.get(ident)
                if head is None:  # withdrawn
                    continue
                affected = Affected(
                    name=name,
                    ecosystem=PYPI,
                    ranges=ranges.get((name, ident), ()),
                    versions=(version,) if ident in listed[query] else (),
                )
                found.append(replace(head, affected=(affected,)))
            out[query] = tuple(found)
        return out

    def record(self, ident: str) -> Advisory | None:
        """The full stored OSV record `ident`, or None."""
        try:
            row = self._conn.execute("SELECT record FROM advisories WHERE id = ?", (ident,)).fetchone()
        except sqlite3.DatabaseError as exc:
            msg = f"advisory database {self.path} is corrupt ({exc})"
            raise DatabaseError(msg) from None
        return _decode(row[0]) if row else None

    def _listed(self, queries: list[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        for name, version in queries:  # one indexed lookup each: cheaper than any IN (VALUES ...) plan
            rows = self._conn.execute(_LISTED, (name, canonical_version(version)))
            out[(name, version)] = {ident for (ident,) in rows}
        return out

    def _ranges_for(self, names: list[str]) -> dict[tuple[str, str], tuple[Range, ...]]:
        out: dict[tuple[str, str], tuple[Range, ...]] = {}
        parsed: dict[str, tuple[Range, ...]] = {"[]": ()}
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for package, ident, text in self._conn.execute(_RANGES + f"({marks})", chunk):
                ranges = parsed.get(text)
                if ranges is None:
                    ranges = parsed[text] = _ranges(text)
                out[(package, ident)] = ranges
        return out

    def _headers(self, ids: list[str]) -> dict[str, Advisory]:
        out: dict[str, Advisory] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for ident, modified, aliases, summary, severity in self._conn.execute(_HEADERS + f"({marks})", chunk):
                out[ident] = Advisory(
                    id=ident,
                    modified=modified,
                    aliases=tuple(_json_strings(aliases)),
                    summary=summary,
                    severity=Severity(severity) if severity is not None else None,
                )
        return out


def _json_strings(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = f"advisory database holds unreadable aliases ({exc})"
        raise DatabaseError(msg) from None
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _event_kind(text: str) -> EventKind:
    kind = event_kind(text)
    if kind is None:
        msg = f"unknown range event {text!r}"
        raise ValueError(msg)
    return kind


def _ranges(text: str) -> tuple[Range, ...]:
    try:
        raw = json.loads(text)
        return tuple(
            Range(range_type(kind), tuple(Event(_event_kind(event), value) for event, value in events))
            for kind, events in raw
        )
    except (ValueError, TypeError) as exc:
        msg = f"advisory database holds an unreadable range ({exc})"
        raise DatabaseError(msg) from None


def _decode(blob: bytes) -> Advisory:
    try:
        return parse_advisory(json.loads(zlib.decompress(blob)))
    except (zlib.error, ValueError, AdvisoryFormatError) as exc:
        msg = f"advisory database holds an unreadable record ({exc})"
        raise DatabaseError(msg) from None


def _create(path: Path) -> None:
    with contextlib.closing(_connect(path)) as conn:
        conn.executescript(_SCHEMA)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))


def _write(conn: sqlite3.Connection, record: DumpRecord) -> None:
    _forget(conn, record.id)
    conn.execute(
        "INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            record.id,
            record.modified,
            int(record.withdrawn),
            json.dumps(list(record.aliases)),
            record.summary,
            None if record.severity is None else int(record.severity),
            zlib.compress(record.raw, 6),
        ),
    )
    conn.executemany("INSERT INTO affected VALUES (?, ?, ?)", [(p.name, record.id, p.ranges) for p in record.packages])
    conn.executemany(
        "INSERT INTO affected_versions VALUES (?, ?, ?)",
        [(p.name, version, record.id) for p in record.packages for version in p.versions],
    )


def _forget(conn: sqlite3.Connection, ident: str) -> None:
    conn.execute("DELETE FROM affected WHERE advisory_id = ?", (ident,))
    conn.execute("DELETE FROM affected_versions WHERE advisory_id = ?", (ident,))
    conn.execute("DELETE FROM advisories WHERE id = ?", (ident,))


def _apply(path: Path, records: Iterable[DumpRecord], source: str) -> tuple[int, int, int, int]:
    added = changed = unchanged = 0
    with contextlib.closing(_connect(path)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            existing = dict(conn.execute("SELECT id, modified FROM advisories").fetchall())
            seen: set[str] = set()
            for record in records:
                seen.add(record.id)
                before = existing.get(record.id)
                if before == record.modified:
                    unchanged += 1
                    continue
                _write(conn, record)
                if before is None:
                    added += 1
                else:
                    changed += 1
            gone = [ident for ident in existing if ident not in seen]
            for ident in gone:
                _forget(conn, ident)
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated', ?)", (now,))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('source', ?)", (source,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return added, changed, len(gone), unchanged


def update(path: Path, records: Sequence[DumpRecord], source: str) -> UpdateStats:
    """Bring the database at `path` in line with `records` (a whole, already-checked dump).

    A healthy database is updated in place in one transaction. A missing, corrupt or
    other-schema one is rebuilt in a temporary file and moved into place only when complete.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    healthy = path.exists()
    if healthy:
        try:
            _check(path, thorough=True)
        except DatabaseError:
            healthy = False
    if healthy:
        added, changed, removed, unchanged = _apply(path, records, source)
        return UpdateStats(added, changed, removed, unchanged, rebuilt=False)
    scratch = path.with_name(path.name + ".new")
    scratch.unlink(missing_ok=True)
    try:
        _create(scratch)
        added, changed, removed, unchanged = _apply(scratch, records, source)
        scratch.replace(path)
    finally:
        scratch.unlink(missing_ok=True)
    return UpdateStats(added, changed, removed, unchanged, rebuilt=True)
