"""Bulk creation (create_assets): the same rows and history as create_asset, batched."""

from __future__ import annotations

import pytest

import assetmap.store.base as store_base
from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store

# Real Trafford libraries (data/assets/trafford/libraries_trafford_libraries.csv, OGL v3),
# each moved a little so there are several distinct points.
LIBRARY = {"name": "Altrincham Library", "category": "library", "postcode": "WA14 1AH"}
ORIGIN = (-2.352156600534233, 53.38705468210445)


def library(taxonomy: Taxonomy, i: int) -> Asset:
    return build_asset(
        {
            **LIBRARY,
            "name": f"Library {i}",
            "lon": ORIGIN[0] + i * 0.001,
            "lat": ORIGIN[1],
            "source": "bulk-test",
            "source_id": str(i),
            "opening_times": "Mon-Fri 09:00-17:00" if i % 2 else "",
        },
        taxonomy,
    )


def test_create_assets_matches_create_asset(store: Store, taxonomy: Taxonomy) -> None:
    one = store.create_asset(library(taxonomy, 0), author="ann", reason="why")
    assert store.create_assets([library(taxonomy, 1)], author="ann", reason="why") == 1
    bulk = store.find_by_source("bulk-test", "1")
    assert bulk is not None and bulk.revision == 1 and bulk.created_at
    (rev_one,) = store.history(one.id)
    (rev_bulk,) = store.history(bulk.id)
    assert (rev_bulk.number, rev_bulk.action, rev_bulk.author, rev_bulk.reason) == (
        1,
        "create",
        "ann",
        "why",
    )
    assert rev_bulk.changed == rev_one.changed
    assert rev_bulk.state == bulk.to_dict()
    assert bulk.with_changes(id="", created_at="", updated_at="", revision=0) == library(
        taxonomy, 1
    )


def test_create_assets_in_batches_indexes_every_point(
    store: Store, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_base, "_BULK_BATCH", 3)
    store.create_asset(library(taxonomy, 100), author="ann")
    made = (library(taxonomy, i) for i in range(10))  # a generator: consumed in batches
    assert store.create_assets(made, author="bot", action="import") == 10
    assert store.count_assets() == 11 and store.count_revisions() == 11
    hits = store.nearby(*ORIGIN, 2_000)
    assert [h.asset.name for h in hits] == [f"Library {i}" for i in range(10)]
    assert {store.history(h.asset.id)[0].action for h in hits} == {"import"}
    assert len({h.asset.id for h in hits}) == 10
    # later single writes still find and index their rows
    moved = store.update_asset(hits[0].asset.id, {"lat": ORIGIN[1] + 0.1}, author="ann")
    assert moved.revision == 2
    assert hits[0].asset.id not in [h.asset.id for h in store.nearby(*ORIGIN, 2_000)]


def test_create_assets_is_one_transaction(store: Store, taxonomy: Taxonomy) -> None:
    store.create_asset(library(taxonomy, 0).with_changes(id="afixed0000001"), author="ann")
    clash = [library(taxonomy, 1), library(taxonomy, 2).with_changes(id="afixed0000001")]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.create_assets(clash, author="bot")
    assert store.count_assets() == 1 and store.count_revisions() == 1
    assert store.nearby(*ORIGIN, 2_000)[0].asset.id == "afixed0000001"


def test_create_assets_checks_the_action(store: Store, taxonomy: Taxonomy) -> None:
    with pytest.raises(ValidationError):
        store.create_assets([library(taxonomy, 0)], author="bot", action="update")
    assert store.create_assets([], author="bot") == 0
    assert store.count_assets() == 0
