"""The moderation queue through the test client, on every store backend.

Submissions are made through the store (the public form has its own tests); every decision
is made through the pages, and checked in the store and on every public surface.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.submission import Submission, Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.services.accounts import hash_password
from assetmap.services.exporting import export_assets
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import error_summary, inputs, tokens
from tests.web.staff import csrf, csrf_from, main_text, signed_in_client

# Hale Library (Trafford open data) and, 12 m from it, a knitting group a resident sends in.
HALE = LIBRARIES[2]
KNIT_GROUP = {
    "name": "Hale Knit and Natter",
    "category": "activity_group",
    "description": "Knitting, tea and a chat. Tuesdays.",
    "lon": -2.345700,
    "lat": 53.376100,
}
CANARY_NAME = "Canary Resident 7f3a"
CANARY_EMAIL = "canary-7f3a@example.org"
RESIDENT = Submitter(name=CANARY_NAME, email=CANARY_EMAIL, client_key="c1")
NEARBY = "/api/v1/assets/nearby"


@pytest.fixture
def hale(store: Store, taxonomy: Taxonomy) -> Asset:
    (asset,) = create_all(store, [HALE], taxonomy)
    return asset


# The district Hale is in: mo is a Trafford coordinator, so sees Trafford senders' details.
TRAFFORD = "E08000009"


@pytest.fixture
def mo(app: Flask, store: Store) -> FlaskClient:
    return signed_in_client(app, store, "mo", "moderator", areas=(TRAFFORD,))


def submit_new(
    store: Store, taxonomy: Taxonomy, row: dict[str, object] | None = None
) -> Submission:
    sub, _ = store.submit_new(build_asset(row or KNIT_GROUP, taxonomy), submitter=RESIDENT)
    return sub


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def open_and_post(client: FlaskClient, page: str, action: str, **data: str) -> tuple[int, str]:
    """Open a page, then post its form to ``action`` with the hidden fields it carried."""
    html = client.get(page).get_data(as_text=True)
    response = client.post(action, data={**form_fields(html, action), **data})
    return response.status_code, response.get_data(as_text=True)


def nearby_ids(client: FlaskClient, asset: dict[str, object]) -> list[str]:
    body = client.get(f"{NEARBY}?lat={asset['lat']}&lon={asset['lon']}&radius_m=500").get_json()
    return [hit["id"] for hit in body["results"]]


def public_surfaces(app: Flask, store: Store, tmp_path: Path) -> str:
    """Everything the public can read, as one string: home, nearby, exports."""
    public = app.test_client()
    parts = [public.get("/").get_data(as_text=True)]
    parts.append(
        public.get(f"{NEARBY}?lat={HALE['lat']}&lon={HALE['lon']}&radius_m=2000").get_data(
            as_text=True
        )
    )
    for fmt in ("csv", "geojson"):
        out = tmp_path / f"export.{fmt}"
        export_assets(store, fmt, out, replace=True)  # called again after each decision
        parts.append(out.read_text(encoding="utf-8"))
    return "\n".join(parts)


def test_queue_lists_pending_items_oldest_first_with_private_details(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    first = submit_new(store, taxonomy)
    change, _ = store.submit_change(
        hale.id, changes={"phone": "0161 912 3456"}, submitter=Submitter(client_key="c2")
    )
    problem, _ = store.submit_change(
        hale.id, changes={}, problem="closed", message="Shut since May", submitter=RESIDENT
    )
    decided = submit_new(store, taxonomy, {**KNIT_GROUP, "name": "Already rejected"})
    store.reject(decided.ref, moderator="user:ann", expected_version=1, reason="spam")
    response = mo.get("/moderate")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    refs = re.findall(r'href="/moderate/(AM-[0-9A-Z-]+)"', html)
    assert refs == [first.ref, change.ref, problem.ref]
    text = main_text(response)
    assert "3 waiting" in text
    assert "New asset" in text and "Suggested change" in text and "Problem report" in text
    assert "It has closed" in text
    assert CANARY_NAME in text and CANARY_EMAIL in text and "Not given" in text
    assert decided.ref not in html and "Already rejected" not in html


def test_empty_queue(mo: FlaskClient) -> None:
    assert "There is nothing waiting for moderation." in main_text(mo.get("/moderate"))


def test_new_asset_page_lists_every_field_sent(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy, {**KNIT_GROUP, "accessibility": "step_free,hearing_loop"})
    html = mo.get(f"/moderate/{sub.ref}").get_data(as_text=True)
    rows = dict(
        re.findall(r'data-field="([a-z_]+)">\s*<th[^>]*>[^<]*</th>\s*<td[^>]*>([^<]*)</td>', html)
    )
    assert rows["name"] == "Hale Knit and Natter"
    assert rows["category"] == "Activity group"  # the taxonomy's label, not the id
    assert rows["description"] == "Knitting, tea and a chat. Tuesdays."
    assert rows["accessibility"] == "Step-free access; Hearing loop"
    assert rows["location"] == "latitude 53.376100, longitude -2.345700"
    assert "status" not in rows and "phone" not in rows  # bookkeeping and empty fields left out
    assert CANARY_EMAIL in html


def test_change_page_shows_current_against_proposed(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    change, _ = store.submit_change(
        hale.id,
        changes={"phone": "0161 912 3456", "address": "25 Cecil Road, Hale, Altrincham"},
        message="They have a phone now",
        submitter=RESIDENT,
    )
    html = mo.get(f"/moderate/{change.ref}").get_data(as_text=True)
    cells = re.findall(
        r'data-field="([a-z_]+)">\s*<th[^>]*>[^<]*<span[^>]*>[^<]*</span></th>\s*'
        r"<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>",
        html,
    )
    diff = {field: (before, after) for field, before, after in cells}
    assert diff == {
        "address": ("25 Cecil Road, Hale", "25 Cecil Road, Hale, Altrincham"),
        "phone": ('<span class="govuk-hint">(empty)</span>', "0161 912 3456"),
    }
    assert "They have a phone now" in main_text(mo.get(f"/moderate/{change.ref}"))


def test_problem_page_shows_the_problem_and_message(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    problem, _ = store.submit_change(
        hale.id,
        changes={},
        problem="closed",
        message="Boarded up <b>since May</b>",
        submitter=RESIDENT,
    )
    response = mo.get(f"/moderate/{problem.ref}")
    text = main_text(response)
    assert "It has closed" in text and "Boarded up <b>since May</b>" in text
    assert "approving archives the asset" in text
    assert "Boarded up &lt;b&gt;since May&lt;/b&gt;" in response.get_data(as_text=True)


def test_approve_publishes_everywhere(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset, tmp_path: Path
) -> None:
    sub = submit_new(store, taxonomy)
    public = app.test_client()
    assert sub.asset_id not in nearby_ids(public, KNIT_GROUP)
    assert "Hale Knit and Natter" not in public_surfaces(app, store, tmp_path)
    status, _ = open_and_post(mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/approve")
    assert status == 303
    assert store.get_submission(sub.ref).status == "approved"
    asset = store.get_asset(sub.asset_id)
    assert asset.status == "published"
    last = store.history(sub.asset_id)[-1]
    assert (last.author, last.reason) == ("user:mo", f"approved {sub.ref}")
    assert store.submission_events(sub.ref)[-1].actor == "user:mo"
    assert sub.asset_id in nearby_ids(public, KNIT_GROUP)
    everything = public_surfaces(app, store, tmp_path)
    assert "Hale Knit and Natter" in everything
    assert public.get(f"/assets/{sub.asset_id}").status_code == 200
    # The resident's own details never went public.
    assert CANARY_NAME not in everything and CANARY_EMAIL not in everything
    assert CANARY_EMAIL not in public.get(f"/assets/{sub.asset_id}").get_data(as_text=True)
    # Back on the queue, with a confirmation; the item page now shows the decision.
    queue = main_text(mo.get("/moderate"))
    assert f"{sub.ref} approved." in queue and "There is nothing waiting" in queue
    assert "This submission was approved by user:mo" in main_text(mo.get(f"/moderate/{sub.ref}"))


def test_a_decision_sent_after_sign_in_ended_shows_back_what_was_typed(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    # A password change (here), a sign-out in another tab or a spell without activity ends
    # a session. A reason typed meanwhile used to go with a redirect to the sign-in page.
    sub = submit_new(store, taxonomy)
    item = f"/moderate/{sub.ref}"
    fields = form_fields(mo.get(item).get_data(as_text=True), f"{item}/reject")
    store.set_password("mo", hash_password("a brand new long password"))
    reason = "Closed <b>for good</b> & the hall is flats now.\nSee the council's notice."
    response = mo.post(
        f"{item}/reject",
        data={**fields, "reason": reason},
        headers={"Referer": f"http://localhost{item}"},
    )
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "You have been signed out" in main_text(response)
    assert str(escape(reason)) in html and "<b>for good</b>" not in html
    # Only what the moderator typed: the page's own hidden fields are left out.
    assert re.findall(r'<dt class="govuk-summary-list__key">([^<]*)</dt>', html) == ["Reason"]
    assert f'href="/login?next={item}"' in html
    assert store.get_submission(sub.ref).status == "pending"
    # A page asked for (GET) still goes straight to the sign-in page and back.
    assert mo.get(item).location == f"/login?next={item}"


def test_reject_needs_a_reason_and_keeps_it(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    sub = submit_new(store, taxonomy)
    status, html = open_and_post(
        mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/reject", reason="   "
    )
    assert status == 400
    assert '<a href="#reason">Enter a reason for rejecting</a>' in html
    assert 'id="reason-error"' in html
    assert store.get_submission(sub.ref).status == "pending"
    reason = "Private group: the organiser asked us not to list it."
    status, _ = open_and_post(
        mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/reject", reason=reason
    )
    assert status == 303
    decided = store.get_submission(sub.ref)
    assert (decided.status, decided.decision_reason, decided.decided_by) == (
        "rejected",
        reason,
        "user:mo",
    )
    assert store.get_asset(sub.asset_id).status == "rejected"
    # The asset's history names the submission, then the reason; the submission keeps it as typed.
    assert store.history(sub.asset_id)[-1].reason == f"rejected {sub.ref}: {reason}"
    assert store.submission_events(sub.ref)[-1].reason == reason
    assert reason in main_text(mo.get(f"/moderate/{sub.ref}"))
    assert sub.asset_id not in nearby_ids(app.test_client(), KNIT_GROUP)
    assert "Hale Knit and Natter" not in public_surfaces(app, store, tmp_path)
    assert app.test_client().get(f"/assets/{sub.asset_id}").status_code == 404


def test_edit_then_approve_shows_errors_then_saves_the_edits(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    page = mo.get(f"/moderate/{sub.ref}/edit")
    html = page.get_data(as_text=True)
    assert 'value="Hale Knit and Natter"' in html  # prefilled with what was sent
    hidden = form_fields(html, f"/moderate/{sub.ref}/edit")
    assert hidden["version"] == "1" and hidden["revision"] == "1"
    form = {
        **hidden,
        "name": "Hale Knit & Natter",
        "category": "activity_group",
        "description": KNIT_GROUP["description"],
        "lat": "53.3761",
        "lon": "-2.3457",
        "email": "not an email",
        "website": "javascript:alert(1)",
        "accessibility": ["step_free"],
    }
    response = mo.post(f"/moderate/{sub.ref}/edit", data=form)
    assert response.status_code == 400
    bad = response.get_data(as_text=True)
    assert '<a href="#email">' in bad and '<a href="#website">' in bad
    assert 'id="email-error"' in bad and "govuk-input--error" in bad
    assert 'value="Hale Knit &amp; Natter"' in bad  # what was typed is kept
    assert store.get_submission(sub.ref).status == "pending"
    form.update(
        email="knit@example.org",
        website="https://example.org/knit",
        phone="0161 123 4567",
        opening_times="Tuesdays 2pm-4pm",
        reason="Checked with the organiser by phone",
    )
    response = mo.post(f"/moderate/{sub.ref}/edit", data=form)
    assert response.status_code == 303
    asset = store.get_asset(sub.asset_id)
    assert asset.status == "published"
    assert (asset.name, asset.email, asset.phone, asset.accessibility) == (
        "Hale Knit & Natter",
        "knit@example.org",
        "0161 123 4567",
        ("step_free",),
    )
    assert asset.opening_times.text == "Tuesdays 2pm-4pm"
    last = store.history(sub.asset_id)[-1]
    # The revision names the submission, then the fields edited and the note.
    assert last.author == "user:mo"
    edited = "edits to name, phone, email, website, opening times, accessibility"
    assert last.reason == f"approved {sub.ref}: {edited}; Checked with the organiser by phone"
    assert store.get_submission(sub.ref).decision_reason == last.reason.split(": ", 1)[1]
    assert {"name", "email", "phone", "website", "status"} <= set(last.changed)


def test_edit_can_undo_part_of_a_suggested_change(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    change, _ = store.submit_change(
        hale.id,
        changes={"name": "Hale Libary", "phone": "0161 912 3456"},
        submitter=RESIDENT,
    )
    html = mo.get(f"/moderate/{change.ref}/edit").get_data(as_text=True)
    assert 'value="Hale Libary"' in html
    fields = {
        **form_fields(html, f"/moderate/{change.ref}/edit"),
        "name": "Hale Library",  # the typo is not taken
        "category": "library",
        "address": HALE["address"],
        "postcode": HALE["postcode"],
        "lat": str(HALE["lat"]),
        "lon": str(HALE["lon"]),
        "phone": "0161 912 3456",
    }
    assert mo.post(f"/moderate/{change.ref}/edit", data=fields).status_code == 303
    asset = store.get_asset(hale.id)
    assert (asset.name, asset.phone, asset.revision) == ("Hale Library", "0161 912 3456", 2)
    assert store.history(hale.id)[-1].changed == ("phone",)


def _rows(html: str) -> dict[str, tuple[str, ...]]:
    """The item page's table of fields: field -> its cells' text, left to right."""
    table = html[html.index('id="diff"') : html.index("</table>", html.index('id="diff"'))]
    found = re.findall(r'data-field="([a-z_]+)">(.*?)</tr>', table, re.S)
    return {
        field: tuple(
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        )
        for field, row in found
    }


def test_a_decided_item_shows_what_the_resident_sent_not_the_asset_now(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    # A new place approved with the moderator's edits: "What was sent" showed the edits.
    sub = submit_new(store, taxonomy)
    html = mo.get(f"/moderate/{sub.ref}/edit").get_data(as_text=True)
    fields = {
        **form_fields(html, f"/moderate/{sub.ref}/edit"),
        **{k: str(v) for k, v in KNIT_GROUP.items()},
        "name": "Hale Knit & Natter Group",
        "phone": "0161 912 3456",
    }
    fields.update(lat="53.3762", lon="-2.3458")  # moved a little
    assert mo.post(f"/moderate/{sub.ref}/edit", data=fields).status_code == 303
    # The revision names the moved point as the history does: one edit, "location".
    reason = f"approved {sub.ref}: edits to name, location, phone"
    assert store.history(sub.asset_id)[-1].reason == reason
    html = mo.get(f"/moderate/{sub.ref}").get_data(as_text=True)
    rows = _rows(html)
    assert rows["name"] == ("Hale Knit and Natter",)
    assert "phone" not in rows
    assert rows["location"] == ("latitude 53.376100, longitude -2.345700",)
    assert store.get_asset(sub.asset_id).name == "Hale Knit & Natter Group"  # the edit stands
    # An approved change: against the asset today it was "nothing would change".
    change, _ = store.submit_change(
        hale.id, changes={"phone": "0161 912 9999"}, message="New number", submitter=RESIDENT
    )
    status, _ = open_and_post(mo, f"/moderate/{change.ref}", f"/moderate/{change.ref}/approve")
    assert status == 303
    response = mo.get(f"/moderate/{change.ref}")
    text = main_text(response)
    assert "What was suggested" in text and "Nothing would change" not in text
    assert "the asset when they sent it (revision 1), and as suggested" in text
    assert _rows(response.get_data(as_text=True)) == {"phone": ("(empty)", "0161 912 9999")}
    assert "The asset has changed since this was sent" not in text


def test_merge_into_a_likely_duplicate(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    sub = submit_new(
        store,
        taxonomy,
        {**HALE, "name": "Hale library", "phone": "0161 912 5920", "lon": -2.3457, "lat": 53.3761},
    )
    html = mo.get(f"/moderate/{sub.ref}").get_data(as_text=True)
    assert f'value="{hale.id}"' in html and "Possible duplicates" in html
    assert f'id="merge-{hale.id}"' in html  # the preview of what merging would change
    status, page = open_and_post(mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/merge")
    assert status == 400 and "Choose the asset this submission is the same as" in page
    status, _ = open_and_post(
        mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/merge", into=hale.id
    )
    assert status == 303
    decided = store.get_submission(sub.ref)
    assert (decided.status, decided.merged_into, decided.decided_by) == (
        "merged",
        hale.id,
        "user:mo",
    )
    target = store.get_asset(hale.id)
    assert target.phone == "0161 912 5920" and target.status == "published"
    # a merge fills gaps only: the record's own name and place are kept
    assert (target.name, target.lon, target.lat) == (hale.name, hale.lon, hale.lat)
    assert store.history(hale.id)[-1].author == "user:mo"
    assert store.get_asset(sub.asset_id).status == "archived"


def test_no_duplicates_far_away_or_differently_named(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    far = submit_new(store, taxonomy, {**HALE, "lat": HALE["lat"] + 0.01})  # about 1.1 km
    other = submit_new(store, taxonomy)
    for sub in (far, other):
        html = mo.get(f"/moderate/{sub.ref}").get_data(as_text=True)
        assert (
            "No published asset with a similar name within 200 metres, or within 1,000 metres"
            " with the same postcode." in html
        )
        assert f"/moderate/{sub.ref}/merge" not in html


def test_a_duplicate_with_the_same_postcode_is_offered_for_merging(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    # Sent by postcode (the API or the form without the map): at the middle of WA15 9NT
    # (data/postcodes: "WA159NT,53.37423,-2.34468"), 210 m from Hale Library, whose postcode it is.
    middle = (-2.34468, 53.37423)
    row = {**HALE, "name": "Hale library", "lon": middle[0], "lat": middle[1]}
    sub = submit_new(store, taxonomy, {**row, "phone": "0161 912 5920"})
    html = mo.get(f"/moderate/{sub.ref}").get_data(as_text=True)
    assert f'name="into" type="radio" value="{hale.id}"' in html
    assert "210 m away, 25 Cecil Road, Hale" in html
    assert "or within 1,000 metres with the same postcode. If this is one of them" in html


def test_second_moderator_gets_a_conflict_not_an_overwrite(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    ann = signed_in_client(app, store, "ann", "moderator")
    page = f"/moderate/{sub.ref}"
    mo_html = mo.get(page).get_data(as_text=True)
    ann_html = ann.get(page).get_data(as_text=True)
    # Ann rejects first.
    ann_form = form_fields(ann_html, f"{page}/reject")
    assert ann.post(f"{page}/reject", data={**ann_form, "reason": "Duplicate"}).status_code == 303
    # Mo, still looking at the page he opened before, approves.
    response = mo.post(f"{page}/approve", data=form_fields(mo_html, f"{page}/approve"))
    assert response.status_code == 409
    text = main_text(response)
    assert "This changed since you opened it" in text
    assert "Your approval was not saved" in text
    assert "is now rejected by user:ann" in text and "Duplicate" in text
    decided = store.get_submission(sub.ref)
    assert (decided.status, decided.decided_by, decided.version) == ("rejected", "user:ann", 2)
    assert store.get_asset(sub.asset_id).status == "rejected"
    assert [e.action for e in store.submission_events(sub.ref)] == ["submitted", "rejected"]
    # The same for every other action Mo could take from his stale page.
    token = csrf_from(mo_html)
    for action, extra in [
        ("reject", {"reason": "Not a real group"}),
        ("merge", {"into": "a0", "revision-a0": "1"}),
        ("edit", {"name": "Renamed", "revision": "1"}),
    ]:
        response = mo.post(f"{page}/{action}", data={"csrf_token": token, "version": "1", **extra})
        assert response.status_code == 409, action
        assert "This changed since you opened it" in main_text(response)
    assert store.get_submission(sub.ref).version == 2
    assert store.get_asset(sub.asset_id).name == "Hale Knit and Natter"


def test_a_change_to_the_asset_since_opening_is_a_conflict(
    mo: FlaskClient, store: Store, hale: Asset
) -> None:
    change, _ = store.submit_change(hale.id, changes={"phone": "0161 1"}, submitter=RESIDENT)
    page = f"/moderate/{change.ref}"
    html = mo.get(page).get_data(as_text=True)
    store.update_asset(hale.id, {"phone": "0161 2"}, author="user:ann", reason="rang them")
    response = mo.post(f"{page}/approve", data=form_fields(html, f"{page}/approve"))
    assert response.status_code == 409
    text = main_text(response)
    assert "you saw revision 1, it is now at revision 2" in text
    assert "Revision 2: update by user:ann" in text and "rang them" in text
    assert store.get_submission(change.ref).status == "pending"
    assert store.get_asset(hale.id).phone == "0161 2"
    # Opened again, the page warns that the asset moved on, and approving now works.
    again = mo.get(page)
    assert "The asset has changed since this was sent" in main_text(again)
    fresh = form_fields(again.get_data(as_text=True), f"{page}/approve")
    assert mo.post(f"{page}/approve", data=fresh).status_code == 303
    assert store.get_asset(hale.id).phone == "0161 1"


def test_a_moderator_cannot_approve_their_own_submission(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    mine, _ = store.submit_new(
        build_asset({**HALE, "name": "Hale library"}, taxonomy),
        submitter=Submitter(author="user:mo", client_key="c3"),
    )
    page = f"/moderate/{mine.ref}"
    html = mo.get(page).get_data(as_text=True)
    assert "You sent this submission" in html
    assert f'action="{page}/approve"' not in html
    token = csrf_from(html)
    for action, extra in [
        ("approve", {}),
        ("merge", {"into": hale.id, f"revision-{hale.id}": "1"}),
    ]:
        response = mo.post(
            f"{page}/{action}", data={"csrf_token": token, "version": "1", "revision": "1", **extra}
        )
        assert response.status_code == 403
        assert f"You cannot approve or merge {mine.ref}, because you sent it." in main_text(
            response
        )
    assert store.get_submission(mine.ref).status == "pending"
    ann = signed_in_client(app, store, "ann", "moderator")
    status, _ = open_and_post(ann, page, f"{page}/approve")
    assert status == 303 and store.get_submission(mine.ref).decided_by == "user:ann"


def test_approving_a_closed_report_archives_the_asset(
    app: Flask, mo: FlaskClient, store: Store, hale: Asset
) -> None:
    problem, _ = store.submit_change(hale.id, changes={}, problem="closed", submitter=RESIDENT)
    assert hale.id in nearby_ids(app.test_client(), HALE)
    status, _ = open_and_post(mo, f"/moderate/{problem.ref}", f"/moderate/{problem.ref}/approve")
    assert status == 303
    assert store.get_asset(hale.id).status == "archived"
    assert hale.id not in nearby_ids(app.test_client(), HALE)


def test_actions_need_the_csrf_token_and_a_version(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    page = f"/moderate/{sub.ref}"
    for action in ("approve", "reject", "merge", "edit"):
        assert mo.post(f"{page}/{action}", data={"version": "1", "reason": "x"}).status_code == 400
        forged = {"csrf_token": "forged", "version": "1", "revision": "1", "reason": "x"}
        assert mo.post(f"{page}/{action}", data=forged).status_code == 400
    no_version = mo.post(f"{page}/approve", data={"csrf_token": csrf(mo, "/moderate")})
    assert no_version.status_code == 400
    assert store.get_submission(sub.ref).version == 1
    assert store.count_revisions() == 1


def test_unknown_reference_is_404(mo: FlaskClient) -> None:
    assert mo.get("/moderate/AM-0000-0000").status_code == 404


def test_moderation_pages_are_for_moderators_only(
    app: Flask, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    anonymous = app.test_client()
    for path in ("/moderate", f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/edit"):
        assert anonymous.get(path).status_code == 302
    assert anonymous.post(f"/moderate/{sub.ref}/approve").status_code in {302, 400}
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    for path in ("/moderate", f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/edit"):
        response = commissioner.get(path)
        assert response.status_code == 403
        assert CANARY_EMAIL not in response.get_data(as_text=True)
    token = csrf(commissioner, "/")
    response = commissioner.post(
        f"/moderate/{sub.ref}/approve", data={"csrf_token": token, "version": "1", "revision": "1"}
    )
    assert response.status_code == 403
    assert store.get_submission(sub.ref).status == "pending"


def test_export_rows_match_published_assets(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset, tmp_path: Path
) -> None:
    approved = submit_new(store, taxonomy)
    pending = submit_new(store, taxonomy, {**KNIT_GROUP, "name": "Still waiting"})
    open_and_post(mo, f"/moderate/{approved.ref}", f"/moderate/{approved.ref}/approve")
    out = tmp_path / "assets.csv"
    export_assets(store, "csv", out)
    with out.open(encoding="utf-8-sig") as f:  # the export starts with a BOM, for Excel
        ids = {row["id"] for row in csv.DictReader(f)}
    assert ids == {hale.id, approved.asset_id}
    assert pending.asset_id not in ids


def test_a_change_to_the_merge_target_since_opening_is_a_conflict(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    sub = submit_new(store, taxonomy, {**HALE, "name": "Hale library", "phone": "0161 912 5920"})
    page = f"/moderate/{sub.ref}"
    html = mo.get(page).get_data(as_text=True)
    store.update_asset(hale.id, {"phone": "0161 912 0000"}, author="user:ann", reason="rang")
    data = {**form_fields(html, f"{page}/merge"), "into": hale.id}
    response = mo.post(f"{page}/merge", data=data)
    assert response.status_code == 409
    text = main_text(response)
    assert "Your merge was not saved" in text
    assert "Latest change to Hale Library Revision 2: update by user:ann" in text
    assert store.get_submission(sub.ref).status == "pending"
    assert store.get_asset(hale.id).phone == "0161 912 0000"


def test_a_moderator_who_sends_a_place_through_the_form_cannot_approve_it(
    app: Flask, mo: FlaskClient, store: Store
) -> None:
    # Signed in, mo tells the public form about a group near Hale Library.
    fields = {
        "name": "Hale Knit and Natter",
        "category": "activity_group",
        "postcode": "",
        "lon": str(KNIT_GROUP["lon"]),
        "lat": str(KNIT_GROUP["lat"]),
    }
    page = mo.post("/submit", data={**tokens(mo.get("/submit").get_data(as_text=True)), **fields})
    assert page.status_code == 200
    sent = mo.post(
        "/submit", data={**tokens(page.get_data(as_text=True)), **fields, "action": "send"}
    )
    assert sent.status_code == 303
    ref = sent.headers["Location"].rsplit("/", 1)[1]
    assert store.get_submission(ref).submitter.author == "user:mo"
    assert store.history(store.get_submission(ref).asset_id)[0].author == "user:mo"
    # The decisions are not offered, and posting them anyway is refused, saying why.
    item = f"/moderate/{ref}"
    html = mo.get(item).get_data(as_text=True)
    assert "You sent this submission, so another moderator must approve or merge it." in html
    assert f'action="{item}/approve"' not in html and f'href="{item}/edit"' not in html
    refused = "You cannot approve or merge " + ref + ", because you sent it."
    token = csrf_from(html)
    for action in ("approve", "merge", "edit"):
        data = {"csrf_token": token, "version": "1", "revision": "1", "name": "Renamed"}
        response = mo.post(f"{item}/{action}", data=data)
        assert response.status_code == 403, action
        assert refused in main_text(response)
    assert mo.get(f"{item}/edit").status_code == 403
    assert store.get_submission(ref).status == "pending"
    # Rejecting their own is still allowed (withdrawing a mistake); another moderator approves.
    ann = signed_in_client(app, store, "ann", "moderator")
    status, _ = open_and_post(ann, item, f"{item}/approve")
    assert status == 303 and store.get_submission(ref).decided_by == "user:ann"


def test_edit_keeps_the_line_breaks_of_the_address_and_opening_times(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    address = "Hale Library\nLeigh Road\nHale WA15 9BG"
    times = "Tuesday 10:00-12:00\nThursday 14:00-16:00"
    sub = submit_new(store, taxonomy, {**KNIT_GROUP, "address": address, "opening_times": times})
    before = store.get_asset(sub.asset_id)
    assert before.opening_times.schedule is not None
    html = mo.get(f"/moderate/{sub.ref}/edit").get_data(as_text=True)
    form = inputs(html)
    # Textareas: the browser sends back what it shows, line breaks as CRLF.
    assert form.textareas["address"] == address and form.textareas["opening_times"] == times
    data = {
        **form_fields(html, f"/moderate/{sub.ref}/edit"),
        **{k: str(v["value"] or "") for k, v in form.by_id.items() if v.get("type") == "text"},
        "category": "activity_group",
        "address": address.replace("\n", "\r\n"),
        "opening_times": times.replace("\n", "\r\n"),
        "description": "Knitting, tea and a chat. Tuesdays and Thursdays.",
    }
    assert mo.post(f"/moderate/{sub.ref}/edit", data=data).status_code == 303
    after = store.get_asset(sub.asset_id)
    assert after.description == "Knitting, tea and a chat. Tuesdays and Thursdays."
    assert (after.address, after.opening_times) == (address, before.opening_times)
    last = store.history(sub.asset_id)[-1]
    assert set(last.changed) == {"description", "status"}
    assert last.reason == f"approved {sub.ref}: edits to description"


def test_edit_checks_the_postcode_and_the_date_last_checked(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    path = f"/moderate/{sub.ref}/edit"
    html = mo.get(path).get_data(as_text=True)
    data = {
        **form_fields(html, path),
        "name": KNIT_GROUP["name"],
        "category": "activity_group",
        "lat": str(KNIT_GROUP["lat"]),
        "lon": str(KNIT_GROUP["lon"]),
        "postcode": "nope",
        "website": "https://exa mple.com",
        "last_verified": "2099-01-01",
    }
    response = mo.post(path, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert error_summary(page) == [
        ("postcode", "Enter a full postcode, like M32 0TH"),
        ("website", "Website 'https://exa mple.com' has a space in it; a web address has none"),
        ("last_verified", "The date last checked must be today or in the past"),
    ]
    assert 'id="postcode-error"' in page and 'id="last_verified-error"' in page
    form = inputs(page).by_id
    assert (form["postcode"]["value"], form["last_verified"]["value"]) == ("nope", "2099-01-01")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    late = mo.post(path, data={**data, "postcode": "WA15 9BG", "last_verified": tomorrow})
    assert [f for f, _ in error_summary(late.get_data(as_text=True))] == [
        "website",
        "last_verified",
    ]
    assert store.get_submission(sub.ref).status == "pending"
    quoted = mo.post(path, data={**data, "website": '"https://example.org"'})
    assert error_summary(quoted.get_data(as_text=True))[1] == (
        "website",
        """Website '"https://example.org"' has a quotation mark ("), which cannot be in a web"""
        " address",
    )
    assert store.get_submission(sub.ref).status == "pending"
    today = date.today().isoformat()
    fixed = {**data, "postcode": "wa159bg", "website": "", "last_verified": today}
    assert mo.post(path, data=fixed).status_code == 303
    asset = store.get_asset(sub.asset_id)
    assert (asset.postcode, asset.last_verified, asset.status) == ("WA15 9BG", today, "published")


