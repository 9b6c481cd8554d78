"""The store contract and the SQL shared by every backend.

A backend subclasses :class:`SqlStore` and overrides only what differs between databases:
connecting, starting a write transaction, keeping the spatial index in step, and finding the
candidate points near a location. Everything else (revisions, imports, reads) is written once.

Every write runs in one transaction and appends a revision; the ``assets`` table is only the
current state, rebuilt from the latest revision on every change.
"""

from __future__ import annotations

import json
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import numpy as np

from assetmap.domain.asset import Asset, changed_fields, normalise_name
from assetmap.domain.errors import Conflict, NotFound, ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.revision import Revision
from assetmap.domain.vocab import STATUSES

# Largest radius a nearby query accepts; the API and CLI check it too, this guards the store.
MAX_RADIUS_M = 50_000.0


@dataclass(frozen=True)
class NearbyHit:
    """An asset and its geodesic distance in metres from the query point."""

    asset: Asset
    distance_m: float


@dataclass
class BatchOutcome:
    """What an import batch did: ids created and updated, and how many were already current."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def utc_now() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_asset_id() -> str:
    """A new stable asset id: 'a' and 12 hex digits of a UUID4."""
    return "a" + uuid.uuid4().hex[:12]


class AssetStore(ABC):
    """The asset part of the store contract.

    Coordinates are WGS84 lon/lat degrees; distances are metres.
    """

    url: str

    @abstractmethod
    def migrate(self) -> int:
        """Bring the schema up to date; return the schema version."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def create_asset(self, asset: Asset, *, author: str, reason: str = "") -> Asset:
        """Store a new asset as revision 1 and return it with id and timestamps set."""

    @abstractmethod
    def update_asset(
        self,
        asset_id: str,
        changes: Mapping[str, Any],
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Apply field changes as a new revision; Conflict when expected_revision is stale."""

    @abstractmethod
    def set_status(
        self,
        asset_id: str,
        status: str,
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Change an asset's status as a new revision."""

    @abstractmethod
    def revert(self, asset_id: str, to_revision: int, *, author: str, reason: str = "") -> Asset:
        """Restore an earlier revision's content as a new revision."""

    @abstractmethod
    def import_batch(
        self, assets: Sequence[Asset], *, author: str, reason: str = ""
    ) -> BatchOutcome:
        """Create or update assets keyed on (source, source_id), all in one transaction."""

    @abstractmethod
    def get_asset(self, asset_id: str) -> Asset:
        """The current state of one asset; NotFound when there is none."""

    @abstractmethod
    def find_by_source(self, source: str, source_id: str) -> Asset | None:
        """The asset imported from this source row, if any."""

    @abstractmethod
    def list_assets(
        self,
        *,
        status: str | None = "published",
        categories: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Asset]:
        """Assets ordered by name then id."""

    @abstractmethod
    def count_assets(self, *, status: str | None = None, category: str | None = None) -> int:
        """How many assets match."""

    @abstractmethod
    def count_revisions(self) -> int:
        """How many revisions exist in all."""

    @abstractmethod
    def history(self, asset_id: str) -> list[Revision]:
        """Every revision of an asset, oldest first."""

    @abstractmethod
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
        """Assets within radius_m of the point, nearest first (ties by name, then id)."""

    @abstractmethod
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
        """The k nearest assets within max_radius_m, nearest first."""

    @abstractmethod
    def record_import_run(self, source: str, author: str, report: Mapping[str, Any]) -> None:
        """Keep an import run's report for audit."""

    @abstractmethod
    def import_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest import runs, newest first."""


class SqlStore(AssetStore):
    """Shared SQL implementation. SQL is written with ``?`` placeholders; see :meth:`_sql`."""

    migrations_package = "assetmap.store.migrations.sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        # Transaction nesting depth, per thread: each thread has its own connection.
        self._tx = threading.local()

    # -- backend hooks ---------------------------------------------------------------------
    @abstractmethod
    def _conn(self) -> Any:
        """The DB-API connection for the calling thread."""

    @abstractmethod
    def _begin(self, conn: Any) -> None:
        """Start a write transaction that holds the write lock from its first statement."""

    @abstractmethod
    def _index_point(self, conn: Any, pk: int, lon: float, lat: float, new: bool) -> None:
        """Keep the spatial index in step with an asset's point."""

    @abstractmethod
    def _candidates(
        self,
        conn: Any,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
    ) -> list[tuple[int, float, float]]:
        """(pk, lon, lat) of assets that may lie within radius_m: a superset, index-backed."""

    @abstractmethod
    def _applied_versions(self, conn: Any) -> set[int]:
        """Migration versions already applied (empty for a new database)."""

    def _sql(self, sql: str) -> str:
        """Adapt shared SQL to the backend's placeholder style."""
        return sql

    def _insert_pk(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        cur = conn.execute(self._sql(sql + " RETURNING pk"), params)
        return int(cur.fetchone()[0])

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction; nested calls join the outer one. Rolls back on any error."""
        conn = self._conn()
        depth = getattr(self._tx, "depth", 0)
        if depth:
            self._tx.depth = depth + 1
            try:
                yield conn
            finally:
                self._tx.depth = depth
            return
        self._begin(conn)
        self._tx.depth = 1
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            self._tx.depth = 0

    # -- migrations ------------------------------------------------------------------------
    def _migration_files(self) -> list[tuple[int, str]]:
        files = []
        for entry in resources.files(self.migrations_package).iterdir():
            if entry.name.endswith(".sql"):
                files.append((int(entry.name.split("_", 1)[0]), entry.read_text("utf-8")))
        return sorted(files)

    def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations in order, each in its own transaction.

        Parameters
        ----------
        target
            Stop after this version (tests use it to build an older database).
        """
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        version = max(self._applied_versions(self._conn()), default=0)
        for number, sql in self._migration_files():
            if number <= version or (target is not None and number > target):
                continue
            with self.transaction() as conn:
                self._run_script(conn, sql)
                conn.execute(
                    self._sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
                    (number, utc_now()),
                )
            version = number
        return version

    def _run_script(self, conn: Any, sql: str) -> None:
        conn.execute(sql)

    def _executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows (bulk copies)."""
        conn.executemany(sql, rows)

    def _after_bulk_load(self, conn: Any) -> None:
        """Bring derived structures up to date after rows were copied in with their keys."""

    # -- writes ----------------------------------------------------------------------------
    def _row_state(self, conn: Any, asset_id: str) -> tuple[int, Asset]:
        row = conn.execute(
            self._sql("SELECT pk, state FROM assets WHERE id = ?"), (asset_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no asset with id '{asset_id}'")
        return int(row[0]), Asset.from_dict(json.loads(row[1]))

    def _append_revision(
        self,
        conn: Any,
        asset: Asset,
        *,
        action: str,
        author: str,
        reason: str,
        changed: Sequence[str],
    ) -> None:
        conn.execute(
            self._sql(
                "INSERT INTO revisions (asset_id, number, action, author, reason, created_at,"
                " changed, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                asset.id,
                asset.revision,
                action,
                author,
                reason,
                asset.updated_at,
                json.dumps(list(changed)),
                json.dumps(asset.to_dict(), sort_keys=True),
            ),
        )

    @staticmethod
    def _columns(asset: Asset) -> tuple[Any, ...]:
        return (
            asset.name,
            normalise_name(asset.name),
            asset.category,
            asset.status,
            asset.lon,
            asset.lat,
            asset.source,
            asset.source_id,
            asset.revision,
            json.dumps(asset.to_dict(), sort_keys=True),
            asset.updated_at,
        )

    def _insert(self, conn: Any, asset: Asset, *, author: str, reason: str, action: str) -> Asset:
        now = utc_now()
        stored = asset.with_changes(
            id=asset.id or new_asset_id(), revision=1, created_at=now, updated_at=now
        )
        pk = self._insert_pk(
            conn,
            "INSERT INTO assets (name, name_norm, category, status, lon, lat, source, source_id,"
            " revision, state, updated_at, id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*self._columns(stored), stored.id, now),
        )
        self._index_point(conn, pk, stored.lon, stored.lat, new=True)
        changed = changed_fields({}, stored.to_dict())
        self._append_revision(
            conn, stored, action=action, author=author, reason=reason, changed=changed
        )
        return stored

    def _replace(
        self,
        conn: Any,
        pk: int,
        old: Asset,
        new: Asset,
        *,
        author: str,
        reason: str,
        action: str,
    ) -> Asset:
        changed = changed_fields(old.to_dict(), new.to_dict())
        stored = new.with_changes(
            id=old.id, revision=old.revision + 1, created_at=old.created_at, updated_at=utc_now()
        )
        conn.execute(
            self._sql(
                "UPDATE assets SET name = ?, name_norm = ?, category = ?, status = ?, lon = ?,"
                " lat = ?, source = ?, source_id = ?, revision = ?, state = ?, updated_at = ?"
                " WHERE pk = ?"
            ),
            (*self._columns(stored), pk),
        )
        if (old.lon, old.lat) != (stored.lon, stored.lat):
            self._index_point(conn, pk, stored.lon, stored.lat, new=False)
        self._append_revision(
            conn, stored, action=action, author=author, reason=reason, changed=changed
        )
        return stored

    @staticmethod
    def _check_expected(current: Asset, expected_revision: int | None) -> None:
        if expected_revision is not None and current.revision != expected_revision:
            raise Conflict(
                f"'{current.name}' changed since you opened it: you saw revision "
                f"{expected_revision}, it is now at revision {current.revision}"
            )

    def create_asset(self, asset: Asset, *, author: str, reason: str = "") -> Asset:
        """Store a new asset as revision 1 (action 'create')."""
        with self.transaction() as conn:
            return self._insert(conn, asset, author=author, reason=reason, action="create")

    def update_asset(
        self,
        asset_id: str,
        changes: Mapping[str, Any],
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Apply field changes as a new revision (action 'update')."""
        bookkeeping = {"id", "revision", "created_at", "updated_at"} & set(changes)
        if bookkeeping:
            raise ValidationError(
                f"{', '.join(sorted(bookkeeping))} cannot be changed", field=min(bookkeeping)
            )
        with self.transaction() as conn:
            pk, current = self._row_state(conn, asset_id)
            self._check_expected(current, expected_revision)
            new = current.with_changes(**changes)
            return self._replace(
                conn, pk, current, new, author=author, reason=reason, action="update"
            )

    def set_status(
        self,
        asset_id: str,
        status: str,
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Change status as a new revision (action 'status')."""
        if status not in STATUSES:
            raise ValidationError(
                f"'{status}' is not one of: {', '.join(STATUSES)}", field="status"
            )
        with self.transaction() as conn:
            pk, current = self._row_state(conn, asset_id)
            self._check_expected(current, expected_revision)
            new = current.with_changes(status=status)
            return self._replace(
                conn, pk, current, new, author=author, reason=reason, action="status"
            )

    def revert(self, asset_id: str, to_revision: int, *, author: str, reason: str = "") -> Asset:
        """Restore revision ``to_revision``'s content as a new revision (action 'revert')."""
        with self.transaction() as conn:
            pk, current = self._row_state(conn, asset_id)
            row = conn.execute(
                self._sql("SELECT state FROM revisions WHERE asset_id = ? AND number = ?"),
                (asset_id, to_revision),
            ).fetchone()
            if row is None:
                raise NotFound(f"asset '{asset_id}' has no revision {to_revision}")
            old = Asset.from_dict(json.loads(row[0]))
            why = reason or f"revert to revision {to_revision}"
            return self._replace(conn, pk, current, old, author=author, reason=why, action="revert")

    def import_batch(
        self, assets: Sequence[Asset], *, author: str, reason: str = ""
    ) -> BatchOutcome:
        """Create or update assets keyed on (source, source_id), in one transaction.

        An asset whose content equals the stored one is counted as unchanged and writes nothing,
        so re-running an import is a no-op. ``created_at``/``updated_at`` never count as change.
        """
        outcome = BatchOutcome()
        with self.transaction() as conn:
            for asset in assets:
                row = None
                if asset.source_id:
                    row = conn.execute(
                        self._sql(
                            "SELECT pk, state FROM assets WHERE source = ? AND source_id = ?"
                        ),
                        (asset.source, asset.source_id),
                    ).fetchone()
                if row is None:
                    stored = self._insert(
                        conn, asset, author=author, reason=reason, action="import"
                    )
                    outcome.created.append(stored.id)
                    continue
                current = Asset.from_dict(json.loads(row[1]))
                if not changed_fields(current.to_dict(), asset.to_dict()):
                    outcome.unchanged += 1
                    continue
                stored = self._replace(
                    conn, int(row[0]), current, asset, author=author, reason=reason, action="import"
                )
                outcome.updated.append(stored.id)
        return outcome

    def record_import_run(self, source: str, author: str, report: Mapping[str, Any]) -> None:
        """Append an import run's report (JSON) to ``import_runs``."""
        with self.transaction() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO import_runs (source, author, started_at, report)"
                    " VALUES (?, ?, ?, ?)"
                ),
                (source, author, utc_now(), json.dumps(report, sort_keys=True, default=str)),
            )

    # -- reads -----------------------------------------------------------------------------
    def import_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest import runs, newest first, each with source, author, time and report."""
        rows = (
            self._conn()
            .execute(
                self._sql(
                    "SELECT source, author, started_at, report FROM import_runs ORDER BY pk DESC"
                    " LIMIT ?"
                ),
                (limit,),
            )
            .fetchall()
        )
        return [
            {"source": r[0], "author": r[1], "started_at": r[2], "report": json.loads(r[3])}
            for r in rows
        ]

    def get_asset(self, asset_id: str) -> Asset:
        """The current state of one asset."""
        return self._row_state(self._conn(), asset_id)[1]

    def find_by_source(self, source: str, source_id: str) -> Asset | None:
        """The asset imported from (source, source_id), or None."""
        row = (
            self._conn()
            .execute(
                self._sql("SELECT state FROM assets WHERE source = ? AND source_id = ?"),
                (source, source_id),
            )
            .fetchone()
        )
        return None if row is None else Asset.from_dict(json.loads(row[0]))

    @staticmethod
    def _filters(
        status: str | None, categories: Sequence[str] | None, prefix: str = ""
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            clauses.append(f"{prefix}status = ?")
            params.append(status)
        if categories:
            clauses.append(f"{prefix}category IN ({', '.join('?' * len(categories))})")
            params.extend(categories)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def list_assets(
        self,
        *,
        status: str | None = "published",
        categories: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Asset]:
        """Assets ordered by name, then id."""
        where, params = self._filters(status, categories)
        sql = f"SELECT state FROM assets{where} ORDER BY name_norm, id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        rows = self._conn().execute(self._sql(sql), params).fetchall()
        return [Asset.from_dict(json.loads(r[0])) for r in rows]

    def count_assets(self, *, status: str | None = None, category: str | None = None) -> int:
        """How many assets have this status and category (None = any)."""
        where, params = self._filters(status, [category] if category else None)
        row = self._conn().execute(self._sql(f"SELECT COUNT(*) FROM assets{where}"), params)
        return int(row.fetchone()[0])

    def count_revisions(self) -> int:
        """How many revisions exist in all."""
        return int(self._conn().execute("SELECT COUNT(*) FROM revisions").fetchone()[0])

    def history(self, asset_id: str) -> list[Revision]:
        """Every revision of an asset, oldest first; NotFound for an unknown id."""
        rows = (
            self._conn()
            .execute(
                self._sql(
                    "SELECT number, action, author, reason, created_at, changed, state"
                    " FROM revisions WHERE asset_id = ? ORDER BY number"
                ),
                (asset_id,),
            )
            .fetchall()
        )
        if not rows:
            raise NotFound(f"no asset with id '{asset_id}'")
        return [
            Revision(
                asset_id=asset_id,
                number=int(r[0]),
                action=r[1],
                author=r[2],
                reason=r[3],
                created_at=r[4],
                changed=tuple(json.loads(r[5])),
                state=json.loads(r[6]),
            )
            for r in rows
        ]

    def _load(self, conn: Any, pks: Iterable[int]) -> dict[int, Asset]:
        pk_list = list(pks)
        if not pk_list:
            return {}
        rows = conn.execute(
            self._sql(
                f"SELECT pk, state FROM assets WHERE pk IN ({', '.join('?' * len(pk_list))})"
            ),
            pk_list,
        ).fetchall()
        return {int(r[0]): Asset.from_dict(json.loads(r[1])) for r in rows}

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

        Parameters
        ----------
        lon, lat
            Query point, WGS84 degrees.
        radius_m
            Search radius in metres, at most ``MAX_RADIUS_M``.
        categories
            Only these category ids (None or empty: all).
        status
            Only assets with this status (None: any).
        limit
            At most this many hits.

        Returns
        -------
        list of NearbyHit
            Sorted by distance, then normalised name, then id.
        """
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise ValidationError(
                f"radius {radius_m} m must be more than 0 and at most {MAX_RADIUS_M:.0f} m",
                field="radius_m",
            )
        conn = self._conn()
        cands = self._candidates(conn, lon, lat, radius_m, categories, status)
        return self._rank(conn, lon, lat, radius_m, cands, limit)

    def _rank(
        self,
        conn: Any,
        lon: float,
        lat: float,
        radius_m: float,
        cands: list[tuple[int, float, float]],
        limit: int | None,
    ) -> list[NearbyHit]:
        if not cands:
            return []
        pks = np.fromiter((c[0] for c in cands), dtype=np.int64, count=len(cands))
        lons = np.fromiter((c[1] for c in cands), dtype=np.float64, count=len(cands))
        lats = np.fromiter((c[2] for c in cands), dtype=np.float64, count=len(cands))
        dist = distances_m(lon, lat, lons, lats)
        inside = dist <= radius_m
        pks, dist = pks[inside], dist[inside]
        # Load only what can make the cut: everything up to the limit-th distance (ties included).
        order = np.argsort(dist, kind="stable")
        if limit is not None and len(order) > limit:
            cutoff = dist[order[limit - 1]] if limit > 0 else -1.0
            order = order[dist[order] <= cutoff]
        assets = self._load(conn, (int(p) for p in pks[order]))
        hits = [
            NearbyHit(assets[int(p)], float(d))
            for p, d in zip(pks[order], dist[order], strict=True)
            if int(p) in assets
        ]
        hits.sort(key=lambda h: (h.distance_m, normalise_name(h.asset.name), h.asset.id))
        return hits[:limit] if limit is not None else hits

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
        """The k nearest assets within max_radius_m, by widening an index-backed search."""
        radius = min(1_000.0, max_radius_m)
        conn = self._conn()
        while True:
            cands = self._candidates(conn, lon, lat, radius, categories, status)
            hits = self._rank(conn, lon, lat, radius, cands, k)
            if len(hits) >= k or radius >= max_radius_m:
                return hits
            radius = min(radius * 4, max_radius_m)
