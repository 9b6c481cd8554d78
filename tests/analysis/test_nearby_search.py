"""Nearby search over the real Trafford demo, checked against a brute-force geodesic filter."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assetmap.analysis.nearby import (
    COST_FILTERS,
    NearbyQuery,
    NearbyResult,
    parse_nearby_query,
    search_nearby,
)
from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.settings import REPO_ROOT
from assetmap.store import Store
from tests.analysis.trafford import ENRICHED_ON, GEOD, Expected, brute_force, load_trafford

TODAY = ENRICHED_ON
M32_0TH = (-2.28748, 53.45901)  # data/postcodes: "M32 0TH,53.45901,-2.28748"
TRAFFORD_LIBRARIES = REPO_ROOT / "data/assets/trafford/council_assets_libraries_libraries.geojson"


@pytest.fixture
def trafford(store: Store) -> list[Asset]:
    return load_trafford(store)


def run(
    store: Store, taxonomy: Taxonomy, params: dict[str, Any], **kwargs: Any
) -> tuple[NearbyQuery, NearbyResult]:
    query = parse_nearby_query(params, taxonomy=taxonomy, postcodes=load_default_index())
    kwargs.setdefault("today", TODAY)
    return query, search_nearby(store, query, taxonomy=taxonomy, **kwargs)


def expected_for(
    assets: list[Asset], query: NearbyQuery, *, today: date = TODAY, stale_after_days: int = 365
) -> Expected:
    return brute_force(
        assets,
        lon=query.lon,
        lat=query.lat,
        radius_m=query.radius_m,
        categories=query.categories,
        q=query.q,
        cost=query.cost,
        access=query.access,
        audience=query.audience,
        open_on=query.open_on,
        today=today,
        stale_after_days=stale_after_days,
    )


def assert_matches(got: list[dict[str, Any]], want: list[tuple[str, float]]) -> None:
    assert [r["id"] for r in got] == [i for i, _ in want]
    for record, (_, distance) in zip(got, want, strict=True):
        assert abs(record["distance_m"] - distance) <= 1.0


def assert_page(result: NearbyResult, query: NearbyQuery, want: Expected) -> None:
    window = slice(query.offset, query.offset + query.limit)
    assert result.total == len(want.results)
    assert result.hours_unknown_total == len(want.hours_unknown)
    assert_matches(result.results, want.results[window])
    assert_matches(result.hours_unknown, want.hours_unknown[window])


def test_m32_0th_finds_the_town_hall_library_within_1600_m(
    store: Store, taxonomy: Taxonomy
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    _, result = run(
        store, taxonomy, {"postcode": "M32 0TH", "radius_m": "1600", "category": "library"}
    )
    assert [r["name"] for r in result.results] == ["Trafford Town Hall Library"]
    # distance from the postcode centroid to the council's point for the library, by pyproj
    features = json.loads(TRAFFORD_LIBRARIES.read_text())["features"]
    (town_hall,) = [f for f in features if f["properties"]["name"] == "Trafford Town Hall Library"]
    lon, lat = town_hall["geometry"]["coordinates"]
    distance = GEOD.inv(*M32_0TH, lon, lat)[2]
    (hit,) = result.results
    assert hit["distance_m"] == pytest.approx(distance, abs=0.05)
    assert 30 < hit["distance_m"] < 35  # ~33 m: the library is in the town hall itself
    assert (hit["distance_miles"], hit["walking_minutes"]) == (0.02, 1)
    assert hit["walking_label"] == "1 min walk (straight line at 4.8 km/h)"
    assert hit["postcode"] == "M32 0TH" and hit["category_label"] == "Library"
    assert hit["cost"] == "free" and hit["audience"] == ["everyone"]

    _, wider = run(
        store,
        taxonomy,
        {"postcode": "M32 0TH", "radius": "1.5", "unit": "mi", "category": "library"},
    )
    assert [r["name"] for r in wider.results] == [
        "Trafford Town Hall Library",
        "Old Trafford Library at Limelight",
        "Stretford Library",
    ]
    assert [round(r["distance_m"], -1) for r in wider.results] == [30, 1720, 2200]


@pytest.mark.parametrize(
    "params",
    [
        {"postcode": "M32 0TH"},
        {"postcode": "M33 7", "radius": "3", "unit": "km"},
        {"postcode": "WA14", "radius_m": "5000", "category": "park,allotment"},
        {"lat": "53.42", "lon": "-2.35", "radius": "31", "unit": "mi", "limit": "500"},
        {"lat": "53.42", "lon": "-2.35", "radius_m": "50000", "q": "cafe", "limit": "500"},
        {"postcode": "M41", "radius_m": "8000", "cost": ["free", "time_credits"]},
        {"postcode": "M33", "radius_m": "9000", "access": ["step_free", "hearing_loop"]},
        {"postcode": "M32 0TH", "radius_m": "10000", "audience": "older_people"},
        {"postcode": "M32 0TH", "radius_m": "10000", "audience": "everyone", "offset": "7"},
        {"postcode": "M16 9NW", "radius_m": "6000", "open_on": "tue 11:00", "limit": "20"},
        {"postcode": "M33 7ZF", "radius_m": "20000", "open_on": "sun 10:00", "q": "sale"},
    ],
)
def test_results_equal_a_brute_force_geodesic_filter(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset], params: dict[str, Any]
) -> None:
    query, result = run(store, taxonomy, params)
    want = expected_for(trafford, query)
    assert_page(result, query, want)
    # each case finds something, so the comparison means something
    assert result.total > 0 and (query.open_on is None or result.hours_unknown_total > 0)


def test_stale_listings_follow_fresh_ones_within_each_400_m_band(
    store: Store, taxonomy: Taxonomy
) -> None:
    def at(name: str, metres: float, verified: date | None) -> Asset:
        lon, lat, _ = GEOD.fwd(*M32_0TH, 90.0, metres)
        when = verified.isoformat() if verified else None
        row = {"name": name, "category": "library", "lon": lon, "lat": lat, "last_verified": when}
        return build_asset(row, taxonomy)

    fresh, old = TODAY - timedelta(days=365), TODAY - timedelta(days=366)
    for asset in [
        at("A stale 20", 20, old),
        at("B never 30", 30, None),
        at("C fresh 390", 390, fresh),
        at("D stale 405", 405, old),
        at("E fresh 410", 410, TODAY),
        at("F stale 900", 900, old),
    ]:
        store.create_asset(asset, author="test")
    _, result = run(store, taxonomy, {"lat": repr(M32_0TH[1]), "lon": repr(M32_0TH[0])})
    names = [r["name"] for r in result.results]
    assert names == [
        "C fresh 390",
        "A stale 20",
        "B never 30",
        "E fresh 410",
        "D stale 405",
        "F stale 900",
    ]
    assert [r["stale"] for r in result.results] == [False, True, True, False, True, True]
    # a year is configurable: with 366 days, "D" is fresh and ranks by distance in its band
    _, longer = run(
        store, taxonomy, {"lat": repr(M32_0TH[1]), "lon": repr(M32_0TH[0])}, stale_after_days=366
    )
    assert [r["name"] for r in longer.results][3:5] == ["D stale 405", "E fresh 410"]


def test_open_on_keeps_open_assets_and_lists_unknown_hours_apart(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    _, result = run(
        store, taxonomy, {"postcode": "M33", "radius_m": "10000", "open_on": "sat 10:00"}
    )
    by_id = {a.id: a for a in trafford}
    assert result.results and result.hours_unknown
    for record in result.results:
        schedule = by_id[record["id"]].opening_times.schedule
        assert schedule is not None and schedule.is_open("sat", "10:00")
        assert record["opening_times"]["status"] == "structured"
    assert {r["opening_times"]["status"] for r in result.hours_unknown} == {"unknown", "unparsed"}
    # nothing within reach is silently dropped: open + unknown + closed = everything
    _, everything = run(store, taxonomy, {"postcode": "M33", "radius_m": "10000", "limit": "500"})
    closed = [
        r
        for r in everything.results
        if r["opening_times"]["status"] == "structured"
        and not by_id[r["id"]].opening_times.schedule.is_open("sat", "10:00")  # type: ignore[union-attr]
    ]
    assert result.total + result.hours_unknown_total + len(closed) == everything.total


def test_text_search_ignores_case_and_accents(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    params = {"lat": "53.42", "lon": "-2.35", "radius_m": "50000", "limit": "500"}
    spellings = [run(store, taxonomy, {**params, "q": q})[1] for q in ("cafe", "CAFÉ", "Café")]
    ids = [[r["id"] for r in s.results] for s in spellings]
    assert ids[0] and ids[0] == ids[1] == ids[2]
    texts = [f"{r['name']} {r['description']}".lower() for r in spellings[0].results]
    assert any("café" in t for t in texts) and any("cafe" in t for t in texts)
    # words must start a word: "afe" is inside "cafe" but starts none
    assert run(store, taxonomy, {**params, "q": "afe"})[1].total == 0


def test_audience_everyone_and_unstated_match_any_audience(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    params = {"postcode": "M32", "radius_m": "10000", "limit": "500"}
    _, carers = run(store, taxonomy, {**params, "audience": "carers"})
    audiences = {tuple(r["audience"]) for r in carers.results}
    assert () in audiences and ("everyone",) in audiences
    assert ("carers", "learning_disabilities") in audiences
    assert ("older_people",) not in audiences
    _, everyone = run(store, taxonomy, {**params, "audience": "everyone"})
    assert {tuple(r["audience"]) for r in everyone.results} <= {(), ("everyone",)}


def test_cost_filters_match_any_and_access_needs_all(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    params = {"postcode": "M32", "radius_m": "10000", "limit": "500"}
    _, free = run(store, taxonomy, {**params, "cost": "free"})
    assert free.total and all(r["cost"] == "free" for r in free.results)
    _, either = run(store, taxonomy, {**params, "cost": ["free", "time_credits"]})
    assert either.total > free.total
    assert all(r["cost"] == "free" or "time_credits" in r["currencies"] for r in either.results)
    _, both = run(store, taxonomy, {**params, "access": "step_free,hearing_loop"})
    assert both.total and all(
        {"step_free", "hearing_loop"} <= set(r["accessibility"]) for r in both.results
    )


def test_pages_join_up_to_the_whole_list(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    params = {"postcode": "M33 7", "radius_m": "4000"}
    _, whole = run(store, taxonomy, {**params, "limit": "500"})
    pages = [
        run(store, taxonomy, {**params, "limit": "7", "offset": str(o)})[1]
        for o in range(0, whole.total + 7, 7)
    ]
    assert {p.total for p in pages} == {whole.total}
    assert [r for p in pages for r in p.results] == whole.results
    assert pages[-1].results == []


def test_only_published_assets_are_found(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    hidden = {a.id for a in trafford if a.status != "published"}
    assert hidden
    _, result = run(
        store, taxonomy, {"lat": "53.42", "lon": "-2.35", "radius_m": "50000", "limit": "500"}
    )
    assert result.total == len(trafford) - len(hidden)
    assert not hidden & {r["id"] for r in result.results}


def test_property_results_equal_brute_force_over_random_queries(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    seen = {"results": 0}

    # Random filters often leave nothing to compare; this example always has results (Sale,
    # 5 km, free or personal budget, with hours), so the comparison below is never empty.
    @example(
        lon=-2.3235,
        lat=53.4246,
        radius_m=5_000.0,
        categories=[],
        q="",
        cost=["free", "personal_budget"],
        access=[],
        audience=None,
        open_on=("mon", "14:00"),
        limit=40,
        offset=3,
        stale_after_days=365,
        today=date(2026, 11, 23),
    )
    @settings(max_examples=60, deadline=None)
    @given(
        lon=st.floats(-2.55, -2.2),
        lat=st.floats(53.33, 53.51),
        # 100 m to 50 km, log-uniform so short walks are as well covered as long drives
        radius_m=st.one_of(
            st.sampled_from([100.0, 50_000.0]),
            st.floats(2.0, 4.69897).map(lambda e: min(round(10**e, 3), 50_000.0)),
        ),
        categories=st.lists(
            st.sampled_from(["library", "park", "place_of_worship", "leisure_centre", "school"]),
            unique=True,
            max_size=3,
        ),
        q=st.sampled_from(["", "", "", "park", "St", "café", "centre", "sale leisure"]),
        cost=st.lists(st.sampled_from(list(COST_FILTERS)), unique=True, max_size=2),
        access=st.lists(
            st.sampled_from(["step_free", "hearing_loop", "accessible_toilet", "bsl"]),
            unique=True,
            max_size=2,
        ),
        audience=st.sampled_from([None, None, "everyone", "older_people", "carers"]),
        open_on=st.sampled_from([None, None, ("mon", "14:00"), ("sat", "09:30"), ("sun", "23:59")]),
        limit=st.integers(1, 80),
        offset=st.integers(0, 30),
        stale_after_days=st.sampled_from([0, 30, 365, 730]),
        today=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    )
    def check(
        lon: float,
        lat: float,
        radius_m: float,
        categories: list[str],
        q: str,
        cost: list[str],
        access: list[str],
        audience: str | None,
        open_on: tuple[str, str] | None,
        limit: int,
        offset: int,
        stale_after_days: int,
        today: date,
    ) -> None:
        params: dict[str, Any] = {
            "lon": repr(lon),
            "lat": repr(lat),
            "radius_m": repr(radius_m),
            "category": categories,
            "q": q,
            "cost": cost,
            "access": access,
            "audience": audience or "",
            "open_on": " ".join(open_on) if open_on else "",
            "limit": str(limit),
            "offset": str(offset),
        }
        query, result = run(store, taxonomy, params, today=today, stale_after_days=stale_after_days)
        want = expected_for(trafford, query, today=today, stale_after_days=stale_after_days)
        assert_page(result, query, want)
        seen["results"] += len(result.results) + len(result.hours_unknown)

    check()
    assert seen["results"] > 0


def test_property_unfiltered_pages_equal_brute_force(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset]
) -> None:
    # Without text, cost, access, audience or hours filters the search reads only the 400 m
    # bands a page falls in; pages deep in the list and across band edges must still match.
    seen = {"results": 0, "deep": 0}

    # Always a deep page across band edges, whatever hypothesis draws.
    @example(
        lon=-2.33,
        lat=53.43,
        radius_m=12_000.0,
        categories=[],
        limit=30,
        offset=120,
        stale_after_days=365,
        today=date(2026, 11, 23),
    )
    @settings(max_examples=60, deadline=None)
    @given(
        lon=st.floats(-2.45, -2.25),
        lat=st.floats(53.38, 53.48),
        radius_m=st.sampled_from([400.0, 1_609.344, 5_000.0, 12_000.0, 50_000.0]),
        categories=st.lists(st.sampled_from(["library", "park", "school"]), max_size=2),
        limit=st.integers(1, 60),
        offset=st.integers(0, 300),
        stale_after_days=st.sampled_from([0, 365, 10_000]),
        today=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    )
    def check(
        lon: float,
        lat: float,
        radius_m: float,
        categories: list[str],
        limit: int,
        offset: int,
        stale_after_days: int,
        today: date,
    ) -> None:
        params: dict[str, Any] = {
            "lon": repr(lon),
            "lat": repr(lat),
            "radius_m": repr(radius_m),
            "category": sorted(set(categories)),
            "limit": str(limit),
            "offset": str(offset),
        }
        query, result = run(store, taxonomy, params, today=today, stale_after_days=stale_after_days)
        want = expected_for(trafford, query, today=today, stale_after_days=stale_after_days)
        assert_page(result, query, want)
        seen["results"] += len(result.results) + len(result.hours_unknown)
        seen["deep"] += offset >= 50 and len(result.results) > 0

    check()
    assert seen["results"] > 0 and seen["deep"] > 0


def test_pages_cut_through_exact_ties_match_brute_force(store: Store, taxonomy: Taxonomy) -> None:
    # Twelve listings at one spot (one distance), fresh, stale and never verified, with
    # repeated names: page edges fall inside groups that only name and id can order.
    spot = GEOD.fwd(*M32_0TH, 45.0, 150.0)[:2]
    rows: list[dict[str, Any]] = []
    for i in range(12):
        verified = None if i % 4 == 0 else TODAY - timedelta(days=30 if i % 3 else 800)
        rows.append({"name": f"Same spot {i % 5}", "lon": spot[0], "lat": spot[1], "v": verified})
    for metres in (20.0, 300.0, 390.0, 450.0):
        lon, lat, _ = GEOD.fwd(*M32_0TH, 90.0, metres)
        rows.append({"name": f"Apart {metres:.0f}", "lon": lon, "lat": lat, "v": TODAY})
    stored = [
        store.create_asset(
            build_asset(
                {
                    "name": r["name"],
                    "category": "library",
                    "lon": r["lon"],
                    "lat": r["lat"],
                    "last_verified": r["v"].isoformat() if r["v"] else None,
                },
                taxonomy,
            ),
            author="test",
        )
        for r in rows
    ]
    where = {"lat": repr(M32_0TH[1]), "lon": repr(M32_0TH[0])}
    for limit in (1, 2, 3, 5, 7):
        for offset in range(17):
            params = {**where, "limit": str(limit), "offset": str(offset)}
            query, result = run(store, taxonomy, params)
            assert_page(result, query, expected_for(stored, query))


def _count_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the keys of every asset a search reads from the store."""
    keys: list[int] = []
    real = store.nearby_set

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        read = found._read

        def reading(part: list[int]) -> Any:
            keys.extend(part)
            return read(part)

        found._read = reading
        return found

    monkeypatch.setattr(store, "nearby_set", counted)
    return keys


