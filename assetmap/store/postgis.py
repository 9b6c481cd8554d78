"""The server store: PostgreSQL + PostGIS, for several app processes sharing one database.

Only what differs from SQLite lives here: connections, the placeholder style, and spatial
candidates found with GiST indexes: a planar lon/lat box for a radius, ``<->`` KNN ordering
on the geography column for the nearest. Distances are then measured exactly as on SQLite.
"""

from __future__ import annotations

import os
import re
import select
import threading
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import psycopg
from psycopg.conninfo import conninfo_to_dict

from assetmap.domain.asset import Asset
from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.domain.geodesy import bbox_around, distances_m
from assetmap.store.base import (
    MAX_RADIUS_M,
    Candidates,
    NearbyHit,
    StoreUnavailable,
    check_radius,
    circle_clause,
)
from assetmap.store.jobs import JobsSql
from assetmap.store.threads import ThreadConnection

# Seconds to wait for the database to answer a new connection: under gunicorn's 30 s.
CONNECT_TIMEOUT_S = 10
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Any constant works; it only has to be the same in every process sharing the database.
_MIGRATION_LOCK = 0x61737365746D6170
# Write transactions take the advisory lock (this, the schema's hash) first; see _begin.
_WRITE_LOCK = 0x616D7772
# How long a write waits for another write transaction to finish before giving up with
# StoreUnavailable: as on SQLite (sqlite.BUSY_TIMEOUT_MS), well under gunicorn's 30 s.
BUSY_TIMEOUT_MS = 10_000
# KNN on geography orders by distance on a sphere; over short distances the WGS84 geodesic
# differs from it by at most about 0.56 % (local radii of curvature 6,335-6,400 km against
# the 6,371 km sphere). Bounds that must hold for every unfetched row use 1 %.
_SPHERE_GAP = 0.01
# Each asset's point as planar lon/lat geometry: the expression the assets_point index
# (migration 11) is built on, spelt the same so that the planner uses it.
_POINT_SQL = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"


def _one_line(err: Exception) -> str:
    """The message libpq gave, on one line, without psycopg's "connection failed:" prefix."""
    text = " ".join(str(err).split())
    return text.removeprefix("connection failed: ")


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does, so that the advice after it reads as another."""
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _describe_database(conninfo: str) -> str:
    """Which database a connection string names, for messages: never its password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(an unreadable URL)"
    where = parts.get("host") or "the local socket"
    if parts.get("port"):
        where = f"{where}:{parts['port']}"
    user = f" as {parts['user']}" if parts.get("user") else ""
    return f"'{parts.get('dbname') or parts.get('user') or '?'}' on {where}{user}"


