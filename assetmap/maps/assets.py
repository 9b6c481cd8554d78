"""The asset map: published assets as coloured circles, one toggleable layer per category.

Resident text never reaches Folium's Popup or Tooltip, Leaflet's HTML string handling or a
Jinja template. Each category's assets go into the page as one GeoJSON FeatureCollection
(:func:`~assetmap.maps._elements.script_json`), and a small script of ours
(:mod:`assetmap.maps.popups`) builds popups and tooltips with ``textContent``, adding links
only for http(s) addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import folium
from folium.template import Template

from assetmap.domain.asset import Asset
from assetmap.domain.taxonomy import Category, Taxonomy
from assetmap.maps._elements import StyleSheet, VerbatimMacro, html_text, script_json
from assetmap.maps.popups import (
    CONTACT_FIELDS,
    OUTLINE,
    SHARED_MAP_CSS,
    CategoryPoints,
    LegendControl,
    PopupBinder,
    contact_properties,
    legend_item,
    point_geometry,
    svg_symbol,
)
from assetmap.maps.resources import use_resources

# Centre and zoom of an empty map: England.
EMPTY_CENTRE = (52.8, -1.6)
EMPTY_ZOOM = 6
# Without a tile layer Leaflet has no zoom limit unless the map sets one (and fitting the
# bounds of a single asset would zoom in without end).
MAX_ZOOM = 18
FIT_MAX_ZOOM = 16
# The web app's page of data sources, licences and the statements each licence asks for.
LICENCES_URL = "/licences"
LICENCES_LINK_TEXT = "Data sources and licences"
# OpenStreetMap asks for its credit to link to this page (Leaflet shows attributions as HTML).
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
OSM_CREDIT = f'© <a href="{OSM_COPYRIGHT_URL}">OpenStreetMap contributors</a>'
_OSM_CONTRIBUTORS = re.compile("OpenStreetMap contributors", re.IGNORECASE)
# How a source, licence or tile setting names OpenStreetMap ("trafford-allotments-osm").
_FROM_OSM = re.compile(r"openstreetmap|\bosm\b", re.IGNORECASE)
# Where assets go whose category has left the taxonomy since they were stored (taxonomy ids
# start with a letter, so "_other" cannot clash with one).
OTHER = Category(id="_other", label="Other", description="", colour="#999999", osm=())

MAP_CSS = (
    """
.am-map{width:100%;height:100%;min-height:20rem}
.am-map .leaflet-container{font:inherit}
.am-legend{background:#fff;color:#0b0c0c;padding:.4rem .75rem;border-radius:4px;
border:2px solid rgba(0,0,0,.2);font-size:.875rem;line-height:1.3;max-width:16rem}
.am-legend summary{font-weight:700;cursor:pointer;padding:.1rem 0}
.am-legend summary:focus{outline:3px solid #ffdd00;background:#ffdd00}
.am-legend ul{list-style:none;margin:.25rem 0 0;padding:0}
.am-legend li{display:flex;align-items:center;gap:.4rem;margin:.1rem 0}
.am-legend svg{flex:none}
.am-popup{font-size:1rem;line-height:1.35;min-width:12rem}
.am-popup p{margin:0 0 .3rem}
.am-popup__name{font-weight:700;font-size:1.125rem}
.am-popup__category{color:#484949}
.am-tooltip{font-size:.875rem}
.am-map .leaflet-control-attribution a:focus{outline:3px solid transparent;color:#0b0c0c;
background-color:#ffdd00;box-shadow:0 -2px #ffdd00,0 4px #0b0c0c;text-decoration:none}
"""
    + SHARED_MAP_CSS
)


class AssetMap(folium.Map):
    """A ``folium.Map`` meant to sit inside a page: no page-wide styles or viewport meta.

    Folium's own map header sets ``html, body`` to full height, disables pinch zoom (an
    accessibility failure) and loads global switches; here the page sizes the map container.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="folium-map am-map" id="{{ this.get_name() }}"></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
            center: {{ this.location|tojson }},
            crs: L.CRS.{{ this.crs }},
            ...{{ this.options|tojavascript }}
        });
        {% endmacro %}
        """
    )


class _MapStyle(StyleSheet):
    """The map's own stylesheet (legend, popups), inline with the page's CSP nonce."""

    css = MAP_CSS


class _Legend(LegendControl):
    """A Leaflet control listing each category shown: colour swatch, label and count.

    ``keys`` adds rows after the categories as (SVG symbol built by this package, plain-text
    label), for other symbols a map draws.
    """

    def __init__(
        self, entries: Sequence[tuple[Category, int]], keys: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        self.entries = list(entries)
        self.keys = list(keys)

    def body_html(self) -> str:
        items = [
            legend_item(
                svg_symbol(
                    f'<circle cx="7" cy="7" r="6" fill="{html_text(category.colour)}"'
                    f' stroke="{OUTLINE}" stroke-width="1"/>'
                ),
                f"{category.label} ({count})",
            )
            for category, count in self.entries
        ]
        items += [legend_item(symbol, label) for symbol, label in self.keys]
        return self.details("Categories", items)


# Runs once the tiles are on the map: a credit Leaflet already shows (the tile layer's, word
# for word) is counted, not shown twice.
_CREDITS_JS = """
(function (map) {
  var control = map.attributionControl;
  if (!control) { return; }
  %(credits)s.forEach(function (credit) { control.addAttribution(credit); });
  // A page opened from disk (the handout's download) has no site beside it for the link to
  // reach, and carries the statements in its own text instead.
  if (/^https?:$/.test(window.location.protocol)) { control.addAttribution(%(licences)s); }
})(%(map)s);
"""


def from_openstreetmap(*texts: str) -> bool:
    """Whether any of ``texts`` (a source, licence, tile URL or credit) names OpenStreetMap.

    Parameters
    ----------
    texts
        Plain text, such as an asset's ``source`` and ``licence``.

    Returns
    -------
    bool
        True for "OpenStreetMap" in any case, or "osm" as a word (``trafford-allotments-osm``).
    """
    return any(_FROM_OSM.search(text) for text in texts)


def licences_link(licences_url: str) -> str:
    """The attribution control's link to the page of data sources and licences, as HTML."""
    return f'<a href="{html_text(licences_url)}">{LICENCES_LINK_TEXT}</a>'