def test_a_conflict_on_edits_is_worded_for_edits(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sub = submit_new(store, taxonomy)
    path = f"/moderate/{sub.ref}/edit"
    html = mo.get(path).get_data(as_text=True)
    store.reject(sub.ref, moderator="user:ann", expected_version=1, reason="Duplicate")
    data = {**form_fields(html, path), "name": "Renamed", "category": "activity_group"}
    response = mo.post(path, data=data)
    assert response.status_code == 409
    assert "Your edits were not saved, because someone else changed this" in main_text(response)


def test_a_conflict_shows_back_what_the_moderator_wrote(
    app: Flask, mo: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    # A refused form is the only copy of a reason or edits typed into it: the 409 page
    # shows them, escaped, so they can be copied rather than typed again.
    sub = submit_new(store, taxonomy)
    page = f"/moderate/{sub.ref}"
    item_html = mo.get(page).get_data(as_text=True)
    edit_html = mo.get(f"{page}/edit").get_data(as_text=True)
    store.reject(sub.ref, moderator="user:ann", expected_version=1, reason="Duplicate")

    reason = "Rang the church hall: <b>no</b> such group meets there\non Tuesdays."
    reject = {**form_fields(item_html, f"{page}/reject"), "reason": reason}
    response = mo.post(f"{page}/reject", data=reject)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "What you entered" in html and "This was not saved." in html
    assert "Reason for rejecting" in main_text(response)
    assert str(escape(reason)) in html and "<b>no</b>" not in html

    # The whole form as a browser sends it: the fields as shown, then the moderator's edits.
    shown = {k: str(v) for k, v in KNIT_GROUP.items()}
    edits = {
        **form_fields(edit_html, f"{page}/edit"),
        **shown,
        "name": "Hale Knit & Natter",
        "cost": "low_cost",
        "accessibility": ["step_free", "hearing_loop"],
        "reason": "Name as on their poster",
    }
    response = mo.post(f"{page}/edit", data=edits)
    assert response.status_code == 409
    text = main_text(response)
    assert "Your edits were not saved" in text
    assert (
        "What you entered This was not saved. Copy anything you still need before you leave"
        " this page. Name Hale Knit & Natter Cost Low cost Accessibility Step-free access;"
        " Hearing loop Note for the record Name as on their poster What happened"
    ) in text
    assert store.get_asset(sub.asset_id).name == "Hale Knit and Natter"


def test_the_merge_explanation_says_what_a_merge_does(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, hale: Asset
) -> None:
    # A merge only fills the gaps of the listed asset (store.merge_changes): the page said
    # the resident's details replace the asset's, which would lead a moderator to merge
    # when they meant the resident's correction to win.
    sent = {**HALE, "name": "Hale library", "address": "Cecil Road", "description": "Painted."}
    sub = submit_new(store, taxonomy, {**sent, "lon": -2.3457, "lat": 53.3761})
    text = main_text(mo.get(f"/moderate/{sub.ref}"))
    assert "replace that asset" not in text
    assert (
        "merge it: details the resident gave that the asset is missing are added to it, as"
        " shown; nothing it already has is replaced."
    ) in text
    status, _ = open_and_post(
        mo, f"/moderate/{sub.ref}", f"/moderate/{sub.ref}/merge", into=hale.id
    )
    assert status == 303
    merged = store.get_asset(hale.id)
    assert (merged.name, merged.address, merged.description) == (
        "Hale Library",
        "25 Cecil Road, Hale",
        "Painted.",
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({"lat": "53,3761"}, [("lat", "Enter the latitude as a decimal number, like 53.38705")]),
        ({"lon": "inf"}, [("lon", "Enter the longitude as a decimal number, like -2.35216")]),
        ({"lat": "95"}, [("lat", "Latitude must be between -90 and 90")]),
        (
            {"lat": "-2.3457", "lon": "53.3761"},
            [("lat", "The latitude and longitude look the wrong way round: swap them")],
        ),
        (
            {"lat": "48.85", "lon": "2.35"},
            [("lon", "The location must be in the UK: check the latitude and longitude")],
        ),
        (
            {"category": "", "lat": ""},
            [("category", "Select the category"), ("lat", "Enter the latitude")],
        ),
    ],
)
def test_edit_errors_use_the_forms_words(
    mo: FlaskClient, store: Store, taxonomy: Taxonomy, typed: dict[str, str], expected: Any
) -> None:
    # The form asks for "Latitude" and "Longitude" and offers the category as a list; the
    # messages said "Lat '53,3761' is not a number", "Lon 53.37, lat -2.34 look swapped"
    # and "Enter the category".
    sub = submit_new(store, taxonomy)
    path = f"/moderate/{sub.ref}/edit"
    html = mo.get(path).get_data(as_text=True)
    data = {**form_fields(html, path), **{k: str(v) for k, v in KNIT_GROUP.items()}, **typed}
    response = mo.post(path, data=data)
    assert response.status_code == 400
    assert error_summary(response.get_data(as_text=True)) == expected
    assert store.get_submission(sub.ref).status == "pending"
