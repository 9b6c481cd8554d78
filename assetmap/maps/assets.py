"""The asset map: published assets as coloured circles, one toggleable layer per category.

Resident text never reaches Folium's Popup or Tooltip, Leaflet's HTML string handling or a
Jinja template. Each category's assets go into the page as one GeoJSON FeatureCollection
(:func:`~assetmap.maps._elements.script_json`), and a small script of ours builds popups and
tooltips with ``textContent``, adding links only for http(s) addresses.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import folium
from folium.template import Template

from assetmap.domain.asset import Asset
from assetmap.domain.taxonomy import Category, Taxonomy
from assetmap.maps._elements import VerbatimMacro, html_text, script_json
from assetmap.maps.resources import use_resources

# Centre and zoom of an empty map: England.
EMPTY_CENTRE = (52.8, -1.6)
EMPTY_ZOOM = 6
# Without a tile layer Leaflet has no zoom limit unless the map sets one (and fitting the
# bounds of a single asset would zoom in without end).
MAX_ZOOM = 18
FIT_MAX_ZOOM = 16
# GOV.UK text colour: a dark outline keeps pale category colours visible (WCAG 1.4.11).
OUTLINE = "#0b0c0c"
# Where assets go whose category has left the taxonomy since they were stored (taxonomy ids
# start with a letter, so "_other" cannot clash with one).
OTHER = Category(id="_other", label="Other", description="", colour="#505a5f", osm=())
# Coordinates are rounded to 6 decimal places (about 0.1 m) to keep the page small.
_PLACES = 6

MAP_CSS = """
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
"""

# Popups and tooltips from feature properties, as DOM built with textContent: no string a
# resident typed is ever parsed as HTML. Website links need an http(s) scheme; detail links
# must be same-origin paths.
_POPUP_JS = """
function %(name)s(feature, layer, category) {
  var p = feature.properties || {};
  function line(box, text, cls) {
    if (!text) { return; }
    var el = document.createElement("p");
    if (cls) { el.className = cls; }
    el.textContent = text;
    box.appendChild(el);
  }
  function link(box, href, text) {
    var para = document.createElement("p");
    var a = document.createElement("a");
    a.setAttribute("href", href);
    a.textContent = text;
    para.appendChild(a);
    box.appendChild(para);
  }
  layer.on("add", function () {
    var el = layer.getElement && layer.getElement();
    if (el && p.id) { el.setAttribute("data-asset-id", p.id); }
  });
  layer.bindTooltip(function () {
    var span = document.createElement("span");
    span.className = "am-tooltip";
    span.textContent = p.name || "";
    return span;
  });
  layer.bindPopup(function () {
    var box = document.createElement("div");
    box.className = "am-popup";
    line(box, p.name, "am-popup__name");
    line(box, category, "am-popup__category");
    line(box, p.distance, "am-popup__distance");
    line(box, p.note, "am-popup__note");
    line(box, [p.address, p.postcode].filter(Boolean).join(", "));
    if (p.phone) { line(box, "Phone: " + p.phone); }
    if (typeof p.website === "string" && /^https?:\\/\\/[^\\s]+$/i.test(p.website)) {
      var host = p.website;
      try { host = new URL(p.website).host; } catch (e) { /* keep the full address */ }
      link(box, p.website, "Website: " + host);
    }
    if (typeof p.url === "string" && /^\\/(?![\\/\\\\])/.test(p.url)) {
      link(box, p.url, "More about " + (p.name || "this asset"));
    }
    return box;
  }, {maxWidth: 320});
}
"""


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


class _MapStyle(VerbatimMacro):
    """The map's own stylesheet (legend, popups), inline with the page's CSP nonce."""

    def header_html(self, nonce: str) -> str:
        nonce_attr = f' nonce="{html.escape(nonce)}"' if nonce else ""
        return f"<style{nonce_attr}>{MAP_CSS.strip()}</style>"


class _PopupBinder(VerbatimMacro):
    """Defines the function that gives each asset circle its tooltip and popup."""

    def script_js(self) -> str:
        return _POPUP_JS % {"name": self.get_name()}


class _CategoryPoints(VerbatimMacro):
    """One category's assets: a GeoJSON FeatureCollection drawn as circle markers.

    ``modifier`` adds a class (``am-marker--<modifier>``) and ``style`` overrides the circle
    options, for a set of markers drawn differently (such as hours unknown on the nearby map).
    """

    def __init__(
        self,
        category: Category,
        features: list[dict[str, Any]],
        binder: _PopupBinder,
        *,
        modifier: str = "",
        style: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.category = category
        self.features = features
        self.binder = binder
        self.modifier = modifier
        self.style = style or {}

    def script_js(self) -> str:
        name = self.get_name()
        style = {
            "radius": 7,
            "color": OUTLINE,
            "weight": 1,
            "fillColor": self.category.colour,
            "fillOpacity": 0.9,
            "className": f"am-marker am-marker--{self.category.id}",
            **self.style,
        }
        if self.modifier:
            style["className"] += f" am-marker--{self.modifier}"
        collection = {"type": "FeatureCollection", "features": self.features}
        return (
            f"var {name}_data = {script_json(collection)};\n"
            f"L.geoJSON({name}_data, {{\n"
            f"  pointToLayer: function (f, latlng) {{ return L.circleMarker(latlng, "
            f"{script_json(style)}); }},\n"
            f"  onEachFeature: function (f, layer) {{ {self.binder.get_name()}(f, layer, "
            f"{script_json(self.category.label)}); }}\n"
            f"}}).addTo({self.parent_name()});\n"
        )


class _Legend(VerbatimMacro):
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
        items = []
        for category, count in self.entries:
            swatch = (
                '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" '
                f'focusable="false"><circle cx="7" cy="7" r="6" fill="{html_text(category.colour)}"'
                f' stroke="{OUTLINE}" stroke-width="1"/></svg>'
            )
            items.append(f"<li>{swatch}<span>{html_text(category.label)} ({count})</span></li>")
        for symbol, label in self.keys:
            items.append(f"<li>{symbol}<span>{html_text(label)}</span></li>")
        # A disclosure, so a long legend folds away instead of scrolling or covering the map.
        return (
            f'<details class="am-legend" id="{self.get_name()}" open>'
            "<summary>Categories</summary>"
            f"<ul>{''.join(items)}</ul></details>"
        )

    def script_js(self) -> str:
        name = self.get_name()
        return (
            f"var {name} = L.control({{position: 'bottomleft'}});\n"
            f"{name}.onAdd = function () {{\n"
            f"  var el = document.getElementById({script_json(name)});\n"
            "  if (window.matchMedia && window.matchMedia('(max-width: 40em)').matches) {\n"
            "    el.open = false;\n"
            "  }\n"
            "  L.DomEvent.disableClickPropagation(el);\n"
            "  L.DomEvent.disableScrollPropagation(el);\n"
            "  return el;\n"
            "};\n"
            f"{name}.addTo({self.parent_name()});\n"
        )


def _is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


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
    props: dict[str, str] = {"id": asset.id, "name": asset.name}
    for key in ("address", "postcode", "phone"):
        value = getattr(asset, key)
        if value:
            props[key] = value
    if asset.website and _is_web_address(asset.website):
        props["website"] = asset.website
    if url:
        props["url"] = url
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [round(asset.lon, _PLACES), round(asset.lat, _PLACES)],
        },
        "properties": props,
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
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=html_text(tile_attribution) or " ",
            name="Background map",
            max_zoom=MAX_ZOOM,
            control=False,
        ).add_to(m)
    _MapStyle().add_to(m)
    binder = _PopupBinder()
    binder.add_to(m)
    for category, group in shown:
        layer = folium.FeatureGroup(name=html_text(category.label))
        features = [asset_feature(a, url=detail_url(a) if detail_url else "") for a in group]
        _CategoryPoints(category, features, binder).add_to(layer)
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
