"""SQLite's asset_cells held in memory, kept current from a change log.

A nearby search on SQLite found which assets lie within reach by scanning the cells its box
touches, every row crossing into Python as a tuple, once per widening of a limited search.
The same columns for a million assets fit in about 60 MB of numpy arrays, which answer a
1,600 m search in about a tenth of a millisecond, so a limited search takes the whole of a
1,600 m circle at its first look (sqlite.GRID_FIRST_REACH_M) instead of widening from 400 m.

SQLite stays the truth. Triggers number every change to asset_cells in ``cell_changes``
(migration 0010), whichever connection, thread or process made it; each search first reads
the last number and, if it moved, reads the changed points before answering. A process that
fell too far behind, or a log pruned past what it last saw, reloads the whole table.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assetmap.domain.geodesy import bbox_around
from assetmap.store.base import Candidates, circle_ratio, circle_scales
from assetmap.store.cells import cell_ranges

# Changed points are kept beside the loaded arrays and scanned whole, so they are merged in
# once there are this many (or a fiftieth of the table, if more).
_MERGE_AT = 4_096
# Rows per fetch when loading the table: bounds the Python tuples alive at once.
_FETCH = 65_536
# The log's first and last numbers; two sub-selects, each a single B-tree probe (one SELECT
# of min() and max() together would scan the table).
_LOG_ENDS = "SELECT (SELECT min(seq) FROM cell_changes), (SELECT max(seq) FROM cell_changes)"


@dataclass(frozen=True)
class _Points:
    """asset_cells columns; strings as codes into the grid's vocabulary."""

    cells: NDArray[np.int64]
    pks: NDArray[np.int64]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    days: NDArray[np.float64]
    statuses: NDArray[np.int32]
    categories: NDArray[np.int32]

    def take(self, index: NDArray[Any]) -> _Points:
        return _Points(*(column[index] for column in self.columns()))

    def columns(self) -> tuple[NDArray[Any], ...]:
        return (
            self.cells,
            self.pks,
            self.lons,
            self.lats,
            self.days,
            self.statuses,
            self.categories,
        )

    def __len__(self) -> int:
        return len(self.pks)

    def candidates(
        self, index: NDArray[np.int64], circle_m: NDArray[np.float64] | None, ratio: float
    ) -> Candidates:
        columns = self.pks[index], self.lons[index], self.lats[index], self.days[index]
        return Candidates(*columns, circle_m, ratio)


@dataclass(frozen=True)
class _Snapshot:
    """The points as of change ``seq``: never changed once built, so readers need no lock.

    ``base`` is sorted by cell, then key; ``alive`` is False where a later change replaced
    a base row, whose current point (if any) is then in ``recent``.
    """

    seq: int
    base: _Points
    alive: NDArray[np.bool_]
    superseded: bool  # whether any of alive is False
    by_pk: NDArray[np.int64]  # positions of base in key order, to find a changed key's row
    recent: _Points
    codes: dict[str, int]


