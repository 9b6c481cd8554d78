"""A resident's name and email reach admins and the moderators of the place's area, no one else.

Areas are local authority districts from the shipped LSOA boundaries: a submission's area is
the district its point lies in. Points: Hale Library and a group by it (Trafford open data),
Camden Town (Camden) and Manchester Piccadilly (Manchester: not a shipped district).
"""

from __future__ import annotations

import pytest
from flask import Flask

import shapely

from assetmap.domain.asset import build_asset
from assetmap.domain.submission import Submission, Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.areas import AreaIndex
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.staff import main_text, signed_in_client

TRAFFORD, CAMDEN = "E08000009", "E09000007"
HALE_GROUP = {
    "name": "Hale Knit and Natter",
    "category": "activity_group",
    "lon": -2.345700,
    "lat": 53.376100,
}
CAMDEN_GROUP = {"name": "Camden Town Chatters", "category": "activity_group"}
CAMDEN_GROUP |= {"lon": -0.14260, "lat": 51.53900}
MANCHESTER_GROUP = {"name": "Piccadilly Peer Support", "category": "peer_support_group"}
MANCHESTER_GROUP |= {"lon": -2.23080, "lat": 53.47740}


def sender(tag: str) -> Submitter:
    return Submitter(name=f"Canary {tag} Resident", email=f"canary-{tag}@example.org")


def contact(tag: str) -> tuple[str, str]:
    who = sender(tag)
    return who.name, who.email


@pytest.fixture
def subs(store: Store, taxonomy: Taxonomy) -> dict[str, Submission]:
    """One pending item per place, each from a different resident."""
    (hale,) = create_all(store, [LIBRARIES[2]], taxonomy)
    out = {}
    for tag, row in (("hale", HALE_GROUP), ("camden", CAMDEN_GROUP), ("mcr", MANCHESTER_GROUP)):
        out[tag], _ = store.submit_new(build_asset(row, taxonomy), submitter=sender(tag))
    out["change"], _ = store.submit_change(
        hale.id, changes={"phone": "0161 912 3456"}, submitter=sender("change")
    )
    return out


def assert_shown(html: str, *tags: str) -> None:
    for tag in tags:
        for value in contact(tag):
            assert value in html, f"{value} should be shown"


def assert_absent(html: str, *tags: str) -> None:
    for tag in tags:
        for value in contact(tag):
            assert value not in html, f"{value} leaked"
        assert f"canary-{tag}" not in html.lower()


def test_trafford_moderator_sees_only_trafford_senders(
    app: Flask, store: Store, subs: dict[str, Submission]
) -> None:
    mo = signed_in_client(app, store, "mo", "moderator", areas=(TRAFFORD,))
    queue = mo.get("/moderate")
    html = queue.get_data(as_text=True)
    assert_shown(html, "hale", "change")  # a new group in Hale; a change to Hale Library
    assert_absent(html, "camden", "mcr")
    text = main_text(queue)
    assert "Submitter's contact details are only shown to moderators for Camden." in text
    assert (
        "Submitter's contact details are only shown to administrators: this place is outside"
        " every area that moderators look after."
    ) in text
    for tag in ("hale", "change"):
        page = mo.get(f"/moderate/{subs[tag].ref}").get_data(as_text=True)
        assert_shown(page, tag)
        assert f'href="mailto:{sender(tag).email}"' in page
        assert "Trafford (E08000009)" in page
    for tag, note in (("camden", "moderators for Camden"), ("mcr", "only shown to admin")):
        for path in (f"/moderate/{subs[tag].ref}", f"/moderate/{subs[tag].ref}/edit"):
            response = mo.get(path)
            assert response.status_code == 200
            assert_absent(response.get_data(as_text=True), tag)
        assert note in main_text(mo.get(f"/moderate/{subs[tag].ref}"))
    assert "Outside every known area" in main_text(mo.get(f"/moderate/{subs['mcr'].ref}"))


def test_camden_moderator_and_one_without_areas(
    app: Flask, store: Store, subs: dict[str, Submission]
) -> None:
    cam = signed_in_client(app, store, "cam", "moderator", areas=(CAMDEN,))
    html = cam.get("/moderate").get_data(as_text=True)
    assert_shown(html, "camden")
    assert_absent(html, "hale", "change", "mcr")
    assert "only shown to moderators for Trafford" in html
    none = signed_in_client(app, store, "nob", "moderator")
    html = none.get("/moderate").get_data(as_text=True)
    assert_absent(html, "hale", "change", "camden", "mcr")
    # They still moderate everything: the decisions are there, only the contact is not.
    page = none.get(f"/moderate/{subs['hale'].ref}").get_data(as_text=True)
    assert f"/moderate/{subs['hale'].ref}/approve" in page


def test_admin_sees_every_sender(app: Flask, store: Store, subs: dict[str, Submission]) -> None:
    ada = signed_in_client(app, store, "ada", "admin")
    assert_shown(ada.get("/moderate").get_data(as_text=True), "hale", "change", "camden", "mcr")
    page = ada.get(f"/moderate/{subs['mcr'].ref}").get_data(as_text=True)
    assert_shown(page, "mcr")
    assert "only shown to" not in page


def test_changed_areas_apply_at_the_next_page(
    app: Flask, store: Store, subs: dict[str, Submission]
) -> None:
    cam = signed_in_client(app, store, "cam", "moderator", areas=(CAMDEN,))
    path = f"/moderate/{subs['hale'].ref}"
    assert_absent(cam.get(path).get_data(as_text=True), "hale")
    store.set_areas("cam", [CAMDEN, TRAFFORD])
    assert_shown(cam.get(path).get_data(as_text=True), "hale")  # same session, not signed out
    store.set_areas("cam", [])
    assert_absent(cam.get(path).get_data(as_text=True), "hale")


def test_a_resident_who_gave_no_details_is_shown_as_not_given(
    app: Flask, store: Store, taxonomy: Taxonomy
) -> None:
    sub, _ = store.submit_new(build_asset(CAMDEN_GROUP, taxonomy), submitter=Submitter())
    mo = signed_in_client(app, store, "mo", "moderator", areas=(TRAFFORD,))
    text = main_text(mo.get(f"/moderate/{sub.ref}"))
    assert "Not given" in text and "only shown to" not in text


def test_area_names_are_escaped(app: Flask, store: Store, subs: dict[str, Submission]) -> None:
    # A boundary file whose district name is markup: it is shown as text.
    hostile = '<script>alert(1)</script> & "Hale"'
    box = shapely.box(-2.36, 53.37, -2.33, 53.39)
    app.extensions["assetmap.areas"] = AreaIndex(["E01000001"], [TRAFFORD], [hostile], [box])
    cam = signed_in_client(app, store, "cam", "moderator", areas=(CAMDEN,))
    for path in ("/moderate", f"/moderate/{subs['hale'].ref}"):
        html = cam.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Hale&#34;" in html
        assert_absent(html, "hale")
