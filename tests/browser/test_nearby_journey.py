"""A coordinator's journey in headless Chromium, offline: search, map, popup, handout, print.

Runs on the real Trafford demo (``load_demo``); every request must stay on 127.0.0.1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assetmap.analysis.nearby import NearbyResult, parse_nearby_query, search_nearby
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.browser.test_map_page import OSM_COPYRIGHT, credit_links, describe, run_axe, tab_to
from tests.maps.trafford import LIBRARIES, create_all

pytestmark = pytest.mark.browser

RESULTS = "#results-list > li"


@pytest.fixture
def demo(store: Store, taxonomy: Taxonomy) -> Store:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    return store


def near_m32(store: Store, taxonomy: Taxonomy) -> NearbyResult:
    query = parse_nearby_query(
        {"postcode": "M32 0TH", "radius": "1", "unit": "mi"},
        taxonomy=taxonomy,
        postcodes=load_default_index(),
    )
    return search_nearby(store, query, taxonomy=taxonomy, today=date.today())


def search_m32(watch: PageWatch) -> None:
    """Fill in the form as a coordinator would and submit it."""
    page = watch.page
    watch.goto("/nearby")
    page.get_by_label("Postcode").fill("M32 0TH")
    page.locator("#radius").fill("1")
    page.locator("#unit").select_option("mi")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/nearby?*postcode=M32+0TH*")


def test_search_list_map_popup_handout_and_print(
    watch: PageWatch, demo: Store, taxonomy: Taxonomy
) -> None:
    want = near_m32(demo, taxonomy)
    search_m32(watch)
    page = watch.page
    heading = page.locator("#results-heading").inner_text()
    assert heading == f"{want.total} places within 1 mile of M32 0TH"
    items = page.locator(RESULTS)
    assert items.count() == len(want.results) == want.total
    listed = [items.nth(i).get_attribute("data-asset-id") for i in range(items.count())]
    assert listed == [r["id"] for r in want.results]
    # the same number of markers as results, plus the search point and the radius
    watch.wait_for_markers(len(want.results))
    assert page.locator("path.am-origin").count() == 1
    assert page.locator("path.am-radius").count() == 1
    drawn = {
        page.locator("path.am-marker").nth(i).get_attribute("data-asset-id")
        for i in range(len(want.results))
    }
    assert drawn == set(listed)

    # open the popup of the third result: its name is the stored name, as text
    chosen = want.results[2]
    page.locator(f'path.am-marker[data-asset-id="{chosen["id"]}"]').click()
    popup = page.locator(".leaflet-popup-content .am-popup")
    popup.wait_for()
    assert popup.locator(".am-popup__name").inner_text() == demo.get_asset(chosen["id"]).name
    assert popup.locator(".am-popup__category").inner_text() == chosen["category_label"]
    assert (
        popup.locator(".am-popup__distance")
        .inner_text()
        .startswith(f"{chosen['distance_m']:,.0f} m")
    )

    # tick two results and make the handout: the same two, in list order
    first, second = want.results[4], want.results[1]
    page.locator(f"#pick-{first['id']}").check()
    page.locator(f"#pick-{second['id']}").check()
    page.get_by_role("button", name="Make a handout of the ticked places").click()
    page.wait_for_url("**/nearby/handout?*")
    handout = page.locator(".app-handout__item")
    assert [handout.nth(i).get_attribute("data-asset-id") for i in range(2)] == [
        second["id"],
        first["id"],
    ]
    assert handout.count() == 2
    page.wait_for_function("document.querySelectorAll('.am-number').length === 2")
    assert page.locator(".app-handout__map path.am-origin").count() == 1
    print_button = page.get_by_role("button", name="Print this handout")
    assert print_button.is_visible()

    # print view: header, navigation, buttons and map controls go; content and map stay
    page.emulate_media(media="print")
    for hidden in (
        ".govuk-header",
        ".govuk-service-navigation",
        ".govuk-back-link",
        ".app-handout__actions",
        ".leaflet-control-zoom",
    ):
        assert page.locator(hidden).is_hidden(), hidden
    assert print_button.is_hidden()
    for i, record in enumerate((second, first)):
        item = handout.nth(i)
        assert item.locator(".app-handout__name-text").is_visible()
        assert item.locator(".app-handout__name-text").inner_text() == record["name"]
        assert f"{record['distance_m']:,.0f} m" in item.inner_text()
        assert "Opening times" in item.inner_text()
    assert page.locator(".app-handout__map").is_visible()
    box = page.locator(".app-handout__map").bounding_box()
    assert box is not None and box["height"] > 200
    assert page.locator(".am-number").first.is_visible()
    assert page.locator("#handout-privacy").is_visible()
    page.emulate_media(media="screen")
    assert page.locator(".govuk-header").is_visible()
    watch.assert_clean()


def test_a_point_picked_on_the_map_becomes_the_search(
    watch: PageWatch, demo: Store, taxonomy: Taxonomy
) -> None:
    want = near_m32(demo, taxonomy)
    search_m32(watch)
    watch.wait_for_markers(len(want.results))
    page = watch.page
    # a spot inside the search circle, about 500 m north of the search point and on no marker
    the_map = page.locator(".app-nearby-map .folium-map")
    the_map.scroll_into_view_if_needed()
    box = the_map.bounding_box()  # viewport coordinates, as mouse.click takes
    assert box is not None
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.35
    assert page.evaluate(
        "([x, y]) => !document.elementFromPoint(x, y).closest('.am-marker, .leaflet-control')",
        [x, y],
    )
    page.mouse.click(x, y)
    pick = page.locator(".am-pick")
    pick.wait_for()
    assert pick.inner_text().startswith("Latitude ")
    pick.get_by_role("button", name="Search from here").click()
    page.wait_for_url("**/nearby?*lat=*")
    lat = page.locator("#lat").input_value()
    lon = page.locator("#lon").input_value()
    assert page.locator("#postcode").input_value() == ""
    assert (
        page.locator("#results-heading")
        .inner_text()
        .endswith(f"of {float(lat):.5f}, {float(lon):.5f}")
    )
    assert float(lat) > 53.459  # north of M32 0TH (53.45901): the map's top half was picked
    assert page.locator(RESULTS).count() > 0
    watch.assert_clean()


@pytest.mark.parametrize("state", ["results", "error", "handout"])
def test_no_serious_accessibility_violations(
    watch: PageWatch, demo: Store, taxonomy: Taxonomy, state: str
) -> None:
    if state == "results":
        search_m32(watch)
        watch.wait_for_markers(near_m32(demo, taxonomy).total)
        watch.page.locator("#filter-details summary").click()  # the filters are checked too
    elif state == "error":
        watch.goto("/nearby?postcode=M32+0QQ&radius=60&unit=mi", status=400)
        assert watch.page.locator(".govuk-error-summary").is_visible()
        # focus moves to the summary, so it is read out first
        assert watch.page.evaluate("document.activeElement.className").startswith(
            "govuk-error-summary"
        )
    else:
        ids = "&".join(f"ids={r['id']}" for r in near_m32(demo, taxonomy).results[:3])
        watch.goto(f"/nearby/handout?{ids}&postcode=M32+0TH&radius=1&unit=mi")
        watch.page.wait_for_function("document.querySelectorAll('.am-number').length === 3")
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()


@pytest.mark.parametrize(
    "path",
    [
        "/nearby?postcode=M33&radius=3&unit=mi&limit=200",
        "/nearby?postcode=WA14&radius=3&unit=mi&limit=200",
    ],
)
def test_results_reflow_at_320_css_pixels(
    watch: PageWatch, demo: Store, taxonomy: Taxonomy, path: str
) -> None:
    # WCAG 1.4.10: at 320 CSS px (1280 px zoomed to 400 %) nothing may need scrolling
    # sideways; the demo's long contact emails (altrincham.library@trafford.gov.uk) did.
    watch.page.set_viewport_size({"width": 320, "height": 700})
    watch.goto(path)
    assert watch.page.locator(RESULTS).count() > 100
    wide = watch.page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.leaflet-container'))
            .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
            .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 60))"""
    )
    assert wide == []
    assert watch.page.evaluate("document.documentElement.scrollWidth") <= 320
    watch.assert_clean()


