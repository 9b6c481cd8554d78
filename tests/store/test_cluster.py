"""Store.cluster (``assetmap cluster``): rows in spatial order, every answer unchanged.

On the real Trafford bundle: searches, listings and histories read the same before and after.
On SQLite, where clustering renumbers the internal keys, a search that took its keys before
the renumbering and reads the assets after it must search again, never show another asset.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from assetmap.analysis.nearby import NearbyQuery, search_nearby
from assetmap.domain.asset import build_asset
from assetmap.domain.errors import AssetmapError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import NearbyHit, Store
from assetmap.store.base import AssetsRekeyed
from assetmap.store.cells import cell_of
from assetmap.store.sqlite import SQLiteStore
from tests.analysis.trafford import load_trafford
from tests.store.test_contract import SALE

# M32 0TH (Stretford), M33 7ZF (Sale) and WA14 1PF (Altrincham), from data/postcodes.
POINTS = ((-2.28748, 53.45901), (-2.32, 53.42512), (-2.35262, 53.38745))


def answers(store: Store) -> list[list[tuple[str, float]]]:
    """(id, distance) of every search the tests repeat: limited, unlimited, one category."""
    out = []
    for lon, lat in POINTS:
        for kwargs in ({"limit": 20}, {}, {"categories": ["library", "park"], "limit": 5}):
            hits = store.nearby(lon, lat, 3_000, **kwargs)  # type: ignore[arg-type]
            out.append([(h.asset.id, h.distance_m) for h in hits])
    return out


def test_clustering_changes_no_answer_and_no_history(store: Store, taxonomy: Taxonomy) -> None:
    written = load_trafford(store)
    before = answers(store)
    assert sum(len(a) for a in before) > 300  # the searches see plenty of the real bundle
    listed = store.list_assets(status=None)
    some = written[::40]
    histories = {a.id: store.history(a.id) for a in some}
    assert store.cluster() == len(written)
    assert answers(store) == before
    assert store.list_assets(status=None) == listed
    assert {a.id: store.history(a.id) for a in some} == histories
    # and the store writes and finds as before: Sale Library again, then moved to M33 7ZF
    new = store.create_asset(build_asset({**SALE, "source_id": "again"}, taxonomy), author="t")
    assert store.nearby(SALE["lon"], SALE["lat"], 1, categories=["library"]) == [
        NearbyHit(new, 0.0)
    ]
    moved = store.update_asset(new.id, {"lon": POINTS[1][0], "lat": POINTS[1][1]}, author="t")
    assert store.nearby(*POINTS[1], 1, categories=["library"]) == [NearbyHit(moved, 0.0)]
    assert store.cluster() == len(written) + 1
    # and after clustering again, the moved library is the nearest thing to M33 7ZF
    assert answers(store)[3][0] == (moved.id, 0.0)


def sqlite_keys(path: Path) -> tuple[SQLiteStore, SQLiteStore]:
    """Two stores on one file, standing in for two processes: each its own points in memory."""
    url = f"sqlite:///{path}"
    first = SQLiteStore(url)
    first.migrate()
    return first, SQLiteStore(url)


def test_sqlite_keys_follow_the_grid_and_are_never_reused(tmp_path: Path) -> None:
    store, _ = sqlite_keys(tmp_path / "c.db")
    load_trafford(store)
    conn = store._conn()
    (top,) = conn.execute("SELECT max(pk) FROM assets").fetchone()
    ids_before = {r[0]: r[1] for r in conn.execute("SELECT id, pk FROM assets")}
    store.cluster()
    rows = conn.execute("SELECT pk, id, lon, lat FROM assets ORDER BY pk").fetchall()
    assert [r[0] for r in rows] == list(range(top + 1, top + 1 + len(rows)))
    order = [(cell_of(r[2], r[3]), ids_before[r[1]]) for r in rows]
    assert order == sorted(order)  # by cell, then by the old key
    keys = [r[0] for r in rows]
    for table in ("asset_cells", "asset_rtree"):
        assert [r[0] for r in conn.execute(f"SELECT pk FROM {table} ORDER BY pk")] == keys
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def leaf_pages(conn: sqlite3.Connection, table: str) -> list[int]:
    """The table's leaf pages, in key order (the B-tree's own order: dbstat's path)."""
    rows = conn.execute(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", (table,)
    )
    return [r[0] for r in rows]


