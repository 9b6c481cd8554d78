"""The store contract and the SQL shared by every backend.

A backend subclasses :class:`SqlStore` and overrides only what differs between databases:
connecting, starting a write transaction, keeping the spatial index in step, and finding the
candidate points near a location. Everything else (revisions, imports, reads) is written once.

Every write runs in one transaction and appends a revision; the ``assets`` table is only the
current state, rebuilt from the latest revision on every change.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray

from assetmap.domain.asset import Asset, changed_fields, normalise_name, verified_day
from assetmap.domain.errors import AssetmapError, Conflict, NotFound, ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.revision import Revision
from assetmap.domain.submission import status_after_revert
from assetmap.domain.text import search_text
from assetmap.domain.vocab import STATUSES

# Largest radius a nearby query accepts; the API and CLI check it too, this guards the store.
MAX_RADIUS_M = 50_000.0
# Rows per executemany in create_assets: large enough to amortise round trips.
_BULK_BATCH = 2_000
# The assets columns a write sets from the asset itself (see SqlStore._columns); with pk,
# id and created_at, every column of the table.
ASSET_ROW_COLUMNS = (
    "name",
    "name_norm",
    "category",
    "status",
    "lon",
    "lat",
    "source",
    "source_id",
    "revision",
    "state",
    "updated_at",
    "search_text",
    "verified_day",
)
# Migrations whose new column is filled in Python from each stored state (see _fill): SQL
# cannot fold accents as fold_text does, nor read a date exactly as verified_day does.
_SEARCH_TEXT_VERSION = 8
VERIFIED_DAY_VERSION = 9
# What a search that keeps meeting a cluster tells its caller (an API 409).
_REKEYED_MESSAGE = (
    "the assets were renumbered (assetmap cluster) while this search ran; search again"
)
# Tries at a nearby search that keeps meeting a cluster (see AssetsRekeyed): one clustering
# takes seconds, so a second try always sees its end; a third guards against two in a row.
_REKEYED_TRIES = 3
# A hit's distance, for grouping ties.
_DISTANCE = attrgetter("distance_m")
# Keys per "pk IN (...)" when loading assets.
_LOAD_BATCH = 5_000
# A limited search first looks this far, then widens: in a town the 50 nearest lie well
# inside a mile, and the index scan grows with the area searched, not with the limit.
_FIRST_REACH_M = 400.0


class NearbyHit(NamedTuple):
    """An asset and its geodesic distance in metres from the query point.

    A named tuple, not a frozen dataclass: as immutable, and built in half the time, which
    counts when every search builds one per hit.
    """

    asset: Asset
    distance_m: float


class StoreUnavailable(AssetmapError):
    """The database cannot be used just now (down, out of reach, or held by another writer).

    A service outage (HTTP 503, "try again shortly"), not a bug: nothing was written.
    """

    status = 503


class AssetsRekeyed(Conflict):
    """Keys taken from a search no longer name assets: the store was clustered meanwhile.

    :meth:`AssetStore.cluster` gives every asset a new internal key, never one used before,
    so a key read before it finds nothing after it. Assets are never deleted, so that is the
    only way a search's key can go missing; searching again gives the right answer.
    """


_Found = TypeVar("_Found")


def searched_again_if_rekeyed(search: Callable[[], _Found]) -> _Found:
    """Run a search, and again if a cluster renumbered the keys it found (AssetsRekeyed).

    At most ``_REKEYED_TRIES`` tries; the last one's AssetsRekeyed reaches the caller.
    """
    for _ in range(_REKEYED_TRIES - 1):
        try:
            return search()
        except AssetsRekeyed:
            continue  # clustered since the keys were found: find them again
    return search()


class StoredRow(NamedTuple):
    """One asset of a :class:`NearbySet`, as stored: its position, normalised name and state."""

    position: int
    name_norm: str
    state: dict[str, Any]


class NearbySet:
    """Every asset within a radius as keys and exact distances; assets are read on demand.

    A search that ranks or counts thousands of hits (a 50 km radius in a city holds tens of
    thousands) need only read the page it shows. Positions index ``distances_m``, which is
    in ascending order.
    """

    def __init__(
        self,
        keys: NDArray[np.int64],
        distances_m: NDArray[np.float64],
        read: Callable[[list[int]], dict[int, tuple[str, dict[str, Any]]]],
        status: str | None,
        verified_days: NDArray[np.float64] | None = None,
    ) -> None:
        self._keys = keys
        self.distances_m = distances_m
        # Each asset's last_verified as a day number (domain.asset.verified_day), NaN for
        # never, by position; None when the database does not keep it (not yet migrated).
        self.verified_days = verified_days
        self._read = read
        self._status = status

    def __len__(self) -> int:
        return len(self._keys)

    def hits(self, positions: Iterable[int]) -> list[NearbyHit]:
        """The hits at these positions, in that order (see :meth:`states`)."""
        return [self.hit(row) for row in self.states(positions)]

    def hit(self, row: StoredRow) -> NearbyHit:
        """Decode one row from :meth:`states`; the row's own state is left as it was."""
        asset = Asset.from_stored(row.state)
        return NearbyHit(asset, float(self.distances_m[row.position]))

    def states(self, positions: Iterable[int]) -> list[StoredRow]:
        """The stored rows at these positions, in that order, undecoded.

        For filters and rankings that look at a few fields of many assets: building an
        :class:`Asset` costs several times more than reading its JSON. One moved out of the
        requested status since the search is left out: the set is not a snapshot, and a
        stale row must never be shown as current. A key that finds no row at all raises
        :class:`AssetsRekeyed`: the set's keys are from before a :meth:`AssetStore.cluster`.
        """
        chosen = [int(i) for i in positions]
        loaded: dict[int, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(chosen), _LOAD_BATCH):
            keys = [int(self._keys[i]) for i in chosen[start : start + _LOAD_BATCH]]
            loaded.update(self._read(keys))
        out = []
        for i in chosen:
            row = loaded.get(int(self._keys[i]))
            if row is None:
                raise AssetsRekeyed(_REKEYED_MESSAGE)
            if self._status is None or row[1]["status"] == self._status:
                out.append(StoredRow(i, row[0], row[1]))
        return out


