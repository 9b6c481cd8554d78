"""Nearby with and without a limit: every query path gives the same answer on every backend.

The stores take shortcuts when a limit is given (PostGIS walks its KNN index and stops
early) and load large answers in slices; these tests pin the answers to the plain rule:
everything within the radius, sorted by (distance, name, id), then cut to the limit.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

import assetmap.store.base as store_base
from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.geodesy import WGS84, bbox_around, distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store, open_store
from assetmap.store.base import circle_scales
from assetmap.store.cells import CELL_SQL, cell_of
from assetmap.store.sqlite import SQLiteStore

# Stretford, Trafford (M32 0TH in data/postcodes).
ORIGIN = (-2.28748, 53.45901)
CATEGORIES = ("library", "park", "food_bank")
PLACE = {"name": "Stretford Library", "category": "library"}


def around(taxonomy: Taxonomy, rng: random.Random, n: int, max_m: float) -> list[Asset]:
    out = []
    for i in range(n):
        # Uniform in area out to max_m, so the nearest ranks are crowded as in a city.
        lon, lat, _ = WGS84.fwd(
            ORIGIN[0], ORIGIN[1], rng.uniform(0, 360), max_m * math.sqrt(rng.random())
        )
        out.append(
            build_asset(
                {
                    "name": f"Place {rng.randrange(40)}",  # repeated names: ties go to the id
                    "category": CATEGORIES[i % 3],
                    "status": "archived" if i % 10 == 0 else "published",
                    "lon": lon,
                    "lat": lat,
                },
                taxonomy,
            )
        )
    return out


def stack(taxonomy: Taxonomy, n: int, distance_m: float) -> list[Asset]:
    """n assets at one point distance_m east of ORIGIN, named in reverse order of creation."""
    lon, lat, _ = WGS84.fwd(ORIGIN[0], ORIGIN[1], 90, distance_m)
    return [
        build_asset(
            {"name": f"Hall {n - i:03d}", "category": "park", "lon": lon, "lat": lat}, taxonomy
        )
        for i in range(n)
    ]


def plain(store: Store, radius_m: float, **kwargs: object) -> list[tuple[str, float]]:
    hits = store.nearby(*ORIGIN, radius_m, **kwargs)  # type: ignore[arg-type]
    return [(h.asset.id, h.distance_m) for h in hits]


def test_limited_answers_are_the_head_of_the_full_answer(store: Store, taxonomy: Taxonomy) -> None:
    rng = random.Random(7)
    store.create_assets(around(taxonomy, rng, 400, 3_000), author="test")
    for categories in (None, ["park"], ["library", "food_bank"]):
        for radius_m in (150.0, 900.0, 2_500.0):
            full = plain(store, radius_m, categories=categories)
            assert all(d <= radius_m for _, d in full)
            assert [d for _, d in full] == sorted(d for _, d in full)
            for limit in (1, 3, 10, 50, 1_000):
                limited = plain(store, radius_m, categories=categories, limit=limit)
                assert limited == full[:limit], (categories, radius_m, limit)
    every = plain(store, 2_500.0, status=None)
    assert len(every) > len(plain(store, 2_500.0))


def test_ties_at_the_limit_go_by_name_on_every_path(store: Store, taxonomy: Taxonomy) -> None:
    # Equal distances defeat any early stop based on distance alone.
    store.create_assets(stack(taxonomy, 60, 500.0), author="test")
    full = store.nearby(*ORIGIN, 1_000)
    assert len({h.distance_m for h in full}) == 1
    assert [h.asset.name for h in full] == [f"Hall {i:03d}" for i in range(1, 61)]
    limited = store.nearby(*ORIGIN, 1_000, limit=5)
    assert [h.asset.name for h in limited] == [f"Hall {i:03d}" for i in range(1, 6)]


def test_large_answers_load_in_slices(
    store: Store, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    store.create_assets(around(taxonomy, rng, 120, 2_000), author="test")
    whole = plain(store, 2_000.0)
    monkeypatch.setattr(store_base, "_LOAD_BATCH", 7)
    assert plain(store, 2_000.0) == whole
    assert len(whole) == 108  # every published one (one in ten is archived)


def test_sqlite_search_before_and_after_migration_6(tmp_path: Path, taxonomy: Taxonomy) -> None:
    # Migration 6 adds asset_cells, the clustered grid radius searches read; a database not
    # yet migrated keeps searching with the R*Tree, and migrating carries every row over.
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SQLiteStore(url)
    old.migrate(target=5)
    rng = random.Random(3)
    old.create_assets(around(taxonomy, rng, 200, 2_000), author="test")
    park = old.list_assets(categories=["park"])[0]
    old.set_status(park.id, "archived", author="test")
    before = [plain(old, 1_500.0, categories=c, limit=20) for c in (None, ["park"])]
    old.close()
    new = open_store(url)
    assert new.migrate() >= 6
    after = [plain(new, 1_500.0, categories=c, limit=20) for c in (None, ["park"])]
    assert after == before
    assert park.id not in [i for i, _ in after[1]]
    new.set_status(park.id, "published", author="test")
    assert park.id in [i for i, _ in plain(new, 3_000.0, categories=["park"])]
    new.close()


def test_sqlite_grid_cells_agree_in_python_and_sql(tmp_path: Path, taxonomy: Taxonomy) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'cells.db'}")
    rng = random.Random(5)
    # Random points, and points on cell edges, where rounding could put them either side.
    points = [(rng.uniform(-8.7, 1.8), rng.uniform(49.8, 60.9)) for _ in range(2_000)]
    points += [(-2.29 + i / 100, 53.45 + i / 100) for i in range(-50, 50)]
    conn = store._conn()
    for lon, lat in points:
        sql = f"SELECT {CELL_SQL} FROM (SELECT ? AS lon, ? AS lat)"
        (in_sql,) = conn.execute(sql, (lon, lat)).fetchone()
        assert in_sql == cell_of(lon, lat), (lon, lat)
    # Written one at a time (Python) or in bulk (SQL), then moved: one row each, right cell.
    first = build_asset({**PLACE, "lon": -2.29, "lat": 53.45}, taxonomy)
    one = store.create_asset(first, author="t")
    store.create_assets(
        [build_asset({**PLACE, "lon": lon, "lat": lat}, taxonomy) for lon, lat in points[:50]],
        author="t",
    )
    store.update_asset(one.id, {"lon": -2.2, "lat": 53.5}, author="t")
    rows = conn.execute("SELECT cell, lon, lat, status FROM asset_cells").fetchall()
    assert len(rows) == 51
    assert all(cell == cell_of(lon, lat) for cell, lon, lat, _ in rows)
    store.close()


def test_quick_distances_stay_within_their_bound() -> None:
    # The limit shortcut trusts _approx_distances_m to _APPROX_REL; check it with room to spare.
    rng = random.Random(9)
    for _ in range(60):
        lon0, lat0 = rng.uniform(-180, 180), rng.uniform(-79.9, 79.9)
        n = 300
        ends = [
            WGS84.fwd(lon0, lat0, rng.uniform(0, 360), 50_000 * math.sqrt(rng.random()))
            for _ in range(n)
        ]
        lons = np.array([e[0] for e in ends])
        lats = np.array([e[1] for e in ends])
        exact = distances_m(lon0, lat0, lons, lats)
        quick = store_base._approx_distances_m(lon0, lat0, lons, lats)
        assert np.all(np.abs(quick - exact) <= 0.0005 * exact + 0.01)
    assert store_base._APPROX_REL >= 0.0005


@pytest.mark.parametrize("lat", [-70.0, 0.0, 0.1, 53.45, 70.0, 78.9])
@pytest.mark.parametrize("radius_m", [400.0, 1_609.344, 50_000.0])
def test_circle_distances_stay_within_their_ratio(lat: float, radius_m: float) -> None:
    # The grid hands its circle-test distances to the limit shortcut in place of quick ones;
    # that is sound only if each lies between ratio times the quick distance and the quick
    # distance itself, for every point of the box.
    lon = 24.5
    box = bbox_around(lon, lat, radius_m)
    scales = circle_scales(lon, lat, radius_m, box)
    assert scales is not None
    kx, ky, _ = scales
    rng = np.random.default_rng(5)
    lons = rng.uniform(box[0], box[2], 4_000)
    lats = rng.uniform(box[1], box[3], 4_000)
    lons[:4], lats[:4] = [box[0], box[2], box[0], box[2]], [box[1], box[1], box[3], box[3]]
    circle = np.hypot((lons - lon) * kx, (lats - lat) * ky)
    quick = store_base._approx_distances_m(lon, lat, lons, lats)
    ratio = store_base.circle_ratio(lat, box)
    assert 0.9 < ratio <= 1.0
    assert np.all(circle <= quick * (1 + 1e-9))  # to rounding; 1 m of slack covers it
    assert np.all(circle >= quick * ratio * (1 - 1e-9))
    # Not loose for nothing: some point of the box falls short by over half the allowance.
    if radius_m == 50_000.0 and abs(lat) >= 53:
        assert 1 - np.min(circle / quick) > 0.5 * (1 - ratio)


def test_limited_grid_searches_far_north_keep_the_nearest(
    tmp_path: Path, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In Shetland a 50 km box spans almost a degree of latitude, where the grid's circle
    # distances run over 1 % short of the quick ones (circle_ratio): a limited search must
    # still return the head of the full answer. The shortcut's own margins are cut to what
    # the quick distance needs (see the test above), so that circle_ratio's allowance alone
    # keeps the nearest.
    monkeypatch.setattr(store_base, "_APPROX_REL", 0.0006)
    monkeypatch.setattr(store_base, "_APPROX_SLACK_M", 0.02)
    store = open_store(f"sqlite:///{tmp_path / 'north.db'}")
    centre = (-1.2, 60.35)
    rng = random.Random(13)
    assets = []
    for i in range(600):
        lon, lat, _ = WGS84.fwd(*centre, rng.uniform(0, 360), 45_000 * math.sqrt(rng.random()))
        place = {**PLACE, "name": f"Hall {i}", "lon": lon, "lat": lat}
        assets.append(build_asset(place, taxonomy))
    store.create_assets(assets, author="test")
    for origin in (centre, (centre[0], centre[1] + 0.3), (centre[0] + 0.4, centre[1] - 0.25)):
        full = [(h.asset.id, h.distance_m) for h in store.nearby(*origin, 50_000.0)]
        assert len(full) > 100
        for limit in (1, 2, 7, 50):
            hits = store.nearby(*origin, 50_000.0, limit=limit)
            assert [(h.asset.id, h.distance_m) for h in hits] == full[:limit], (origin, limit)
    store.close()


@pytest.mark.parametrize("lat", [-60.0, 0.0, 49.9, 53.45, 60.8, 70.0, 78.9])
@pytest.mark.parametrize("radius_m", [1.0, 400.0, 1_609.344, 12_000.0, 50_000.0])
def test_the_sql_circle_keeps_every_point_of_the_circle(lat: float, radius_m: float) -> None:
    lon = -2.29
    box = bbox_around(lon, lat, radius_m)
    scales = circle_scales(lon, lat, radius_m, box)
    if scales is None:  # too near the pole for the bound: the box alone is used
        assert abs(lat) + (box[3] - box[1]) / 4 >= 80.0
        return
    kx, ky, reach = scales
    # Points on the circle itself, every 5 degrees of azimuth: the hardest to keep.
    azimuths = np.arange(0.0, 360.0, 5.0)
    lons, lats, _ = WGS84.fwd(
        np.full(len(azimuths), lon), np.full(len(azimuths), lat), azimuths, np.full(72, radius_m)
    )
    measure = ((lons - lon) * kx) ** 2 + ((lats - lat) * ky) ** 2
    assert (measure <= reach**2).all()
    # The box's corners lie well outside the circle, and the test drops them (below a few
    # metres the bound's 1 m of slack keeps the whole box).
    corners = [(box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])]
    for c_lon, c_lat in corners if radius_m > 10 else []:
        assert ((c_lon - lon) * kx) ** 2 + ((c_lat - lat) * ky) ** 2 > reach**2


def test_sqlite_searches_keep_points_just_inside_the_radius(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    # A ring of assets 1 cm inside and 1 cm outside 1,600 m: the SQL circle must keep all the
    # inner ones, on every query path (the grid in memory; its SQL scan, which a search
    # inside a transaction takes; the R*Tree, with words), and the exact cut drop the outer.
    store = open_store(f"sqlite:///{tmp_path / 'ring.db'}")
    assets = []
    for azimuth in range(0, 360, 3):
        for metres, name in ((1_599.99, "Inner library"), (1_600.01, "Outer library")):
            lon, lat, _ = WGS84.fwd(ORIGIN[0], ORIGIN[1], float(azimuth), metres)
            assets.append(build_asset({**PLACE, "name": name, "lon": lon, "lat": lat}, taxonomy))
    store.create_assets(assets, author="test")
    grid = store.nearby_set(*ORIGIN, 1_600.0)
    with store.transaction():
        scan = store.nearby_set(*ORIGIN, 1_600.0)
    rtree = store.nearby_set(*ORIGIN, 1_600.0, words=("inner",))
    for found in (grid, scan, rtree):
        names = {row.state["name"] for row in found.states(range(len(found)))}
        assert len(found) == 120 and names == {"Inner library"}
    store.close()