# Elements (Leaflet's own panes aside) reaching past the right edge of the window.
_PAST_THE_EDGE = """() => [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.leaflet-container') || e.matches('.leaflet-container'))
    .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
    .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40))"""


def test_a_printed_handout_fits_the_paper(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    # Resident-written text can hold a word longer than a line: a name run together, a
    # pasted reference, a long web address. On paper nothing can be scrolled to.
    long_word = "Stretford" + "Community" * 8 + "Hub"
    kept, gone = create_all(
        store,
        [
            {
                **LIBRARIES[3],
                "name": long_word,
                "address": f"Unit {'9' * 60}, Selby Road, Stretford",
                "opening_times": "See" + "-our-noticeboard" * 6,
                "email": "a.very.long.address.for.the.hub@stretford-community.example.org",
                "website": "https://www.example.org/" + "a-long-path-without-spaces" * 4,
            },
            LIBRARIES[4],
        ],
        taxonomy,
    )
    store.set_status(gone.id, "archived", author="test")
    page = watch.page
    # A4 less the handout's 15 mm margins is 180 mm: 680 CSS pixels.
    page.set_viewport_size({"width": 680, "height": 1000})
    watch.goto(f"/nearby/handout?ids={kept.id}&ids={gone.id}&postcode=M32+0TH&radius=5&unit=km")
    page.wait_for_function("document.querySelectorAll('.am-number').length === 1")
    # The coordinator is told a ticked place was left out; the person's paper need not say.
    warning = page.locator(".govuk-warning-text")
    assert warning.is_visible()
    page.emulate_media(media="print")
    assert warning.is_hidden()
    assert page.locator(".app-handout__name-text").inner_text() == long_word
    assert page.evaluate(_PAST_THE_EDGE) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 680
    the_map = page.locator(".app-handout__map").bounding_box()
    assert the_map is not None and the_map["x"] >= 0 and the_map["x"] + the_map["width"] <= 680
    assert page.pdf(format="A4").startswith(b"%PDF")
    watch.assert_clean()


def test_the_results_and_handout_maps_credit_the_data_and_the_file_links_nothing_local(
    watch: PageWatch, demo: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    found = near_m32(demo, taxonomy).results
    osm = next(r for r in found if r["source"] == "trafford-allotments-osm")
    other = next(r for r in found if "OpenStreetMap" not in r["licence"])
    search_m32(watch)
    watch.wait_for_markers(len(found))
    credits = [
        ("OpenStreetMap contributors", OSM_COPYRIGHT),
        ("Data sources and licences", "/licences"),
    ]
    assert credit_links(watch)[1:] == credits
    # The handout of an OpenStreetMap place: credited, with the page's link, on the site...
    query = f"ids={osm['id']}&ids={other['id']}&postcode=M32+0TH&radius=1&unit=mi"
    watch.goto(f"/nearby/handout?{query}")
    page = watch.page
    page.wait_for_function("document.querySelectorAll('.am-number').length === 2")
    assert credit_links(watch)[1:] == credits
    tab_to(watch, "Data sources and licences")
    page.keyboard.press("Enter")
    page.wait_for_url("**/licences")
    # ...and in the downloaded file, opened from disk, the credit without a link to a page
    # that is not beside it; its statements are in its own text.
    download = page.request.get(f"{watch.base_url}/nearby/handout/download?{query}")
    assert download.ok
    saved = tmp_path / "handout.html"
    saved.write_bytes(download.body())
    # A page route comes before the fixture's, which counts anything off the server a leak.
    page.route(saved.as_uri(), lambda route: route.continue_())
    page.goto(saved.as_uri())
    page.wait_for_function("document.querySelectorAll('.am-number').length === 2")
    assert credit_links(watch)[1:] == [("OpenStreetMap contributors", OSM_COPYRIGHT)]
    assert "© OpenStreetMap contributors" in page.locator(".app-footer__attribution").inner_text()
    watch.assert_clean()