def test_sqlite_cluster_rewrites_the_file_in_key_order(tmp_path: Path) -> None:
    store, _ = sqlite_keys(tmp_path / "c.db")
    load_trafford(store)
    conn = store._conn()
    before = leaf_pages(conn, "assets")
    assert len(before) > 50
    # what renumbering alone leaves (the rewrite undone): rows in key order, pages not
    with store.transaction():
        store._renumber()
    renumbered = leaf_pages(conn, "assets")
    assert renumbered != sorted(renumbered)
    (grown,) = conn.execute("PRAGMA page_count").fetchone()
    store.cluster()
    pages = leaf_pages(conn, "assets")
    assert pages == sorted(pages)  # reading the hits in key order walks the file forwards
    assert pages[-1] - pages[0] < 2 * len(pages)  # together, not spread over the file
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # free pages given back
    assert conn.execute("PRAGMA page_count").fetchone()[0] < grown
    # and the rewritten pages are in the file itself, not waiting in the write-ahead log
    assert (tmp_path / "c.db-wal").stat().st_size == 0


def test_a_cluster_inside_a_transaction_renumbers_and_leaves_the_file(tmp_path: Path) -> None:
    store, _ = sqlite_keys(tmp_path / "c.db")
    written = load_trafford(store)
    want = answers(store)
    with store.transaction():
        assert store.cluster() == len(written)
    assert answers(store) == want
    pages = leaf_pages(store._conn(), "assets")
    assert pages != sorted(pages)  # SQLite cannot rewrite the file inside a transaction


def test_a_cluster_that_cannot_rewrite_the_file_says_so_and_keeps_the_new_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, other = sqlite_keys(tmp_path / "c.db")
    written = load_trafford(store)
    want = answers(store)
    conn = store._conn()
    (top,) = conn.execute("SELECT max(pk) FROM assets").fetchone()
    conn.execute("PRAGMA busy_timeout=200")  # not the 30 s a real writer would be given
    renumber = store._renumber
    writer = other._conn()

    def renumber_then_another_writes() -> int:
        count = renumber()
        writer.execute("BEGIN IMMEDIATE")  # another process starts writing just then
        return count

    monkeypatch.setattr(store, "_renumber", renumber_then_another_writes)
    with pytest.raises(AssetmapError, match=r"renumbered in spatial order, but .* locked"):
        store.cluster()
    writer.execute("ROLLBACK")
    assert conn.execute("SELECT min(pk) FROM assets").fetchone()[0] == top + 1
    assert answers(store) == want
    monkeypatch.undo()
    assert store.cluster() == len(written)  # and run again, it finishes


def test_a_search_whose_keys_went_stale_searches_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, other = sqlite_keys(tmp_path / "c.db")
    load_trafford(reader)
    want = answers(reader)
    # Another process clusters just after the reader found its keys, before it reads them.
    found_keys = reader._measure
    clustered = []

    def measure_then_cluster(*args: object, **kwargs: object) -> object:
        result = found_keys(*args, **kwargs)  # type: ignore[arg-type]
        if not clustered:
            clustered.append(other.cluster())
        return result

    monkeypatch.setattr(reader, "_measure", measure_then_cluster)
    assert answers(reader) == want
    assert clustered  # it did cluster in the middle of the first search


def test_a_nearby_set_from_before_a_cluster_refuses_to_read(tmp_path: Path) -> None:
    reader, other = sqlite_keys(tmp_path / "c.db")
    load_trafford(reader)
    found = reader.nearby_set(*POINTS[0], 1_000)
    assert len(found) > 10
    first = [h.asset.id for h in found.hits(range(5))]
    other.cluster()
    with pytest.raises(AssetsRekeyed):
        found.states(range(5))
    # a new set reads the same assets under their new keys
    assert [h.asset.id for h in reader.nearby_set(*POINTS[0], 1_000).hits(range(5))] == first


def test_the_coordinator_search_survives_a_cluster_mid_search(
    tmp_path: Path, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, other = sqlite_keys(tmp_path / "c.db")
    load_trafford(reader)
    query = NearbyQuery(
        lon=POINTS[0][0],
        lat=POINTS[0][1],
        origin_label="M32 0TH",
        origin_kind="postcode",
        radius_m=2_000,
    )
    today = date(2026, 11, 23)
    want = search_nearby(reader, query, taxonomy=taxonomy, today=today)
    assert want.total > 20
    take_set = reader.nearby_set
    calls = []

    def set_then_cluster(*args: object, **kwargs: object) -> object:
        found = take_set(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(found)
        if len(calls) == 1:
            other.cluster()  # after the set's keys were taken, before its page is read
        return found

    monkeypatch.setattr(reader, "nearby_set", set_then_cluster)
    got = search_nearby(reader, query, taxonomy=taxonomy, today=today)
    assert len(calls) == 2  # the first try met the renumbering and searched again
    assert got.results == want.results and got.total == want.total
