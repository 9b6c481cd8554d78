"""The asset map builder, tested on its rendered HTML: layers, markers, escaping, resources."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

import folium
from branca.element import Figure
from folium.plugins import Fullscreen, MarkerCluster

from assetmap.domain.taxonomy import Category, Taxonomy
from assetmap.maps import (
    CDN_ORIGINS,
    LEAFLET_VERSION,
    MARKERCLUSTER_VERSION,
    asset_feature,
    assets_map,
    map_parts,
    use_resources,
)
from assetmap.maps.popups import SHARED_MAP_CSS
from assetmap.settings import REPO_ROOT
from tests.conftest import skip_or_fail
from tests.maps.trafford import (
    JINJA_NAME,
    LIBRARIES,
    OTHERS,
    SCRIPT_NAME,
    TRAFFORD,
    as_assets,
    hostile,
)

VENDOR = "/static/vendor"
_DATA = re.compile(r"^\s*var (category_points_\w+)_data = (.*);$", re.MULTILINE)


def build(rows: list[dict[str, Any]], taxonomy: Taxonomy, **kwargs: Any) -> folium.Map:
    options: dict[str, Any] = {"tile_url": "", "vendor_base_url": VENDOR}
    options.update(kwargs)
    return assets_map(as_assets(rows, taxonomy), taxonomy, **options)


def page_html(m: folium.Map) -> str:
    parts = map_parts(m, nonce="test-nonce")
    return "\n".join([parts.head, parts.html, parts.script])


def payloads(html: str) -> list[dict[str, Any]]:
    """Each category layer's FeatureCollection, decoded from the map script."""
    return [json.loads(match[1]) for match in _DATA.findall(html)]


def test_one_layer_per_category_present(taxonomy: Taxonomy) -> None:
    html = page_html(build(TRAFFORD, taxonomy))
    present = ["library", "leisure_centre", "community_centre", "park"]
    assert html.count("L.featureGroup(") == len(present)
    # Layer names in the switcher, in taxonomy order, and nothing for absent categories.
    overlays = re.findall(r'^\s*"([^"]+)" : feature_group_\w+,$', html, re.MULTILINE)
    labels = [c.label for c in taxonomy if c.id in present]
    assert overlays == labels
    assert "Food bank" not in html


def test_marker_count_equals_assets(taxonomy: Taxonomy) -> None:
    html = page_html(build(TRAFFORD, taxonomy))
    collections = payloads(html)
    assert len(collections) == 4
    features = [f for c in collections for f in c["features"]]
    assert len(features) == len(TRAFFORD)
    assert sorted(f["properties"]["name"] for f in features) == sorted(r["name"] for r in TRAFFORD)
    # GeoJSON order is lon, lat (rounded to 6 places).
    altrincham = next(f for f in features if f["properties"]["name"] == "Altrincham Library")
    assert altrincham["geometry"]["coordinates"] == [-2.352157, 53.387055]


def test_legend_lists_categories_with_counts(taxonomy: Taxonomy) -> None:
    html = page_html(build(TRAFFORD, taxonomy))
    legend = html[html.index('class="am-legend"') : html.index("</details>")]
    assert "<span>Library (5)</span>" in legend
    assert "<span>Leisure centre (2)</span>" in legend
    assert 'fill="#2288FF"' in legend  # the library colour from data/taxonomy.toml
    assert "Food bank" not in legend


