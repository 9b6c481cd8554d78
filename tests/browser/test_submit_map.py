"""The resident form's location map, drawn by submit.js rather than Folium, with and without a
tile layer: its credit line's links are underlined and axe finds nothing serious on a narrow
phone or a desktop screen.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import DEFAULT_TILE_ATTRIBUTION, Settings
from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.browser.test_map_page import describe, run_axe
from tests.browser.test_submit_journey import LOSTOCK, wait_for_map
from tests.maps.trafford import create_all

pytestmark = pytest.mark.browser

# Tiles from the test server itself (any image will do), so the run stays offline; the page's
# CSP allows its own origin's images.
TILE_URL = "/static/images/favicon.svg?tile={z}/{x}/{y}"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The shared settings (no tiles), or with a tile layer as the demo has (indirect)."""
    param = getattr(request, "param", False)
    if not param:
        return settings
    # A string is the tiles' credit setting.
    attribution = param if isinstance(param, str) else DEFAULT_TILE_ATTRIBUTION
    return replace(settings, tile_url=TILE_URL, tile_attribution=attribution)


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("settings", [False, True], ids=["no tiles", "tiles"], indirect=True)
def test_the_location_map_credit_links_are_underlined_and_axe_passes(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, settings: Settings, width: int
) -> None:
    create_all(store, [LOSTOCK], taxonomy)
    page = watch.page
    page.set_viewport_size({"width": width, "height": 900})
    watch.goto("/submit")
    wait_for_map(page)
    credit = page.locator("#location-map .leaflet-control-attribution")
    if settings.tile_url:
        page.locator("#location-map img.leaflet-tile-loaded").first.wait_for()
        assert DEFAULT_TILE_ATTRIBUTION in credit.inner_text()
    else:
        assert page.locator("#location-map img.leaflet-tile").count() == 0
    links = credit.locator("a")
    assert links.all_inner_texts()[0].strip() == "Leaflet"
    # Told apart from the credit's text by more than colour (WCAG 1.4.1): Leaflet's own style
    # takes the underline away, and axe flagged link-in-text-block once the tiles' credit
    # stood beside the link.
    lines = links.evaluate_all("els => els.map(el => getComputedStyle(el).textDecorationLine)")
    assert lines == ["underline"] * links.count()
    violations = run_axe(watch)  # with target-size, a WCAG 2.2 AA rule axe leaves out by default
    assert violations == [], describe(violations)
    assert page.evaluate("document.documentElement.scrollWidth") == width
    watch.assert_clean()


@pytest.mark.parametrize("settings", [True], ids=["tiles"], indirect=True)
def test_the_location_map_credits_the_data_as_the_other_maps_do(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, settings: Settings
) -> None:
    create_all(store, [LOSTOCK], taxonomy)
    watch.goto("/submit")
    wait_for_map(watch.page)
    credit = watch.page.locator("#location-map .leaflet-control-attribution")
    osm = credit.get_by_role("link", name="OpenStreetMap contributors")
    assert osm.get_attribute("href") == "https://www.openstreetmap.org/copyright"
    licences = credit.get_by_role("link", name="Data sources and licences")
    assert licences.get_attribute("href") == "/licences"
    watch.assert_clean()


@pytest.mark.parametrize("settings", ['<b id="bold">Tiles</b> & co'], indirect=True)
def test_a_tile_credit_setting_is_shown_as_text(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, settings: Settings
) -> None:
    # submit.js gave the setting to Leaflet, which inserts attributions as HTML.
    create_all(store, [LOSTOCK], taxonomy)
    watch.goto("/submit")
    wait_for_map(watch.page)
    credit = watch.page.locator("#location-map .leaflet-control-attribution")
    assert '<b id="bold">Tiles</b> & co' in credit.inner_text()
    assert watch.page.locator("#bold").count() == 0
    watch.assert_clean()
