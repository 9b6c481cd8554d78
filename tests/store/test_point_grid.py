"""SQLite's in-memory grid: the SQL scan's answers, kept current with every writer's changes.

Several stores open on one file stand in for gunicorn's workers: each holds its own grid,
and must see what the others committed at its next search, never what was rolled back.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import assetmap.store.point_grid as point_grid
from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.geodesy import WGS84
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store.sqlite import SQLiteStore

# Stretford, Trafford (M32 0TH in data/postcodes).
ORIGIN = (-2.28748, 53.45901)
CATEGORIES = ("library", "park", "food_bank", "leisure_centre")


def scattered(taxonomy: Taxonomy, rng: random.Random, n: int, max_m: float) -> list[Asset]:
    """Assets out to max_m from ORIGIN: mixed categories, statuses and verified dates."""
    out = []
    for i in range(n):
        lon, lat, _ = WGS84.fwd(*ORIGIN, rng.uniform(0, 360), rng.uniform(0, max_m))
        verified = date(2026, 1, 1) - timedelta(days=rng.randrange(900))
        out.append(
            build_asset(
                {
                    "name": f"Place {i}",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "status": ("published", "published", "archived", "pending")[i % 4],
                    "lon": lon,
                    "lat": lat,
                    "last_verified": verified.isoformat() if i % 3 else "",
                },
                taxonomy,
            )
        )
    return out


def grid_answer(
    store: SQLiteStore, lon: float, lat: float, radius_m: float, **filters: object
) -> list[tuple[int, float]]:
    """(key, verified day) of the grid's candidates, sorted; NaN days as -1."""
    cands = store._candidates(store._conn(), lon, lat, radius_m, **filters)  # type: ignore[arg-type]
    return _pairs(cands.pks, cands.days)


def sql_answer(
    store: SQLiteStore, lon: float, lat: float, radius_m: float, **filters: object
) -> list[tuple[int, float]]:
    """The same from the SQL scan, which a search inside a transaction takes."""
    with store.transaction() as conn:
        cands = store._candidates(conn, lon, lat, radius_m, **filters)  # type: ignore[arg-type]
    return _pairs(cands.pks, cands.days)


def _pairs(pks: np.ndarray, days: np.ndarray) -> list[tuple[int, float]]:
    return sorted(zip(pks.tolist(), np.nan_to_num(days, nan=-1.0).tolist(), strict=True))


def ids_near(store: SQLiteStore, radius_m: float = 3_000.0, **filters: object) -> list[str]:
    return [h.asset.id for h in store.nearby(*ORIGIN, radius_m, **filters)]  # type: ignore[arg-type]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'grid.db'}"


def test_grid_candidates_equal_the_sql_scan(url: str, taxonomy: Taxonomy) -> None:
    store = SQLiteStore(url)
    store.migrate()
    rng = random.Random(23)
    store.create_assets(scattered(taxonomy, rng, 600, 6_000), author="test")
    nonempty = 0
    for _ in range(100):
        lon, lat, _ = WGS84.fwd(*ORIGIN, rng.uniform(0, 360), rng.uniform(0, 5_000))
        radius_m = rng.choice([50.0, 400.0, 1_600.0, 4_000.0, 12_000.0])
        categories = rng.choice([None, [], ["park"], ["library", "food_bank"], ["no_such"]])
        status = rng.choice([None, "published", "archived", "withdrawn"])
        grid = grid_answer(store, lon, lat, radius_m, categories=categories, status=status)
        assert grid == sql_answer(store, lon, lat, radius_m, categories=categories, status=status)
        nonempty += bool(grid)
    assert nonempty > 25  # the comparison was not of empty answers
    # Days came through: never verified as NaN, the rest as numbers.
    days = [d for _, d in grid_answer(store, *ORIGIN, 12_000.0, categories=None, status=None)]
    assert len(days) == 600 and days.count(-1.0) == 200
    store.close()


def test_a_search_sees_what_another_connection_committed(url: str, taxonomy: Taxonomy) -> None:
    writer, reader = SQLiteStore(url), SQLiteStore(url)
    writer.migrate()
    rng = random.Random(29)
    writer.create_assets(scattered(taxonomy, rng, 80, 2_500), author="test")
    first = ids_near(reader)  # loads the reader's grid
    assert first == ids_near(writer) and first

    # One the reader loaded, moved away: its loaded point must no longer count.
    writer.update_asset(first[0], {"lon": -2.0, "lat": 53.6}, author="test")
    assert first[0] not in ids_near(reader)
    assert ids_near(reader) == first[1:]

    near = build_asset(
        {"name": "New Hall", "category": "park", "lon": ORIGIN[0], "lat": ORIGIN[1]}, taxonomy
    )
    new = writer.create_asset(near, author="test")
    assert ids_near(reader)[0] == new.id

    # Moved out of the radius, into another cell.
    writer.update_asset(new.id, {"lon": -2.0, "lat": 53.6}, author="test")
    assert new.id not in ids_near(reader)
    writer.update_asset(new.id, {"lon": ORIGIN[0], "lat": ORIGIN[1]}, author="test")
    assert ids_near(reader)[0] == new.id

    writer.set_status(new.id, "archived", author="test")
    assert new.id not in ids_near(reader)
    assert new.id in ids_near(reader, status="archived")

    # Only the verified day changes: the grid's day must follow.
    writer.set_status(new.id, "published", author="test")
    writer.update_asset(new.id, {"last_verified": "2026-11-01"}, author="test")
    found = reader.nearby_set(*ORIGIN, 100.0)
    assert found.verified_days is not None
    assert found.verified_days[0] == (date(2026, 11, 1) - date(1970, 1, 1)).days

    writer.create_assets(scattered(taxonomy, rng, 30, 2_500), author="test")
    for filters in ({}, {"categories": ["library"]}, {"status": None}):
        assert ids_near(reader, **filters) == ids_near(writer, **filters)
        fresh = SQLiteStore(url)
        assert ids_near(reader, **filters) == ids_near(fresh, **filters)
        fresh.close()
    writer.close()
    reader.close()


