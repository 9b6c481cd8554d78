"""The store contract: every backend must pass these unchanged (the `store` fixture is
parametrized over backends)."""

from __future__ import annotations

import json

import pytest

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.errors import Conflict, NotFound, ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store

# Real Trafford libraries (data/assets/trafford/libraries_trafford_libraries.csv, OGL v3).
ALTRINCHAM = {
    "name": "Altrincham Library",
    "category": "library",
    "address": "2 Pott Street, Altrincham",
    "postcode": "WA14 1AH",
    "lon": -2.352156600534233,
    "lat": 53.38705468210445,
}
SALE = {
    "name": "Sale Library",
    "category": "library",
    "address": "Sale Waterside, Sale",
    "postcode": "M33 7ZF",
    "lon": -2.3177,
    "lat": 53.4244,
}


def make(taxonomy: Taxonomy, **fields: object) -> Asset:
    return build_asset({**ALTRINCHAM, **fields}, taxonomy)


def test_create_assigns_id_revision_and_history(store: Store, taxonomy: Taxonomy) -> None:
    created = store.create_asset(make(taxonomy), author="user:ann", reason="first")
    assert created.id.startswith("a") and len(created.id) == 13
    assert created.revision == 1
    assert store.get_asset(created.id) == created
    (rev,) = store.history(created.id)
    assert (rev.number, rev.action, rev.author, rev.reason) == (1, "create", "user:ann", "first")
    assert rev.state == created.to_dict()
    assert "name" in rev.changed and "lon" in rev.changed


def test_every_change_appends_a_revision_with_changed_fields(
    store: Store, taxonomy: Taxonomy
) -> None:
    a = store.create_asset(make(taxonomy), author="ann")
    b = store.update_asset(a.id, {"description": "Books and computers"}, author="bob")
    c = store.set_status(b.id, "archived", author="cat", reason="closed for refit")
    history = store.history(a.id)
    assert [(r.number, r.action, r.changed) for r in history] == [
        (1, "create", history[0].changed),
        (2, "update", ("description",)),
        (3, "status", ("status",)),
    ]
    assert history[2].reason == "closed for refit"
    assert history[1].state["description"] == "Books and computers"
    assert c.revision == 3 and store.get_asset(a.id).status == "archived"
    assert store.count_revisions() == 3


def test_revert_is_a_new_revision_restoring_old_content(store: Store, taxonomy: Taxonomy) -> None:
    a = store.create_asset(make(taxonomy), author="ann")
    store.update_asset(a.id, {"name": "Wrong name", "lon": -2.3, "lat": 53.4}, author="bob")
    reverted = store.revert(a.id, 1, author="cat")
    assert (reverted.name, reverted.lon, reverted.lat) == (a.name, a.lon, a.lat)
    assert reverted.revision == 3
    last = store.history(a.id)[-1]
    assert last.action == "revert" and set(last.changed) == {"name", "lon", "lat"}
    # the spatial index follows the revert: found at the original place, not the wrong one
    assert [h.asset.id for h in store.nearby(a.lon, a.lat, 10)] == [a.id]
    assert store.nearby(-2.3, 53.4, 10) == []


def test_stale_expected_revision_conflicts_and_writes_nothing(
    store: Store, taxonomy: Taxonomy
) -> None:
    a = store.create_asset(make(taxonomy), author="ann")
    store.update_asset(a.id, {"description": "first edit"}, author="bob", expected_revision=1)
    with pytest.raises(Conflict, match="changed since you opened it"):
        store.update_asset(a.id, {"description": "second"}, author="cat", expected_revision=1)
    with pytest.raises(Conflict):
        store.set_status(a.id, "archived", author="cat", expected_revision=1)
    assert store.get_asset(a.id).description == "first edit"
    assert len(store.history(a.id)) == 2


