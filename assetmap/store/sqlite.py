"""The embedded store: one SQLite file, no server.

Durability settings: WAL so readers never block the writer, ``synchronous=FULL`` so a
committed transaction survives power loss, and ``BEGIN IMMEDIATE`` so a write takes the lock
up front (a busy database waits ``busy_timeout`` instead of failing half-way).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from assetmap.domain.errors import ValidationError
from assetmap.domain.geodesy import bbox_around
from assetmap.store.submissions import SubmissionsSql

BUSY_TIMEOUT_MS = 30_000


def sqlite_path(url: str) -> str:
    """The file path in a ``sqlite:///relative`` or ``sqlite:////absolute`` URL (or ':memory:')."""
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        raise ValidationError(f"'{url}' is not a sqlite:/// URL", field="database_url")
    path = unquote(parsed.path)
    if path in {"", "/"}:
        raise ValidationError(f"'{url}' names no database file", field="database_url")
    # sqlite:///rel.db -> path '/rel.db' (relative); sqlite:////abs.db -> '//abs.db' (absolute).
    return path[1:] if path.startswith("/") else path


class SQLiteStore(SubmissionsSql):
    """Store backed by one SQLite database file; a connection per thread."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = sqlite_path(url)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN ourselves, so Python never opens a
            # transaction behind our back.
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _run_script(self, conn: sqlite3.Connection, sql: str) -> None:
        # executescript would COMMIT first; run statement by statement inside our transaction.
        buf = ""
        for line in sql.splitlines(keepends=True):
            buf += line
            if sqlite3.complete_statement(buf):
                conn.execute(buf)
                buf = ""

    def _after_bulk_load(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO asset_rtree (pk, min_lon, max_lon, min_lat, max_lat)"
            " SELECT pk, lon, lon, lat, lat FROM assets"
        )

    def _applied_versions(self, conn: sqlite3.Connection) -> set[int]:
        return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}

    def _index_point(
        self, conn: sqlite3.Connection, pk: int, lon: float, lat: float, new: bool
    ) -> None:
        verb = "INSERT INTO" if new else "REPLACE INTO"
        conn.execute(
            f"{verb} asset_rtree (pk, min_lon, max_lon, min_lat, max_lat) VALUES (?, ?, ?, ?, ?)",
            (pk, lon, lon, lat, lat),
        )

    def _candidates(
        self,
        conn: sqlite3.Connection,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
    ) -> list[tuple[int, float, float]]:
        min_lon, min_lat, max_lon, max_lat = bbox_around(lon, lat, radius_m)
        where, params = self._filters(status, categories, prefix="a.")
        extra = where.replace(" WHERE ", " AND ", 1)
        sql = (
            "SELECT a.pk, a.lon, a.lat FROM asset_rtree r JOIN assets a ON a.pk = r.pk"
            " WHERE r.min_lon <= ? AND r.max_lon >= ? AND r.min_lat <= ? AND r.max_lat >= ?"
            f"{extra}"
        )
        rows: list[Any] = conn.execute(
            sql, (max_lon, min_lon, max_lat, min_lat, *params)
        ).fetchall()
        return rows

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