def test_an_unfiltered_page_reads_only_the_listings_it_shows(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = _count_reads(store, monkeypatch)
    params = {"postcode": "M32 0TH", "radius_m": "5000", "limit": "25", "offset": "40"}
    query, result = run(store, taxonomy, params)
    assert_page(result, query, expected_for(trafford, query))
    # The bands this page falls in hold more; their staleness came from the store's index.
    assert len(result.results) == 25 and len(keys) == 25


def test_a_listing_withdrawn_mid_search_is_skipped_and_the_page_stays_full(
    store: Store, taxonomy: Taxonomy, trafford: list[Asset], monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"postcode": "M32 0TH", "radius_m": "5000", "limit": "25", "offset": "40"}
    query, before = run(store, taxonomy, params)
    withdrawn = before.results[3]["id"]
    real = store.nearby_set

    def withdrawing(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        # After the search found it, before its page is read.
        store.set_status(withdrawn, "archived", author="test", reason="closed")
        return found

    monkeypatch.setattr(store, "nearby_set", withdrawing)
    _, after = run(store, taxonomy, params)
    current = store.list_assets(status=None)
    want = expected_for(current, query).results[query.offset : query.offset + query.limit]
    assert withdrawn not in [r["id"] for r in after.results]
    assert_matches(after.results, want)