def tile_credit(tile_attribution: str) -> str:
    """The tiles' attribution as Leaflet shows it: escaped, its OpenStreetMap credit linked.

    Parameters
    ----------
    tile_attribution
        Plain text from the settings, such as "© OpenStreetMap contributors".

    Returns
    -------
    str
        HTML. "OpenStreetMap contributors" (first mention, any case) links to
        :data:`OSM_COPYRIGHT_URL`, so the default attribution becomes :data:`OSM_CREDIT`.
    """
    body = html_text(tile_attribution)
    return _OSM_CONTRIBUTORS.sub(
        lambda match: f'<a href="{OSM_COPYRIGHT_URL}">{match[0]}</a>', body, count=1
    )


def add_tiles(m: folium.Map, tile_url: str, tile_attribution: str = "") -> None:
    """Add the background tiles to ``m``; an empty ``tile_url`` adds none.

    Parameters
    ----------
    m
        The map.
    tile_url
        Leaflet tile URL template.
    tile_attribution
        Plain-text attribution shown with the tiles (escaped here; see :func:`tile_credit`).
    """
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=tile_credit(tile_attribution) or " ",
            name="Background map",
            max_zoom=MAX_ZOOM,
            control=False,
        ).add_to(m)


class _Credits(VerbatimMacro):
    """The map's own lines in its attribution control (see :func:`add_credits`)."""

    def __init__(self, credits: Sequence[str], licences_url: str) -> None:
        super().__init__()
        self.credits = list(credits)
        self.licences_url = licences_url

    def script_js(self) -> str:
        licences = licences_link(self.licences_url)
        # HTML built here from constants and escaped text, passed as JSON, never a template.
        return _CREDITS_JS % {
            "map": self.parent_name(),
            "credits": script_json(self.credits),
            "licences": script_json(licences),
        }


def add_credits(
    m: folium.Map,
    *,
    tile_url: str,
    tile_attribution: str = "",
    osm_data: bool,
    licences_url: str = LICENCES_URL,
) -> None:
    """Credit what ``m`` shows in its attribution control; add it after :func:`add_tiles`.

    The licences of the data drawn ask for their statements wherever it is shown; they are
    too long for the map's corner, so the control links to the page that gives them all.

    Parameters
    ----------
    m
        The map.
    tile_url, tile_attribution
        As given to :func:`add_tiles`.
    osm_data
        Whether the map draws data from OpenStreetMap (see :func:`from_openstreetmap`).
    licences_url
        Same-origin path of the site's data sources and licences page, linked as
        "Data sources and licences" when the page is served over http(s).

    Notes
    -----
    OpenStreetMap's credit, linked to its copyright page, is added when the map shows its
    data or tiles made from it, unless the tiles' own attribution already links it.
    """
    tiles = tile_credit(tile_attribution) if tile_url else ""
    osm_tiles = bool(tile_url) and from_openstreetmap(tile_url, tile_attribution)
    credits = []
    if (osm_data or osm_tiles) and OSM_COPYRIGHT_URL not in tiles:
        credits.append(OSM_CREDIT)
    _Credits(credits, licences_url).add_to(m)


