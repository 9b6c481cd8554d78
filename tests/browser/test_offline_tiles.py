"""Map pages with a tile server configured but out of reach: Leaflet copes, the CSP stays quiet."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Route

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store
from tests.browser.conftest import TIMEOUT_MS, PageWatch
from tests.maps.trafford import TRAFFORD, create_all

pytestmark = pytest.mark.browser

TILE_ORIGIN = "https://tiles.example.org"

# Leaflet blanks a tile it drops (zooming, panning, one that failed) by setting its src to a
# data: GIF. Record each such image, then whether it loaded or was refused.
_WATCH_BLANKED_TILES = """
window.__blankedTiles = [];
new MutationObserver(function (changes) {
  changes.forEach(function (change) {
    var img = change.target;
    if (!(img.getAttribute("src") || "").startsWith("data:")) return;
    var record = {outcome: "pending"};
    window.__blankedTiles.push(record);
    img.addEventListener("load", function () { record.outcome = "load"; });
    img.addEventListener("error", function () { record.outcome = "error"; });
  });
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["src"]});
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, tile_url=TILE_ORIGIN + "/{z}/{x}/{y}.png")


@pytest.mark.parametrize("page_name", ["home", "detail"])
def test_unreachable_tiles_cause_no_csp_violation(
    watch: PageWatch, store: Store, taxonomy: Taxonomy, page_name: str
) -> None:
    assets = create_all(store, TRAFFORD, taxonomy)
    tiles: list[str] = []

    def offline(route: Route) -> None:
        tiles.append(route.request.url)
        route.abort("internetdisconnected")

    # Page routes come before the fixture's context route, which would count these as leaks.
    watch.page.route(TILE_ORIGIN + "/**", offline)
    watch.page.add_init_script(_WATCH_BLANKED_TILES)
    if page_name == "home":
        watch.goto("/")
        watch.wait_for_markers(len(TRAFFORD))
    else:
        watch.goto(f"/assets/{assets[0].id}")
        watch.wait_for_markers(1)
    page = watch.page
    # Zooming drops the last level's (failed) tiles, which Leaflet blanks with data: images.
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(
        "window.__blankedTiles.some(function (t) { return t.outcome !== 'pending'; })",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(200)  # the rest settle; console messages arrive after the events
    # Leaflet may blank more tiles meanwhile: judge those settled, and the CSP for them all.
    outcomes = page.evaluate("window.__blankedTiles.map(function (t) { return t.outcome; })")
    assert set(outcomes) - {"pending"} == {"load"}, watch.csp_violations()
    assert tiles, "the map asked for no tiles: nothing here was out of reach"
    watch.assert_clean()
