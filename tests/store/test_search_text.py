"""Text search answered in SQL: the stores' search_text column (migration 8), on both backends."""

from __future__ import annotations

from assetmap.domain.asset import build_asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.text import fold_text, matches_words, search_text
from assetmap.store import Store, open_store
from assetmap.store.base import StoredRow

# Stretford, in the north of Trafford; 6 km takes in a few hundred of its assets.
LON, LAT, RADIUS_M = -2.3100, 53.4460, 6_000.0


def _python_check(rows: list[StoredRow], words: tuple[str, ...]) -> list[str]:
    """Ids of the rows whose words match, checked in Python: the reference."""
    return [
        row.state["id"]
        for row in rows
        if matches_words(search_text(row.state["name"], row.state["description"]), words)
    ]


def _ids(store: Store, words: tuple[str, ...]) -> list[str]:
    found = store.nearby_set(LON, LAT, RADIUS_M, words=words)
    return [row.state["id"] for row in found.states(range(len(found)))]


def test_words_narrow_the_set_exactly_as_the_python_check(store: Store) -> None:
    from tests.analysis.trafford import load_trafford

    load_trafford(store)
    everything = store.nearby_set(LON, LAT, RADIUS_M)
    all_rows = everything.states(range(len(everything)))
    assert len(all_rows) > 200
    checked_some = 0
    for words in (("library",), ("lib",), ("rary",), ("community", "centre"), ("park",)):
        want = _python_check(all_rows, words)
        assert _ids(store, words) == want
        checked_some += bool(want)
    # "lib" starts a word of "Library"; "rary" starts none.
    assert _ids(store, ("rary",)) == []
    assert checked_some == 4


def test_accents_and_case_fold_alike_in_sql_and_python(store: Store, taxonomy: Taxonomy) -> None:
    cafe = store.create_asset(
        build_asset(
            {
                "name": "Café Zoë",
                "category": "community_centre",
                "description": "Drop-in FÜR alle; Straße party",
                "lon": LON,
                "lat": LAT,
            },
            taxonomy,
        ),
        author="a",
    )
    for q in ("cafe zoe", "CAFÉ", "für", "fur", "strasse"):
        assert _ids(store, tuple(fold_text(q).split())) == [cafe.id], q
    assert _ids(store, ("zoe", "party", "tea")) == []
    # An edit re-folds the text: the old words no longer find it.
    store.update_asset(cafe.id, {"name": "Tea Room"}, author="a", reason="renamed")
    assert _ids(store, ("zoe",)) == []
    assert _ids(store, ("tea",)) == [cafe.id]


def test_rows_without_folded_text_are_filled_by_the_upgrade(
    store_url: str, taxonomy: Taxonomy
) -> None:
    store = open_store(store_url)
    made = store.create_asset(
        build_asset(
            {"name": "Sale Library", "category": "library", "lon": LON, "lat": LAT}, taxonomy
        ),
        author="a",
    )
    # As a database from before migration 8 (or a row written by an older version) holds it.
    with store.transaction() as conn:
        conn.execute("UPDATE assets SET search_text = NULL")
    # Not yet folded: still a candidate, so the search's own check decides.
    assert _ids(store, ("library",)) == [made.id]
    assert _ids(store, ("park",)) == [made.id]
    with store.transaction() as conn:
        # Back to version 7: later migrations first (sessions' last request, 13;
        # import_sources, 12; PostGIS's planar index, 11; SQLite's change log, 10), then 9, 8.
        conn.execute("ALTER TABLE sessions DROP COLUMN last_seen_at")
        conn.execute("DROP TABLE import_sources")
        if store_url.startswith("sqlite"):
            for trigger in ("asset_cells_inserted", "asset_cells_updated", "asset_cells_deleted"):
                conn.execute(f"DROP TRIGGER {trigger}")
            conn.execute("DROP TABLE cell_changes")
            conn.execute("ALTER TABLE asset_cells DROP COLUMN verified_day")
        else:
            conn.execute("DROP INDEX assets_point")
            conn.execute("DROP INDEX assets_category_point")
        conn.execute("ALTER TABLE assets DROP COLUMN verified_day")
        conn.execute("ALTER TABLE assets DROP COLUMN search_text")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 8")
    store.close()

    # Opened without migrating, the column is not there: it writes without it and searches
    # without narrowing, so the search's own check decides.
    older = open_store(store_url, migrate=False)
    assert _ids(older, ("park",)) == [made.id]
    other = older.create_asset(
        build_asset({"name": "Sale Park", "category": "park", "lon": LON, "lat": LAT}, taxonomy),
        author="a",
    )
    assert sorted(_ids(older, ("park",))) == sorted([made.id, other.id])
    older.close()

    upgraded = open_store(store_url)
    assert max(upgraded._applied_versions(upgraded._conn())) >= 8
    stored = upgraded._conn().execute("SELECT search_text FROM assets").fetchall()
    assert sorted(r[0] for r in stored) == [" sale library", " sale park"]
    assert _ids(upgraded, ("library",)) == [made.id]
    assert _ids(upgraded, ("park",)) == [other.id]
    upgraded.close()
