"""An asset's history page and revert, on every store backend."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.staff import csrf_from, main_text, signed_in_client, text_of

HALE = LIBRARIES[2]


@pytest.fixture
def hale(store: Store, taxonomy: Taxonomy) -> Asset:
    """Hale Library with three revisions: created, phone added, name vandalised."""
    (asset,) = create_all(store, [HALE], taxonomy)
    store.update_asset(asset.id, {"phone": "0161 912 3456"}, author="user:ann", reason="rang")
    return store.update_asset(
        asset.id, {"name": "Hale Library <b>CLOSED</b>"}, author="resident", reason="approved x"
    )


@pytest.fixture
def mo(app: Flask, store: Store) -> FlaskClient:
    return signed_in_client(app, store, "mo", "moderator")


def revert_form(html: str, number: int) -> dict[str, str]:
    """The hidden fields of the revert button for one revision."""
    for form in re.findall(
        r"<form method=\"post\" action=\"[^\"]*/history/revert\">(.*?)</form>", html, re.S
    ):
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
        if fields.get("to_revision") == str(number):
            return fields
    raise AssertionError(f"no revert button for revision {number}")


def test_history_lists_revisions_newest_first_with_diffs(mo: FlaskClient, hale: Asset) -> None:
    response = mo.get(f"/assets/{hale.id}/history")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    headings = re.findall(r'<h2 class="govuk-heading-m" id="revision-(\d+)">', html)
    assert headings == ["3", "2", "1"]
    text = main_text(response)
    assert "Revision 3 (current)" in text
    # Revision 3 changed only the name; the old and new names are both shown, escaped.
    rev3 = html[html.index('id="revision-3"') : html.index('id="revision-2"')]
    assert re.findall(r'data-field="([a-z_]+)"', rev3) == ["name"]
    assert "Hale Library</td>" in rev3 and "Hale Library &lt;b&gt;CLOSED&lt;/b&gt;" in rev3
    assert "<b>CLOSED</b>" not in html
    rev2 = html[html.index('id="revision-2"') : html.index('id="revision-1"')]
    assert re.findall(r'data-field="([a-z_]+)"', rev2) == ["phone"]
    assert "user:ann" in rev2 and "rang" in rev2 and "Changed" in rev2
    rev1 = html[html.index('id="revision-1"') :]
    assert {"name", "category", "address", "postcode", "location"} <= set(
        re.findall(r'data-field="([a-z_]+)"', rev1)
    )
    # Revert buttons for the older revisions, not the current one.
    assert revert_form(html, 1) and revert_form(html, 2)
    with pytest.raises(AssertionError):
        revert_form(html, 3)


def test_revert_creates_a_new_revision(mo: FlaskClient, store: Store, hale: Asset) -> None:
    html = mo.get(f"/assets/{hale.id}/history").get_data(as_text=True)
    response = mo.post(f"/assets/{hale.id}/history/revert", data=revert_form(html, 2))
    assert response.status_code == 303
    asset = store.get_asset(hale.id)
    assert (asset.name, asset.phone, asset.revision) == ("Hale Library", "0161 912 3456", 4)
    history = store.history(hale.id)
    assert len(history) == 4  # nothing removed
    last = history[-1]
    assert (last.action, last.author, last.reason, last.changed) == (
        "revert",
        "user:mo",
        "revert to revision 2",
        ("name",),
    )
    page = mo.get(f"/assets/{hale.id}/history")
    assert "Reverted to revision 2. That is now revision 4." in main_text(page)


def test_a_stale_revert_is_a_conflict(mo: FlaskClient, store: Store, hale: Asset) -> None:
    html = mo.get(f"/assets/{hale.id}/history").get_data(as_text=True)
    store.update_asset(hale.id, {"postcode": "WA15 9NU"}, author="user:ann", reason="typo")
    response = mo.post(f"/assets/{hale.id}/history/revert", data=revert_form(html, 1))
    assert response.status_code == 409
    text = main_text(response)
    assert "This changed since you opened it" in text and "Your revert was not saved" in text
    assert "you saw revision 3, it is now at revision 4" in text
    assert "Revision 4: update by user:ann" in text
    assert store.get_asset(hale.id).revision == 4


def test_reverting_to_the_current_content_is_refused(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    token = csrf_from(mo.get(f"/assets/{hale.id}/history").get_data(as_text=True))
    data = {"csrf_token": token, "to_revision": "3", "revision": "3"}
    assert mo.post(f"/assets/{hale.id}/history/revert", data=data).status_code == 400
    assert store.get_asset(hale.id).revision == 3


def test_reverting_a_submission_to_its_first_version_keeps_it_published(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    resident = Submitter(name="Rita Resident", email="rita@example.org")
    row = {**HALE, "name": "Hale Knit and Natter", "category": "activity_group"}
    sub, _ = store.submit_new(build_asset(row, taxonomy), submitter=resident)
    store.approve(sub.ref, moderator="user:ann", expected_version=1, edits={"name": "Knitters"})
    html = mo.get(f"/assets/{sub.asset_id}/history").get_data(as_text=True)
    rev1 = text_of(html[html.index('id="revision-1"') :])
    assert "also makes the asset" not in rev1
    assert (
        "Reverting restores this version’s details; the asset stays “Published”, because a"
        " revert does not move an asset into or out of moderation."
    ) in rev1
    response = mo.post(f"/assets/{sub.asset_id}/history/revert", data=revert_form(html, 1))
    assert response.status_code == 303
    asset = store.get_asset(sub.asset_id)
    assert (asset.name, asset.status, asset.revision) == ("Hale Knit and Natter", "published", 3)
    assert app.test_client().get(f"/assets/{sub.asset_id}").status_code == 200  # still public
    page = main_text(mo.get(f"/assets/{sub.asset_id}/history"))
    assert (
        "Reverted to revision 1. That is now revision 3. It stays “Published”: a revert does"
        " not move an asset into or out of moderation."
    ) in page


def test_a_version_that_differs_only_by_pending_has_no_revert_button(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    (asset,) = create_all(store, [{**HALE, "status": "pending"}], taxonomy)
    store.set_status(asset.id, "published", author="user:ann")
    html = mo.get(f"/assets/{asset.id}/history").get_data(as_text=True)
    with pytest.raises(AssertionError):
        revert_form(html, 1)
    data = {"csrf_token": csrf_from(html), "to_revision": "1", "revision": "2"}
    response = mo.post(f"/assets/{asset.id}/history/revert", data=data)
    assert response.status_code == 400
    assert "a revert does not move an asset into or out of moderation" in main_text(response)
    assert (store.get_asset(asset.id).status, store.get_asset(asset.id).revision) == (
        "published",
        2,
    )


def test_reverting_to_an_archived_version_still_says_it_archives(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    store.set_status(hale.id, "archived", author="user:ann", reason="closed")
    store.set_status(hale.id, "published", author="user:ann", reason="reopened")
    text = main_text(mo.get(f"/assets/{hale.id}/history"))
    assert "Reverting to this version also makes the asset “Archived”" in text


def test_history_is_for_staff_only(app: Flask, store: Store, hale: Asset) -> None:
    anonymous = app.test_client()
    response = anonymous.get(f"/assets/{hale.id}/history")
    assert response.status_code == 302
    assert response.location == f"/login?next=/assets/{hale.id}/history"
    assert "History of changes" not in anonymous.get(f"/assets/{hale.id}").get_data(as_text=True)
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    page = commissioner.get(f"/assets/{hale.id}/history")
    assert page.status_code == 200
    assert "/history/revert" not in page.get_data(as_text=True)  # reading only
    token = csrf_from(page.get_data(as_text=True))
    data = {"csrf_token": token, "to_revision": "1", "revision": "3"}
    assert commissioner.post(f"/assets/{hale.id}/history/revert", data=data).status_code == 403
    assert store.get_asset(hale.id).revision == 3
    detail = commissioner.get(f"/assets/{hale.id}").get_data(as_text=True)
    assert f'href="/assets/{hale.id}/history"' in detail


def test_revert_needs_the_csrf_token(mo: FlaskClient, store: Store, hale: Asset) -> None:
    data = {"to_revision": "1", "revision": "3"}
    assert mo.post(f"/assets/{hale.id}/history/revert", data=data).status_code == 400
    data["csrf_token"] = "forged"
    assert mo.post(f"/assets/{hale.id}/history/revert", data=data).status_code == 400
    assert store.get_asset(hale.id).revision == 3


def test_unknown_asset_history_is_404(mo: FlaskClient) -> None:
    assert mo.get("/assets/a000000000000/history").status_code == 404


def test_a_revert_keeps_the_moderators_reason(mo: FlaskClient, store: Store, hale: Asset) -> None:
    html = mo.get(f"/assets/{hale.id}/history").get_data(as_text=True)
    assert '<label class="govuk-label" for="reason-2">Reason for reverting to revision 2' in html
    data = {**revert_form(html, 2), "reason": "  Vandalised: the library is open  "}
    assert mo.post(f"/assets/{hale.id}/history/revert", data=data).status_code == 303
    last = store.history(hale.id)[-1]
    assert (last.action, last.reason) == ("revert", "Vandalised: the library is open")


def test_a_stale_revert_shows_back_the_reason_typed(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    html = mo.get(f"/assets/{hale.id}/history").get_data(as_text=True)
    store.update_asset(hale.id, {"postcode": "WA15 9NU"}, author="user:ann", reason="typo")
    data = {**revert_form(html, 2), "reason": "Rang them: <b>still open</b>"}
    response = mo.post(f"/assets/{hale.id}/history/revert", data=data)
    assert response.status_code == 409
    unsaved = re.search(
        r'<dl class="govuk-summary-list" id="unsaved">(.*?)</dl>',
        response.get_data(as_text=True),
        re.S,
    )
    assert unsaved is not None
    assert "Reason for reverting" in unsaved.group(1)
    assert "Rang them: &lt;b&gt;still open&lt;/b&gt;" in unsaved.group(1)
    assert store.get_asset(hale.id).revision == 4


def test_a_revert_reason_too_long_is_refused_and_kept_whole(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    html = mo.get(f"/assets/{hale.id}/history").get_data(as_text=True)
    reason = "word " * 401 + "END"  # 2,008 characters: more than the 2,000 kept
    response = mo.post(
        f"/assets/{hale.id}/history/revert", data={**revert_form(html, 2), "reason": reason}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<a href="#reason-2">The reason must be 2000 characters or fewer</a>' in page
    box = re.search(r'<textarea[^>]* id="reason-2"[^>]*>(.*?)</textarea>', page, re.S)
    assert box is not None and box.group(1) == reason.strip()
    assert re.search(r'<textarea[^>]* id="reason-1"[^>]*></textarea>', page)
    assert store.get_asset(hale.id).revision == 3