class Candidates(NamedTuple):
    """Assets that may lie within a radius, as columns: key, WGS84 point, verified day.

    The day is :func:`verified_day`'s number, NaN for never verified and for every asset of
    a database that does not keep it.

    A search that tested each point against the circle in Python (SQLite's grid) hands on
    its distances by that test, ``circle_m``, so that a limited search need not work out
    :func:`_approx_distances_m` again; ``circle_ratio`` is :func:`circle_ratio`'s bound on
    how much smaller they can be.
    """

    pks: NDArray[np.int64]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    days: NDArray[np.float64]
    circle_m: NDArray[np.float64] | None = None
    circle_ratio: float = 1.0

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> Candidates:
        """From (pk, lon, lat, verified_day or None) rows."""
        # None becomes NaN in a float array: one conversion for every column.
        table = np.array(rows, dtype=np.float64).reshape(len(rows), 4)
        return cls(table[:, 0].astype(np.int64), table[:, 1], table[:, 2], table[:, 3])


@dataclass(frozen=True)
class AssetPoints:
    """Assets as columns: what an area-by-area analysis needs, without decoding each asset.

    Every list has one entry per asset, in id order; lon and lat are WGS84 degrees.
    """

    ids: list[str]
    names: list[str]
    categories: list[str]
    revisions: list[int]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    sources: list[str]
    licences: list[str]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class BatchOutcome:
    """What an import batch did: ids created and updated, and how many were already current."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Asset id -> fields staff corrected since its last import, kept because the source
    # had not changed them.
    kept_edits: dict[str, list[str]] = field(default_factory=dict)


def read_state(text: str) -> dict[str, Any]:
    """An asset's stored JSON state as a dict.

    orjson reads it several times faster than the standard library, which matters when a
    filtered search reads every asset within 50 km of a city centre. It refuses the NaN and
    Infinity that ``json.dumps`` can write, so such a state is read the standard way.
    """
    try:
        state: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:
        state = json.loads(text)
    return state


def _ties_by_name(hits: list[NearbyHit]) -> list[NearbyHit]:
    """Hits in distance order, with each run of equal distances put in name, then id, order.

    Names are compared normalised, as the name_norm column holds them (list_assets's order).
    """
    out: list[NearbyHit] = []
    for _, run in itertools.groupby(hits, key=_DISTANCE):
        tied = list(run)
        if len(tied) > 1:
            tied.sort(key=lambda h: (normalise_name(h.asset.name), h.asset.id))
        out.extend(tied)
    return out


def _indexed(asset: Asset) -> tuple[float, float, str, str, str | None]:
    """What a spatial index may hold about an asset besides its key."""
    return asset.lon, asset.lat, asset.status, asset.category, asset.last_verified


# WGS84, for the quick local distances below.
_WGS84_A = 6_378_137.0
_WGS84_E2 = 0.00669437999014
# Quick distances are trusted to within this fraction of the true distance plus _APPROX_SLACK_M
# (the local flat-earth approximation is within 0.01 % out to 50 km below 80 degrees latitude,
# tests/store/test_nearby_paths.py checks 0.05 %; the bound is far looser), and only used below
# _APPROX_MAX_LAT.
_APPROX_REL = 0.01
_APPROX_SLACK_M = 1.0
_APPROX_MAX_LAT = 80.0


def _approx_distances_m(
    lon: float, lat: float, lons: NDArray[np.float64], lats: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Quick distances in metres: flat earth scaled by the ellipsoid's local radii.

    Only a filter: within ``_APPROX_REL`` (relative) plus ``_APPROX_SLACK_M`` of the geodesic
    distance for points up to 50 km apart below ``_APPROX_MAX_LAT``.
    """
    phi = math.radians(lat)
    w = 1.0 - _WGS84_E2 * math.sin(phi) ** 2
    meridian_m = _WGS84_A * (1.0 - _WGS84_E2) / w**1.5  # metres per radian of latitude
    normal_m = _WGS84_A / math.sqrt(w)  # times cos(latitude): metres per radian of longitude
    dlon = (lons - lon + 180.0) % 360.0 - 180.0
    dx = np.radians(dlon) * normal_m * np.cos(np.radians((lats + lat) / 2.0))
    dy = np.radians(lats - lat) * meridian_m
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def circle_scales(
    lon: float, lat: float, radius_m: float, box: tuple[float, float, float, float]
) -> tuple[float, float, float] | None:
    """Scales for a cheap SQL test that keeps every point within radius_m of (lon, lat).

    Returns ``(kx, ky, reach)``: a point of ``box`` (min_lon, min_lat, max_lon, max_lat)
    within radius_m (geodesic) has ``((lon - x) kx)^2 + ((lat - y) ky)^2 <= reach^2``. kx and
    ky are metres per degree east and north, kx taken at the box's poleward half-way line so
    that it never exceeds the quick distance's (above), and reach is radius_m stretched by
    that distance's error bound. Drops the box's corners, about a fifth of it, before any
    row reaches Python. None where the bound is not trusted (near the poles).
    """
    edge = abs(lat) + (box[3] - box[1]) / 4.0  # farthest from the equator of (lat + y) / 2
    if edge >= _APPROX_MAX_LAT or radius_m > MAX_RADIUS_M:
        return None
    w = 1.0 - _WGS84_E2 * math.sin(math.radians(lat)) ** 2
    ky = math.radians(1.0) * _WGS84_A * (1.0 - _WGS84_E2) / w**1.5
    kx = math.radians(1.0) * _WGS84_A / math.sqrt(w) * math.cos(math.radians(edge))
    return kx, ky, radius_m * (1 + _APPROX_REL) + _APPROX_SLACK_M


def circle_ratio(lat: float, box: tuple[float, float, float, float]) -> float:
    """How much shorter than :func:`_approx_distances_m` a distance by the circle test can be.

    For a point of ``box``, ``sqrt(((lon - x) kx)^2 + ((lat - y) ky)^2)`` with
    :func:`circle_scales`'s kx and ky is at most the quick distance, and at least this many
    times it. The two share ky; kx takes the cosine at the box's poleward half-way line,
    where the quick distance takes it at the point's own mid-latitude ``(lat + y) / 2``,
    which lies within a quarter of the box's height of ``lat``.
    """
    quarter = (box[3] - box[1]) / 4.0
    edge = abs(lat) + quarter
    nearest_equator = max(abs(lat) - quarter, 0.0)
    return math.cos(math.radians(edge)) / math.cos(math.radians(nearest_equator))


def circle_clause(
    prefix: str, lon: float, lat: float, radius_m: float, box: tuple[float, float, float, float]
) -> tuple[str, tuple[float, ...]]:
    """SQL (and its parameters) keeping the box's rows that may lie within radius_m.

    ``prefix`` qualifies the lon and lat columns (``"a."``); see :func:`circle_scales`.
    """
    scales = circle_scales(lon, lat, radius_m, box)
    if scales is None:
        return "", ()
    kx, ky, reach = scales
    dx, dy = f"(({prefix}lon - ?) * ?)", f"(({prefix}lat - ?) * ?)"
    return f" AND {dx} * {dx} + {dy} * {dy} <= ?", (lon, kx, lon, kx, lat, ky, lat, ky, reach**2)


def _could_be_nearest(
    approx_m: NDArray[np.float64], k: int, stretch: float = 1.0
) -> NDArray[np.bool_]:
    """Which points may be among the k nearest, given quick distances (see above).

    The k-th exact distance is at most ``D(1 + r) + s``, where D is the k-th quick one; a point
    whose quick distance exceeds ``(D(1 + r) + 2s) / (1 - r)`` is farther than that for sure.

    ``approx_m`` may also be lower bounds on the quick distances, each at least the quick
    one over ``stretch``, such as the circle test's (see :func:`circle_ratio`): D is then at
    most ``stretch`` times their k-th, and a point's quick distance at least its own.
    """
    kth = np.partition(approx_m, k - 1)[k - 1] * stretch
    bound = (kth * (1 + _APPROX_REL) + 2 * _APPROX_SLACK_M) / (1 - _APPROX_REL)
    return np.asarray(approx_m <= bound)


def check_radius(radius_m: float) -> None:
    """Raise ValidationError unless 0 < radius_m <= MAX_RADIUS_M (metres)."""
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise ValidationError(
            f"radius {radius_m} m must be more than 0 and at most {MAX_RADIUS_M:.0f} m",
            field="radius_m",
        )


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

    def warm(self) -> None:  # noqa: B027 - optional: most backends keep nothing in memory
        """Load now whatever searches keep in memory, so no request waits for it."""

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
    def revert(
        self,
        asset_id: str,
        to_revision: int,
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Restore an earlier revision's content as a new revision.

        Never into or out of "pending" (the asset keeps its status then); a revert that would
        change nothing is refused (ValidationError).
        """

    @abstractmethod
    def import_batch(
        self, assets: Sequence[Asset], *, author: str, reason: str = ""
    ) -> BatchOutcome:
        """Create or update assets keyed on (source, source_id), all in one transaction.

        An update takes only the fields the source changed since its last import, so a
        re-import never undoes staff's corrections to the others.
        """

    @abstractmethod
    def create_assets(
        self, assets: Iterable[Asset], *, author: str, reason: str = "", action: str = "create"
    ) -> int:
        """Store many new assets, each as revision 1, in one transaction; return how many."""

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
    def asset_points(
        self, *, status: str | None = "published", categories: Sequence[str] | None = None
    ) -> AssetPoints:
        """The matching assets as columns, in id order (see :class:`AssetPoints`)."""

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
    def nearby_set(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        categories: Sequence[str] | None = None,
        status: str | None = "published",
        words: Sequence[str] = (),
    ) -> NearbySet:
        """Every asset within radius_m, as distances with assets read on demand.

        ``words`` (folded, see :func:`~assetmap.domain.text.fold_text`) narrow it to assets
        whose name and description start a word with each; the set may still hold a few
        that do not (rows written before their folded text was stored), so callers check
        :func:`~assetmap.domain.text.matches_words` on what they read.
        """

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
    def cluster(self) -> int:
        """Put the assets' rows in spatial order on disk; return how many there are.

        A nearby search then reads its hits from a few pages instead of one page each. Worth
        doing after a large import. It holds the write lock while it runs (two to three
        minutes per million assets on SQLite; on PostgreSQL, about one, reads wait too). Searches
        running meanwhile are answered correctly, searching again where they must (see
        :class:`AssetsRekeyed`).
        """

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
        self._names: tuple[str, ...] | None = None

    def _row_names(self, conn: Any) -> tuple[str, ...]:
        """The ASSET_ROW_COLUMNS this database has: always a leading part of them.

        A store opened without migrating (or stopped at an older version) may lack
        search_text (migration 8) and verified_day (9); it then writes without them,
        searches text in Python and ranks by staleness from each state it reads.
        """
        if self._names is None:
            cursor = conn.execute("SELECT * FROM assets WHERE 1 = 0")
            present = {d[0] for d in cursor.description}
            self._names = tuple(itertools.takewhile(present.__contains__, ASSET_ROW_COLUMNS))
        return self._names

    def _verified_column(self, conn: Any, prefix: str = "") -> str:
        """What a candidate query selects as its fourth column: verified_day, if kept."""
        return f"{prefix}verified_day" if "verified_day" in self._row_names(conn) else "NULL"

    def _words_clause(
        self, conn: Any, words: Sequence[str], find: str, column: str
    ) -> tuple[str, list[str]]:
        """SQL keeping rows whose search_text has every word at the start of one of its words.

        ``find`` is the backend's substring function: ``instr`` (SQLite) or ``strpos``
        (PostgreSQL); both give 0 when absent. A row not yet folded (NULL), or a database
        without the column, keeps every candidate: the search checks the words of what it
        reads in Python (:func:`~assetmap.domain.text.matches_words`), so both agree.
        """
        if not words or "search_text" not in self._row_names(conn):
            return "", []
        found = " AND ".join(f"{find}({column}, ?) > 0" for _ in words)
        return f" AND ({column} IS NULL OR ({found}))", [" " + word for word in words]

    def _insert_sql(self, conn: Any) -> str:
        """INSERT of one assets row: the ASSET_ROW_COLUMNS it has, then id and created_at."""
        names = self._row_names(conn)
        marks = ", ".join("?" * len(names))
        return self._sql(
            f"INSERT INTO assets ({', '.join(names)}, id, created_at) VALUES ({marks}, ?, ?)"
        )

    def _row_values(
        self, conn: Any, asset: Asset, state_json: str | None = None
    ) -> tuple[Any, ...]:
        """:meth:`_columns` for the columns this database has."""
        return self._columns(asset, state_json)[: len(self._row_names(conn))]

    # -- backend hooks ---------------------------------------------------------------------
    @abstractmethod
    def _conn(self) -> Any:
        """The DB-API connection for the calling thread."""

    @abstractmethod
    def _begin(self, conn: Any) -> None:
        """Start a write transaction that holds the write lock from its first statement."""

    @abstractmethod
    def _begin_snapshot(self, conn: Any) -> None:
        """Start a read-only transaction whose reads all see the database as it is now."""

    @abstractmethod
    def _index_point(self, conn: Any, pk: int, asset: Asset, new: bool) -> None:
        """Keep the spatial index in step with an asset's point, status and category."""

    @abstractmethod
    def _candidates(
        self,
        conn: Any,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
        words: Sequence[str] = (),
    ) -> Candidates:
        """Assets that may lie within radius_m: a superset, found through an index.

        With ``words``, only assets whose ``search_text`` holds each (see
        :meth:`_words_clause`), or has not been filled in yet.
        """

    @abstractmethod
    def _applied_versions(self, conn: Any) -> set[int]:
        """Migration versions already applied (empty for a new database)."""

    @abstractmethod
    def _has_migrations_table(self, conn: Any) -> bool:
        """Whether the database has its ``schema_migrations`` table yet."""

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

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Reads on this thread's connection see one moment of the database until the end.

        For reading several tables that must agree while others may be writing (migrate-store
        copies a whole store: without it, an asset added between its copy of assets and of
        revisions left a revision whose asset it had not copied). Reads only.
        """
        conn = self._conn()
        self._begin_snapshot(conn)
        try:
            yield
        finally:
            conn.rollback()

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
        # Only when it is missing: CREATE needs a right an up-to-date store's app role may
        # lack (read and write only, the schema owned by an administrator's role).
        if not self._has_migrations_table(self._conn()):
            with self.transaction() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
        version = max(self._applied_versions(self._conn()), default=0)
        self._names = None  # the columns may change below
        for number, sql in self._migration_files():
            if number <= version or (target is not None and number > target):
                continue
            with self.transaction() as conn:
                self._run_script(conn, sql)
                self._names = None
                self._fill(conn, number)
                conn.execute(
                    self._sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
                    (number, utc_now()),
                )
            version = number
        return version

    def _run_script(self, conn: Any, sql: str) -> None:
        conn.execute(sql)

    def _fill(self, conn: Any, number: int) -> None:
        """Fill in the column that migration ``number`` added, if SQL alone cannot.

        Run once, inside that migration's transaction.
        """
        if number == _SEARCH_TEXT_VERSION:
            self._fill_column(
                conn, "search_text", lambda s: search_text(s["name"], s.get("description", ""))
            )
        elif number == VERIFIED_DAY_VERSION:
            self._fill_column(conn, "verified_day", lambda s: verified_day(s.get("last_verified")))

    def _fill_column(
        self, conn: Any, column: str, value: Callable[[dict[str, Any]], object]
    ) -> None:
        """Set ``column`` of every stored asset to ``value(its stored state)``."""
        last = 0
        select = self._sql("SELECT pk, state FROM assets WHERE pk > ? ORDER BY pk LIMIT ?")
        update = self._sql(f"UPDATE assets SET {column} = ? WHERE pk = ?")
        while rows := conn.execute(select, (last, _BULK_BATCH)).fetchall():
            self._executemany(conn, update, [(value(read_state(st)), pk) for pk, st in rows])
            last = rows[-1][0]

    def _executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows (bulk copies)."""
        conn.executemany(sql, rows)

    def _after_bulk_load(self, conn: Any) -> None:
        """Bring derived structures up to date after rows were copied in with their keys."""

    def _last_asset_pk(self, conn: Any) -> int:
        """The largest asset key so far (0 for none); later inserts get larger ones."""
        return int(conn.execute("SELECT COALESCE(MAX(pk), 0) FROM assets").fetchone()[0])

    @abstractmethod
    def _index_since(self, conn: Any, last_pk: int) -> None:
        """Index the points of every asset inserted with a key above ``last_pk`` (bulk)."""

    # -- writes ----------------------------------------------------------------------------
    def _row_state(self, conn: Any, asset_id: str) -> tuple[int, Asset]:
        row = conn.execute(
            self._sql("SELECT pk, state FROM assets WHERE id = ?"), (asset_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no asset with id '{asset_id}'")
        return int(row[0]), Asset.from_dict(read_state(row[1]))

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
    def _columns(asset: Asset, state_json: str | None = None) -> tuple[Any, ...]:
        """The values of ASSET_ROW_COLUMNS for an asset."""
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
            json.dumps(asset.to_dict(), sort_keys=True) if state_json is None else state_json,
            asset.updated_at,
            search_text(asset.name, asset.description),
            verified_day(asset.last_verified),
        )

    def _insert(self, conn: Any, asset: Asset, *, author: str, reason: str, action: str) -> Asset:
        now = utc_now()
        stored = asset.with_changes(
            id=asset.id or new_asset_id(), revision=1, created_at=now, updated_at=now
        )
        pk = self._insert_pk(
            conn, self._insert_sql(conn), (*self._row_values(conn, stored), stored.id, now)
        )
        self._index_point(conn, pk, stored, new=True)
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
                f"UPDATE assets SET {', '.join(f'{n} = ?' for n in self._row_names(conn))}"
                " WHERE pk = ?"
            ),
            (*self._row_values(conn, stored), pk),
        )
        if _indexed(old) != _indexed(stored):
            self._index_point(conn, pk, stored, new=False)
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

    def revert(
        self,
        asset_id: str,
        to_revision: int,
        *,
        author: str,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Asset:
        """Restore revision ``to_revision``'s content as a new revision (action 'revert').

        Its status is restored too, except into or out of "pending", the moderation queue's
        state, which the asset keeps as it is (see
        :func:`assetmap.domain.submission.status_after_revert`): reverting a published
        resident submission to its first revision restores what the resident wrote and
        leaves it published, not hidden and in no queue.

        Raises
        ------
        Conflict
            ``expected_revision`` is given and the asset has moved on since.
        NotFound
            There is no such asset or revision.
        ValidationError
            The revert would change nothing (field ``to_revision``).
        """
        with self.transaction() as conn:
            pk, current = self._row_state(conn, asset_id)
            self._check_expected(current, expected_revision)
            row = conn.execute(
                self._sql("SELECT state FROM revisions WHERE asset_id = ? AND number = ?"),
                (asset_id, to_revision),
            ).fetchone()
            if row is None:
                raise NotFound(f"asset '{asset_id}' has no revision {to_revision}")
            old = Asset.from_dict(read_state(row[0]))
            status = status_after_revert(current.status, old.status)
            restored = old.with_changes(status=status)
            if not changed_fields(current.to_dict(), restored.to_dict()):
                raise ValidationError(
                    self._nothing_to_revert(to_revision, old, status), field="to_revision"
                )
            why = reason or f"revert to revision {to_revision}"
            return self._replace(
                conn, pk, current, restored, author=author, reason=why, action="revert"
            )

    @staticmethod
    def _nothing_to_revert(to_revision: int, old: Asset, status: str) -> str:
        if old.status == status:
            return f"Revision {to_revision} is the same as the current version."
        was, now = STATUSES.get(old.status, old.status), STATUSES.get(status, status)
        return (
            f"Revision {to_revision} differs from the current version only in its status"
            f" (“{was}”), and a revert does not move an asset into or out of"
            f" moderation: it would stay “{now}” with nothing changed."
        )

    def import_batch(
        self, assets: Sequence[Asset], *, author: str, reason: str = ""
    ) -> BatchOutcome:
        """Create or update assets keyed on (source, source_id), in one transaction.

        A stored asset takes only the fields its source changed since the import that last
        changed it (see :meth:`_from_source`): fields staff corrected since are kept unless
        the source changed them too, when the source's newer value wins (the correction stays
        in the history). So re-running an import writes nothing, and an asset whose result
        equals the stored one is counted as unchanged. ``created_at``/``updated_at`` never
        count as change.
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
                current = Asset.from_dict(read_state(row[1]))
                merged, kept = self._from_source(conn, current, asset)
                if kept:
                    outcome.kept_edits[current.id] = kept
                # ``current`` itself back: nothing to take (the usual re-run), no diff needed.
                if merged is current or not changed_fields(current.to_dict(), merged.to_dict()):
                    outcome.unchanged += 1
                    continue
                stored = self._replace(
                    conn,
                    int(row[0]),
                    current,
                    merged,
                    author=author,
                    reason=reason,
                    action="import",
                )
                outcome.updated.append(stored.id)
        return outcome

    def _from_source(self, conn: Any, current: Asset, incoming: Asset) -> tuple[Asset, list[str]]:
        """``current`` with the fields its source changed; and the corrected fields it keeps.

        The source's last word is its import_sources row (migration 12) or, for an asset no
        import has changed since that table came, its last import revision. Without either
        (an asset created otherwise, then matched by source id), the source's row is taken
        whole. The source's row is recorded whenever it changed.
        """
        new, old = incoming.to_dict(), current.to_dict()
        if not changed_fields(old, new):
            return current, []
        base = self._source_said(conn, current.id)
        if base is None:
            self._record_source(conn, current.id, new)
            return incoming, []
        from_source = changed_fields(base, new)
        kept = [n for n in changed_fields(base, old) if n not in from_source]
        if not from_source:
            return current, kept
        self._record_source(conn, current.id, new)
        return current.with_changes(**{n: getattr(incoming, n) for n in from_source}), kept

    def _source_said(self, conn: Any, asset_id: str) -> dict[str, Any] | None:
        """What the asset's source said at the import that last changed it (see above)."""
        row = conn.execute(
            self._sql("SELECT state FROM import_sources WHERE asset_id = ?"), (asset_id,)
        ).fetchone()
        if row is None:
            row = conn.execute(
                self._sql(
                    "SELECT state FROM revisions WHERE asset_id = ? AND action = 'import'"
                    " ORDER BY number DESC LIMIT 1"
                ),
                (asset_id,),
            ).fetchone()
        return None if row is None else read_state(row[0])

    def _record_source(self, conn: Any, asset_id: str, state: dict[str, Any]) -> None:
        conn.execute(
            self._sql(
                "INSERT INTO import_sources (asset_id, state, imported_at) VALUES (?, ?, ?)"
                " ON CONFLICT (asset_id) DO UPDATE"
                " SET state = excluded.state, imported_at = excluded.imported_at"
            ),
            (asset_id, json.dumps(state, sort_keys=True), utc_now()),
        )

    def create_assets(
        self, assets: Iterable[Asset], *, author: str, reason: str = "", action: str = "create"
    ) -> int:
        """Store many new assets in one transaction: the bulk form of :meth:`create_asset`.

        Each asset gets an id (unless it has one), revision 1 and a revision row with
        ``action``, exactly as ``create_asset`` would write it, but rows go to the database
        in batches instead of one statement at a time. Nothing is matched on
        (source, source_id): use :meth:`import_batch` when rows may already be stored.

        Parameters
        ----------
        assets
            Unsaved assets (any iterable; consumed in batches, so a generator keeps memory
            flat).
        author, reason
            Recorded on every revision.
        action
            ``"create"`` or ``"import"``.

        Returns
        -------
        int
            How many assets were stored.
        """
        if action not in {"create", "import"}:
            raise ValidationError(f"action '{action}' is not create or import", field="action")
        revision_sql = self._sql(
            "INSERT INTO revisions (asset_id, number, action, author, reason, created_at,"
            " changed, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        count = 0
        items = iter(assets)
        with self.transaction() as conn:
            last_pk = self._last_asset_pk(conn)
            while batch := list(itertools.islice(items, _BULK_BATCH)):
                now = utc_now()
                asset_rows, revision_rows = [], []
                for item in batch:
                    stored = item.with_changes(
                        id=item.id or new_asset_id(), revision=1, created_at=now, updated_at=now
                    )
                    state = stored.to_dict()
                    # One serialisation serves the current row and its revision: same text.
                    text = json.dumps(state, sort_keys=True)
                    asset_rows.append((*self._row_values(conn, stored, text), stored.id, now))
                    changed = json.dumps(changed_fields({}, state))
                    revision_rows.append((stored.id, 1, action, author, reason, now, changed, text))
                self._executemany(conn, self._insert_sql(conn), asset_rows)
                self._executemany(conn, revision_sql, revision_rows)
                count += len(batch)
            self._index_since(conn, last_pk)
        return count

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
        return None if row is None else Asset.from_stored_json(row[0])

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
        return [Asset.from_stored_json(r[0]) for r in rows]

    # SQL for one text field of the stored state; the key is always a constant here.
    _STATE_FIELD_SQL = "json_extract(state, '$.{key}')"
    # Ids in the order Python sorts them (code points); SQLite compares text bytewise.
    _ID_ORDER_SQL = "id"

    def asset_points(
        self, *, status: str | None = "published", categories: Sequence[str] | None = None
    ) -> AssetPoints:
        """The matching assets as columns, in id order, read without decoding their states.

        An England-wide assessment reads a million assets; building each one as an Asset
        took most of its time and memory.
        """
        where, params = self._filters(status, categories)
        licence = self._STATE_FIELD_SQL.format(key="licence")
        sql = (
            f"SELECT id, name, category, revision, lon, lat, source, {licence}"
            f" FROM assets{where} ORDER BY {self._ID_ORDER_SQL}"
        )
        rows = self._conn().execute(self._sql(sql), params).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [()] * 8
        return AssetPoints(
            ids=list(columns[0]),
            names=list(columns[1]),
            categories=list(columns[2]),
            revisions=[int(r) for r in columns[3]],
            lons=np.array(columns[4], dtype=np.float64),
            lats=np.array(columns[5], dtype=np.float64),
            sources=list(columns[6]),
            licences=[text or "" for text in columns[7]],
        )

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

    def _keys_clause(self, keys: list[int]) -> tuple[str, Sequence[Any]]:
        """SQL matching ``pk`` against these keys, and its parameters."""
        return f"pk IN ({', '.join('?' * len(keys))})", keys

    def _rows_by_key(self, conn: Any, pks: list[int], columns: str) -> list[Any]:
        """``pk`` and ``columns`` of the assets with these keys (a key naming none is left out).

        In slices: a 50 km search in a city can match more rows than a statement may have
        parameters (32,766 in SQLite, 65,535 in PostgreSQL).
        """
        rows: list[Any] = []
        for start in range(0, len(pks), _LOAD_BATCH):
            keys, params = self._keys_clause(pks[start : start + _LOAD_BATCH])
            sql = self._sql(f"SELECT pk, {columns} FROM assets WHERE {keys}")
            rows.extend(conn.execute(sql, params).fetchall())
        return rows

    def _load_states(self, conn: Any, pks: Iterable[int]) -> dict[int, tuple[str, dict[str, Any]]]:
        """(stored normalised name, stored state as Asset.to_dict gave it) for each key."""
        rows = self._rows_by_key(conn, list(pks), "name_norm, state")
        return {pk: (name, read_state(state)) for pk, name, state in rows}

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
        check_radius(radius_m)
        return searched_again_if_rekeyed(
            partial(self._nearby, lon, lat, radius_m, categories, status, limit)
        )

    def _nearby(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
        limit: int | None,
    ) -> list[NearbyHit]:
        """One try at :meth:`nearby`; AssetsRekeyed if the store was clustered meanwhile."""
        conn = self._conn()
        if limit is None or limit <= 0:
            cands = self._candidates(conn, lon, lat, radius_m, categories, status)
            keys, dist, _ = self._measure(lon, lat, radius_m, cands, limit)
            return self._hits(conn, keys, dist, limit)
        # Widen from a small circle (see _FIRST_REACH_M). Exact: once `limit` hits lie within
        # the reach, anything outside it is farther than all of them, ties included.
        reach = min(radius_m, self._first_reach_m(conn))
        while True:
            cands = self._candidates(conn, lon, lat, reach, categories, status)
            keys, dist, _ = self._measure(lon, lat, reach, cands, limit)
            if len(keys) >= limit or reach >= radius_m:
                return self._hits(conn, keys, dist, limit)
            # Guess the reach that holds `limit` from the density seen so far.
            grow = 4.0 if len(keys) == 0 else max(1.5, 1.2 * math.sqrt(limit / len(keys)))
            reach = min(radius_m, reach * grow)

    def _first_reach_m(self, conn: Any) -> float:
        """How far a limited :meth:`nearby` looks first (see ``_FIRST_REACH_M``)."""
        return _FIRST_REACH_M

    def nearby_set(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        categories: Sequence[str] | None = None,
        status: str | None = "published",
        words: Sequence[str] = (),
    ) -> NearbySet:
        """Every asset within radius_m (geodesic, WGS84), nearest first, read on demand.

        Parameters are those of :meth:`nearby`, and ``words`` (see
        :meth:`AssetStore.nearby_set`). Positions follow distance, then key; callers that
        need the name and id tie-break read the assets they show.
        """
        check_radius(radius_m)
        conn = self._conn()
        cands = self._candidates(conn, lon, lat, radius_m, categories, status, words)
        keys, dist, days = self._measure(lon, lat, radius_m, cands, None)
        kept = "verified_day" in self._row_names(conn)
        read = partial(self._load_states, conn)
        return NearbySet(keys, dist, read, status, days if kept else None)

    def _measure(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        cands: Candidates,
        limit: int | None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Keys, exact distances and verified days of the candidates within radius_m.

        The result is nearest first. With a limit, only those that can make the cut: up to
        the limit-th distance, ties included, so the name and id tie-break still sees every
        contender.
        """
        pks, lons, lats, days = cands.pks, cands.lons, cands.lats, cands.days
        if len(pks) == 0:
            return pks, lons, days
        if limit is not None and 0 < limit < len(pks) and abs(lat) < _APPROX_MAX_LAT:
            # Measure exactly only what can make the cut (see _approx_distances_m).
            if cands.circle_m is not None:  # already known: a quarter of the search's time
                near = _could_be_nearest(cands.circle_m, limit, 1.0 / cands.circle_ratio)
            else:
                near = _could_be_nearest(_approx_distances_m(lon, lat, lons, lats), limit)
            pks, lons, lats, days = pks[near], lons[near], lats[near], days[near]
        dist = distances_m(lon, lat, lons, lats)
        inside = dist <= radius_m
        pks, dist, days = pks[inside], dist[inside], days[inside]
        order = np.lexsort((pks, dist))
        if limit is not None and len(order) > limit:
            cutoff = dist[order[limit - 1]] if limit > 0 else -1.0
            order = order[dist[order] <= cutoff]
        return pks[order], dist[order], days[order]

    def _hits(
        self, conn: Any, keys: NDArray[np.int64], dist: NDArray[np.float64], limit: int | None
    ) -> list[NearbyHit]:
        """Read the assets, in the contract's order: distance, then name, then id.

        ``keys`` come in (distance, key) order, so only runs of equal distances (assets at
        one address) need reordering, by name and id. Their names are normalised here rather
        than read from the name_norm column with every hit: with the sort of all the hits
        that it replaced, that cut a 50-hit search on the million-asset benchmark from 0.49
        to 0.44 ms (CPU time, p50).
        """
        if len(keys) == 0:
            return []
        pks = keys.tolist()
        texts = dict(self._rows_by_key(conn, pks, "state"))
        if len(texts) < len(pks):
            raise AssetsRekeyed(_REKEYED_MESSAGE)
        decode = Asset.from_stored_json
        metres = dist.tolist()
        hits = [NearbyHit(decode(texts[pk]), d) for pk, d in zip(pks, metres, strict=True)]
        if len(set(metres)) < len(metres):  # two hits at one distance: cheaper than in numpy
            hits = _ties_by_name(hits)
        return hits[:limit] if limit is not None else hits

    def _rank(
        self,
        conn: Any,
        lon: float,
        lat: float,
        radius_m: float,
        cands: Candidates,
        limit: int | None,
    ) -> list[NearbyHit]:
        keys, dist, _ = self._measure(lon, lat, radius_m, cands, limit)
        return self._hits(conn, keys, dist, limit)

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
        """The k nearest assets within max_radius_m: a limited :meth:`nearby`."""
        if k <= 0:
            return []
        return self.nearby(lon, lat, max_radius_m, categories=categories, status=status, limit=k)