def asset_feature(asset: Asset, *, url: str = "") -> dict[str, Any]:
    """The GeoJSON Feature a map shows for one asset: its public contact fields.

    Parameters
    ----------
    asset
        The asset; its point is WGS84 lon/lat degrees (EPSG:4326).
    url
        Link to the asset's own page, a same-origin path such as ``/assets/a1b2``.

    Returns
    -------
    dict
        A GeoJSON Feature with ``id``, ``name`` and, when present, ``address``,
        ``postcode``, ``phone``, ``website`` (http or https only) and ``url``. Coordinates
        are rounded to 6 decimal places (about 0.1 m).
    """
    contact = {key: getattr(asset, key) for key in CONTACT_FIELDS}
    return {
        "type": "Feature",
        "geometry": point_geometry(asset.lon, asset.lat),
        "properties": {"id": asset.id, "name": asset.name, **contact_properties(contact, url=url)},
    }


def assets_map(
    assets: Iterable[Asset],
    taxonomy: Taxonomy,
    *,
    tile_url: str,
    tile_attribution: str = "",
    vendor_base_url: str | None = None,
    use_cdn: bool = False,
    detail_url: Callable[[Asset], str] | None = None,
    controls: bool = True,
    licences_url: str = LICENCES_URL,
) -> folium.Map:
    """Build the map of assets: a layer per category, a legend and a layer switcher.

    Parameters
    ----------
    assets
        Assets to show (WGS84 lon/lat). Any whose category is no longer in ``taxonomy``
        go in a grey "Other" layer, so every asset listed beside the map is on it.
    taxonomy
        Categories, in the order layers and legend entries appear; their colours fill the
        circles.
    tile_url
        Leaflet tile URL template; an empty string draws no background (the map still
        works offline).
    tile_attribution
        Plain-text attribution shown with the tiles.
    vendor_base_url
        URL of the app's vendor folder (``/static/vendor``); Leaflet loads from there.
    use_cdn
        Load Leaflet from the public CDN instead (``vendor_base_url`` is then not needed).
    detail_url
        Returns the same-origin path of an asset's own page; popups link to it.
    controls
        Add the category legend and layer switcher (a one-asset map does without).
    licences_url
        Path of the site's data sources and licences page, linked from the attribution
        control with the OpenStreetMap credit where its data or tiles are shown (see
        :func:`add_credits`).

    Returns
    -------
    folium.Map
        An :class:`AssetMap`, fitted to the assets' bounds. Embed it with
        :func:`assetmap.maps.map_parts` or save it as a page.
    """
    by_category: dict[str, list[Asset]] = {}
    for asset in assets:
        key = asset.category if asset.category in taxonomy else OTHER.id
        by_category.setdefault(key, []).append(asset)
    shown = [(c, by_category[c.id]) for c in [*taxonomy, OTHER] if c.id in by_category]
    points = [(a.lat, a.lon) for _, group in shown for a in group]

    m = AssetMap(
        location=EMPTY_CENTRE,
        zoom_start=EMPTY_ZOOM,
        tiles=None,
        maxZoom=MAX_ZOOM,
        control_scale=True,
    )
    add_tiles(m, tile_url, tile_attribution)
    add_credits(
        m,
        tile_url=tile_url,
        tile_attribution=tile_attribution,
        osm_data=any(from_openstreetmap(a.source, a.licence) for _, g in shown for a in g),
        licences_url=licences_url,
    )
    _MapStyle().add_to(m)
    binder = PopupBinder()
    binder.add_to(m)
    for category, group in shown:
        layer = folium.FeatureGroup(name=html_text(category.label))
        features = [asset_feature(a, url=detail_url(a) if detail_url else "") for a in group]
        CategoryPoints(category, features, binder).add_to(layer)
        layer.add_to(m)
    if shown and controls:
        folium.LayerControl(collapsed=True).add_to(m)
        _Legend([(c, len(group)) for c, group in shown]).add_to(m)
    if shown:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        m.location = [(min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2]
        m.fit_bounds(
            [[min(lats), min(lons)], [max(lats), max(lons)]],
            padding=(24, 24),
            max_zoom=FIT_MAX_ZOOM,
        )
    use_resources(m, vendor_base_url=vendor_base_url, use_cdn=use_cdn)
    return m
