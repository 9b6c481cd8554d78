"""The nearby and handout maps, tested on their rendered HTML: groups, symbols, escaping."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assetmap.analysis.nearby import describe_hit
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps import handout_map, map_parts, nearby_map, standalone_map_parts
from assetmap.settings import REPO_ROOT
from assetmap.store import NearbyHit
from tests.conftest import skip_or_fail
from tests.maps.test_assets_map import ALLOTMENT, COUNCIL, LICENCES_LINK, OSM_LINKED, attribution
from tests.maps.trafford import HOSTILE_NAME, JINJA_NAME, SCRIPT_NAME, TRAFFORD, as_assets

VENDOR_DIR = REPO_ROOT / "web" / "static" / "vendor"
ORIGIN = {"lon": -2.28748, "lat": 53.45901, "label": "M32 0TH", "kind": "unit"}
_DATA = re.compile(r"^\s*var (category_points_\w+)_data = (.*);$", re.MULTILINE)


def records(rows: list[dict[str, Any]], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [
        describe_hit(
            NearbyHit(asset=a, distance_m=100.0 * i),
            taxonomy=taxonomy,
            today=date(2026, 1, 1),
            stale_after_days=365,
        )
        for i, a in enumerate(as_assets(rows, taxonomy), 1)
    ]


def render(m: Any) -> str:
    parts = map_parts(m, nonce="n0nce")
    return "\n".join([parts.head, parts.html, parts.script])


def build(results: list[dict[str, Any]], taxonomy: Taxonomy, **kwargs: Any) -> str:
    return render(
        nearby_map(
            results,
            taxonomy,
            origin=ORIGIN,
            radius_m=1609.344,
            radius_label="1 mile",
            tile_url="",
            vendor_base_url="/static/vendor",
            detail_url=lambda asset_id: f"/assets/{asset_id}",
            **kwargs,
        )
    )


def test_results_and_hours_unknown_are_drawn_apart(taxonomy: Taxonomy) -> None:
    found = records(TRAFFORD, taxonomy)
    html = build(found[:6], taxonomy, hours_unknown=found[6:])
    groups = [json.loads(data) for _, data in _DATA.findall(html)]
    drawn = [f["properties"]["id"] for g in groups for f in g["features"]]
    assert sorted(drawn) == sorted(r["id"] for r in found)
    unknown = [f for g in groups for f in g["features"] if "note" in f["properties"]]
    assert sorted(f["properties"]["id"] for f in unknown) == sorted(r["id"] for r in found[6:])
    assert html.count("am-marker--hours-unknown") == len({r["category"] for r in found[6:]})
    first = groups[0]["features"][0]["properties"]
    assert first["distance"] == "100 m (0.06 miles)"
    assert first["url"] == f"/assets/{first['id']}"
    # search point, radius (metres), legend with both, scale bar and point picker
    assert '"className":"am-origin"' in html
    assert '"radius":1609.344' in html and '"className":"am-radius"' in html
    assert "Search point: M32 0TH" in html and "Within 1 mile" in html
    assert "Dashed outline: opening hours not known" in html
    assert "L.control.scale(" in html
    assert '"am:pick"' in html
    assert '"am:pick"' not in build(found, taxonomy, pick_point=False)


@pytest.mark.parametrize("name", [HOSTILE_NAME, SCRIPT_NAME, JINJA_NAME])
def test_resident_text_stays_data(taxonomy: Taxonomy, name: str) -> None:
    row = {**TRAFFORD[2], "name": name, "address": name, "phone": "0161 912 3190"}
    found = records([row], taxonomy)
    for html in (
        build(found, taxonomy),
        render(handout_map(found, origin=ORIGIN, tile_url="", vendor_base_url="/v")),
    ):
        assert "<img" not in html and "<script>alert" not in html
        assert "</script" not in html.split("<script", 1)[0]
        # what a second template pass would print: "49 <this process id>"
        assert f"49 {os.getpid()}" not in html
    groups = [json.loads(data) for _, data in _DATA.findall(build(found, taxonomy))]
    assert groups[0]["features"][0]["properties"]["name"] == name


def test_handout_map_numbers_places_in_order(taxonomy: Taxonomy) -> None:
    found = records(TRAFFORD[:3], taxonomy)
    html = render(handout_map(found, origin=ORIGIN, tile_url="", vendor_base_url="/v"))
    numbers = re.findall(r'"properties":\{"n":(\d+)\}', html)
    assert numbers == ["1", "2", "3"]
    assert "interactive: false" in html and "scrollWheelZoom" in html
    assert "Categories" not in html  # no legend or layer switcher on paper


def test_standalone_parts_inline_leaflet(taxonomy: Taxonomy, tmp_path: Path) -> None:
    if not (VENDOR_DIR / "leaflet" / "leaflet.js").is_file():
        skip_or_fail("web/static/vendor is not built (make setup)")
    m = handout_map(
        records(TRAFFORD[:2], taxonomy), origin=ORIGIN, tile_url="", vendor_base_url="/v"
    )
    parts = standalone_map_parts(m, vendor_dir=VENDOR_DIR, nonce="file-nonce")
    assert "<script src" not in parts.head and "<link" not in parts.head
    leaflet = (VENDOR_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    assert leaflet.strip()[:200] in parts.head
    assert re.findall(r"<(script|style)( nonce=\"file-nonce\")?>", parts.head) == [
        (tag, ' nonce="file-nonce"') for tag in re.findall(r"<(script|style)", parts.head)
    ]
    # a vendored file that could close its element is refused, not inlined
    bad = tmp_path / "leaflet"
    bad.mkdir()
    (bad / "leaflet.js").write_text("var x = '</script>';", encoding="utf-8")
    (bad / "leaflet.css").write_text("", encoding="utf-8")
    m = handout_map(
        records(TRAFFORD[:1], taxonomy), origin=ORIGIN, tile_url="", vendor_base_url="/v"
    )
    with pytest.raises(ValueError, match="cannot be inlined"):
        standalone_map_parts(m, vendor_dir=tmp_path)


def test_both_maps_credit_openstreetmap_for_its_data_and_link_the_licences_page(
    taxonomy: Taxonomy,
) -> None:
    # The records' source and licence (describe_hit) say where each place's data is from.
    council, allotment = records([COUNCIL, ALLOTMENT], taxonomy)
    assert "OpenStreetMap" in allotment["licence"]
    for found, credits in (([council], []), ([council, allotment], [OSM_LINKED])):
        results_map = build(found, taxonomy)
        assert attribution(results_map) == {"tiles": [], "credits": credits, "link": LICENCES_LINK}
        handout = render(handout_map(found, origin=ORIGIN, tile_url="", vendor_base_url="/v"))
        assert attribution(handout) == {"tiles": [], "credits": credits, "link": LICENCES_LINK}
    # an OpenStreetMap place listed only for its unknown hours is on the map all the same
    both = build([council], taxonomy, hours_unknown=[allotment])
    assert attribution(both)["credits"] == [OSM_LINKED]