@pytest.mark.parametrize("name", [SCRIPT_NAME, JINJA_NAME])
def test_resident_text_is_only_json_escaped(taxonomy: Taxonomy, name: str) -> None:
    assets = as_assets([*LIBRARIES[:2], hostile(name, address=name)], taxonomy)
    # Validation now refuses '<' in a website; a listing stored before it did may still
    # hold one, and the map must show it as text all the same.
    assets[-1] = assets[-1].with_changes(website="https://example.org/?q=<b>")
    m = assets_map(
        assets,
        taxonomy,
        tile_url="",
        vendor_base_url=VENDOR,
        detail_url=lambda a: f"/assets/{a.id}",
    )
    html = page_html(m)
    standalone = m.get_root().render()
    for text in (html, standalone):
        assert "<script>alert" not in text
        assert "<b>" not in text
        # Folium's second template pass would have printed "49 <this process id>".
        assert f"49 {os.getpid()}" not in text
    # The strings survive exactly, inside JSON: '<' written as \u003c, nothing else changed.
    escaped = json.dumps(name, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    assert escaped in html
    names = [f["properties"]["name"] for c in payloads(html) for f in c["features"]]
    assert names.count(name) == 1
    # ${...} appears only inside those JSON strings, never in a template literal.
    assert html.count("${alert(1)}") == html.count(escaped) * name.count("${alert(1)}")
    assert "`" not in html


def test_popups_are_built_from_text_nodes(taxonomy: Taxonomy) -> None:
    html = page_html(build(LIBRARIES, taxonomy))
    assert "textContent" in html
    assert "bindPopup(function" in html
    assert "innerHTML" not in html
    # Folium's own Popup and Tooltip (HTML strings) are not used.
    assert "L.popup" not in html
    assert "bindTooltip(\n" not in html
    assert ".setContent(" not in html


def test_feature_links_only_web_addresses(taxonomy: Taxonomy) -> None:
    asset = as_assets(LIBRARIES[:1], taxonomy)[0]
    assert asset_feature(asset)["properties"]["website"].startswith("https://www.trafford.gov.uk/")
    unsafe = asset.with_changes(website="javascript:alert(1)")
    assert "website" not in asset_feature(unsafe)["properties"]
    plain = asset.with_changes(address="", postcode="", phone="")
    assert set(asset_feature(plain, url="/assets/x")["properties"]) == {
        "id",
        "name",
        "website",
        "url",
    }


def test_local_resources_when_not_using_cdn(taxonomy: Taxonomy) -> None:
    m = build(TRAFFORD, taxonomy)
    parts = map_parts(m, nonce="n")
    srcs = re.findall(r'<script src="([^"]+)"', parts.head)
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', parts.head)
    assert srcs == [f"{VENDOR}/leaflet/leaflet.js"]
    assert hrefs == [f"{VENDOR}/leaflet/leaflet.css"]
    standalone = m.get_root().render()
    for text in (parts.head, standalone):
        assert "cdn" not in text
        assert not re.search(r'<script[^>]+src="https?://', text)
        assert not re.search(r'<link[^>]+href="https?://', text)
        for unused in ("jquery", "bootstrap", "awesome", "font-awesome", "fontawesome"):
            assert unused not in text.lower()


def test_local_files_exist_for_every_vendor_url(taxonomy: Taxonomy) -> None:
    vendor = REPO_ROOT / "web" / "static" / "vendor"
    if not (vendor / "manifest.json").is_file():
        skip_or_fail("web/static/vendor is not built (make setup)")
    installed = json.loads((vendor / "manifest.json").read_text(encoding="utf-8"))
    assert installed["leaflet"] == LEAFLET_VERSION
    assert installed["leaflet.markercluster"] == MARKERCLUSTER_VERSION
    m = build(TRAFFORD, taxonomy)
    MarkerCluster().add_to(m)
    use_resources(m, vendor_base_url=VENDOR)
    head = map_parts(m).head
    urls = re.findall(r'(?:src|href)="([^"]+)"', head)
    assert len(urls) == 5
    for url in urls:
        assert (vendor / url.removeprefix(f"{VENDOR}/")).is_file(), url


def test_cdn_resources_when_asked(taxonomy: Taxonomy) -> None:
    head = map_parts(build(TRAFFORD, taxonomy, vendor_base_url=None, use_cdn=True)).head
    assert f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js" in head
    assert f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css" in head
    assert "jquery" not in head
    assert all(origin.startswith("https://") for origin in CDN_ORIGINS)


def test_vendor_url_required_without_cdn(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="vendor_base_url"):
        build(TRAFFORD, taxonomy, vendor_base_url=None)


def test_unvendored_plugin_is_refused(taxonomy: Taxonomy) -> None:
    m = build(TRAFFORD, taxonomy)
    Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        use_resources(m, vendor_base_url=VENDOR)


def test_pinned_versions_match_folium_and_package_json() -> None:
    # Folium 0.20.0's own links name the versions; the vendored copies must be the same.
    leaflet_url = dict(folium.Map.default_js)["leaflet"]
    assert f"leaflet@{LEAFLET_VERSION}/" in leaflet_url
    cluster_url = dict(MarkerCluster.default_js)["markerclusterjs"]
    assert f"/{MARKERCLUSTER_VERSION}/" in cluster_url
    package = json.loads((REPO_ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["leaflet"] == LEAFLET_VERSION
    assert package["dependencies"]["leaflet.markercluster"] == MARKERCLUSTER_VERSION


def test_folium_class_defaults_are_not_changed(taxonomy: Taxonomy) -> None:
    build(TRAFFORD, taxonomy)
    assert "jquery" in dict(folium.Map.default_js)
    assert dict(folium.Map.default_js)["leaflet"].startswith("https://cdn.jsdelivr.net/")


def test_no_tiles_means_no_tile_layer_and_a_max_zoom(taxonomy: Taxonomy) -> None:
    html = page_html(build(TRAFFORD, taxonomy, tile_url=""))
    assert "L.tileLayer" not in html
    assert '"maxZoom": 18' in html
    assert ".fitBounds(" in html


def test_tile_layer_with_escaped_attribution(taxonomy: Taxonomy) -> None:
    html = page_html(
        build(
            TRAFFORD,
            taxonomy,
            tile_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            tile_attribution="© OpenStreetMap <contributors> {{ 7*7 }}",
        )
    )
    assert "L.tileLayer(" in html
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    # HTML-escaped for Leaflet (which shows attributions as HTML), then JSON-escaped.
    assert "\\u0026lt;contributors\\u0026gt;" in html
    assert "\\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125;" in html


def test_category_labels_are_escaped(taxonomy: Taxonomy) -> None:
    odd = Taxonomy(
        [Category("library", "<b>Books</b> {{ 7*7 }}", "", "#332288", ()), *list(taxonomy)[1:]]
    )
    html = page_html(build(LIBRARIES, odd))
    assert "<b>" not in html
    assert "&lt;b&gt;Books&lt;/b&gt; &#123;&#123; 7*7 &#125;&#125; (5)" in html


def test_every_script_and_style_carries_the_nonce(taxonomy: Taxonomy) -> None:
    parts = map_parts(build(TRAFFORD, taxonomy), nonce="abc123")
    html = "\n".join([parts.head, parts.html, parts.script])
    tags = re.findall(r"<(?:script|style)\b[^>]*>", html)
    assert len(tags) == 3  # leaflet.js, the map's stylesheet, the map script
    assert all('nonce="abc123"' in tag for tag in tags)
    assert parts.script.startswith('<script nonce="abc123">')
    assert parts.script.count("<script") == 1


def test_map_parts_refuse_a_script_that_would_close_early(taxonomy: Taxonomy) -> None:
    m = build(LIBRARIES, taxonomy)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    folium.Element("var s = '</script>';").add_to(figure.script)
    with pytest.raises(ValueError, match="not escaped"):
        map_parts(m)


def test_empty_map_renders_england(taxonomy: Taxonomy) -> None:
    html = page_html(build([], taxonomy))
    assert "L.map(" in html
    assert "L.featureGroup(" not in html
    assert "L.control.layers" not in html
    assert "[52.8, -1.6]" in html


def test_save_standalone_page(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "map.html"
    build(TRAFFORD, taxonomy).save(str(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert f'<script src="{VENDOR}/leaflet/leaflet.js"></script>' in text
    assert text.count("L.featureGroup(") == 4


def test_without_controls_there_is_no_legend_or_switcher(taxonomy: Taxonomy) -> None:
    html = page_html(build(LIBRARIES[:1], taxonomy, controls=False))
    assert "am-legend" not in html.replace(".am-legend", "")
    assert "L.control.layers" not in html
    assert len(payloads(html)) == 1


def test_assets_of_a_retired_category_are_still_shown(taxonomy: Taxonomy) -> None:
    assets = as_assets(TRAFFORD, taxonomy)
    without_parks = Taxonomy([c for c in taxonomy if c.id != "park"])
    html = page_html(assets_map(assets, without_parks, tile_url="", vendor_base_url=VENDOR))
    features = [f for c in payloads(html) for f in c["features"]]
    assert len(features) == len(TRAFFORD)
    assert "<span>Other (1)</span>" in html
    assert "am-marker--_other" in html


def test_every_map_style_shows_a_focused_circle_and_lets_the_pointer_onto_labels(
    taxonomy: Taxonomy,
) -> None:
    # Circles are tab stops (the popup script); each map's stylesheet must show which has
    # focus, and let the pointer rest on a label (the tooltip script keeps it open there).
    rules = [line for line in SHARED_MAP_CSS.strip().splitlines() if line]
    assert any(":focus-visible" in rule for rule in rules)
    assert ".leaflet-tooltip.am-hoverable{pointer-events:auto}" in rules
    inline = map_parts(build(LIBRARIES, taxonomy)).head
    published = (REPO_ROOT / "assetmap" / "maps" / "static" / "jsaa.css").read_text("utf-8")
    for rule in rules:
        assert rule in inline
        assert rule in published


# The credit OpenStreetMap asks for, and the link to the app's /licences page, as Leaflet is
# given them (HTML).
OSM_LINK = '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a>'
OSM_LINKED = f"© {OSM_LINK}"
LICENCES_LINK = '<a href="/licences">Data sources and licences</a>'
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OTHER_TILES = "https://maps.example.org/{z}/{x}/{y}.png"
ALLOTMENT = {
    **OTHERS[2],
    "source": "trafford-allotments-osm",
    "licence": "Open Government Licence v3.0 and Open Database Licence (ODbL) 1.0."
    " Trafford Council; © OpenStreetMap contributors",
}
COUNCIL = {
    **LIBRARIES[0],
    "source": "trafford-council-libraries",
    "licence": "Open Government Licence v3.0. Trafford Council",
}
_TILE_CREDIT = re.compile(r'^\s*"attribution": (".*"),$', re.MULTILINE)
_CREDITS = re.compile(r"^\s*(\[.*\])\.forEach\(function \(credit\)", re.MULTILINE)
_LICENCES = re.compile(r"control\.addAttribution\((\".*\")\); \}$", re.MULTILINE)


def attribution(html: str) -> dict[str, Any]:
    """What a map puts in its attribution control: the tiles' credit, ours and the link."""
    (credits,) = _CREDITS.findall(html)
    (link,) = _LICENCES.findall(html)
    return {
        "tiles": [json.loads(text) for text in _TILE_CREDIT.findall(html)],
        "credits": json.loads(credits),
        "link": json.loads(link),
    }


@pytest.mark.parametrize(
    ("rows", "tile_url", "tile_attribution", "tiles", "credits"),
    [
        # no background: OpenStreetMap is credited for its own data only
        ([COUNCIL], "", "", [], []),
        ([COUNCIL, ALLOTMENT], "", "", [], [OSM_LINKED]),
        # the default tiles: their credit is linked, and not repeated for OSM's data
        ([COUNCIL], OSM_TILES, "© OpenStreetMap contributors", [OSM_LINKED], []),
        ([ALLOTMENT], OSM_TILES, "© OpenStreetMap contributors", [OSM_LINKED], []),
        # OpenStreetMap tiles with no attribution set are credited all the same
        ([COUNCIL], OSM_TILES, "", [" "], [OSM_LINKED]),
        # another provider's credit shows as given (escaped), linked where it names OSM's
        ([ALLOTMENT], OTHER_TILES, "Tiles © Example Maps", ["Tiles © Example Maps"], [OSM_LINKED]),
        (
            [COUNCIL],
            OTHER_TILES,
            "Maps & OpenStreetMap contributors",
            [f"Maps &amp; {OSM_LINK}"],
            [],
        ),
    ],
)
def test_attribution_credits_openstreetmap_and_links_the_licences_page(
    taxonomy: Taxonomy,
    rows: list[dict[str, Any]],
    tile_url: str,
    tile_attribution: str,
    tiles: list[str],
    credits: list[str],
) -> None:
    html = page_html(build(rows, taxonomy, tile_url=tile_url, tile_attribution=tile_attribution))
    assert attribution(html) == {"tiles": tiles, "credits": credits, "link": LICENCES_LINK}
    # The link is left out of a page opened from disk, where /licences is not the site's.
    assert "/^https?:$/.test(window.location.protocol)" in html


def test_one_asset_map_links_the_given_licences_page_escaped(taxonomy: Taxonomy) -> None:
    html = page_html(
        build([COUNCIL], taxonomy, controls=False, licences_url='/data/licences?a=1&b="2"')
    )
    assert attribution(html)["link"] == (
        '<a href="/data/licences?a=1&amp;b=&quot;2&quot;">Data sources and licences</a>'
    )