def test_failed_write_leaves_store_unchanged(store: Store, taxonomy: Taxonomy) -> None:
    a = store.create_asset(make(taxonomy), author="ann")
    good = build_asset({**SALE, "source": "t", "source_id": "1"}, taxonomy)
    with pytest.raises(ValidationError):
        store.update_asset(a.id, {"id": "other"}, author="x")
    store.import_batch([good], author="x")
    before = (store.count_assets(), store.count_revisions())
    # the second row violates NOT NULL in the database, after the first row was written
    broken = good.with_changes(source_id="3", name=None)
    with pytest.raises(Exception):  # noqa: B017 - any database error; the point is the rollback
        store.import_batch([good.with_changes(source_id="2"), broken], author="x")
    assert (store.count_assets(), store.count_revisions()) == before
    assert store.find_by_source("t", "2") is None


def test_unknown_ids(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get_asset("a000000000000")
    with pytest.raises(NotFound):
        store.history("a000000000000")
    with pytest.raises(NotFound):
        store.set_status("a000000000000", "archived", author="x")


def test_import_batch_is_idempotent_and_updates_changed_rows(
    store: Store, taxonomy: Taxonomy
) -> None:
    rows = [
        build_asset({**ALTRINCHAM, "source": "trafford-libraries", "source_id": "1"}, taxonomy),
        build_asset({**SALE, "source": "trafford-libraries", "source_id": "2"}, taxonomy),
    ]
    first = store.import_batch(rows, author="import")
    assert (len(first.created), len(first.updated), first.unchanged) == (2, 0, 0)
    again = store.import_batch(rows, author="import")
    assert (len(again.created), len(again.updated), again.unchanged) == (0, 0, 2)
    changed = [rows[0], rows[1].with_changes(phone="0161 912 3168")]
    third = store.import_batch(changed, author="import")
    assert (len(third.created), len(third.updated), third.unchanged) == (0, 1, 1)
    found = store.find_by_source("trafford-libraries", "2")
    assert found is not None and found.phone == "0161 912 3168" and found.revision == 2
    assert store.history(found.id)[-1].changed == ("phone",)


def test_list_and_count_filter_by_status_and_category(store: Store, taxonomy: Taxonomy) -> None:
    lib = store.create_asset(make(taxonomy), author="a")
    park = store.create_asset(
        build_asset({**SALE, "name": "Walkden Gardens", "category": "park"}, taxonomy), author="a"
    )
    store.set_status(park.id, "pending", author="a")
    assert [a.id for a in store.list_assets()] == [lib.id]
    assert [a.id for a in store.list_assets(status=None)] == [lib.id, park.id]
    assert store.count_assets(status="published") == 1
    assert store.count_assets(category="park") == 1
    assert store.list_assets(status="pending", categories=["park"])[0].name == "Walkden Gardens"


def test_nearby_is_geodesic_sorted_and_filtered(store: Store, taxonomy: Taxonomy) -> None:
    alt = store.create_asset(make(taxonomy), author="a")
    sale = store.create_asset(build_asset(SALE, taxonomy), author="a")
    park = store.create_asset(
        build_asset(
            {**ALTRINCHAM, "name": "Stamford Park", "category": "park", "lat": 53.396}, taxonomy
        ),
        author="a",
    )
    lon, lat = -2.35, 53.39
    expected = distances_m(lon, lat, [alt.lon, sale.lon, park.lon], [alt.lat, sale.lat, park.lat])
    hits = store.nearby(lon, lat, 6_000)
    assert [h.asset.id for h in hits] == [alt.id, park.id, sale.id]
    assert [round(h.distance_m, 3) for h in hits] == [
        round(float(expected[i]), 3) for i in (0, 2, 1)
    ]
    assert [h.asset.id for h in store.nearby(lon, lat, 6_000, categories=["park"])] == [park.id]
    assert [h.asset.id for h in store.nearby(lon, lat, 6_000, limit=1)] == [alt.id]
    # the boundary is inclusive and exact: just inside and just outside Sale Library
    d_sale = float(expected[1])
    assert sale.id in [h.asset.id for h in store.nearby(lon, lat, d_sale + 0.01)]
    assert sale.id not in [h.asset.id for h in store.nearby(lon, lat, d_sale - 0.01)]
    store.set_status(park.id, "rejected", author="a")
    assert park.id not in [h.asset.id for h in store.nearby(lon, lat, 6_000)]


def test_nearby_set_reads_only_what_is_asked_and_drops_what_left(
    store: Store, taxonomy: Taxonomy
) -> None:
    alt = store.create_asset(make(taxonomy), author="a")
    sale = store.create_asset(build_asset(SALE, taxonomy), author="a")
    lon, lat = -2.35, 53.39
    found = store.nearby_set(lon, lat, 6_000)
    assert len(found) == 2
    # nearest first, the same distances nearby() gives
    assert list(found.distances_m) == [h.distance_m for h in store.nearby(lon, lat, 6_000)]
    assert [h.asset.id for h in found.hits([1, 0])] == [sale.id, alt.id]
    # decoding a row leaves its state as read, for rankings and filters that look again
    (row,) = found.states([1])
    before = json.loads(json.dumps(row.state))
    hit = found.hit(row)
    assert hit.asset == sale and hit.distance_m == found.distances_m[1]
    assert row.state == before and isinstance(row.state["opening_times"], dict)
    # archived after the set was taken: left out when read, never shown as published
    store.set_status(sale.id, "archived", author="a")
    assert [(r.position, r.state["id"]) for r in found.states([0, 1])] == [(0, alt.id)]
    assert [h.asset.id for h in found.hits([1, 0])] == [alt.id]
    assert len(store.nearby_set(lon, lat, 6_000, categories=["park"])) == 0


def test_nearby_rejects_bad_radius(store: Store) -> None:
    for bad in (0, -5, 50_001):
        with pytest.raises(ValidationError) as err:
            store.nearby(-2.35, 53.39, bad)
        assert err.value.field == "radius_m"


def test_nearest_widens_until_found(store: Store, taxonomy: Taxonomy) -> None:
    alt = store.create_asset(make(taxonomy), author="a")
    sale = store.create_asset(build_asset(SALE, taxonomy), author="a")
    # 20 km away from both, so the first 1 km search finds nothing
    far = store.nearest(-2.05, 53.30, k=2)
    assert [h.asset.id for h in far] == [alt.id, sale.id]
    assert far[0].distance_m > 15_000
    assert store.nearest(-2.05, 53.30, k=1, max_radius_m=5_000) == []


def test_assets_read_back_equal_the_checked_decoding(store: Store) -> None:
    # Stores rebuild assets with Asset.from_stored_json, which trusts what they wrote; over the
    # real Trafford bundle it must give exactly what the checking from_dict gives.
    from tests.analysis.trafford import load_trafford

    written = {asset.id: asset for asset in load_trafford(store)}
    read_back = store.list_assets(status=None)
    assert len(read_back) == len(written)
    with_hours = 0
    for read in read_back:
        asset = written[read.id]
        # First before anything builds the schedule: the stored form handed straight back.
        assert read.to_dict() == asset.to_dict()
        checked = Asset.from_dict(read.to_dict())
        assert read == checked and hash(read.opening_times) == hash(checked.opening_times)
        assert read.to_dict() == asset.to_dict()
        schedule, want = read.opening_times.schedule, checked.opening_times.schedule
        if schedule is not None and want is not None:
            with_hours += 1
            for day, ranges in schedule.days.items():
                assert [(r.opens_minute, r.closes_minute) for r in ranges] == [
                    (r.opens_minute, r.closes_minute) for r in want.days[day]
                ]
                assert schedule.is_open(day, "12:00") == want.is_open(day, "12:00")
    assert with_hours > 20


def test_asset_points_are_the_listed_assets_as_columns(store: Store, taxonomy: Taxonomy) -> None:
    from tests.analysis.trafford import load_trafford

    load_trafford(store)
    for status, categories in (("published", None), (None, None), ("published", ["park"])):
        listed = sorted(store.list_assets(status=status, categories=categories), key=lambda a: a.id)
        points = store.asset_points(status=status, categories=categories)
        assert len(points) == len(listed) > 0
        assert points.ids == [a.id for a in listed]
        assert points.names == [a.name for a in listed]
        assert points.categories == [a.category for a in listed]
        assert points.revisions == [a.revision for a in listed]
        assert points.lons.tolist() == [a.lon for a in listed]
        assert points.lats.tolist() == [a.lat for a in listed]
        assert points.sources == [a.source for a in listed]
        assert points.licences == [a.licence for a in listed]
    assert any(points.licences) and any(points.sources)
