"""The per-file facts cache: SQLite, keyed by content hash + analyzer name + analyzer version.

Safe when several scans run at once (WAL, busy timeout, idempotent inserts). Values are
zlib-compressed JSON from `chainwarden.codec`, never pickles: a poisoned cache must not be
able to run code. A corrupt cache file is moved aside and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    sha256 TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    version TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sha256, analyzer, version)
) WITHOUT ROWID;
"""
_SCHEMA_VERSION = 1
_BUSY_RETRIES = 8


class FactsCache:
    """A facts store. `FactsCache(None)` is a cache that remembers nothing (`--no-cache`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = self._open(path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            FactsCache._prepare(db)
        except BaseException:
            db.close()  # never leave a half-set-up connection behind
            raise
        return db

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION):
            msg = f"unknown cache schema {version}"
            raise sqlite3.DatabaseError(msg)
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        db.execute("SELECT count(*) FROM facts LIMIT 1").fetchone()

    def _open(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(_BUSY_RETRIES):
            try:
                return self._connect(path)
            except sqlite3.OperationalError:
                # Busy or locked (another scan is setting the same cache up): wait, never discard it.
                if attempt == _BUSY_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
            except sqlite3.DatabaseError:
                break
        # Corrupt or foreign file: keep it for inspection, start afresh.
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        with contextlib.suppress(OSError):
            path.rename(aside)
        return self._connect(path)

    def get_many(self, analyzer: str, version: str, hashes: Iterable[str]) -> dict[str, str]:
        """JSON texts of the cached facts for those hashes that are cached."""
        if self._db is None:
            return {}
        wanted = list(dict.fromkeys(hashes))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT sha256, data FROM facts WHERE analyzer=? AND version=? AND sha256 IN ({marks})",  # noqa: S608 - only placeholders are interpolated
                (analyzer, version, *chunk),
            ).fetchall()
            for sha, blob in rows:
                try:
                    out[sha] = zlib.decompress(blob).decode("utf-8")
                except (zlib.error, UnicodeDecodeError):
                    continue  # a damaged row is a cache miss
        return out

    def put_many(self, analyzer: str, version: str, items: Mapping[str, str]) -> None:
        if self._db is None or not items:
            return
        rows = [(sha, analyzer, version, zlib.compress(text.encode("utf-8"), 3)) for sha, text in items.items()]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except sqlite3.OperationalError:
            # Locked for longer than the timeout or disk full: the scan is still correct, only slower next time.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