def _closed_by_server(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server has ended this idle connection (a restart, a failover).

    An idle connection is sent nothing unless the server is ending it, so a readable socket
    means it is gone; libpq only finds out when the next query fails. Checking costs one
    poll(2) and saves the first request of every worker after a restart from a 503. Inside a
    transaction nothing is checked: a connection lost there must fail, not be replaced.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def split_schema(url: str) -> tuple[str, str | None]:
    """Take an optional ``?schema=name`` off a postgresql:// URL (tests use one per test)."""
    base, _, query = url.partition("?")
    schema = next((v for k, v in parse_qsl(query) if k == "schema"), None)
    if schema is not None and not _SCHEMA.match(schema):
        raise ValidationError(f"schema '{schema}' is not a plain identifier", field="database_url")
    # Cut the text, not a parsed URL: urlunparse drops the empty host of postgresql:///db (the
    # local socket), which libpq then cannot read.
    rest = "&".join(p for p in query.split("&") if p and p.partition("=")[0] != "schema")
    return f"{base}?{rest}" if rest else base, schema


class PostGISStore(JobsSql):
    """Store backed by PostgreSQL + PostGIS; a connection per thread."""

    migrations_package = "assetmap.store.migrations.postgis"
    # OperationalError is libpq's "the server went away" family (closed connection, admin
    # shutdown, too many connections, timeouts), none of them the request's fault.
    unavailable_errors = (*JobsSql.unavailable_errors, psycopg.OperationalError)

    def __init__(self, url: str, *, named_by: str = "--db (or ASSETMAP_DATABASE_URL)") -> None:
        super().__init__(url)
        self.conninfo, self.schema = split_schema(url)
        # Where the URL came from, for the advice in errors (migrate-store: --from or --to).
        self.named_by = named_by
        self._local = threading.local()
        # Weak: a thread's ThreadConnection lives in its locals and closes with it.
        self._all: weakref.WeakSet[ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and _closed_by_server(conn):
            conn.close()
        if conn is None or conn.closed:
            try:
                # autocommit: transactions are opened explicitly by transaction(), as on SQLite.
                conn = psycopg.connect(self.conninfo, autocommit=True, **self._timeout())
            except psycopg.ProgrammingError as err:  # libpq could not read the URL
                raise ValidationError(
                    f"the database URL is not one PostgreSQL can read: {_one_line(err)}",
                    field="database_url",
                ) from None
            except psycopg.OperationalError as err:
                # Down, unreachable, refused: the operator needs libpq's reason, not a traceback.
                raise StoreUnavailable(
                    f"cannot connect to the PostgreSQL database"
                    f" {_describe_database(self.conninfo)}: {_sentence(_one_line(err))} Check"
                    f" {self.named_by}, and that the server is running and lets this user in."
                ) from None
            # Every store query is short and index-driven, but a KNN scan with a LIMIT can carry
            # a huge planner cost (the cost of the whole scan), which makes PostgreSQL spend
            # hundreds of milliseconds compiling it with JIT for a query that takes one.
            conn.execute("SET jit = off")
            if self.schema:
                try:
                    self._use_schema(conn, self.schema)
                except BaseException:
                    conn.close()  # not kept for the thread, so not closed with it
                    raise
            self._local.conn = conn
            self._local.closer = closer = ThreadConnection(conn)
            with self._lock:
                self._all.add(closer)
        return conn

    def _use_schema(self, conn: psycopg.Connection[Any], schema: str) -> None:
        """Put the URL's ``?schema=`` first on the search path, creating it if missing.

        A role that may not create it got psycopg's traceback; now it is told who may, as
        for the store's other set-up problems. One that may not use it was let through, and
        PostgreSQL then skips the schema on the search path: tables were looked for, or
        created, in ``public`` instead.
        """
        found = conn.execute(
            "SELECT pg_get_userbyid(nspowner), has_schema_privilege(oid, 'USAGE')"
            " FROM pg_namespace WHERE nspname = %s",
            (schema,),
        ).fetchone()
        if found is not None and found[1]:
            conn.execute(f'SET search_path TO "{schema}", public')
            return
        [(user,)] = conn.execute("SELECT current_user").fetchall()
        dbname = conn.info.dbname
        where = f"named in {self.named_by}, in the database {_describe_database(self.conninfo)}"
        if found is None:
            # Created only when missing: CREATE needs a right a read-write role may lack.
            try:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            except psycopg.errors.InsufficientPrivilege as err:
                raise AssetmapError(
                    f"the user '{user}' may not create the schema '{schema}' {where}"
                    f" ({err.diag.message_primary or _one_line(err)}): as a superuser, run"
                    f' psql -d {dbname} -c \'CREATE SCHEMA "{schema}" AUTHORIZATION "{user}"\','
                    f" or as the database's owner grant the right to create schemas (GRANT"
                    f' CREATE ON DATABASE "{dbname}" TO "{user}"), then run assetmap init again'
                ) from None
        else:
            raise AssetmapError(
                f"the user '{user}' may not use the schema '{schema}' {where} (it has no"
                f" USAGE right on it): as '{found[0]}', who owns it, run psql -d {dbname} -c"
                f' \'GRANT USAGE ON SCHEMA "{schema}" TO "{user}"\', then try again'
            )
        conn.execute(f'SET search_path TO "{schema}", public')

    def _timeout(self) -> dict[str, Any]:
        """A connect_timeout unless the URL or PGCONNECT_TIMEOUT gives one.

        libpq waits for ever by default, so a database host gone from the network (packets
        dropped, not refused) held each request until gunicorn killed its worker (30 s), and
        the reverse proxy answered 502; now the request gets the app's 503 first.
        """
        if "PGCONNECT_TIMEOUT" in os.environ or "connect_timeout" in self.conninfo:
            return {}
        return {"connect_timeout": CONNECT_TIMEOUT_S}

    _STATE_FIELD_SQL = "(state::json ->> '{key}')"
    # The database's own collation may ignore case or punctuation; "C" compares bytes, which
    # for UTF-8 is code point order, as Python sorts.
    _ID_ORDER_SQL = 'id COLLATE "C"'

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _begin(self, conn: psycopg.Connection[Any]) -> None:
        """Start a write transaction holding the store's write lock, as SQLite's do.

        A plain BEGIN let two transactions interleave a check and the write it guards: two
        tabs sending the same suggestion at once each found no earlier one and both stored
        theirs. Writes are short and few beside reads, which take no lock. One lock per
        schema, so that stores sharing a database in their own schemas do not wait on each
        other.
        """
        conn.execute("BEGIN")
        try:
            conn.execute(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_WRITE_LOCK, self.schema or "")
            )
        except psycopg.errors.LockNotAvailable:
            conn.rollback()
            raise StoreUnavailable(
                f"the database {_describe_database(self.conninfo)} is busy with another change"
                f" (waited {BUSY_TIMEOUT_MS / 1000:g} s for it to finish); nothing was written:"
                " try again when it has finished"
            ) from None
        except BaseException:
            conn.rollback()
            raise

    def _begin_snapshot(self, conn: psycopg.Connection[Any]) -> None:
        # REPEATABLE READ: every statement sees the snapshot taken at the first one.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SELECT 1").fetchone()

    def _executemany(
        self, conn: psycopg.Connection[Any], sql: str, rows: Sequence[Sequence[Any]]
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    def _after_bulk_load(self, conn: psycopg.Connection[Any]) -> None:
        # Rows arrived with their keys; move each sequence past the largest one.
        for table in (
            "assets",
            "revisions",
            "import_runs",
            "import_sources",
            "users",
            "login_attempts",
            "submissions",
            "submission_events",
            "jobs",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'),"
                f" COALESCE((SELECT MAX(pk) FROM {table}), 0) + 1, false)"
            )

    def _has_migrations_table(self, conn: psycopg.Connection[Any]) -> bool:
        # to_regclass looks along the search path: this store's schema first.
        [(found,)] = conn.execute("SELECT to_regclass('schema_migrations')").fetchall()
        return found is not None

    def _applied_versions(self, conn: psycopg.Connection[Any]) -> set[int]:
        return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}

    def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations; an advisory lock stops two processes racing to do it."""
        conn = self._conn()
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            self._check_postgis(conn)
            return super().migrate(target)
        except psycopg.errors.InsufficientPrivilege as err:
            raise self._no_rights(conn, err.diag.message_primary or str(err)) from None
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))

    def _no_rights(self, conn: psycopg.Connection[Any], reason: str) -> AssetmapError:
        """Say who may change the schema, when this connection's role may not.

        A new database: PostgreSQL 15 lets only its owner create tables in its public
        schema. An existing store being upgraded: its tables' owner runs ``init`` (the
        README's least-privilege set-up runs the app as a role that may only read and
        write); handing the app's role the database would undo that.
        """
        [(user,)] = conn.execute("SELECT current_user").fetchall()
        where = _describe_database(self.conninfo)
        if self._has_migrations_table(conn):
            [(owner,)] = conn.execute(
                "SELECT pg_get_userbyid(relowner) FROM pg_class"
                " WHERE oid = to_regclass('schema_migrations')"
            ).fetchall()
            version = max(self._applied_versions(conn), default=0)
            latest = max(number for number, _ in self._migration_files())
            return AssetmapError(
                f"the store in the database {where} has schema version {version} and this"
                f" Assetmap needs {latest}, but the user '{user}' may not upgrade it"
                f" ({reason}): run assetmap init as '{owner}', who owns its tables, then"
                " start the app again; nothing was changed"
            )
        dbname = conn.info.dbname
        if self.schema:
            # Owning the database, the advice below, gives no right in another's schema.
            [(owner,)] = conn.execute(
                "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
                (self.schema,),
            ).fetchall()
            return AssetmapError(
                f"the user '{user}' may not create Assetmap's tables in the schema"
                f" '{self.schema}' of the database {where} ({reason}): run assetmap init as"
                f" '{owner}', who owns the schema, or have them run psql -d {dbname} -c"
                f' \'GRANT CREATE ON SCHEMA "{self.schema}" TO "{user}"\', then run assetmap'
                " init again"
            )
        return AssetmapError(
            f"the user '{user}' may not create Assetmap's tables in the database {where}"
            f' ({reason}): as a superuser, run ALTER DATABASE "{dbname}" OWNER TO "{user}"'
            f" (or create it with createdb -O {user}), then run assetmap init again"
        )

    def _check_postgis(self, conn: psycopg.Connection[Any]) -> None:
        """Refuse, saying what to do, a database without the PostGIS extension."""
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            return
        where = _describe_database(self.conninfo)
        create = f'as a superuser, run psql -d {conn.info.dbname} -c "CREATE EXTENSION postgis"'
        offered = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
        if offered:
            raise AssetmapError(
                f"the database {where} does not have PostGIS: {create}, then assetmap init again"
            )
        raise AssetmapError(
            f"the PostgreSQL server of the database {where} has no PostGIS installed: install"
            " PostGIS 3 there (Debian: apt install postgresql-15-postgis-3, for PostgreSQL 15),"
            f" then {create}, then assetmap init again"
        )

    def cluster(self) -> int:
        """``CLUSTER`` the assets on their planar GiST index, then ``ANALYZE``; keys are kept.

        That index is built sorted along a space-filling curve, so nearby assets end up in
        the same heap pages: a 1,600 m box in central London (1,376 rows of a million)
        touched 993 heap pages clustered on the geography index, 676 clustered on this one.
        """
        with self.transaction() as conn:
            conn.execute("CLUSTER assets USING assets_point")
            (count,) = conn.execute("SELECT count(*) FROM assets").fetchone()
        # Outside the transaction, so the statistics are those of the committed table.
        self._conn().execute("ANALYZE assets")
        return int(count)

    def _index_point(self, conn: psycopg.Connection[Any], pk: int, asset: Asset, new: bool) -> None:
        """Nothing to do: ``geog`` is a generated column."""

    def _index_since(self, conn: psycopg.Connection[Any], last_pk: int) -> None:
        """Nothing to do: ``geog`` is a generated column."""

    def _candidates(
        self,
        conn: psycopg.Connection[Any],
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
        words: Sequence[str] = (),
    ) -> Candidates:
        where, params = self._filters(status, categories)
        text, text_params = self._words_clause(conn, words, "strpos", "search_text")
        extra = where.replace(" WHERE ", " AND ", 1) + text
        box = bbox_around(lon, lat, radius_m)
        # The lon/lat box on the planar index (migration 11), then the cheap circle test;
        # the exact geodesic cut is ours. ST_DWithin on geography tested a geocentric box
        # holding about 2.7 times the circle's rows and measured each, several times slower.
        # A planar box does not wrap at the antimeridian, as geography does; assets lie in
        # the UK (domain.asset checks), far from it, as SQLite's grid also assumes.
        circle, circle_params = circle_clause("", lon, lat, radius_m, box)
        sql = self._sql(
            f"SELECT pk, lon, lat, {self._verified_column(conn)} FROM assets"
            f" WHERE {_POINT_SQL} && ST_MakeEnvelope(?, ?, ?, ?, 4326){extra}{circle}"
        )
        rows = conn.execute(sql, (*box, *params, *text_params, *circle_params)).fetchall()
        return Candidates.from_rows(rows)

    def _keys_clause(self, keys: list[int]) -> tuple[str, Sequence[Any]]:
        # One array parameter: the same statement text for any number of keys, so psycopg
        # parses and the server plans it once instead of once per distinct count.
        return "pk = ANY(?)", [keys]

    def nearby(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        categories: Sequence[str] | None = None,
        status: str | None = "published",
        limit: int | None = None,
    ) -> list[NearbyHit]:
        """Assets within radius_m (geodesic, WGS84) of (lon, lat), nearest first.

        With a ``limit``, one KNN query walks the GiST index outwards and returns only the
        nearest rows, with the columns needed to rank them, and only the ``limit`` kept are
        decoded. The index orders by sphere distance, so a few spare rows are fetched and the
        answer is checked to be complete: every row not fetched lies at least
        ``(1 - _SPHERE_GAP)`` times the last fetched sphere distance away, so when the
        ``limit``-th exact distance is below that bound nothing missed can beat it. If it is
        not (rare: many rows at nearly equal distances), the general path answers instead.
        Results are identical to :meth:`SqlStore.nearby`; see it for parameters.
        """
        if limit is None or limit <= 0:
            return super().nearby(
                lon, lat, radius_m, categories=categories, status=status, limit=limit
            )
        check_radius(radius_m)
        where, params = self._filters(status, categories)
        extra = where.replace(" WHERE ", " AND ", 1)
        fetch = limit + limit // 4 + 10
        point = "ST_SetSRID(ST_MakePoint(?, ?), 4326)::geography"
        sql = self._sql(
            f"SELECT lon, lat, name_norm, id, state, geog <-> {point} FROM assets"
            f" WHERE ST_DWithin(geog, {point}, ?){extra} ORDER BY geog <-> {point} LIMIT ?"
        )
        conn = self._conn()
        rows = conn.execute(
            sql, (lon, lat, lon, lat, radius_m + 0.5, *params, lon, lat, fetch)
        ).fetchall()
        if not rows:
            return []
        dist = distances_m(lon, lat, [r[0] for r in rows], [r[1] for r in rows])
        # (distance, name, id, row) is the contract's order; names are stored normalised.
        ranked = sorted(
            (float(d), r[2], r[3], i)
            for i, (r, d) in enumerate(zip(rows, dist, strict=True))
            if d <= radius_m
        )[:limit]
        if len(rows) == fetch:
            reach = ranked[-1][0] if len(ranked) == limit else radius_m
            if reach >= float(rows[-1][5]) * (1 - _SPHERE_GAP):
                return super().nearby(
                    lon, lat, radius_m, categories=categories, status=status, limit=limit
                )
        return [NearbyHit(Asset.from_stored_json(rows[i][4]), d) for d, _, _, i in ranked]

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        k: int = 1,
        categories: Sequence[str] | None = None,
        status: str | None = "published",
        max_radius_m: float = MAX_RADIUS_M,
    ) -> list[NearbyHit]:
        """The k nearest assets, by the GiST index's KNN ordering, measured exactly."""
        where, params = self._filters(status, categories)
        extra = where.replace(" WHERE ", " AND ", 1)
        conn = self._conn()
        # KNN on geography orders by sphere distance; fetch a few spare so the exact
        # (ellipsoidal) ranking cannot miss one that the sphere put just behind.
        sql = self._sql(
            f"SELECT pk, lon, lat, {self._verified_column(conn)} FROM assets"
            " WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint(?, ?), 4326)::geography, ?)"
            f"{extra} ORDER BY geog <-> ST_SetSRID(ST_MakePoint(?, ?), 4326)::geography LIMIT ?"
        )
        rows = conn.execute(
            sql, (lon, lat, max_radius_m + 0.5, *params, lon, lat, k * 2 + 8)
        ).fetchall()
        return self._rank(conn, lon, lat, max_radius_m, Candidates.from_rows(rows), k)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for closer in list(self._all):
                closer.close()
            self._all.clear()
        self._local = threading.local()
