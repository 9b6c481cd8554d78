"""Whose contact details staff may see, from the asset's point and their areas."""

from __future__ import annotations

import pytest

from assetmap.domain.asset import build_asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.areas import load_default_areas
from assetmap.services.moderating import as_seen_by
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all

TRAFFORD, CAMDEN = "E08000009", "E09000007"
RITA = Submitter(name="Rita Resident", email="rita@example.org", client_key="c1")


def test_the_area_is_the_assets_point_not_what_a_change_proposes(
    store: Store, taxonomy: Taxonomy
) -> None:
    (hale,) = create_all(store, [LIBRARIES[2]], taxonomy)  # Hale Library, Trafford
    users = [
        store.create_user("mo", role="moderator", password_hash="h", areas=[TRAFFORD]),
        store.create_user("cam", role="moderator", password_hash="h", areas=[CAMDEN]),
        store.create_user("cara", role="commissioner", password_hash="h", areas=[TRAFFORD]),
        store.create_user("ada", role="admin", password_hash="h"),
    ]
    # A resident proposes a Camden postcode for a Trafford library: still Trafford's to check.
    sub, _ = store.submit_change(hale.id, changes={"postcode": "NW1 7JE"}, submitter=RITA)
    areas = load_default_areas()
    seen = {u.username: as_seen_by(u, sub, hale, areas) for u in users}
    for name in ("mo", "ada"):
        assert seen[name].submission == sub and not seen[name].withheld and not seen[name].note
    for name in ("cam", "cara"):
        hidden = seen[name].submission.submitter
        assert (hidden.name, hidden.email, hidden.author) == ("", "", "resident")
        assert seen[name].withheld
        assert seen[name].note == (
            "Submitter's contact details are only shown to moderators for Trafford."
        )
    assert {s.area.code for s in seen.values() if s.area} == {TRAFFORD}


def test_a_place_outside_every_area_is_for_admins_only(store: Store, taxonomy: Taxonomy) -> None:
    # Manchester Piccadilly: Manchester is not one of the shipped districts.
    row = {
        "name": "Piccadilly Peers",
        "category": "peer_support_group",
        "lon": -2.2308,
        "lat": 53.4774,
    }
    sub, _ = store.submit_new(build_asset(row, taxonomy), submitter=RITA)
    asset = store.get_asset(sub.asset_id)
    mo = store.create_user("mo", role="moderator", password_hash="h", areas=[TRAFFORD])
    ada = store.create_user("ada", role="admin", password_hash="h")
    areas = load_default_areas()
    assert as_seen_by(mo, sub, asset, areas).area is None
    assert "only shown to administrators" in as_seen_by(mo, sub, asset, areas).note
    assert as_seen_by(ada, sub, asset, areas).submission.submitter == RITA


# -- reverting a resident's submission -----------------------------------------------------


def _approved_with_edits(store: Store, taxonomy: Taxonomy) -> str:
    """A resident's new place, approved with a moderator's edit: revisions 1 (pending), 2."""
    row = {**LIBRARIES[2], "name": "Hale Knit and Natter", "category": "activity_group"}
    sub, _ = store.submit_new(build_asset(row, taxonomy), submitter=RITA)
    store.approve(sub.ref, moderator="user:mo", expected_version=1, edits={"name": "Hale Knitters"})
    return sub.asset_id


def test_reverting_to_the_submitted_revision_keeps_the_asset_published(
    store: Store, taxonomy: Taxonomy
) -> None:
    asset_id = _approved_with_edits(store, taxonomy)
    reverted = store.revert(asset_id, 1, author="user:ann", expected_revision=2)
    # The resident's own wording is back, and the asset is still on the public map: a
    # revert to "pending" would have hidden it while no queue listed it.
    assert (reverted.name, reverted.status, reverted.revision) == (
        "Hale Knit and Natter",
        "published",
        3,
    )
    assert store.count_submissions(status="pending") == 0
    hits = store.nearby(reverted.lon, reverted.lat, 10, status="published")
    assert [h.asset.id for h in hits] == [asset_id]
    history = store.history(asset_id)
    assert [(r.number, r.action, r.state["status"]) for r in history] == [
        (1, "create", "pending"),
        (2, "update", "published"),
        (3, "revert", "published"),
    ]
    assert history[2].changed == ("name",)


def test_a_revert_that_would_only_bring_back_pending_is_refused(
    store: Store, taxonomy: Taxonomy
) -> None:
    row = {**LIBRARIES[2], "name": "Hale Knit and Natter", "category": "activity_group"}
    sub, _ = store.submit_new(build_asset(row, taxonomy), submitter=RITA)
    store.approve(sub.ref, moderator="user:mo", expected_version=1)  # no edits
    with pytest.raises(ValidationError) as caught:
        store.revert(sub.asset_id, 1, author="user:ann")
    assert caught.value.field == "to_revision"
    assert caught.value.message == (
        "Revision 1 differs from the current version only in its status (“Pending"
        " moderation”), and a revert does not move an asset into or out of moderation: it"
        " would stay “Published” with nothing changed."
    )
    assert [r.number for r in store.history(sub.asset_id)] == [1, 2]  # nothing written
    # A rejected submission cannot be brought back into a queue that no longer lists it.
    other, _ = store.submit_new(build_asset({**row, "name": "Hale Yarn"}, taxonomy), submitter=RITA)
    store.reject(other.ref, moderator="user:mo", expected_version=1, reason="not a group")
    with pytest.raises(ValidationError, match="would stay “Rejected”"):
        store.revert(other.asset_id, 1, author="user:ann")
    assert store.get_asset(other.asset_id).status == "rejected"
