"""Whose contact details staff may see, from the asset's point and their areas."""

from __future__ import annotations

from assetmap.domain.asset import build_asset
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
