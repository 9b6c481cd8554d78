"""Moderation in headless Chromium: sign in, approve, see the asset go public; axe on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from assetmap.domain.asset import build_asset
from assetmap.domain.submission import Submission, Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.services.accounts import hash_password
from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.browser.test_map_page import describe, run_axe
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.staff import PASSWORD, add_user

pytestmark = pytest.mark.browser

# A resident's walking group by Hale Library (Trafford open data, the library's real point).
WALK: dict[str, Any] = {
    "name": "Hale Tuesday Walkers <b>&</b> ${alert(1)}",
    "category": "activity_group",
    "description": "A gentle hour round Hale. Meet outside the library.",
    "lon": -2.34571,
    "lat": 53.37612,
}
TRAFFORD = "E08000009"  # mo coordinates Trafford, where Hale is
RESIDENT = Submitter(name="Canary Walker 91c", email="canary-91c@example.org", client_key="c1")


def submit(store: Store, taxonomy: Taxonomy) -> Submission:
    sub, _ = store.submit_new(build_asset(WALK, taxonomy), submitter=RESIDENT)
    return sub


def sign_in(watch: PageWatch, username: str = "mo") -> None:
    """Sign in through the form, as a person would."""
    page = watch.page
    watch.goto("/moderate?from=test")  # not signed in: sent to the sign-in page
    assert "/login?next=" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/moderate?from=test")


def marker_count(page: Page, asset_id: str) -> int:
    return page.locator(f'path.am-marker[data-asset-id="{asset_id}"]').count()


def test_moderator_signs_in_approves_and_the_asset_goes_public(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    libraries = create_all(store, LIBRARIES, taxonomy)
    sub = submit(store, taxonomy)
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    # Before: not on the map, not found nearby.
    watch.goto("/")
    watch.wait_for_markers(len(libraries))
    api = page.request.get(
        f"{watch.base_url}/api/v1/assets/nearby?lat={WALK['lat']}&lon={WALK['lon']}&radius_m=300"
    )
    assert sub.asset_id not in [hit["id"] for hit in api.json()["results"]]

    sign_in(watch)
    assert page.locator(".app-header__account").inner_text().startswith("Signed in as mo")
    row = page.locator("table.app-queue tbody tr").filter(has_text=WALK["name"])
    row.get_by_role("link", name=sub.ref).click()
    page.wait_for_url(f"**/moderate/{sub.ref}")
    assert page.locator("h1").inner_text() == WALK["name"]
    assert page.locator('#diff tr[data-field="name"] td').inner_text() == WALK["name"]
    assert RESIDENT.email in page.locator(".govuk-summary-list").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Approve and publish").click()
    assert page.url.endswith("/moderate")
    assert f"{sub.ref} approved." in page.locator(".govuk-notification-banner").inner_text()
    assert store.get_asset(sub.asset_id).status == "published"

    # After: found nearby, drawn on the home map, with the name as text.
    api = page.request.get(
        f"{watch.base_url}/api/v1/assets/nearby?lat={WALK['lat']}&lon={WALK['lon']}&radius_m=300"
    )
    hits = api.json()["results"]
    assert sub.asset_id in [hit["id"] for hit in hits]
    assert RESIDENT.email not in api.text()
    watch.goto("/")
    watch.wait_for_markers(len(libraries) + 1)
    assert marker_count(page, sub.asset_id) == 1
    page.locator(f'path.am-marker[data-asset-id="{sub.asset_id}"]').hover()
    assert page.locator(".leaflet-tooltip").inner_text() == WALK["name"]
    # Signing out ends it: the queue asks for a sign-in again.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/login")
    watch.goto("/moderate")
    assert "/login" in page.url
    watch.assert_clean()


def test_resident_map_click_to_moderator_approval_to_the_public_map(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    libraries = create_all(store, LIBRARIES, taxonomy)
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    # A resident, no account, places a new group with a click on the form's map.
    watch.goto("/submit")
    page.locator("#location-map-block").wait_for(state="visible")
    page.get_by_label("Name of the place or group").fill(WALK["name"])
    page.get_by_label("Activity group").check()
    page.get_by_label("Description (optional)").fill(WALK["description"])
    page.locator("#location-map").click(position={"x": 180, "y": 120})
    lat, lon = page.locator("#lat").input_value(), page.locator("#lon").input_value()
    assert lat and lon
    page.get_by_label("Your email address", exact=True).fill(RESIDENT.email)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    ref = page.locator("#reference").inner_text().strip()
    sub = store.get_submission(ref)
    asset = store.get_asset(sub.asset_id)
    assert (asset.status, asset.lat, asset.lon) == ("pending", float(lat), float(lon))

    # A moderator signs in and approves it from the queue.
    sign_in(watch)
    row = page.locator("table.app-queue tbody tr").filter(has_text=WALK["name"])
    assert RESIDENT.email in row.inner_text()
    row.get_by_role("link", name=ref).click()
    page.wait_for_url(f"**/moderate/{ref}")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve and publish").click()
    assert f"{ref} approved." in page.locator(".govuk-notification-banner").inner_text()

    # The public finds it near the clicked point, and on the home map.
    api = page.request.get(f"{watch.base_url}/api/v1/assets/nearby?lat={lat}&lon={lon}&radius_m=50")
    assert [hit["id"] for hit in api.json()["results"]] == [sub.asset_id]
    assert RESIDENT.email not in api.text()
    watch.goto("/")
    watch.wait_for_markers(len(libraries) + 1)
    assert marker_count(page, sub.asset_id) == 1
    watch.assert_clean()


@pytest.mark.parametrize(
    "page_name", ["sign in", "queue", "item", "edit", "history", "conflict", "signed out"]
)
def test_staff_pages_have_no_serious_accessibility_violations(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, page_name: str
) -> None:
    (library,) = create_all(store, LIBRARIES[2:3], taxonomy)
    store.update_asset(library.id, {"phone": "0161 912 3456"}, author="user:ann", reason="rang")
    # A duplicate too, so the item page shows the merge choices and preview.
    dup, _ = store.submit_new(
        build_asset(
            {**LIBRARIES[2], "name": "Hale library", "description": "Rhyme time on Tuesdays"},
            taxonomy,
        ),
        submitter=RESIDENT,
    )
    submit(store, taxonomy)
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    if page_name == "sign in":
        watch.goto("/login")
        page.get_by_role("button", name="Sign in").click()  # the error state, too
        page.locator(".govuk-error-summary").wait_for()
    else:
        sign_in(watch)
    if page_name == "item":
        watch.goto(f"/moderate/{dup.ref}")
        assert page.locator("#merge-" + library.id).count() == 1
    elif page_name == "edit":
        watch.goto(f"/moderate/{dup.ref}/edit")
        page.get_by_label("Website").fill("not a website")
        page.get_by_role("button", name="Save and approve").click()
        page.locator(".govuk-error-summary").wait_for()
    elif page_name == "history":
        watch.goto(f"/assets/{library.id}/history")
    elif page_name == "conflict":
        watch.goto(f"/moderate/{dup.ref}")
        store.reject(dup.ref, moderator="user:ann", expected_version=1, reason="Duplicate")
        with page.expect_response(f"**/moderate/{dup.ref}/approve") as response:
            page.get_by_role("button", name="Approve and publish").click()
        assert response.value.status == 409
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "This changed since you opened it"
    elif page_name == "signed out":
        watch.goto(f"/moderate/{dup.ref}")
        store.set_password("mo", hash_password("a brand new long password"))
        page.get_by_label("Reason for rejecting").fill("Same as Hale Library")
        with page.expect_response(f"**/moderate/{dup.ref}/reject") as response:
            page.get_by_role("button", name="Reject").click()
        assert response.value.status == 401
        page.wait_for_load_state()
        assert page.locator("#unsaved dd").all_inner_texts() == ["Same as Hale Library"]
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()


def test_edit_then_approve_keeps_a_multi_line_address_and_opening_times(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    # As a resident's textareas send them: one line per part of the address, per day.
    address = "Hale Library\nLeigh Road\nHale, Altrincham"
    times = "Tuesday 10:00-12:00\nThursday 14:00-16:00"
    sub, _ = store.submit_new(
        build_asset({**WALK, "address": address, "opening_times": times}, taxonomy),
        submitter=RESIDENT,
    )
    sent = store.get_asset(sub.asset_id)
    assert sent.opening_times.schedule is not None
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    sign_in(watch)
    watch.goto(f"/moderate/{sub.ref}/edit")
    assert page.get_by_label("Address").input_value() == address
    assert page.get_by_label("Opening times").input_value() == times
    page.get_by_label("Description").fill("A gentle hour round Hale, then tea in the library.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and approve").click()
    assert (
        f"{sub.ref} approved with your edits."
        in page.locator(".govuk-notification-banner").inner_text()
    )
    approved = store.get_asset(sub.asset_id)
    assert approved.description == "A gentle hour round Hale, then tea in the library."
    assert approved.address == address
    assert approved.opening_times.text == times
    assert approved.opening_times == sent.opening_times  # the parsed weekly schedule too
    last = store.history(sub.asset_id)[-1]
    assert set(last.changed) == {"description", "status"}
    assert last.reason == f"approved {sub.ref}: edits to description"
    watch.assert_clean()


def test_the_item_and_history_pages_reflow_at_320_pixels(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    # WCAG 1.4.10: at 320 CSS pixels nothing but a data table may scroll sideways. A resident
    # can type a name with no place to break it (a web address, a long compound word).
    name = "www.halecommunitywalkerstuesdaymornings.org.uk"
    sub, _ = store.submit_new(build_asset({**WALK, "name": name}, taxonomy), submitter=RESIDENT)
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    sign_in(watch)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in (f"/moderate/{sub.ref}", f"/assets/{sub.asset_id}/history"):
        watch.goto(path)
        assert page.locator("h1").inner_text() == name
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width == 320, f"{path} is {width} px wide"
    # The four-column list of what happened scrolls in its own box, which the keyboard reaches.
    watch.goto(f"/moderate/{sub.ref}")
    events = page.get_by_role("region", name="What has happened to it")
    assert events.locator("table").count() == 1
    assert events.get_attribute("tabindex") == "0"
    watch.assert_clean()


def test_a_change_request_links_are_big_enough_to_tap_at_320_pixels(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    # WCAG 2.5.8: the asset's page and its history were two links on lines split by <br>,
    # each 20px tall at this width with nothing between them.
    (library,) = create_all(store, LIBRARIES[2:3], taxonomy)
    sub, _ = store.submit_change(
        library.id, changes={"phone": "0161 912 3456"}, message="New number", submitter=RESIDENT
    )
    add_user(store, "mo", "moderator", areas=(TRAFFORD,))
    page = watch.page
    sign_in(watch)
    page.set_viewport_size({"width": 320, "height": 640})
    watch.goto(f"/moderate/{sub.ref}")
    links = page.locator(".govuk-summary-list__value .govuk-link").filter(has_text=library.name)
    assert links.all_inner_texts() == [library.name, f"History of {library.name}"]
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()
