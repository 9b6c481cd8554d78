"""WCAG 2.2 AA checks axe does not run by default: target size (2.5.8) on a phone-sized screen,
and links in Leaflet's credit line set apart by more than colour (1.4.1).
"""

from __future__ import annotations

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.browser.test_map_page import describe, run_axe

pytestmark = pytest.mark.browser


def test_nearby_results_links_are_big_enough_to_tap_on_a_phone(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    watch.page.set_viewport_size({"width": 375, "height": 800})
    watch.goto("/nearby?postcode=M32+0TH&radius=1&unit=mi")
    watch.page.locator("path.am-marker").first.wait_for()
    # The results' phone, email and website links sit in a row: 20px tall, they failed.
    links = watch.page.locator(".app-inline-list .govuk-link")
    assert links.count() > 10
    heights = links.evaluate_all("els => els.map(el => el.getBoundingClientRect().height)")
    assert min(heights) >= 24
    violations = run_axe(watch)  # target-size is among its rules
    assert violations == [], describe(violations)
    watch.assert_clean()


@pytest.mark.parametrize("path", ["/", "/accessibility", "/submit"])
def test_footer_links_are_big_enough_to_tap_on_a_narrow_phone(watch: PageWatch, path: str) -> None:
    watch.page.set_viewport_size({"width": 320, "height": 800})
    watch.goto(path)
    # Stacked at this width, the footer's two links were 16px tall and closer than 24px.
    links = watch.page.locator(".govuk-footer__inline-list-item .govuk-footer__link")
    assert links.count() == 2
    heights = links.evaluate_all("els => els.map(el => el.getBoundingClientRect().height)")
    assert min(heights) >= 24
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()


def test_map_credit_links_are_underlined(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    watch.goto("/")
    watch.page.locator("path.am-marker").first.wait_for()
    credit = watch.page.locator(".leaflet-control-attribution a").first
    assert credit.evaluate("el => getComputedStyle(el).textDecorationLine") == "underline"
    watch.assert_clean()


def test_the_layer_switchers_checkboxes_are_big_enough(
    watch: PageWatch, store: Store, taxonomy: Taxonomy
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    watch.goto("/")
    watch.page.locator("path.am-marker").first.wait_for()
    watch.page.locator(".leaflet-control-layers").hover()  # opens it
    boxes = watch.page.locator(".leaflet-control-layers-selector")
    assert boxes.count() > 5
    # 13px, about 18px apart and over the map's circles, they had too little room around them.
    sizes = boxes.evaluate_all("els => els.map(el => el.getBoundingClientRect().height)")
    assert min(sizes) >= 24
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    watch.assert_clean()
