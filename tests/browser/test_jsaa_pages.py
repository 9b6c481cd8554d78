"""The published Trafford JSAA in headless Chromium: every area drawn offline, layers, axe.

The release is the Trafford demo run (tests/maps/jsaa_demo.py) published into a temporary
maps folder, served by the app at /maps/ like the shipped one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from assetmap.analysis.jsaa import JsaaResult
from assetmap.maps.popups import TOOLTIP_LINGER_MS
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.browser.conftest import TIMEOUT_MS, PageWatch
from tests.browser.test_map_page import centre_of, describe, run_axe
from tests.maps.jsaa_demo import RELEASE_DATE, TRAFFORD_AREAS, demo_result, publish_demo
from tests.web.staff import PASSWORD, add_user

pytestmark = pytest.mark.browser

RELEASE = f"/maps/trafford/{RELEASE_DATE}"


@pytest.fixture(scope="module")
def published_root(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Path:
    root = tmp_path_factory.mktemp("published") / "maps"
    publish_demo(root)
    return root


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """The pages read files, not the store (one backend is enough), except /jsaa's sign-in."""
    return f"sqlite:///{tmp_path / 'assetmap.db'}"


@pytest.fixture
def app(settings: Settings, store: Store, published_root: Path) -> Flask:
    return create_app(replace(settings, maps_path=published_root), store=store)


@pytest.fixture(scope="module")
def trafford() -> JsaaResult:
    return demo_result()


def wait_for_areas(watch: PageWatch) -> None:
    watch.page.wait_for_function(
        "n => document.documentElement.getAttribute('data-am-ready') === String(n)",
        arg=TRAFFORD_AREAS,
        timeout=TIMEOUT_MS,
    )


def test_the_gap_map_draws_every_area_with_no_request_off_the_host(
    watch: PageWatch, trafford: JsaaResult
) -> None:
    watch.goto(f"{RELEASE}/map-gap.html")
    wait_for_areas(watch)
    page = watch.page
    assert page.locator("path.am-area").count() == TRAFFORD_AREAS
    codes = page.eval_on_selector_all(
        "path.am-area", "els => els.map(e => e.getAttribute('data-area-code'))"
    )
    assert sorted(codes) == sorted(trafford.areas["area_code"])
    priority = len(trafford.summary["priority_areas"])
    assert page.locator("path.am-priority").count() == 2 * priority  # halo and outline
    assert page.locator("table.app-area-table tbody tr").count() == TRAFFORD_AREAS
    assert page.locator("table.app-area-table tbody tr.app-row--priority").count() == priority
    # The legend moved into the map, with the classes, unit and priority key.
    legend = page.locator(".am-legend.leaflet-control")
    assert "Gap score" in legend.inner_text()
    assert f"Priority area ({priority})" in legend.inner_text()
    watch.assert_clean()


def test_an_area_tooltip_gives_its_name_code_and_value(
    watch: PageWatch, trafford: JsaaResult
) -> None:
    watch.goto(f"{RELEASE}/map-imd_score.html")
    wait_for_areas(watch)
    row = trafford.areas.sort_values("imd_score").iloc[-1]
    area = watch.page.locator(f'path.am-area[data-area-code="{row["area_code"]}"]')
    area.hover(force=True)
    tip = watch.page.locator(".leaflet-tooltip .am-area-tip")
    tip.wait_for()
    text = tip.inner_text()
    assert row["area_name"] in text and row["area_code"] in text
    assert f"IMD 2019 score: {row['imd_score']:,.1f}" in text
    watch.assert_clean()


def test_a_long_area_tooltip_wraps_inside_the_map(watch: PageWatch) -> None:
    # Leaflet's tooltips never wrap: the rank's unit made this one about 490 px wide, and
    # the map's edge cut it off mid-word. Trafford 017D, the top priority area, is near the
    # map's right edge.
    watch.page.set_viewport_size({"width": 1280, "height": 900})
    watch.goto(f"{RELEASE}/map-health_rank.html")
    wait_for_areas(watch)
    watch.page.locator('path.am-area[data-area-code="E01006107"]').hover(force=True)
    tip = watch.page.locator(".leaflet-tooltip .am-area-tip")
    tip.wait_for()
    assert "2,401 (rank of 32,844, 1 = most deprived)" in tip.inner_text()
    box, line = (
        tip.bounding_box(),
        watch.page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('.am-area-tip')).lineHeight)"
        ),
    )
    assert box is not None and box["width"] <= 20 * 16  # 20rem
    assert box["height"] > 3.5 * line  # name, code, and a value line that wrapped
    tooltip = watch.page.locator(".leaflet-tooltip").bounding_box()
    frame = watch.page.locator(".am-map").bounding_box()
    assert tooltip is not None and frame is not None
    assert (
        frame["x"] <= tooltip["x"]
        and tooltip["x"] + tooltip["width"] <= frame["x"] + frame["width"]
    )
    watch.assert_clean()