def test_changes_are_merged_into_the_loaded_points(
    url: str, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(point_grid, "_MERGE_AT", 3)
    writer, reader = SQLiteStore(url), SQLiteStore(url)
    writer.migrate()
    rng = random.Random(31)
    writer.create_assets(scattered(taxonomy, rng, 60, 2_500), author="test")
    moved = [a.id for a in writer.list_assets(status=None)][:12]
    ids_near(reader)
    for i, asset_id in enumerate(moved):
        lon, lat, _ = WGS84.fwd(*ORIGIN, 30.0 * i, 100.0 + 10 * i)
        writer.update_asset(asset_id, {"lon": lon, "lat": lat}, author="t")
        assert ids_near(reader, 1_000.0, status=None) == ids_near(writer, 1_000.0, status=None)
        snapshot = reader._grid._snapshot
        assert snapshot is not None and len(snapshot.recent) <= 3
    assert set(moved) <= set(ids_near(reader, 1_000.0, status=None))
    writer.close()
    reader.close()


def test_a_reader_behind_the_pruned_log_reloads(
    url: str, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = []
    real_load = point_grid._load
    monkeypatch.setattr(point_grid, "_load", lambda *a: loads.append(1) or real_load(*a))
    writer, reader = SQLiteStore(url), SQLiteStore(url)
    writer.migrate()
    rng = random.Random(37)
    writer.create_assets(scattered(taxonomy, rng, 40, 2_500), author="test")
    ids_near(reader)
    assert len(loads) == 1
    one = writer.create_asset(
        build_asset(
            {"name": "Hall A", "category": "park", "lon": ORIGIN[0], "lat": ORIGIN[1]}, taxonomy
        ),
        author="t",
    )
    ids_near(reader)
    assert len(loads) == 1  # one change: caught up, not reloaded
    two = writer.create_asset(
        build_asset(
            {"name": "Hall B", "category": "park", "lon": ORIGIN[0], "lat": ORIGIN[1]}, taxonomy
        ),
        author="t",
    )
    writer.update_asset(one.id, {"lon": ORIGIN[0] + 0.0001}, author="t")  # about 7 m east
    # Two changes since the reader's last search; drop the first, as the pruning trigger
    # would had 20,000 more come: the reader can no longer tell what changed.
    with writer.transaction() as conn:
        conn.execute("DELETE FROM cell_changes WHERE seq < (SELECT max(seq) FROM cell_changes)")
    assert ids_near(reader)[:2] == [two.id, one.id]
    assert len(loads) == 2
    writer.close()
    reader.close()


def test_a_rolled_back_write_never_reaches_the_grid(url: str, taxonomy: Taxonomy) -> None:
    store = SQLiteStore(url)
    store.migrate()
    rng = random.Random(41)
    store.create_assets(scattered(taxonomy, rng, 40, 2_500), author="test")
    before = ids_near(store)
    hall = build_asset(
        {"name": "Hall", "category": "park", "lon": ORIGIN[0], "lat": ORIGIN[1]}, taxonomy
    )
    with pytest.raises(RuntimeError), store.transaction():
        made = store.create_asset(hall, author="t")
        # Inside the transaction the search takes the SQL scan, and sees its own write.
        assert ids_near(store)[0] == made.id
        raise RuntimeError("roll back")
    assert ids_near(store) == before
    # The log number the rolled-back write took is taken again by the next one.
    again = store.create_asset(hall, author="t")
    assert ids_near(store)[0] == again.id
    store.close()


def test_the_log_keeps_the_latest_twenty_thousand_changes(url: str) -> None:
    store = SQLiteStore(url)
    store.migrate()
    with store.transaction() as conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25500)"
            " INSERT INTO cell_changes (pk) SELECT i FROM n"
        )
        oldest, last, count = conn.execute(
            "SELECT min(seq), max(seq), count(*) FROM cell_changes"
        ).fetchone()
    # Pruned at 25,000 down to the 20,000 before it; 500 more since.
    assert (oldest, last, count) == (5_001, 25_500, 20_500)
    store.close()
