"""The embedded store: one SQLite file, no server.

Durability settings: WAL so readers never block the writer, ``synchronous=FULL`` so a
committed transaction survives power loss, and ``BEGIN IMMEDIATE`` so a write takes the lock
up front (a busy database waits ``busy_timeout`` instead of failing half-way).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from assetmap.domain.asset import Asset, verified_day
from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.domain.geodesy import bbox_around
from assetmap.store.base import (
    VERIFIED_DAY_VERSION,
    Candidates,
    StoreUnavailable,
    circle_clause,
)
from assetmap.store.cells import CELL_SQL, cell_of, cell_ranges
from assetmap.store.jobs import JobsSql
from assetmap.store.point_grid import PointGrid
from assetmap.store.threads import ThreadConnection

# How long a write waits for another connection's write to finish before giving up with
# StoreUnavailable: well under gunicorn's 30 s worker timeout, so that a request queued behind
# a long import is answered "try again shortly" (503) instead of its worker being killed.
BUSY_TIMEOUT_MS = 10_000
# SQLite caps this at its compile-time limit (2 GiB in common builds); mapped pages are the
# operating system's file cache, shared between workers, not extra memory per process.
MMAP_BYTES = 1 << 32
# A limited search on the points in memory first looks this far (see _first_reach_m).
GRID_FIRST_REACH_M = 1_600.0
# SQLITE_BUSY and SQLITE_LOCKED: primary codes, the low byte of an extended one.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_CELL_COLUMNS = ("cell", "pk", "lon", "lat", "status", "category", "verified_day")


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


class SQLiteStore(JobsSql):
    """Store backed by one SQLite database file; a connection per thread."""

    def __init__(self, url: str, *, points_in_memory: bool = True) -> None:
        super().__init__(url)
        self.path = sqlite_path(url)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Weak: a thread's ThreadConnection lives in its locals and closes with it.
        self._all: weakref.WeakSet[ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        # Which optional tables the database has (see _has_table); cleared by migrate.
        self._tables: dict[str, bool] = {}
        self._grid = PointGrid() if points_in_memory else None

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
            # Reads through a memory map instead of one read() call per page: a nearby
            # search fetches each hit's row from a different page of a large file.
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self._local.conn = conn
            self._local.closer = closer = ThreadConnection(conn)
            with self._lock:
                self._all.add(closer)
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            # Another connection (an import, cluster, a second app) kept the write lock past
            # the busy timeout. Nothing has been written yet: say so, and when to retry.
            if err.sqlite_errorcode & 0xFF not in _BUSY_CODES:
                raise
            raise StoreUnavailable(
                f"{self.path} is busy with another change (waited"
                f" {BUSY_TIMEOUT_MS / 1000:g} s for it to finish); nothing was written:"
                " try again when it has finished"
            ) from err

    def _begin_snapshot(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN")
        # In WAL mode a read transaction fixes its snapshot at its first read: take it now.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def _run_script(self, conn: sqlite3.Connection, sql: str) -> None:
        # executescript would COMMIT first; run statement by statement inside our transaction.
        buf = ""
        for line in sql.splitlines(keepends=True):
            buf += line
            if sqlite3.complete_statement(buf):
                conn.execute(buf)
                buf = ""

    def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations (see :meth:`SqlStore.migrate`)."""
        try:
            return super().migrate(target)
        finally:
            self._tables = {}

    def _has_table(self, conn: sqlite3.Connection, name: str) -> bool:
        if name not in self._tables:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
            self._tables[name] = found is not None
        return self._tables[name]

    def _has_cells(self, conn: sqlite3.Connection) -> bool:
        """Whether the database has asset_cells (migration 0006).

        A store opened with ``migrate=False`` (or stopped at an older target) may not; it then
        searches with the R*Tree alone. Both are kept up to date whenever they exist.
        """
        return self._has_table(conn, "asset_cells")

    def _has_log(self, conn: sqlite3.Connection) -> bool:
        """Whether asset_cells changes are logged (migration 0010), so the grid can be kept."""
        return self._has_table(conn, "cell_changes")

    def _usable_grid(self, conn: sqlite3.Connection) -> PointGrid | None:
        """The points in memory, if a search on ``conn`` may take its candidates from them.

        Not inside a transaction: the grid could take in a change that is then rolled back.
        """
        if self._has_cells(conn) and self._has_log(conn) and not conn.in_transaction:
            return self._grid
        return None

    def warm(self) -> None:
        """Load the points into memory, and map the assets' pages, before any search.

        The points take 2–4 s and about 60 MB per million assets; the pages, 0.15 s, into
        this thread's connection. SQLite reads the file through a memory map (MMAP_BYTES),
        and a page of it costs a page fault the first time this process touches it: four
        or five per search of a million assets, about a tenth of the search's time, until
        every page has been read once. Counting the rows walks every page of the table, so
        searches never meet those faults. The pages are the operating system's file cache,
        shared by every worker: they count in each worker's resident size, not in its own
        memory.
        """
        conn = self._conn()
        if (grid := self._usable_grid(conn)) is not None:
            grid.refresh(conn)
        if self._has_table(conn, "assets"):  # none before `assetmap init`
            # NOT INDEXED: the table's own pages, not those of its smallest index.
            conn.execute("SELECT count(*) FROM assets NOT INDEXED").fetchone()

    def _first_reach_m(self, conn: sqlite3.Connection) -> float:
        # From memory a wider circle costs little more; a second pass costs a whole one.
        if self._usable_grid(conn) is not None:
            return GRID_FIRST_REACH_M
        return super()._first_reach_m(conn)

    def _cell_columns(self, conn: sqlite3.Connection) -> tuple[str, ...]:
        """The asset_cells columns this database has: verified_day came with migration 9."""
        if "verified_day" in self._row_names(conn):
            return _CELL_COLUMNS
        return _CELL_COLUMNS[:-1]

    def _fill(self, conn: sqlite3.Connection, number: int) -> None:
        super()._fill(conn, number)
        if number == VERIFIED_DAY_VERSION:
            conn.execute(
                "UPDATE asset_cells SET verified_day ="
                " (SELECT a.verified_day FROM assets a WHERE a.pk = asset_cells.pk)"
            )

    def _after_bulk_load(self, conn: sqlite3.Connection) -> None:
        self._index_since(conn, 0)

    def _index_since(self, conn: sqlite3.Connection, last_pk: int) -> None:
        # Inside the write transaction nobody else inserts, so the new rows are exactly these.
        conn.execute(
            "INSERT INTO asset_rtree (pk, min_lon, max_lon, min_lat, max_lat)"
            " SELECT pk, lon, lon, lat, lat FROM assets WHERE pk > ?",
            (last_pk,),
        )
        if self._has_cells(conn):
            columns = self._cell_columns(conn)
            conn.execute(
                f"INSERT INTO asset_cells ({', '.join(columns)})"
                f" SELECT {CELL_SQL}, {', '.join(columns[1:])} FROM assets WHERE pk > ?",
                (last_pk,),
            )

    def _has_migrations_table(self, conn: sqlite3.Connection) -> bool:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        return found is not None

    def _applied_versions(self, conn: sqlite3.Connection) -> set[int]:
        return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}

    def _index_point(self, conn: sqlite3.Connection, pk: int, asset: Asset, new: bool) -> None:
        verb = "INSERT INTO" if new else "REPLACE INTO"
        lon, lat = asset.lon, asset.lat
        conn.execute(
            f"{verb} asset_rtree (pk, min_lon, max_lon, min_lat, max_lat) VALUES (?, ?, ?, ?, ?)",
            (pk, lon, lon, lat, lat),
        )
        if self._has_cells(conn):
            columns = self._cell_columns(conn)
            day = verified_day(asset.last_verified)
            values = (cell_of(lon, lat), pk, lon, lat, asset.status, asset.category, day)
            # REPLACE removes the asset's old row through the unique index on pk.
            conn.execute(
                f"{verb} asset_cells ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                values[: len(columns)],
            )

    def cluster(self) -> int:
        """Renumber the assets' keys in grid-cell order, then rewrite the file in that order.

        Every asset takes a key above any it had (the largest before, plus its place in
        (cell, key) order), so a key a search found before this finds nothing after it and
        the search tries again (:class:`AssetsRekeyed`) instead of reading another asset.
        Ids, revisions and everything else that names an asset are untouched: they use its
        id. asset_cells's triggers log both keys of each asset, so a process holding the
        points in memory drops the old ones and takes in the new.

        Rows sit in key order within the table, but the renumbered rows' pages come from
        wherever the file had room, so the file is then rewritten (:meth:`_rewrite_file`).
        Inside a caller's transaction, where SQLite cannot rewrite the file, only the keys
        change.
        """
        count = self._renumber()
        conn = self._conn()
        if not conn.in_transaction:
            self._rewrite_file(conn)
        return count

    def _rewrite_file(self, conn: sqlite3.Connection) -> None:
        """VACUUM: each table's pages together and in key order, the free pages given back.

        After renumbering, a million assets' rows were spread over the whole 3.4 GB file,
        and over a third of them lay past the 2 GiB that SQLite will map into memory
        (MMAP_BYTES), each read there a system call. Rewritten, the assets table comes
        first and whole: a nearby search's hits are next to each other and mapped. On a
        million assets (tests/benchmarks/bench_nearby.py, one store-level run before and
        one after): p50 0.60 to 0.54 ms, p99 1.19 to 0.80 ms.
        """
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as err:
            raise AssetmapError(
                f"the assets were renumbered in spatial order, but {self.path} could not be"
                f" rewritten in that order ({err}). Nothing is lost; run cluster again when"
                " no other command is using the database, with free disk space of about"
                " twice the file's size."
            ) from err
        # The rewritten pages sit in the write-ahead log until a checkpoint copies them into
        # the file, and reads from the log are not mapped; copy them now, not at some later
        # commit. Best effort: a long read elsewhere can hold part of the log back.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _renumber(self) -> int:
        """The keys in (cell, key) order, above every key used before; how many assets."""
        with self.transaction() as conn:
            (top,) = conn.execute("SELECT coalesce(max(pk), 0) FROM assets").fetchone()
            conn.execute(
                "CREATE TEMP TABLE cluster_keys (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)"
            )
            try:
                conn.execute(
                    "INSERT INTO cluster_keys (old, new)"
                    f" SELECT pk, ? + row_number() OVER (ORDER BY {CELL_SQL}, pk) FROM assets",
                    (top,),
                )
                tables = ["assets", "asset_rtree"]
                if self._has_cells(conn):
                    tables.append("asset_cells")
                for table in tables:
                    conn.execute(
                        f"UPDATE {table} SET pk ="
                        f" (SELECT new FROM cluster_keys WHERE old = {table}.pk)"
                    )
                (count,) = conn.execute("SELECT count(*) FROM cluster_keys").fetchone()
            finally:
                conn.execute("DROP TABLE temp.cluster_keys")
        return int(count)

    def _candidates(
        self,
        conn: sqlite3.Connection,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
        words: Sequence[str] = (),
    ) -> Candidates:
        box = bbox_around(lon, lat, radius_m)
        min_lon, min_lat, max_lon, max_lat = box
        text, text_params = self._words_clause(conn, words, "instr", "a.search_text")
        if not text and (grid := self._usable_grid(conn)) is not None:
            return grid.candidates(conn, lon, lat, radius_m, categories, status)
        if self._has_cells(conn) and not text:
            ranges = [bound for pair in cell_ranges(box) for bound in pair]
            if not ranges:
                return Candidates.from_rows([])
            cells = " OR ".join(["cell BETWEEN ? AND ?"] * (len(ranges) // 2))
            where, params = self._filters(status, categories)
            circle, circle_params = circle_clause("", lon, lat, radius_m, box)
            sql = (
                f"SELECT pk, lon, lat, {self._verified_column(conn)} FROM asset_cells"
                f" WHERE ({cells})"
                " AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"
                f"{where.replace(' WHERE ', ' AND ', 1)}{circle}"
            )
            # The circle's arithmetic last: the status and category tests are cheaper, and
            # with a category they leave few rows to measure.
            found = conn.execute(
                sql, (*ranges, min_lon, max_lon, min_lat, max_lat, *params, *circle_params)
            ).fetchall()
            return Candidates.from_rows(found)
        # Words, or no asset_cells yet: the R*Tree box, then each row by key, where the
        # folded text is. CROSS JOIN fixes that order; with a plain JOIN SQLite prefers the
        # (status, category) index and probes the R*Tree once per published asset, which
        # grows with the whole table, not the box.
        where, params = self._filters(status, categories, prefix="a.")
        circle, circle_params = circle_clause("a.", lon, lat, radius_m, box)
        sql = (
            f"SELECT a.pk, a.lon, a.lat, {self._verified_column(conn, 'a.')}"
            " FROM asset_rtree r CROSS JOIN assets a ON a.pk = r.pk"
            " WHERE r.min_lon <= ? AND r.max_lon >= ? AND r.min_lat <= ? AND r.max_lat >= ?"
            f"{where.replace(' WHERE ', ' AND ', 1)}{circle}{text}"
        )
        rows = conn.execute(
            sql, (max_lon, min_lon, max_lat, min_lat, *params, *circle_params, *text_params)
        ).fetchall()
        return Candidates.from_rows(rows)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for closer in list(self._all):
                closer.close()
            self._all.clear()
        self._local = threading.local()
