"""A resident's journeys in headless Chromium: with the map (JavaScript on), with a postcode
(JavaScript off), the duplicate hint while typing, and axe on every page they see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from assetmap.domain.asset import Asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.browser.conftest import TIMEOUT_MS, PageWatch
from tests.browser.test_map_page import describe, run_axe
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import M32_0TH

pytestmark = pytest.mark.browser

REF = re.compile(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}")
LOSTOCK = LIBRARIES[3]  # Lostock Library, Stretford (Trafford open data)


def fill_about(page: Page, name: str) -> None:
    page.get_by_label("Name of the place or group").fill(name)
    page.get_by_label("Activity group", exact=True).check()
    page.get_by_label("Description (optional)").fill("A gentle hour's walk, then tea.")
    page.get_by_label("When is it open or on? (optional)").fill("Tuesdays 10am-11am")
    page.get_by_label("Step-free access").check()
    page.get_by_label("Your email address").fill("rita@example.org")


def continue_and_send(page: Page) -> str:
    """Continue to the check page, send, and return the reference on the confirmation."""
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Check your answers before sending"
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert page.locator(".govuk-panel__title").inner_text() == "New place sent"
    ref = page.locator("#reference").inner_text()
    assert REF.fullmatch(ref)
    return ref


def wait_for_map(page: Page) -> None:
    page.wait_for_function(
        "() => document.querySelector('#location-map.leaflet-container') !== null"
        " && !document.getElementById('location-map-block').hidden"
    )


def test_a_resident_submits_with_a_map_click(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, [LOSTOCK], taxonomy)  # the map starts around what is published
    page = watch.page
    watch.goto("/submit")
    wait_for_map(page)
    fill_about(page, "Stretford Tuesday Walkers")
    page.locator("#location-map").click(position={"x": 260, "y": 120})
    chosen = page.locator("#location-chosen")
    assert chosen.inner_text().startswith("You chose the place at latitude")
    assert page.locator("path.app-location__marker").count() == 1
    lon = float(page.locator("#lon").input_value())
    lat = float(page.locator("#lat").input_value())
    assert abs(lon - LOSTOCK["lon"]) < 0.05 and abs(lat - LOSTOCK["lat"]) < 0.05
    ref = continue_and_send(page)
    sub = store.get_submission(ref)
    asset = store.get_asset(sub.asset_id)
    assert (sub.kind, asset.status, asset.name) == ("new", "pending", "Stretford Tuesday Walkers")
    assert (asset.lon, asset.lat) == (lon, lat)
    assert asset.accessibility == ("step_free",)
    watch.assert_clean()


def test_the_map_marker_can_be_moved_by_keyboard_and_removed(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, [LOSTOCK], taxonomy)
    page = watch.page
    watch.goto("/submit")
    wait_for_map(page)
    page.get_by_role("button", name="Use the middle of the map").click()
    assert float(page.locator("#lon").input_value()) == pytest.approx(LOSTOCK["lon"], abs=1e-5)
    page.get_by_role("button", name="Remove the marker").click()
    assert page.locator("#lon").input_value() == ""
    assert "We will use the postcode" in page.locator("#location-chosen").inner_text()
    watch.assert_clean()


def test_likely_duplicates_show_while_typing_and_same_place_becomes_a_change(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    (lostock,) = create_all(store, [LOSTOCK], taxonomy)
    page = watch.page
    watch.goto("/submit")
    wait_for_map(page)
    page.get_by_role("button", name="Use the middle of the map").click()
    page.get_by_label("Name of the place or group").fill("Lostock library")
    page.get_by_label("Library", exact=True).check()
    page.get_by_label("Phone number (optional)").fill("0161 912 3195")
    box = page.locator("#duplicates")
    box.wait_for(state="visible", timeout=TIMEOUT_MS)
    item = box.locator("li")
    assert item.count() == 1
    assert item.get_by_role("link").inner_text() == "Lostock Library (opens in new tab)"
    assert page.locator("#duplicates-status").inner_text() == "1 place nearby has a similar name."
    item.get_by_role("button", name="This is the same place").click()
    assert "You said this is the same place as Lostock Library." in item.inner_text()
    assert page.locator("#same_as_choice").input_value() == lostock.id
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.locator(f'input[name="same_as"][value="{lostock.id}"]').is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Suggested change sent"
    sub = store.get_submission(page.locator("#reference").inner_text())
    assert (sub.kind, sub.asset_id, sub.changes) == (
        "change",
        lostock.id,
        {"phone": "0161 912 3195"},
    )
    watch.assert_clean()


def lostock_and_namesakes(store: Store, taxonomy: Taxonomy) -> list[Asset]:
    """Lostock Library at M32 0TH, another place of the same name and one with a longer one."""
    at = {"postcode": "M32 0TH", "lon": M32_0TH[0], "lat": M32_0TH[1]}
    return create_all(
        store,
        [
            {**LOSTOCK, **at},
            {**LOSTOCK, **at, "address": "Lostock Road, Stretford", "lat": M32_0TH[1] + 0.0004},
            {**LOSTOCK, **at, "name": "Lostock Library Reading Group", "lat": M32_0TH[1] - 0.0004},
        ],
        taxonomy,
    )


# Each place's "This is the same place" button, by the accessible name it must have: the
# visible label then the place, with where it is when two places share a name.
SAME_PLACE_NAMES = [
    "This is the same place as Lostock Library at Selby Road, Stretford, M32 0TH",
    "This is the same place as Lostock Library at Lostock Road, Stretford, M32 0TH",
    "This is the same place as Lostock Library Reading Group",
]


def test_each_same_place_button_names_its_place_and_the_choice_is_announced(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    lostock, _, _ = lostock_and_namesakes(store, taxonomy)
    page = watch.page
    watch.goto("/submit")
    # Live regions the server sent: only a change to one of these is reliably announced.
    page.evaluate("window.__liveAtLoad = Array.from(document.querySelectorAll('[aria-live]'))")
    page.get_by_label("Name of the place or group").fill("Lostock library")
    page.get_by_label("Postcode").fill("M32 0TH")
    items = page.locator("#duplicates li")
    items.nth(2).wait_for(timeout=TIMEOUT_MS)
    buttons = page.locator("#duplicates button")
    assert buttons.count() == 3
    for name in SAME_PLACE_NAMES:
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
        place = name.removeprefix("This is the same place as ")
        link = page.get_by_role("link", name=f"{place} (opens in new tab)", exact=True)
        assert link.count() == 1, place
    # The visible label is unchanged (voice control users say what they see).
    visible = buttons.evaluate_all("bs => bs.map(b => b.firstChild.textContent)")
    assert visible == ["This is the same place"] * 3
    assert buttons.first.evaluate("b => b.lastChild.className") == "govuk-visually-hidden"

    page.get_by_role("button", name=SAME_PLACE_NAMES[0], exact=True).click()
    assert page.locator("#same_as_choice").input_value() == lostock.id
    said = "You said this is the same place as Lostock Library."
    assert items.first.locator(".app-duplicates__chosen").inner_text() == said
    announced = page.evaluate(
        "() => window.__liveAtLoad"
        ".filter(el => el.isConnected && el.textContent.trim())"
        ".map(el => [el.id, el.getAttribute('aria-live'), el.textContent])"
    )
    assert ["duplicates-chosen", "polite", said] in announced
    # Only regions that were in the page all along speak; the list's notes are redrawn.
    assert page.locator("#duplicates [aria-live]").count() == 0
    focused = page.get_by_role(
        "button",
        name="This is not the same place as Lostock Library at Selby Road, Stretford, M32 0TH",
        exact=True,
    )
    assert focused.evaluate("b => b === document.activeElement")

    focused.click()
    assert page.locator("#same_as_choice").input_value() == ""
    assert page.locator("#duplicates-chosen").inner_text() == (
        "You said this is not the same place as Lostock Library."
    )
    assert page.locator("#duplicates .app-duplicates__chosen").all_inner_texts() == [""] * 3
    axe_clean(watch, "the form with likely duplicates")
    watch.assert_clean()


@pytest.fixture
def no_js(browser: Browser, live_server: str) -> Iterator[tuple[Page, list[str]]]:
    """A page with JavaScript disabled, offline like ``watch``; yields it and outside requests."""
    context: BrowserContext = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(live_server + "/"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    try:
        yield context.new_page(), outside
    finally:
        context.close()


def test_the_same_journey_without_javascript_using_a_postcode(
    no_js: tuple[Page, list[str]], live_server: str, store: Store, taxonomy: Taxonomy
) -> None:
    page, outside = no_js
    create_all(store, [LOSTOCK], taxonomy)
    page.goto(f"{live_server}/submit")
    assert not page.locator("#location-map-block").is_visible()
    # Errors first: the summary links to the field, values are kept.
    page.get_by_label("Name of the place or group").fill("Stretford Tuesday Walkers")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.get_by_role("link").all_inner_texts() == [
        "Select what kind of place or group it is",
        "Enter the postcode of the place, or choose the place on the map",
    ]
    assert page.get_by_label("Name of the place or group").input_value() == (
        "Stretford Tuesday Walkers"
    )
    fill_about(page, "Stretford Tuesday Walkers")
    page.get_by_label("Postcode").fill("m32 0th")
    ref = continue_and_send(page)
    asset = store.get_asset(store.get_submission(ref).asset_id)
    assert (asset.lon, asset.lat, asset.postcode) == (*M32_0TH, "M32 0TH")
    assert outside == []


def test_without_javascript_a_duplicate_is_offered_on_the_check_page(
    no_js: tuple[Page, list[str]], live_server: str, store: Store, taxonomy: Taxonomy
) -> None:
    page, _ = no_js
    (lostock,) = create_all(
        store, [{**LOSTOCK, "postcode": "M32 0TH", "lon": M32_0TH[0], "lat": M32_0TH[1]}], taxonomy
    )
    page.goto(f"{live_server}/submit")
    page.get_by_label("Name of the place or group").fill("Lostock library")
    page.get_by_label("Library", exact=True).check()
    page.get_by_label("Postcode").fill("M32 0TH")
    page.get_by_label("Website (optional)").fill("https://example.org/lostock")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("Yes, it is Lostock Library").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    sub = store.get_submission(page.locator("#reference").inner_text())
    assert (sub.kind, sub.asset_id) == ("change", lostock.id)
    assert sub.changes == {"website": "https://example.org/lostock"}


def test_without_javascript_each_duplicate_choice_and_link_names_its_place(
    no_js: tuple[Page, list[str]], live_server: str, store: Store, taxonomy: Taxonomy
) -> None:
    page, outside = no_js
    lostock, namesake, _ = lostock_and_namesakes(store, taxonomy)
    page.goto(f"{live_server}/submit")
    page.get_by_label("Name of the place or group").fill("Lostock library")
    page.get_by_label("Library", exact=True).check()
    page.get_by_label("Postcode").fill("M32 0TH")
    page.get_by_label("Website (optional)").fill("https://example.org/lostock")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    places = [
        "Lostock Library at Selby Road, Stretford, M32 0TH",
        "Lostock Library at Lostock Road, Stretford, M32 0TH",
        "Lostock Library Reading Group",
    ]
    for place in places:
        choice = page.get_by_role("radio", name=f"Yes, it is {place}", exact=True)
        assert choice.count() == 1, place
        link = page.get_by_role("link", name=f"See the page for {place} (opens in new tab)")
        assert link.count() == 1, place
    # The visible label stays short: where a namesake is shows in its hint.
    choice = page.get_by_role("radio", name=f"Yes, it is {places[1]}", exact=True)
    label = page.locator("label", has=page.locator(".govuk-visually-hidden")).nth(1)
    assert label.evaluate("l => l.firstChild.textContent") == "Yes, it is Lostock Library"
    assert label.get_attribute("for") == choice.get_attribute("id")
    choice.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    sub = store.get_submission(page.locator("#reference").inner_text())
    assert (sub.kind, sub.asset_id) == ("change", namesake.id) != ("change", lostock.id)
    assert outside == []


def axe_clean(watch: PageWatch, what: str) -> None:
    violations = run_axe(watch)
    assert violations == [], f"{what}:\n{describe(violations)}"


def test_no_serious_accessibility_violations_on_the_resident_pages(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    (lostock,) = create_all(store, [LOSTOCK], taxonomy)
    page = watch.page
    watch.goto("/submit")
    wait_for_map(page)
    axe_clean(watch, "the form")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    axe_clean(watch, "the form with errors")
    fill_about(page, "Lostock library")
    page.get_by_label("Postcode").fill("M32 9PL")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    axe_clean(watch, "the check page")
    page.get_by_label("No, it is a different place").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert page.locator(".govuk-panel__title").is_visible()
    axe_clean(watch, "the confirmation")
    for form in ("suggest-change", "report-problem"):
        watch.goto(f"/assets/{lostock.id}/{form}")
        axe_clean(watch, form)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert page.title().startswith("Error: ")
        axe_clean(watch, f"{form} with errors")
    watch.assert_clean()


def test_a_resident_on_a_phone_checks_their_reference_with_the_keyboard(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, [LOSTOCK], taxonomy)
    page = watch.page
    page.set_viewport_size({"width": 320, "height": 640})
    watch.goto("/submit")
    wait_for_map(page)
    fill_about(page, "Stretford Tuesday Walkers")
    page.get_by_label("Postcode").fill("M32 0TH")
    ref = continue_and_send(page)
    # Later, with the reference from paper: the confirmation's link, then typed as read.
    with page.expect_navigation():
        page.get_by_role("link", name="check what happened to something you sent").click()
    page.get_by_label("Reference number").focus()
    page.keyboard.type("AM 7K3Q")  # half of it: an error that says how to fix it
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert page.locator(".govuk-error-summary a").inner_text() == (
        "Enter the reference number as it was shown, like AM-7K3Q-9XPD"
    )
    axe_clean(watch, "the look-up with an error")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the summary's link puts the cursor in the box
    assert page.evaluate("document.activeElement.id") == "ref"
    page.keyboard.press("Control+A")
    page.keyboard.type(ref.lower())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{watch.base_url}/submissions/{ref}"
    assert page.locator("#status").inner_text() == "Pending"
    assert page.evaluate("document.documentElement.scrollWidth") == 320
    watch.assert_clean()
