"""The pages in headless Chromium: the map draws under the CSP, popups are text, axe passes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.popups import TOOLTIP_LINGER_MS
from assetmap.settings import Settings
from assetmap.store import Store
from tests.browser.conftest import VENDOR, PageWatch
from tests.maps.trafford import HOSTILE_NAME, LIBRARIES, OTHERS, TRAFFORD, create_all, hostile

pytestmark = pytest.mark.browser

AXE_URL = "/static/vendor/axe-core/axe.min.js"
BLOCKING = {"serious", "critical"}


def table_rows(watch: PageWatch) -> int:
    return watch.page.locator("table.app-asset-table tbody tr").count()


def test_home_draws_one_marker_per_published_asset(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, TRAFFORD, taxonomy)
    create_all(store, [{**LIBRARIES[0], "name": "Awaiting review", "status": "pending"}], taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(TRAFFORD))
    page = watch.page
    assert page.locator("path.am-marker").count() == len(TRAFFORD)
    assert page.locator("path.am-marker--library").count() == len(LIBRARIES)
    assert table_rows(watch) == len(TRAFFORD)
    caption = page.locator("table.app-asset-table caption").inner_text()
    assert caption.strip() == f"{len(TRAFFORD)} published assets"
    # Legend and layer switcher are inside the map, one entry per category shown.
    assert page.locator(".am-legend.leaflet-control li").count() == 4
    assert page.locator(".leaflet-control-layers-overlays label").count() == 4
    watch.assert_clean()


def test_layer_switcher_hides_a_category(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, TRAFFORD, taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(TRAFFORD))
    page = watch.page
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Library", exact=True).uncheck()
    assert page.locator("path.am-marker").count() == len(OTHERS)
    watch.assert_clean()


def test_popup_shows_the_name_as_text(watch: PageWatch, store: Store, taxonomy: Taxonomy) -> None:
    # Hale Library's place under a hostile name; the other libraries around it.
    others = [row for row in LIBRARIES if row["name"] != "Hale Library"]
    create_all(store, others, taxonomy)
    (asset,) = create_all(
        store,
        [hostile(HOSTILE_NAME, address=HOSTILE_NAME, website="https://example.org/x")],
        taxonomy,
    )
    watch.goto("/")
    watch.wait_for_markers(len(others) + 1)
    page = watch.page
    marker = page.locator(f'path.am-marker[data-asset-id="{asset.id}"]')
    marker.hover()
    assert page.locator(".leaflet-tooltip").inner_text() == HOSTILE_NAME
    # Escape dismisses it with the pointer still over the circle (WCAG 1.4.13).
    page.keyboard.press("Escape")
    page.locator(".leaflet-tooltip").wait_for(state="detached")
    marker.click()
    popup = page.locator(".leaflet-popup-content .am-popup")
    popup.wait_for()
    assert popup.locator(".am-popup__name").inner_text() == HOSTILE_NAME
    assert popup.locator(".am-popup__category").inner_text() == "Library"
    assert f"{HOSTILE_NAME}, WA15 9NT" in popup.inner_text()
    assert popup.locator("img").count() == 0
    website = popup.get_by_role("link", name="Website: example.org")
    assert website.get_attribute("href") == "https://example.org/x"
    details = popup.get_by_role("link", name=f"More about {HOSTILE_NAME}")
    assert details.get_attribute("href") == f"/assets/{asset.id}"
    # The table shows the same text, and the page it links to opens without running it.
    table = page.locator("table.app-asset-table")
    assert table.get_by_role("link", name=HOSTILE_NAME, exact=True).count() == 1
    details.click()
    page.wait_for_url(f"**/assets/{asset.id}")
    assert page.locator("h1").inner_text() == HOSTILE_NAME
    watch.wait_for_markers(1)
    page.wait_for_timeout(200)  # an onerror handler would fire by now
    watch.assert_clean()


def centre_of(locator: Any) -> tuple[float, float]:
    """The middle of an element on the page, in CSS pixels."""
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_a_label_stays_while_the_pointer_is_on_it(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, LIBRARIES, taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(LIBRARIES))
    page = watch.page
    page.locator("path.am-marker").first.hover()
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for()
    name = tip.inner_text()
    # WCAG 1.4.13, hoverable: the pointer leaves the circle for its label, which stays
    # (Leaflet's own tooltips closed as the pointer left the circle).
    page.mouse.move(*centre_of(tip))
    page.wait_for_timeout(3 * TOOLTIP_LINGER_MS)
    assert tip.count() == 1 and tip.is_visible() and tip.inner_text() == name
    # Off the label and the circle, it goes.
    page.mouse.move(*centre_of(page.locator("h1")))
    tip.wait_for(state="detached")
    watch.assert_clean()


def test_markers_work_from_the_keyboard(watch: PageWatch, store: Store, taxonomy: Taxonomy) -> None:
    others = [row for row in LIBRARIES if row["name"] != "Hale Library"]
    create_all(store, others, taxonomy)
    (asset,) = create_all(store, [hostile(HOSTILE_NAME)], taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(others) + 1)
    page = watch.page
    # Each circle is a button named after its place, in the tab order.
    marker = page.get_by_role("button", name=f"{HOSTILE_NAME}, Library", exact=True)
    assert marker.get_attribute("data-asset-id") == asset.id
    assert page.locator('path.am-marker[tabindex="0"]').count() == len(others) + 1
    marker.focus()
    assert page.locator(".leaflet-tooltip").inner_text() == HOSTILE_NAME
    outline = marker.evaluate("el => getComputedStyle(el).stroke")
    assert outline == "rgb(11, 12, 12)"
    # A ring drawn over every other circle, centred on this one, shows where focus is.
    ring = page.locator("path.am-focus-ring")
    assert ring.count() == 1
    assert ring.evaluate("el => el === el.parentNode.lastElementChild")
    centre = (
        "el => { const r = el.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; }"
    )
    ring_x, ring_y = ring.evaluate(centre)
    marker_x, marker_y = marker.evaluate(centre)
    assert abs(ring_x - marker_x) < 1 and abs(ring_y - marker_y) < 1
    # Escape hides the name without moving focus (WCAG 1.4.13).
    page.keyboard.press("Escape")
    page.locator(".leaflet-tooltip").wait_for(state="detached")
    assert page.evaluate("document.activeElement.getAttribute('data-asset-id')") == asset.id
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content .am-popup")
    popup.wait_for()
    assert popup.locator(".am-popup__name").inner_text() == HOSTILE_NAME
    # Focus went into the popup, and Tab reaches its link.
    assert page.evaluate("document.activeElement.className") == "am-popup"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == f"More about {HOSTILE_NAME}"
    assert ring.count() == 0  # focus left the circle
    # Escape closes it and puts focus back on the circle.
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert ring.count() == 1
    focused = page.evaluate("document.activeElement.getAttribute('data-asset-id')")
    assert focused == asset.id
    # Space opens it too.
    page.keyboard.press(" ")
    popup.wait_for()
    watch.assert_clean()


def test_skip_link_passes_the_map(watch: PageWatch, store: Store, taxonomy: Taxonomy) -> None:
    create_all(store, TRAFFORD, taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(TRAFFORD))
    page = watch.page
    skip = page.get_by_role("link", name="Skip the map")
    skip.focus()
    assert skip.is_visible()
    page.keyboard.press("Enter")
    # The next Tab lands in the table, not on one of the map's circles.
    page.keyboard.press("Tab")
    in_table = page.evaluate("!!document.activeElement.closest('table.app-asset-table')")
    assert in_table
    watch.assert_clean()


def run_axe(watch: PageWatch) -> list[dict[str, Any]]:
    """Inject axe-core from the app's vendor folder (allowed by the CSP) and run it."""
    watch.page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = watch.page.evaluate(
        # target-size (WCAG 2.2 AA, 2.5.8) is not among axe's default rules.
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " rules: {'target-size': {enabled: true}}})"
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(node["target"]) for node in v["nodes"][:5]]
        lines.append(f"{v['impact']} {v['id']}: {v['help']} -> {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("page_name", ["home", "detail", "not found", "accessibility"])
def test_no_serious_accessibility_violations(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, page_name: str
) -> None:
    assert (VENDOR / "axe-core" / "axe.min.js").is_file()
    assets = create_all(store, TRAFFORD, taxonomy)
    if page_name == "home":
        watch.goto("/")
        watch.wait_for_markers(len(TRAFFORD))
    elif page_name == "detail":
        community_centre = assets[-1]
        watch.goto(f"/assets/{community_centre.id}")
        watch.wait_for_markers(1)
    elif page_name == "accessibility":
        watch.goto("/accessibility")
    else:
        watch.goto("/no/such/page", status=404)
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()


def test_demo_data_markers_match_table_and_store(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, settings: Settings
) -> None:
    from assetmap.gazetteer.postcodes import PostcodeIndex
    from assetmap.services.importing import load_demo

    load_demo(
        store,
        taxonomy=taxonomy,
        postcodes=PostcodeIndex.from_csv(settings.postcode_path),
        progress=False,
    )
    published = store.count_assets(status="published")
    assert published > 100
    watch.goto("/")
    watch.wait_for_markers(published)
    assert watch.page.locator("path.am-marker").count() == published
    assert table_rows(watch) == published
    watch.assert_clean()


OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
LICENCES_LINK = ("Data sources and licences", "/licences")
TILE_ORIGIN = "https://tiles.example.org"


def credit_links(watch: PageWatch) -> list[tuple[str, str | None]]:
    """The links in the map's attribution control: (text, href), in order."""
    links = watch.page.locator(".leaflet-control-attribution a")
    return [
        (links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href"))
        for i in range(links.count())
    ]


def tab_to(watch: PageWatch, name: str, presses: int = 120) -> None:
    """Tab from the top of the page until the link ``name`` has focus, as a keyboard user."""
    page = watch.page
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == name:
            return
    pytest.fail(f"{presses} presses of Tab did not reach the link {name!r}")


@pytest.mark.parametrize("page_name", ["home", "detail"])
def test_the_map_credits_its_data_and_links_the_licences_page(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, page_name: str
) -> None:
    osm = {
        **OTHERS[2],
        "name": "Turn Moss Allotments",
        "source": "trafford-allotments-osm",
        "licence": "Open Government Licence v3.0 and Open Database Licence (ODbL) 1.0."
        " Trafford Council; © OpenStreetMap contributors",
    }
    assets = create_all(store, [*TRAFFORD, osm], taxonomy)
    if page_name == "home":
        watch.goto("/")
        watch.wait_for_markers(len(assets))
    else:
        watch.goto(f"/assets/{assets[-1].id}")
        watch.wait_for_markers(1)
    page = watch.page
    control = page.locator(".leaflet-control-attribution")
    assert credit_links(watch)[1:] == [("OpenStreetMap contributors", OSM_COPYRIGHT), LICENCES_LINK]
    assert "© OpenStreetMap contributors" in control.inner_text()
    tab_to(watch, "Data sources and licences")
    focused = page.locator(".leaflet-control-attribution a:focus")
    assert focused.inner_text() == "Data sources and licences"
    # GOV.UK's focus state: black text on yellow, so the focus is seen on any background.
    assert focused.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 221, 0)"
    page.keyboard.press("Enter")
    page.wait_for_url("**/licences")
    assert page.locator("h1").inner_text() == "Data sources and licences"
    watch.assert_clean()


def test_a_map_of_council_data_alone_links_only_the_licences_page(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, TRAFFORD, taxonomy)  # no OpenStreetMap data, and no tiles
    watch.goto("/")
    watch.wait_for_markers(len(TRAFFORD))
    assert [text for text, _ in credit_links(watch)] == ["Leaflet", LICENCES_LINK[0]]
    assert "OpenStreetMap" not in watch.page.locator(".leaflet-control-attribution").inner_text()
    watch.assert_clean()


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The shared settings, or with a tile layer for tests that ask (indirect parameter)."""
    tiles: tuple[str, str] | None = getattr(request, "param", None)
    if tiles is None:
        return settings
    return replace(settings, tile_url=tiles[0], tile_attribution=tiles[1])


@pytest.mark.parametrize(
    ("settings", "shown"),
    [
        # OpenStreetMap's tiles: their credit, linked, stands for the data's too
        (
            (f"{TILE_ORIGIN}/osm/{{z}}/{{x}}/{{y}}.png", "© OpenStreetMap contributors"),
            ["Leaflet", "OpenStreetMap contributors", "Data sources and licences"],
        ),
        # another provider's credit shows as given, beside OpenStreetMap's for the tiles
        (
            (f"{TILE_ORIGIN}/openstreetmap/{{z}}/{{x}}/{{y}}.png", "Tiles © Example Maps"),
            ["Leaflet", "OpenStreetMap contributors", "Data sources and licences"],
        ),
    ],
    indirect=["settings"],
)
def test_a_configured_tile_layer_keeps_its_own_credit(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, settings: Settings, shown: list[str]
) -> None:
    watch.page.route(TILE_ORIGIN + "/**", lambda route: route.abort("internetdisconnected"))
    create_all(store, TRAFFORD, taxonomy)
    watch.goto("/")
    watch.wait_for_markers(len(TRAFFORD))
    control = watch.page.locator(".leaflet-control-attribution")
    assert [text for text, _ in credit_links(watch)] == shown
    assert settings.tile_attribution in control.inner_text()
    assert control.inner_text().count("OpenStreetMap contributors") == 1
    watch.assert_clean()