def test_escape_hides_an_area_tooltip_where_the_pointer_rests(
    watch: PageWatch, trafford: JsaaResult
) -> None:
    watch.goto(f"{RELEASE}/map-gap.html")
    wait_for_areas(watch)
    page = watch.page
    code = trafford.areas["area_code"].iloc[0]
    page.locator(f'path.am-area[data-area-code="{code}"]').hover(force=True)
    tip = page.locator(".leaflet-tooltip .am-area-tip")
    tip.wait_for()
    assert code in tip.inner_text()
    focused = page.evaluate("document.activeElement.tagName")
    # WCAG 1.4.13: dismissible without moving the pointer or the focus.
    page.keyboard.press("Escape")
    tip.wait_for(state="detached")
    assert page.evaluate("document.activeElement.tagName") == focused
    watch.assert_clean()


def test_an_area_label_stays_where_it_opened_for_the_pointer_to_reach(
    watch: PageWatch, trafford: JsaaResult
) -> None:
    watch.goto(f"{RELEASE}/map-gap.html")
    wait_for_areas(watch)
    page = watch.page
    code = trafford.areas["area_code"].iloc[0]
    area = page.locator(f'path.am-area[data-area-code="{code}"]')
    area.hover(force=True)
    tip = page.locator(".leaflet-tooltip .am-area-tip")
    tip.wait_for()
    where = centre_of(tip)
    # It no longer follows the pointer across the area (so it can be reached)...
    x, y = centre_of(area)
    page.mouse.move(x + 2, y + 2)
    assert centre_of(tip) == where
    # ...and the pointer resting on it keeps it open (WCAG 1.4.13, hoverable).
    page.mouse.move(*where)
    page.wait_for_timeout(3 * TOOLTIP_LINGER_MS)
    assert tip.is_visible() and code in tip.inner_text()
    page.mouse.move(*centre_of(page.locator("h1")))
    tip.wait_for(state="detached")
    watch.assert_clean()


def test_the_layer_control_switches_an_asset_layer(watch: PageWatch, trafford: JsaaResult) -> None:
    watch.goto(f"{RELEASE}/map-gap.html")
    wait_for_areas(watch)
    page = watch.page
    libraries = int((trafford.assets["category"] == "library").sum())
    assert libraries > 0
    markers = page.locator("path.am-marker--library")
    assert markers.count() == libraries
    switch = page.get_by_label(re.compile(rf"^\s*Library \({libraries}\)$"))
    switch.uncheck()
    assert markers.count() == 0
    assert page.locator("path.am-area").count() == TRAFFORD_AREAS  # the rest stays
    switch.check()
    assert markers.count() == libraries
    watch.assert_clean()


def test_the_release_index_and_report_render(watch: PageWatch) -> None:
    watch.goto("/maps/")
    watch.page.get_by_role("link", name="Every release of").first.click()
    watch.page.wait_for_url("**/maps/trafford/index.html")
    watch.page.get_by_role("link", name="23 November 2026", exact=True).click()
    watch.page.wait_for_url(f"**{RELEASE}/index.html")
    watch.page.get_by_role("link", name="The assessment report").click()
    watch.page.wait_for_url(f"**{RELEASE}/report.html")
    images = watch.page.locator("img.app-figure__image")
    assert images.count() >= 12
    widths = images.evaluate_all("els => els.map(e => e.naturalWidth)")
    assert all(w > 100 for w in widths), "every chart loaded"
    watch.assert_clean()


def sign_in_to_jsaa(watch: PageWatch, store: Store) -> None:
    add_user(store, "cara", "commissioner")
    page = watch.page
    watch.goto("/jsaa/new")
    assert "/login?next=" in page.url
    page.get_by_label("Username").fill("cara")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/jsaa/new")


@pytest.mark.parametrize("page_name", ["report", "map", "jsaa form", "jsaa form errors"])
def test_no_serious_accessibility_violations(
    watch: PageWatch, store: Store, page_name: str
) -> None:
    if page_name == "report":
        watch.goto(f"{RELEASE}/report.html")
    elif page_name == "map":
        watch.goto(f"{RELEASE}/map-gap.html")
        wait_for_areas(watch)
    else:
        sign_in_to_jsaa(watch, store)
        if page_name == "jsaa form errors":
            with watch.page.expect_navigation():
                watch.page.get_by_role("button", name="Continue").click()
            assert watch.page.locator(".govuk-error-summary").count() == 1
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()
