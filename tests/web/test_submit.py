"""The resident forms through the test client, on both store backends.

New place (/submit: form, check page, send), suggest a change and report a problem on a
published asset, the status page, the honeypot, the rate limits and likely duplicates.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote_plus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.services import submitting
from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import (
    GOOD,
    M32_0TH,
    check,
    checked,
    error_summary,
    form_tokens,
    inputs,
    reference,
    send,
    send_ok,
    tokens,
)
from tests.web.staff import main_text

LOSTOCK = LIBRARIES[3]  # Lostock Library, M32 9PL (-2.330413, 53.454859)


@pytest.fixture
def lostock(store: Store, taxonomy: Taxonomy) -> Asset:
    (asset,) = create_all(store, [LOSTOCK], taxonomy)
    return asset


def counts(store: Store) -> tuple[int, int, int]:
    return store.count_assets(), store.count_revisions(), store.count_submissions()


# -- the form ------------------------------------------------------------------------------


def test_form_has_labelled_fields_fieldsets_and_the_privacy_notice(client: FlaskClient) -> None:
    response = client.get("/submit")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # it holds this session's token
    html = response.get_data(as_text=True)
    page = inputs(html)
    for field in ("name", "description", "postcode", "address", "opening_times", "phone"):
        assert f'<label class="govuk-label" for="{field}">' in html, field
    for field in ("email", "website", "submitter_name", "submitter_email"):
        assert field in page.by_id, field
    # Checkbox and radio groups are fieldsets whose legend asks the question.
    for legend in (
        "What kind of place or group is it?",
        "Where is it?",
        "Does it cost anything? (optional)",
        "How can people pay? (optional)",
        "Accessibility (optional)",
        "Who is it for? (optional)",
        "Who runs it? (optional)",
    ):
        assert f"{legend}</legend>" in html, legend
    assert page.by_id["accessibility"]["type"] == "checkbox"
    assert page.by_id["category"]["type"] == "radio"
    # The map only fills hidden lon/lat; without JavaScript its block stays hidden.
    assert page.by_id["lon"]["type"] == page.by_id["lat"]["type"] == "hidden"
    assert '<div id="location-map-block" class="app-location" hidden>' in html
    assert "Can’t use the map?" in html
    # Honeypot: labelled, off screen, hidden from assistive technology, out of the tab order.
    honeypot = page.by_id["homepage"]
    assert (honeypot["autocomplete"], honeypot["tabindex"]) == ("off", "-1")
    assert '<div class="app-honeypot" aria-hidden="true">' in html
    assert '<label for="homepage">Leave this empty</label>' in html
    assert (
        "only the moderators who check submissions for the area the place is in, and the"
        " service’s administrators, can see them"
    ) in html
    assert "We delete them 12 months after we make a decision on your submission" in html
    assert page.by_id["submitter_email"]["autocomplete"] == "email"
    assert tokens(html)["csrf_token"]


def test_empty_form_lists_every_error_linking_to_its_field(client: FlaskClient) -> None:
    response = check(client, {})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count("<title>Error: Tell us about a place or group") == 1
    summary = error_summary(html)
    assert summary == [
        ("name", "Enter the name of the place or group"),
        ("category", "Select what kind of place or group it is"),
        ("postcode", "Enter the postcode of the place, or choose the place on the map"),
    ]
    ids = inputs(html).ids
    for field, message in summary:
        assert field in ids  # the link lands on the field
        assert f'id="{field}-error"' in html
        assert f'<span class="govuk-visually-hidden">Error:</span> {message}' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x" * 201, "Name must be 200 characters or fewer"),
        ("description", "x" * 5001, "Description must be 5,000 characters or fewer"),
        ("address", "x" * 501, "Address must be 500 characters or fewer"),
        ("postcode", "M33", "Enter a full postcode, like M32 0TH"),
        ("postcode", "not a postcode", "Enter a full postcode, like M32 0TH"),
        ("postcode", "ZE1 0AA", "We cannot find the postcode ZE1 0AA."),
        ("opening_times", "x" * 1001, "Opening times must be 1,000 characters or fewer"),
        ("cost", "priceless", "'priceless' is not one of: free, low_cost, paid"),
        ("accessibility", "lift", "'lift' is not one of"),
        ("phone", "ring me", "Enter a phone number, like 0161 912 5920"),
        ("email", "walkers at example", "Enter the email address in the correct format"),
        ("website", "javascript:alert(1)", "Enter a website address that starts with http://"),
        ("website", "ftp://example.org", "Enter a website address that starts with http://"),
        ("submitter_name", "x" * 201, "Your name must be 200 characters or fewer"),
        ("submitter_email", "rita", "Enter your email address in the correct format"),
    ],
)
def test_each_field_error_is_summarised_shown_inline_and_the_value_kept(
    client: FlaskClient, field: str, value: str, message: str
) -> None:
    response = check(client, {**GOOD, field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    ((linked, shown),) = error_summary(html)
    assert linked == field
    assert shown.startswith(message)
    assert f'id="{field}-error"' in html
    page = inputs(html)
    if field in page.textareas:
        assert page.textareas[field] == value
    elif page.by_id[field]["type"] in {"checkbox", "radio"}:
        assert checked(html, "audience") == ["older_people", "carers"]  # a made-up id is dropped
    else:
        assert page.by_id[field]["value"] == value


def test_every_value_is_kept_when_another_field_is_wrong(client: FlaskClient) -> None:
    html = check(client, {**GOOD, "name": ""}).get_data(as_text=True)
    page = inputs(html)
    assert page.by_id["postcode"]["value"] == "M32 0TH"
    assert page.textareas["opening_times"] == "Tuesdays 10am-11am"
    assert checked(html, "category") == ["activity_group"]
    assert checked(html, "cost") == ["free"]
    assert checked(html, "accessibility") == ["step_free", "assistance_dogs"]
    assert checked(html, "audience") == ["older_people", "carers"]
    assert page.by_id["submitter_email"]["value"] == "rita@example.org"


def test_a_map_point_outside_the_uk_is_shown_at_the_location(client: FlaskClient) -> None:
    response = check(client, {**GOOD, "lon": "2.35", "lat": "48.85"})  # Paris
    assert error_summary(response.get_data(as_text=True)) == [
        (
            "postcode",
            "The point chosen on the map is not in the UK. Choose a place in the UK, or remove"
            " the point and enter the postcode",
        )
    ]


def test_check_page_shows_the_answers_and_how_the_times_were_read(client: FlaskClient) -> None:
    response = check(client, GOOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Check your answers before sending" in html
    assert "The middle of the postcode M32 0TH" in html
    assert "We read this as: <strong>Tue 10:00–11:00</strong>" in html
    assert "Step-free access" in html and "Carers" in html
    assert "Rita Resident" in html  # the resident sees their own details back
    # Every answer travels on as a hidden field, so nothing is kept on the server.
    hidden = inputs(html)
    assert 'name="accessibility" value="assistance_dogs"' in html
    assert not any(a.get("name") == "homepage" for a in hidden.by_id.values())
    unread = check(client, {**GOOD, "opening_times": "ring first"}).get_data(as_text=True)
    assert "We could not read this as regular weekly times" in unread


def test_change_your_answers_returns_to_the_form_with_the_values(client: FlaskClient) -> None:
    page = check(client, GOOD)
    data = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "edit"}
    html = client.post("/submit", data=data).get_data(as_text=True)
    assert "Tell us about a place or group</h1>" in html
    assert inputs(html).by_id["name"]["value"] == GOOD["name"]
    assert checked(html, "audience") == ["older_people", "carers"]


def test_send_stores_a_pending_asset_and_shows_the_reference(
    client: FlaskClient, store: Store
) -> None:
    response = send(client, GOOD)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    ref = reference(html)
    assert response.headers["Location"] == f"/submissions/{ref}"
    assert "New place sent" in html and "What happens next" in html
    assert 'data-status="pending"' in html
    # The status page shows nothing the resident wrote.
    for private in ("Rita", "rita@example.org", "Lostock Tuesday Walkers"):
        assert private not in html
    sub = store.get_submission(ref)
    assert (sub.kind, sub.status) == ("new", "pending")
    assert (sub.submitter.name, sub.submitter.email, sub.submitter.author) == (
        "Rita Resident",
        "rita@example.org",
        "resident",
    )
    assert len(sub.submitter.client_key) == 32  # a keyed hash, not the address
    asset = store.get_asset(sub.asset_id)
    assert (asset.status, asset.source, asset.name) == ("pending", "resident", GOOD["name"])
    assert (asset.lon, asset.lat) == pytest.approx(M32_0TH)
    assert asset.postcode == "M32 0TH"
    assert asset.opening_times.schedule is not None
    assert asset.accessibility == ("step_free", "assistance_dogs")
    assert "rita" not in str(asset.to_dict()).lower()


def test_sending_the_same_form_twice_stores_one_submission(
    client: FlaskClient, store: Store
) -> None:
    page = check(client, GOOD)
    data = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "send"}
    first = client.post("/submit", data=data)
    again = client.post("/submit", data=data)
    assert first.headers["Location"] == again.headers["Location"]
    assert store.count_submissions() == 1


ALREADY = "We had already received this from you, so we have not stored it twice."


def test_the_same_place_sent_from_a_second_form_is_the_first_reference(
    client: FlaskClient, store: Store
) -> None:
    """Two tabs, or Back to a fresh form: each has its own token, the answers are the same."""
    first = send_ok(client, GOOD)
    page = client.get("/submissions/" + first)
    assert ALREADY not in page.get_data(as_text=True)
    again = send(client, GOOD)
    assert again.status_code == 303
    assert again.headers["Location"] == f"/submissions/{first}?again=1"
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert reference(html) == first
    assert "New place sent" in html and ALREADY in html
    assert store.count_submissions() == 1
    # One answer changed: the resident wrote something new, so it is stored.
    changed = send_ok(client, {**GOOD, "opening_times": "Tuesdays 10am-12pm"})
    assert changed != first
    assert store.count_submissions() == 2
    # Once the first is decided, sending it again is a new submission.
    store.reject(first, moderator="user:mod", expected_version=1, reason="Already listed")
    assert send_ok(client, GOOD) not in {first, changed}
    assert store.count_submissions() == 3


def test_a_resent_place_does_not_count_against_the_limit(settings: Settings, store: Store) -> None:
    client = create_app(
        replace(settings, submissions_per_client_per_hour=1), store=store
    ).test_client()
    first = send_ok(client, GOOD)
    again = send(client, GOOD)
    assert again.headers["Location"] == f"/submissions/{first}?again=1"
    limited = send(client, {**GOOD, "name": "Lostock Thursday Walkers"})
    assert limited.status_code == 429
    assert store.count_submissions() == 1


def test_a_map_point_places_the_asset_and_the_postcode_is_kept_as_text(
    client: FlaskClient, store: Store
) -> None:
    ref = send_ok(client, {**GOOD, "lon": "-2.300123", "lat": "53.450456", "postcode": "m32 0th"})
    asset = store.get_asset(store.get_submission(ref).asset_id)
    assert (asset.lon, asset.lat, asset.postcode) == (-2.300123, 53.450456, "M32 0TH")


@pytest.mark.parametrize("step", ["check", "send"])
def test_a_filled_honeypot_looks_sent_but_stores_nothing(
    client: FlaskClient, store: Store, step: str
) -> None:
    before = counts(store)
    data = {**form_tokens(client), **GOOD, "homepage": "http://spam.example", "action": step}
    response = client.post("/submit", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "New place sent" in html
    assert client.get(f"/submissions/{reference(html)}").status_code == 404
    assert counts(store) == before


# -- likely duplicates ---------------------------------------------------------------------


def test_likely_duplicates_are_offered_on_the_check_page(
    client: FlaskClient, lostock: Asset
) -> None:
    near = {**GOOD, "name": "Lostock library", "lon": "-2.3310", "lat": "53.4550"}
    html = check(client, near).get_data(as_text=True)
    assert "Is it one of these places we already list?" in html
    assert f'value="{lostock.id}"' in html
    assert "Yes, it is Lostock Library" in html
    assert "No, it is a different place" in html
    assert f'href="/assets/{lostock.id}"' in html
    # Sending without an answer asks for one.
    data = {**tokens(html), **near, "action": "send"}
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    assert error_summary(response.get_data(as_text=True)) == [
        ("same_as", "Select whether it is one of the places we already list")
    ]


def test_a_place_given_by_its_postcode_is_matched_by_the_postcode_too(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    # Without the map, a resident telling us about Hale Library by its postcode is placed at
    # the middle of WA15 9NT, 210 m from the library: it was not offered as the same place.
    (hale,) = create_all(store, [LIBRARIES[2]], taxonomy)
    by_postcode = {**GOOD, "name": "Hale Library", "category": "library", "postcode": "wa15 9nt"}
    html = check(client, by_postcode).get_data(as_text=True)
    assert "Is it one of these places we already list?" in html
    assert f'value="{hale.id}"' in html
    assert "Yes, it is Hale Library" in html
    # The next postcode along (WA15 9AE, 262 m from the library) is another place.
    other = {**by_postcode, "postcode": "WA15 9AE"}
    assert "we already list" not in check(client, other).get_data(as_text=True)


def test_a_different_name_or_a_place_far_away_is_not_a_duplicate(
    client: FlaskClient, lostock: Asset
) -> None:
    other_name = {**GOOD, "name": "Stretford Knit and Natter", "lon": "-2.3310", "lat": "53.4550"}
    assert "we already list" not in check(client, other_name).get_data(as_text=True)
    far = {**GOOD, "name": "Lostock Library"}  # at M32 0TH, about 2.8 km away
    assert "we already list" not in check(client, far).get_data(as_text=True)


def test_this_is_the_same_place_turns_it_into_a_suggested_change(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    near = {
        **GOOD,
        "name": "Lostock library",
        "lon": "-2.3310",
        "lat": "53.4550",
        "phone": "0161 912 3195",
    }
    ref = send_ok(client, near, same_as=lostock.id)
    sub = store.get_submission(ref)
    assert (sub.kind, sub.asset_id, sub.base_revision) == ("change", lostock.id, 1)
    # Only what the resident added; the name (same but for case) and the point stay.
    assert "name" not in sub.changes and "lon" not in sub.changes
    assert sub.changes["phone"] == "0161 912 3195"
    assert sub.changes["accessibility"] == ["step_free", "assistance_dogs"]
    assert store.count_assets(status="pending") == 0
    assert store.get_asset(lostock.id).phone == ""  # not a direct edit
    store.approve(ref, moderator="user:mo", expected_version=1)
    assert store.get_asset(lostock.id).phone == "0161 912 3195"


def test_the_same_place_with_nothing_new_stores_nothing(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    before = counts(store)
    same = {"name": "Lostock Library", "category": "library", "lon": "-2.3310", "lat": "53.4550"}
    response = send(client, same, same_as=lostock.id)
    assert response.status_code == 200
    assert "We already have these details" in response.get_data(as_text=True)
    assert counts(store) == before


def test_no_it_is_different_sends_a_new_place(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    ref = send_ok(
        client,
        {**GOOD, "name": "Lostock library", "lon": "-2.331", "lat": "53.455"},
        same_as="none",
    )
    assert store.get_submission(ref).kind == "new"


# -- suggest a change and report a problem --------------------------------------------------


def test_asset_page_links_to_both_forms(client: FlaskClient, lostock: Asset) -> None:
    html = client.get(f"/assets/{lostock.id}").get_data(as_text=True)
    assert f'href="/assets/{lostock.id}/suggest-change"' in html
    assert f'href="/assets/{lostock.id}/report-problem"' in html


def test_suggest_a_change_records_only_the_changed_fields(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    path = f"/assets/{lostock.id}/suggest-change"
    html = client.get(path).get_data(as_text=True)
    page = inputs(html)
    assert page.by_id["name"]["value"] == "Lostock Library"
    assert page.by_id["postcode"]["value"] == "M32 9PL"
    assert checked(html, "category") == ["library"]
    fields: dict[str, Any] = {
        "name": "Lostock Library",
        "category": "library",
        "address": "Selby Road, Stretford",
        "postcode": "m32 9pl",  # the same postcode, typed differently: not a change
        "opening_times": "Mon-Fri 9am-5pm",
        "accessibility": ["hearing_loop"],
        "message": "New hours since April",
        "submitter_email": "rita@example.org",
    }
    response = client.post(path, data={**tokens(html), **fields})
    assert response.status_code == 303, error_summary(response.get_data(as_text=True))
    sub = store.get_submission(response.headers["Location"].rsplit("/", 1)[1])
    assert (sub.kind, sub.asset_id, sub.message) == ("change", lostock.id, "New hours since April")
    assert set(sub.changes) == {"opening_times", "accessibility"}
    assert sub.changes["accessibility"] == ["hearing_loop"]
    assert sub.changes["opening_times"]["text"] == "Mon-Fri 9am-5pm"
    assert sub.submitter.email == "rita@example.org"
    assert store.get_asset(lostock.id).revision == 1
    store.approve(sub.ref, moderator="user:mo", expected_version=1)
    live = store.get_asset(lostock.id)
    assert live.opening_times.schedule is not None and live.accessibility == ("hearing_loop",)
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Submission " in sent and 'data-status="approved"' in sent


def test_suggest_a_change_needs_a_change_and_valid_values(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    path = f"/assets/{lostock.id}/suggest-change"
    unchanged = {"name": "Lostock Library", "category": "library", "postcode": "M32 9PL"}
    unchanged["address"] = "Selby Road, Stretford"
    response = client.post(path, data={**form_tokens(client, path), **unchanged})
    assert response.status_code == 400
    assert error_summary(response.get_data(as_text=True)) == [
        ("name", "Change at least one of the details, or go back to the page if they are right")
    ]
    bad = {**unchanged, "website": "www.example.org", "name": ""}
    html = client.post(path, data={**form_tokens(client, path), **bad}).get_data(as_text=True)
    assert [field for field, _ in error_summary(html)] == ["name", "website"]
    assert inputs(html).by_id["website"]["value"] == "www.example.org"
    assert store.count_submissions() == 0


def test_i_do_not_know_on_a_change_leaves_the_answer_as_it_is(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    # The change form starts from the listing's answers; "I do not know" is the resident
    # saying they cannot tell, not that the listed cost or provider should be removed.
    store.update_asset(
        lostock.id, {"cost": "free", "provider_type": "statutory"}, author="test", reason="set"
    )
    path = f"/assets/{lostock.id}/suggest-change"
    html = client.get(path).get_data(as_text=True)
    assert checked(html, "cost") == ["free"] and checked(html, "provider_type") == ["statutory"]
    same = {"name": "Lostock Library", "category": "library", "postcode": "M32 9PL"}
    same["address"] = "Selby Road, Stretford"
    unknown = {**same, "cost": "", "provider_type": ""}
    response = client.post(path, data={**form_tokens(client, path), **unknown})
    assert response.status_code == 400
    assert error_summary(response.get_data(as_text=True))[0][1].startswith("Change at least one")
    changed = {**unknown, "phone": "0161 912 0000"}
    response = client.post(path, data={**form_tokens(client, path), **changed})
    assert response.status_code == 303, error_summary(response.get_data(as_text=True))
    sub = store.get_submission(response.headers["Location"].rsplit("/", 1)[1])
    assert sub.changes == {"phone": "0161 912 0000"}
    # Choosing another answer is still a change.
    other = {**same, "cost": "low_cost"}
    response = client.post(path, data={**form_tokens(client, path), **other})
    assert response.status_code == 303
    sub = store.get_submission(response.headers["Location"].rsplit("/", 1)[1])
    assert sub.changes == {"cost": "low_cost"}


def test_report_a_problem(client: FlaskClient, store: Store, lostock: Asset) -> None:
    path = f"/assets/{lostock.id}/report-problem"
    html = client.get(path).get_data(as_text=True)
    assert '<h1 class="govuk-fieldset__heading">What is wrong?</h1>' in html
    missing = client.post(path, data={**tokens(html), "message": "x" * 2001})
    assert missing.status_code == 400
    assert error_summary(missing.get_data(as_text=True)) == [
        ("problem", "Select what is wrong"),
        ("message", "Your message must be 2,000 characters or fewer"),
    ]
    response = client.post(
        path, data={**tokens(html), "problem": "closed", "message": "Shut since May"}
    )
    assert response.status_code == 303
    sub = store.get_submission(response.headers["Location"].rsplit("/", 1)[1])
    assert (sub.kind, sub.problem, sub.message, sub.changes) == (
        "problem",
        "closed",
        "Shut since May",
        {},
    )
    assert "Problem report sent" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_problem_reported_again_from_a_new_form_is_the_first_report(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    path = f"/assets/{lostock.id}/report-problem"
    answers = {"problem": "closed", "message": "Shut since May"}
    first = client.post(path, data={**form_tokens(client, path), **answers})
    again = client.post(path, data={**form_tokens(client, path), **answers})
    assert again.headers["Location"] == first.headers["Location"] + "?again=1"
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Problem report sent" in html and ALREADY in html
    other = {**answers, "message": "Shut since May; the sign says for good"}
    third = client.post(path, data={**form_tokens(client, path), **other})
    assert third.headers["Location"] not in {first.headers["Location"], again.headers["Location"]}
    assert [s.message for s in store.list_submissions()] == [answers["message"], other["message"]]


@pytest.mark.parametrize("form", ["suggest-change", "report-problem"])
def test_forms_exist_only_for_published_assets(
    client: FlaskClient, store: Store, taxonomy: Taxonomy, form: str
) -> None:
    (pending,) = create_all(store, [{**LOSTOCK, "status": "pending"}], taxonomy)
    assert client.get(f"/assets/{pending.id}/{form}").status_code == 404
    assert client.get(f"/assets/nope/{form}").status_code == 404


@pytest.mark.parametrize(
    ("kind", "decision", "sentence"),
    [
        ("new", "approve", "A member of staff checked it and added the place to the map."),
        ("new", "reject", "A member of staff checked it and did not add the place to the map."),
        ("change", "approve", "A member of staff checked it and made the change."),
        ("change", "reject", "A member of staff checked it and did not make the change."),
        ("problem", "approve", "A member of staff checked it and dealt with it."),
        ("problem", "reject", "A member of staff checked it and did not change the listing."),
    ],
)
def test_the_status_page_says_what_was_decided_in_words_for_what_was_sent(
    client: FlaskClient,
    store: Store,
    taxonomy: Taxonomy,
    lostock: Asset,
    kind: str,
    decision: str,
    sentence: str,
) -> None:
    resident = Submitter(name="", email="")
    if kind == "new":
        asset = build_asset({**LOSTOCK, "name": "Lostock Tuesday Walkers"}, taxonomy)
        sub, _ = store.submit_new(asset, submitter=resident)
    elif kind == "change":
        sub, _ = store.submit_change(
            lostock.id, changes={"phone": "0161 912 0000"}, submitter=resident
        )
    else:
        sub, _ = store.submit_change(
            lostock.id, changes={}, problem="wrong_details", submitter=resident
        )
    if decision == "approve":
        store.approve(sub.ref, moderator="user:mo", expected_version=sub.version)
    else:
        store.reject(sub.ref, moderator="user:mo", expected_version=sub.version, reason="no")
    text = main_text(client.get(f"/submissions/{sub.ref}"))
    assert sentence in text


def test_status_page_for_an_unknown_reference_is_404(client: FlaskClient) -> None:
    assert client.get("/submissions/AM-0000-0000").status_code == 404
    response = client.get("/submissions/<script>")
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


def test_a_resident_can_look_up_their_reference_as_they_type_it(
    client: FlaskClient, store: Store
) -> None:
    ref = send_ok(client, GOOD)
    # The sent page and the form both lead to the look-up page.
    assert 'href="/submissions"' in client.get(f"/submissions/{ref}").get_data(as_text=True)
    assert 'href="/submissions"' in client.get("/submit").get_data(as_text=True)
    page = client.get("/submissions")
    assert page.status_code == 200
    assert inputs(page.get_data(as_text=True)).by_id["ref"]["name"] == "ref"
    # Copied from paper or said over the phone: any case, spaces, no dashes, O for zero.
    typed = ref.lower().replace("-", " ").replace("0", "o")
    response = client.get("/submissions", query_string={"ref": f"  {typed} "})
    assert (response.status_code, response.headers["Location"]) == (303, f"/submissions/{ref}")
    without_am = ref.removeprefix("AM-").replace("-", "")
    response = client.get("/submissions", query_string={"ref": without_am})
    assert response.headers["Location"] == f"/submissions/{ref}"
    # Into the address bar as written: taken to the reference in its usual form.
    response = client.get(f"/submissions/{ref.lower()}")
    assert (response.status_code, response.headers["Location"]) == (303, f"/submissions/{ref}")
    assert store.count_submissions() == 1


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("", 400, "Enter your reference number"),
        ("AM-7K3Q", 400, "Enter the reference number as it was shown, like AM-7K3Q-9XPD"),
        (
            "<b>AM-7K3Q-9XPD</b>",
            400,
            "Enter the reference number as it was shown, like AM-7K3Q-9XPD",
        ),
        (
            "am 0000 0000",
            404,
            "We cannot find AM-0000-0000. Check the reference number you were given",
        ),
    ],
)
def test_a_reference_that_cannot_be_found_says_how_to_fix_it(
    client: FlaskClient, typed: str, status: int, message: str
) -> None:
    response = client.get("/submissions", query_string={"ref": typed})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert error_summary(html) == [("ref", message)]
    assert html.count(f'<span class="govuk-visually-hidden">Error:</span> {escape(message)}') == 1
    assert inputs(html).by_id["ref"]["value"] == typed  # kept, to correct
    assert "<b>" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_the_readme_gives_the_address_of_every_resident_page(app: Flask) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Resident submissions (public)", 1)[1].split("\n## ", 1)[0]
    # As the README writes them: /assets/<asset_id>/suggest-change is /assets/ID/suggest-change.
    pages = {
        re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "ID" if m[1].endswith("id") else m[1].upper(), r.rule)
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("submit.")
    }
    assert {"/submit", "/submissions", "/submissions/REF"} <= pages
    assert sorted(p for p in pages if f"`{p}`" not in section) == []


# -- rate limits ---------------------------------------------------------------------------


def _client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _kept_answers(html: str, fields: dict[str, Any]) -> None:
    """Every answer of ``fields`` is filled in again on the form page."""
    assert "Tell us about a place or group</h1>" in html
    page = inputs(html)
    for name in ("name", "postcode", "phone", "email", "website", "submitter_name"):
        assert page.by_id[name]["value"] == fields[name], name
    assert page.textareas["description"] == fields["description"]
    assert page.textareas["opening_times"] == fields["opening_times"]
    assert checked(html, "category") == [fields["category"]]
    assert checked(html, "accessibility") == fields["accessibility"]
    assert checked(html, "audience") == fields["audience"]


def test_rate_limit_per_client_address_keeps_the_answers(app: Flask, store: Store) -> None:
    resident = _client_at(app, "203.0.113.7")
    for i in range(10):
        send_ok(resident, {**GOOD, "name": f"Group {i}", "submitter_email": ""})
    answers = {**GOOD, "name": "Group 10", "submitter_email": ""}
    response = send(resident, answers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    html = response.get_data(as_text=True)
    # The limit is on the connection, not a field: the summary links to the form's button.
    assert error_summary(html) == [
        (
            "send",
            "You have sent 10 submissions in the last hour, the most we accept from one"
            " connection. Try again in an hour.",
        )
    ]
    assert 'id="send"' in html
    _kept_answers(html, answers)
    assert store.count_submissions() == 10
    # Someone else, elsewhere, is not held up.
    send_ok(_client_at(app, "198.51.100.2"), {**GOOD, "submitter_email": ""})


def test_rate_limit_per_email_address_keeps_the_answers(app: Flask, store: Store) -> None:
    for i in range(5):
        send_ok(_client_at(app, f"203.0.113.{i}"), {**GOOD, "name": f"Group {i}"})
    answers = {**GOOD, "submitter_email": "RITA@example.org"}
    response = send(_client_at(app, "203.0.113.99"), answers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "86400"
    html = response.get_data(as_text=True)
    message = (
        "This email address has been used for 5 submissions in the last 24 hours, the most we"
        " accept. Try again tomorrow."
    )
    assert error_summary(html) == [("submitter_email", message)]
    assert 'id="submitter_email-error"' in html  # shown at the field too
    _kept_answers(html, answers)
    assert inputs(html).by_id["submitter_email"]["value"] == "RITA@example.org"
    assert store.count_submissions() == 5


def test_a_limited_form_keeps_its_token_and_same_place_answer(
    app: Flask, store: Store, lostock: Asset
) -> None:
    resident = _client_at(app, "203.0.113.7")
    for i in range(10):
        send_ok(resident, {**GOOD, "name": f"Group {i}", "submitter_email": ""})
    near = {**GOOD, "name": "Lostock Library", "postcode": "M32 9PL", "submitter_email": ""}
    page = check(resident, near)
    data = {**tokens(page.get_data(as_text=True)), **near, "action": "send"}
    response = resident.post("/submit", data={**data, "same_as": lostock.id})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    # The same form token (one submission however often it is sent) and the same choice.
    assert tokens(html)["form_token"] == data["form_token"]
    assert inputs(html).by_id["same_as_choice"]["value"] == lostock.id


def test_rate_limits_hold_across_two_app_instances_on_one_database(settings: Settings) -> None:
    # Two app processes would each open their own store on the same database URL.
    first, second = create_app(settings), create_app(settings)
    try:
        for i in range(6):
            send_ok(
                _client_at(first, "203.0.113.7"), {**GOOD, "name": f"A{i}", "submitter_email": ""}
            )
        for i in range(4):
            send_ok(
                _client_at(second, "203.0.113.7"), {**GOOD, "name": f"B{i}", "submitter_email": ""}
            )
        assert send(_client_at(first, "203.0.113.7"), GOOD).status_code == 429
        assert send(_client_at(second, "203.0.113.7"), GOOD).status_code == 429
    finally:
        for app in (first, second):
            app.extensions["assetmap"].store.close()


def test_limits_can_be_turned_off(settings: Settings, store: Store) -> None:
    unlimited = create_app(replace(settings, submissions_per_client_per_hour=0), store=store)
    resident = unlimited.test_client()
    for i in range(12):
        send_ok(resident, {**GOOD, "name": f"Group {i}", "submitter_email": ""})
    assert store.count_submissions() == 12


def test_honeypot_and_limits_apply_to_the_other_forms_too(
    app: Flask, store: Store, lostock: Asset
) -> None:
    resident = _client_at(app, "203.0.113.7")
    path = f"/assets/{lostock.id}/report-problem"
    bot = resident.post(
        path, data={**form_tokens(resident, path), "problem": "closed", "homepage": "x"}
    )
    assert bot.status_code == 200 and "Problem report sent" in bot.get_data(as_text=True)
    assert store.count_submissions() == 0
    for i in range(10):
        # Each report says something new: the same report again would be a resend.
        data = {**form_tokens(resident, path), "problem": "wrong_place", "message": f"{i}"}
        assert resident.post(path, data=data).status_code == 303
    data = {**form_tokens(resident, path), "problem": "wrong_place", "message": "By the canal"}
    limited = resident.post(path, data=data)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3600"
    html = limited.get_data(as_text=True)
    assert [href for href, _ in error_summary(html)] == ["send"]
    assert "Report a problem with Lostock Library" in html
    assert checked(html, "problem") == ["wrong_place"]
    assert inputs(html).textareas["message"] == "By the canal"
    change = f"/assets/{lostock.id}/suggest-change"
    data = {**form_tokens(resident, change), "name": "Lostock", "category": "library"}
    limited = resident.post(change, data=data)
    assert limited.status_code == 429
    html = limited.get_data(as_text=True)
    assert error_summary(html)[0][1].startswith("You have sent 10 submissions in the last hour")
    assert inputs(html).by_id["name"]["value"] == "Lostock"
    assert store.count_submissions() == 10


# -- escaping and size ---------------------------------------------------------------------


def test_what_a_resident_typed_comes_back_escaped(client: FlaskClient) -> None:
    hostile = '"><script>alert(1)</script>{{7*7}}${alert(1)}'
    for step in ("check", "edit"):
        data = {**form_tokens(client), **GOOD, "name": hostile, "description": hostile}
        html = client.post("/submit", data={**data, "action": step}).get_data(as_text=True)
        assert "<script>alert(1)" not in html
        assert str(escape(hostile)) in html
        # {{7*7}} evaluated would read "49${alert(1)}"; a bare "49" can occur in the CSRF token.
        assert "49${alert" not in html


def test_a_body_over_two_megabytes_gets_a_clear_413(client: FlaskClient, store: Store) -> None:
    data = {**form_tokens(client), **GOOD, "description": "x" * (2 * 1024 * 1024)}
    response = client.post("/submit", data=data)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "What you sent is too big" in html
    assert "larger than 2 MiB, the most this service accepts" in html
    assert store.count_submissions() == 0


# -- odd input -----------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_in_a_form_never_give_a_500(
    client: FlaskClient, store: Store
) -> None:
    # ED A0 80 is a lone surrogate's UTF-8 form. Werkzeug keeps it percent-encoded in a
    # urlencoded body and makes it U+FFFD in a multipart one: text either way, never "\ud800".
    page = check(client, GOOD)
    fields = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "send"}
    fields.pop("accessibility"), fields.pop("audience"), fields.pop("currencies")
    encoded = "&".join(f"{k}={quote_plus(str(v))}" for k, v in fields.items() if k != "name")
    urlencoded = client.post(
        "/submit",
        data=f"{encoded}&name=Sale%ED%A0%80Walkers",
        content_type="application/x-www-form-urlencoded",
    )
    assert urlencoded.status_code == 303
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in {**fields, **form_tokens(client)}.items()
        if k != "name"
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
        + b"Sale\xed\xa0\x80Walkers\r\n"
    )
    multipart = client.post(
        "/submit",
        data=b"".join(parts) + f"--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert multipart.status_code == 303
    for response in (urlencoded, multipart):
        sub = store.get_submission(response.headers["Location"].rsplit("/", 1)[1])
        name = store.get_asset(sub.asset_id).name
        assert name.startswith("Sale") and name.endswith("Walkers")
        name.encode("utf-8")  # no surrogate got through


@pytest.mark.parametrize(
    ("change", "summary"),
    [
        ({"name": "  \u200b "}, [("name", "Enter the name of the place or group")]),
        ({"name": "\u200d\u2060\ufeff"}, [("name", "Enter the name of the place or group")]),
        (
            {"website": "https://exa mple.com"},
            [("website", "Enter the website address without spaces, like https://example.org")],
        ),
        (
            {"website": 'https://example.org/"walkers"'},
            [
                (
                    "website",
                    'Enter the website address without a quotation mark ("), like'
                    " https://example.org",
                )
            ],
        ),
        (
            {"website": "<https://example.org>"},
            [
                (
                    "website",
                    "Enter the website address without an angle bracket (<), like"
                    " https://example.org",
                )
            ],
        ),
        (
            # A "space" in the address itself is not a space in it.
            {"website": "www.myspace.com"},
            [("website", "Enter a website address that starts with http:// or https://")],
        ),
    ],
)
def test_a_blank_name_or_a_website_with_a_space_is_refused(
    client: FlaskClient, store: Store, change: dict[str, str], summary: list[tuple[str, str]]
) -> None:
    response = check(client, {**GOOD, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_summary(html) == summary
    field = summary[0][0]
    assert inputs(html).by_id[field]["value"] == change[field]  # kept as typed
    assert store.count_submissions() == 0


@pytest.mark.parametrize(
    "point",
    [{"lon": "-2.3", "lat": "abc"}, {"lon": "-2.3", "lat": ""}, {"lon": "", "lat": "53.45"}],
)
def test_a_map_point_that_cannot_be_read_says_so_and_is_dropped(
    client: FlaskClient, store: Store, point: dict[str, str]
) -> None:
    response = check(client, {**GOOD, **point})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_summary(html) == [
        (
            "postcode",
            "The point chosen on the map could not be read, so it has been removed. Check the"
            " postcode, or choose the place on the map again",
        )
    ]
    # The hidden fields come back empty (without the map's script nobody could clear them),
    # so continuing places it by the postcode.
    form = inputs(html)
    assert (form.by_id["lon"]["value"], form.by_id["lat"]["value"]) == ("", "")
    ref = send_ok(client, GOOD)
    asset = store.get_asset(store.get_submission(ref).asset_id)
    assert (asset.lon, asset.lat) == pytest.approx(M32_0TH)


# -- sending again with other answers ------------------------------------------------------


def test_sending_again_with_changed_answers_says_they_were_not_saved(
    client: FlaskClient, store: Store
) -> None:
    page = check(client, GOOD)
    data = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "send"}
    first = client.post("/submit", data=data)
    ref = first.headers["Location"].rsplit("/", 1)[1]
    # Back to the check page, or "Change your answers": the form keeps its token.
    corrected = {
        **data,
        "description": "A gentle hour's walk round Turn Moss, then tea at the pavilion.",
        "submitter_email": "rita.r@example.org",
    }
    again = client.post("/submit", data=corrected)
    assert again.status_code == 422
    text = main_text(again)
    assert "You have already sent this place" in text
    assert f"Your reference number is {ref}" in text
    assert "The changes you have just made have not been saved" in text
    assert "different from what you sent the first time: Description Your email address" in text
    assert "New place sent" not in text and "Tuesday Walkers" not in text
    # Nothing new is stored; the first answers stand.
    assert store.count_submissions() == 1
    sub = store.get_submission(ref)
    assert store.get_asset(sub.asset_id).description == GOOD["description"]
    assert sub.submitter.email == GOOD["submitter_email"]
    # The same answers again are a resend: straight to the reference, as before.
    assert client.post("/submit", data=data).headers["Location"] == f"/submissions/{ref}"


def test_the_pages_name_answers_with_the_services_labels(
    client: FlaskClient, store: Store, lostock: Asset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One list of labels: renaming an answer there renames it in the services' own messages
    # and on the already-sent page alike.
    for name, label in {
        "submitter_name": "Name to reply to",
        "submitter_email": "Email to reply to",
        "problem": "The problem",
        "message": "Note for moderators",
    }.items():
        monkeypatch.setitem(submitting.FIELD_LABELS, name, label)
    path = f"/assets/{lostock.id}/report-problem"
    fields = {**form_tokens(client, path), "problem": "closed", "submitter_name": "Rita"}
    too_long = client.post(path, data={**fields, "submitter_email": "r" * 250 + "@example.org"})
    assert error_summary(too_long.get_data(as_text=True)) == [
        ("submitter_email", "Email to reply to must be 254 characters or fewer")
    ]
    assert client.post(path, data=fields).status_code == 303
    changed = {
        **fields,
        "problem": "wrong_place",
        "message": "It moved",
        "submitter_name": "Rita R",
        "submitter_email": "rita@example.org",
    }
    again = client.post(path, data=changed)
    assert again.status_code == 422
    assert (
        "different from what you sent the first time: The problem Note for moderators Name to"
        " reply to Email to reply to"
    ) in main_text(again)


def test_a_suggested_change_sent_again_with_other_answers_is_not_saved(
    client: FlaskClient, store: Store, lostock: Asset
) -> None:
    path = f"/assets/{lostock.id}/suggest-change"
    fields = {
        **form_tokens(client, path),
        "name": "Lostock Library",
        "category": "library",
        "address": "Selby Road, Stretford",
        "postcode": "M32 9PL",
        "phone": "0161 912 5900",
    }
    first = client.post(path, data=fields)
    assert first.status_code == 303
    again = client.post(path, data={**fields, "phone": "0161 912 5901", "message": "Sorry"})
    assert again.status_code == 422
    text = main_text(again)
    assert "You have already sent this suggested change" in text
    assert "different from what you sent the first time: Phone Your message" in text
    (sub,) = store.list_submissions(status="pending")
    assert (sub.changes, sub.message) == ({"phone": "0161 912 5900"}, "")


def test_a_resend_racing_the_first_with_other_answers_is_not_passed_off_as_sent(
    client: FlaskClient, store: Store, lostock: Asset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two clicks with one token, the second with corrected answers: the second request's
    # look-up ran before the first one's row was committed, so only the store's own key
    # check sees the first. The page must still say the corrections were not saved.
    page = check(client, GOOD)
    data = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "send"}
    ref = client.post("/submit", data=data).headers["Location"].rsplit("/", 1)[1]
    path = f"/assets/{lostock.id}/suggest-change"
    change = {**form_tokens(client, path), **{"name": "Lostock Library", "category": "library"}}
    change |= {"postcode": "M32 9PL", "phone": "0161 912 5900"}
    change_ref = client.post(path, data=change).headers["Location"].rsplit("/", 1)[1]
    monkeypatch.setattr(store, "find_submission_by_key", lambda key: None)

    again = client.post("/submit", data={**data, "description": "Tea at the pavilion."})
    assert again.status_code == 422
    text = main_text(again)
    assert f"Your reference number is {ref}" in text
    assert "different from what you sent the first time: Description" in text
    changed = client.post(path, data={**change, "phone": "0161 912 5901"})
    assert changed.status_code == 422
    assert f"Your reference number is {change_ref}" in main_text(changed)
    assert store.count_submissions() == 2
    assert store.get_asset(store.get_submission(ref).asset_id).description == GOOD["description"]
    # The same answers again are still a resend: straight to the reference.
    assert client.post("/submit", data=data).headers["Location"] == f"/submissions/{ref}"
    assert client.post(path, data=change).headers["Location"] == f"/submissions/{change_ref}"


@pytest.mark.parametrize("form", ["new", "change", "problem"])
def test_an_expired_form_comes_back_with_the_answers(
    client: FlaskClient, store: Store, lostock: Asset, form: str
) -> None:
    # The session that issued the token has gone (a sign-in or sign-out in another tab, or
    # cookies cleared): the answers are shown again to send with this session's token.
    path = {
        "new": "/submit",
        "change": f"/assets/{lostock.id}/suggest-change",
        "problem": f"/assets/{lostock.id}/report-problem",
    }[form]
    answers: dict[str, Any] = {
        "new": {**GOOD, "action": "send", "same_as": "none"},
        "change": {"name": "Lostock Library", "category": "library", "phone": "0161 912 5900"},
        "problem": {"problem": "wrong_place", "message": "It is on Barton Road now"},
    }[form]
    answers = {**answers, "submitter_name": "Rita Résident", "submitter_email": "r@example.org"}
    stale = {**answers, "csrf_token": form_tokens(client, path)["csrf_token"] + "x"}
    before = counts(store)
    response = client.post(path, data={**stale, "form_token": "f" * 32})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    ((field, message),) = error_summary(html)
    assert field == "send" and 'id="send"' in html
    assert message.startswith("This form has expired or was not sent from this website")
    assert "<title>Error: " in html
    controls = inputs(html)
    for name, value in answers.items():
        if name in {"action", "same_as"}:
            continue
        if isinstance(value, list) or name in {"category", "cost", "provider_type", "problem"}:
            assert checked(html, name) == (value if isinstance(value, list) else [value]), name
        elif name in controls.textareas:
            assert controls.textareas[name] == value, name
        else:
            assert controls.by_id[name]["value"] == value, name
    assert tokens(html)["form_token"] == "f" * 32
    assert counts(store) == before
    # The page's own tokens send it.
    sent = client.post(path, data={**tokens(html), **answers})
    assert sent.status_code == 303
    (sub,) = store.list_submissions(status="pending")
    assert sub.submitter.name == "Rita Résident"


@pytest.mark.parametrize("form", ["suggest-change", "report-problem"])
def test_an_expired_form_about_a_place_taken_off_the_map_says_so(
    client: FlaskClient, store: Store, lostock: Asset, form: str
) -> None:
    # The form was opened, then a moderator archived the place (say, on a "closed" report)
    # and the session went: the page is the one a valid token gets, not a server error.
    path = f"/assets/{lostock.id}/{form}"
    stale = {**form_tokens(client, path), "message": "It is open again"}
    store.set_status(lostock.id, "archived", author="user:mod", reason="closed")
    before = counts(store)
    response = client.post(path, data={**stale, "csrf_token": "expired"})
    assert response.status_code == 404
    assert f"There is no published asset with the id &#39;{lostock.id}&#39;." in (
        response.get_data(as_text=True)
    )
    assert counts(store) == before