class PointGrid:
    """Every asset's point, status, category and verified day, for one SQLite database."""

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def candidates(
        self,
        conn: sqlite3.Connection,
        lon: float,
        lat: float,
        radius_m: float,
        categories: Sequence[str] | None,
        status: str | None,
    ) -> Candidates:
        """What the SQL grid scan would return for this search, from memory.

        ``conn`` must not be inside a transaction: a change it has not committed could be
        rolled back after the grid had taken it in.
        """
        snap = self.refresh(conn)
        box = bbox_around(lon, lat, radius_m)
        base = snap.base
        # Each range's end as one past its last cell: ids are integers, so one search (left
        # side) finds both ends of every range.
        bounds = [bound for first, last in cell_ranges(box) for bound in (first, last + 1)]
        ends = np.searchsorted(base.cells, bounds).tolist()
        spans = [np.arange(a, b) for a, b in zip(ends[::2], ends[1::2], strict=True)]
        index = np.concatenate(spans) if spans else np.empty(0, dtype=np.int64)
        if snap.superseded:
            index = index[snap.alive[index]]
        tests = (snap.codes, lon, lat, radius_m, box, categories, status)
        ratio = circle_ratio(lat, box)
        found = base.candidates(*_passing(base, index, *tests), ratio)
        if not len(snap.recent):
            return found
        everything = np.arange(len(snap.recent))
        recent = snap.recent.candidates(*_passing(snap.recent, everything, *tests), ratio)
        circle_m = None
        if found.circle_m is not None and recent.circle_m is not None:
            circle_m = np.concatenate([found.circle_m, recent.circle_m])
        return Candidates(
            np.concatenate([found.pks, recent.pks]),
            np.concatenate([found.lons, recent.lons]),
            np.concatenate([found.lats, recent.lats]),
            np.concatenate([found.days, recent.days]),
            circle_m,
            ratio,
        )

    def refresh(self, conn: sqlite3.Connection) -> _Snapshot:
        """The points as the database holds them now: loaded, or caught up, if need be."""
        snap = self._snapshot
        if snap is not None:
            (last,) = conn.execute("SELECT max(seq) FROM cell_changes").fetchone()
            if (last or 0) == snap.seq:
                return snap
        with self._lock:
            # One read transaction: the log's numbers and the rows read agree.
            conn.execute("BEGIN")
            try:
                snap = self._caught_up(conn, self._snapshot)
            finally:
                conn.execute("COMMIT")
            self._snapshot = snap
            return snap

    def _caught_up(self, conn: sqlite3.Connection, snap: _Snapshot | None) -> _Snapshot:
        oldest, last = conn.execute(_LOG_ENDS).fetchone()
        last = last or 0
        if snap is not None and snap.seq == last:
            return snap
        if snap is None or oldest is None or oldest > snap.seq + 1:
            return _load(conn, last)
        rows = conn.execute(
            "SELECT a.cell, c.pk, a.lon, a.lat, a.status, a.category, a.verified_day"
            " FROM (SELECT DISTINCT pk FROM cell_changes WHERE seq > ?) c"
            " LEFT JOIN asset_cells a ON a.pk = c.pk",
            (snap.seq,),
        ).fetchall()
        changed = np.array([r[1] for r in rows], dtype=np.int64)
        codes = dict(snap.codes)
        fresh = _points([r for r in rows if r[0] is not None], codes)
        # A changed key's base row is out of date, and so is any earlier recent point.
        alive = snap.alive.copy()
        if len(snap.by_pk):
            found = np.searchsorted(snap.base.pks, changed, sorter=snap.by_pk)
            positions = snap.by_pk[np.minimum(found, len(snap.by_pk) - 1)]
            alive[positions[snap.base.pks[positions] == changed]] = False
        recent = snap.recent.take(~np.isin(snap.recent.pks, changed))
        recent = _joined([recent, fresh])
        superseded = snap.superseded or not alive.all()
        snap = replace(
            snap, seq=last, alive=alive, superseded=superseded, recent=recent, codes=codes
        )
        if len(recent) > max(_MERGE_AT, len(snap.base) // 50):
            snap = _merged(snap)
        return snap


def _passing(
    points: _Points,
    index: NDArray[np.int64],
    codes: dict[str, int],
    lon: float,
    lat: float,
    radius_m: float,
    box: tuple[float, float, float, float],
    categories: Sequence[str] | None,
    status: str | None,
) -> tuple[NDArray[np.int64], NDArray[np.float64] | None]:
    """The positions in ``index`` that pass the SQL scan's tests, and their circle distances.

    The box, status and categories, then the circle (see :func:`circle_scales`); the
    distances are by the circle's own measure (see :func:`circle_ratio`), None where the
    circle is not tested (near the poles).
    """
    lons, lats = points.lons[index], points.lats[index]
    min_lon, min_lat, max_lon, max_lat = box
    keep = (lons >= min_lon) & (lons <= max_lon) & (lats >= min_lat) & (lats <= max_lat)
    if status is not None:
        keep &= points.statuses[index] == codes.get(status, -1)
    if categories:
        wanted = [codes[c] for c in categories if c in codes]
        if len(wanted) == 1:  # the usual search: equality is several times faster than isin
            keep &= points.categories[index] == wanted[0]
        else:
            keep &= np.isin(points.categories[index], wanted)
    scales = circle_scales(lon, lat, radius_m, box)
    if scales is None:
        return index[keep], None
    kx, ky, reach = scales
    dx, dy = (lons - lon) * kx, (lats - lat) * ky
    squared = dx * dx + dy * dy
    keep &= squared <= reach * reach
    return index[keep], np.sqrt(squared[keep])


def _points(rows: Sequence[tuple[Any, ...]], codes: dict[str, int]) -> _Points:
    """(cell, pk, lon, lat, status, category, verified_day) rows as columns."""
    if not rows:
        return _empty()
    cells, pks, lons, lats, statuses, categories, days = zip(*rows, strict=True)
    return _Points(
        np.array(cells, dtype=np.int64),
        np.array(pks, dtype=np.int64),
        np.array(lons, dtype=np.float64),
        np.array(lats, dtype=np.float64),
        # None (never verified) becomes NaN.
        np.array(days, dtype=np.float64),
        np.array([codes.setdefault(s, len(codes)) for s in statuses], dtype=np.int32),
        np.array([codes.setdefault(c, len(codes)) for c in categories], dtype=np.int32),
    )


def _empty() -> _Points:
    ints, floats = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    codes = np.empty(0, dtype=np.int32)
    return _Points(ints, ints, floats, floats, floats, codes, codes)


def _joined(parts: Sequence[_Points]) -> _Points:
    if not parts:
        return _empty()
    return _Points(*(np.concatenate(c) for c in zip(*(p.columns() for p in parts), strict=True)))


def _load(conn: sqlite3.Connection, seq: int) -> _Snapshot:
    """The whole table, as of change ``seq`` (the caller's read transaction)."""
    codes: dict[str, int] = {}
    parts = []
    cursor = conn.execute(
        "SELECT cell, pk, lon, lat, status, category, verified_day FROM asset_cells"
        " ORDER BY cell, pk"
    )
    while rows := cursor.fetchmany(_FETCH):
        parts.append(_points(rows, codes))
    base = _joined(parts)
    return _Snapshot(
        seq=seq,
        base=base,
        alive=np.ones(len(base), dtype=np.bool_),
        superseded=False,
        by_pk=np.argsort(base.pks, kind="stable"),
        recent=_empty(),
        codes=codes,
    )


def _merged(snap: _Snapshot) -> _Snapshot:
    """The recent points merged into the base, in memory."""
    both = _joined([snap.base.take(np.flatnonzero(snap.alive)), snap.recent])
    base = both.take(np.lexsort((both.pks, both.cells)))
    return replace(
        snap,
        base=base,
        alive=np.ones(len(base), dtype=np.bool_),
        superseded=False,
        by_pk=np.argsort(base.pks, kind="stable"),
        recent=_empty(),
    )
