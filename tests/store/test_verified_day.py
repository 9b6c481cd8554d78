"""Each asset's last_verified kept as a day number beside its point (migration 9), on both
backends: filled by the upgrade, kept in step by every write, and handed to searches."""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from assetmap.domain.asset import Asset, build_asset, day_number, verified_day
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store, open_store

# Stretford, Trafford (M32 0TH in data/postcodes).
LON, LAT = -2.28748, 53.45901
DATES = (None, "2026-11-22", "2025-11-23", "2019-02-28", "2024-02-29")


def _assets(taxonomy: Taxonomy) -> list[Asset]:
    return [
        build_asset(
            {
                "name": f"Place {i}",
                "category": "library",
                "lon": LON + i * 0.001,
                "lat": LAT,
                "last_verified": when,
            },
            taxonomy,
        )
        for i, when in enumerate(DATES)
    ]


def _stored_days(store: Store, url: str) -> dict[str, object]:
    """verified_day by asset id, from assets (and, in SQLite, asset_cells, which must agree)."""
    conn = store._conn()  # type: ignore[attr-defined]
    rows = conn.execute("SELECT pk, id, verified_day FROM assets").fetchall()
    if url.startswith("sqlite"):
        cells = dict(conn.execute("SELECT pk, verified_day FROM asset_cells").fetchall())
        assert cells == {pk: day for pk, _, day in rows}
    return {asset_id: day for _, asset_id, day in rows}


def _set_days(store: Store) -> dict[float, object]:
    """The search's verified days by distance: each test asset lies at its own distance."""
    found = store.nearby_set(LON, LAT, 2_000.0)
    assert found.verified_days is not None
    return {
        round(float(d), 3): (None if math.isnan(v) else int(v))
        for d, v in zip(found.distances_m, found.verified_days, strict=True)
    }


def test_day_numbers_count_from_1970() -> None:
    assert day_number(date(1970, 1, 1)) == 0
    assert day_number(date(1969, 12, 31)) == -1
    assert day_number(date(2026, 11, 23)) == 20_780
    assert verified_day("2026-11-23") == 20_780
    # As is_stale reads it: the date at the start; anything else is never verified.
    assert verified_day("2026-11-23T10:00:00") == 20_780
    assert verified_day(None) is None
    assert verified_day("") is None
    assert verified_day("23/11/2026") is None


def test_the_upgrade_fills_every_row_and_searches_then_use_it(
    store_url: str, taxonomy: Taxonomy
) -> None:
    old = open_store(store_url, migrate=False)
    assert old.migrate(target=8) == 8
    old.create_assets(_assets(taxonomy), author="test")
    made = old.list_assets()
    before = old.nearby_set(LON, LAT, 2_000.0)
    # Without the column the search has no days, and ranks from each listing it reads.
    assert before.verified_days is None
    old.close()

    upgraded = open_store(store_url)
    assert max(upgraded._applied_versions(upgraded._conn())) >= 9  # type: ignore[attr-defined]
    days = _stored_days(upgraded, store_url)
    assert days == {a.id: verified_day(a.last_verified) for a in made}
    assert sorted(d for d in days.values() if d is not None) == sorted(
        verified_day(d) for d in DATES if d
    )
    after = upgraded.nearby_set(LON, LAT, 2_000.0)
    assert np.array_equal(after.distances_m, before.distances_m)
    by_distance = _set_days(upgraded)
    distance_of = {
        row.state["id"]: round(float(after.distances_m[row.position]), 3)
        for row in after.states(range(len(after)))
    }
    assert {a.id: by_distance[distance_of[a.id]] for a in made} == days
    upgraded.close()


def test_every_write_keeps_the_day_in_step(
    store: Store, store_url: str, taxonomy: Taxonomy
) -> None:
    store.create_assets(_assets(taxonomy), author="test")
    one, two, *_ = sorted(store.list_assets(), key=lambda a: a.name)
    single = store.create_asset(
        build_asset({"name": "Lone", "category": "park", "lon": LON, "lat": LAT + 0.002}, taxonomy),
        author="test",
    )
    assert _stored_days(store, store_url)[single.id] is None
    store.update_asset(one.id, {"last_verified": "2026-01-05"}, author="test", reason="checked")
    store.update_asset(two.id, {"last_verified": ""}, author="test", reason="unknown")
    store.update_asset(single.id, {"last_verified": "2020-06-01"}, author="test", reason="x")
    days = _stored_days(store, store_url)
    assert days[one.id] == verified_day("2026-01-05")
    assert days[two.id] is None
    assert days[single.id] == verified_day("2020-06-01")
    # A revert puts the old day back, as it puts back the old state.
    store.revert(one.id, 1, author="test", reason="undo")
    assert _stored_days(store, store_url)[one.id] == verified_day(one.last_verified)
    assert set(_set_days(store).values()) == set(_stored_days(store, store_url).values())
