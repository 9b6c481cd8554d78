"""Maps for the coordinators' nearby search: the results map and the handout's small map.

Both take the JSON records of :mod:`assetmap.analysis.nearby` (``describe_hit``), not
assets. As on the asset map, resident text goes into the page only as escaped JSON and is
shown with ``textContent`` by our own script (see :mod:`assetmap.maps.popups`); nothing here
passes a string to a Folium Popup, Tooltip, GeoJson or layer name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium

from assetmap.domain.geodesy import bbox_around
from assetmap.domain.taxonomy import Category, Taxonomy
from assetmap.maps._elements import StyleSheet, VerbatimMacro, html_text, script_json
from assetmap.maps.assets import (
    LICENCES_URL,
    MAX_ZOOM,
    OTHER,
    AssetMap,
    _Legend,
    _MapStyle,
    add_credits,
    add_tiles,
    from_openstreetmap,
)
from assetmap.maps.popups import (
    CONTACT_FIELDS,
    OUTLINE,
    CategoryPoints,
    PopupBinder,
    contact_properties,
    point_geometry,
    svg_symbol,
)
from assetmap.maps.resources import use_resources

# GOV.UK yellow and blue: the search point and the search area stand apart from every
# category colour.
ORIGIN_FILL = "#ffdd00"
AREA_COLOUR = "#1d70b8"
NUMBER_FILL = "#1d70b8"
HOURS_UNKNOWN_NOTE = "Opening hours not known"
HANDOUT_MAX_ZOOM = 16

NEARBY_CSS = """
.am-pick{font-size:1rem;line-height:1.35}
.am-pick p{margin:0 0 .4rem}
.am-pick__button{font:inherit;font-weight:700;color:#fff;background:#00703c;border:0;
box-shadow:0 2px 0 #002d18;padding:.4rem .75rem;cursor:pointer}
.am-pick__button:focus{outline:3px solid #ffdd00;outline-offset:0;color:#0b0c0c;
background:#ffdd00;box-shadow:0 2px 0 #0b0c0c}
.am-popup__distance{font-weight:700}
.am-popup__note{font-style:italic}
.am-number{background:none;border:0}
.am-number span{display:flex;align-items:center;justify-content:center;width:26px;height:26px;
border-radius:50%;background:#1d70b8;border:2px solid #fff;box-shadow:0 0 0 1px #0b0c0c;
color:#fff;font:700 14px/1 arial,sans-serif;box-sizing:border-box;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.am-map path{-webkit-print-color-adjust:exact;print-color-adjust:exact}
"""

# A click on the map (not on a marker, popup or control) offers to search from that point.
# The page decides what searching means: it listens for "am:pick" on the map container.
_PICK_JS = """
(function (map) {
  map.on("click", function (e) {
    var target = e.originalEvent && e.originalEvent.target;
    if (target && target.closest &&
        target.closest(".am-marker, .leaflet-popup, .leaflet-control")) { return; }
    var lat = e.latlng.lat.toFixed(5);
    var lon = L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(5);
    var box = document.createElement("div");
    box.className = "am-pick";
    var text = document.createElement("p");
    text.textContent = "Latitude " + lat + ", longitude " + lon;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "am-pick__button";
    button.textContent = "Search from here";
    button.addEventListener("click", function () {
      map.getContainer().dispatchEvent(new CustomEvent("am:pick", {
        bubbles: true, detail: {lat: lat, lon: lon}
      }));
    });
    box.appendChild(text);
    box.appendChild(button);
    L.popup({maxWidth: 260}).setLatLng(e.latlng).setContent(box).openOn(map);
  });
})(%(map)s);
"""


ORIGIN_SYMBOL = svg_symbol(
    f'<circle cx="7" cy="7" r="5" fill="{ORIGIN_FILL}" stroke="{OUTLINE}" stroke-width="2.5"/>'
)
AREA_SYMBOL = svg_symbol(
    f'<circle cx="7" cy="7" r="6" fill="none" stroke="{AREA_COLOUR}" stroke-width="1.5"'
    ' stroke-dasharray="3 2"/>'
)
HOURS_UNKNOWN_SYMBOL = svg_symbol(
    f'<circle cx="7" cy="7" r="6" fill="#ffffff" stroke="{OUTLINE}" stroke-width="1.5"'
    ' stroke-dasharray="2 1.5"/>'
)


class _NearbyStyle(StyleSheet):
    """The nearby maps' own stylesheet (point picker, numbered markers)."""

    css = NEARBY_CSS


class _SearchArea(VerbatimMacro):
    """The search radius as a dashed circle (geodesic metres), under everything else."""

    def __init__(self, lon: float, lat: float, radius_m: float) -> None:
        super().__init__()
        self.lon, self.lat, self.radius_m = lon, lat, radius_m

    def script_js(self) -> str:
        options = {
            "radius": self.radius_m,
            "color": AREA_COLOUR,
            "weight": 2,
            "dashArray": "8 6",
            "fillColor": AREA_COLOUR,
            "fillOpacity": 0.04,
            "interactive": False,
            "className": "am-radius",
        }
        return (
            f"L.circle({script_json([self.lat, self.lon])}, {script_json(options)})"
            f".addTo({self.parent_name()});\n"
        )


class _SearchPoint(VerbatimMacro):
    """The search origin: a yellow dot with a heavy outline, drawn over the circles.

    ``radius`` is in pixels; the handout uses a bigger dot so that it still shows around a
    numbered marker on top of it.
    """

    def __init__(self, lon: float, lat: float, radius: int = 8) -> None:
        super().__init__()
        self.lon, self.lat, self.radius = lon, lat, radius

    def script_js(self) -> str:
        options = {
            "radius": self.radius,
            "color": OUTLINE,
            "weight": 3,
            "fillColor": ORIGIN_FILL,
            "fillOpacity": 1,
            "interactive": False,
            "className": "am-origin",
        }
        return (
            f"L.circleMarker({script_json([self.lat, self.lon])}, {script_json(options)})"
            f".addTo({self.parent_name()});\n"
        )


class _Scale(VerbatimMacro):
    """A scale bar in metres and miles (the embeddable map template leaves Folium's out)."""

    def script_js(self) -> str:
        return f"L.control.scale({{maxWidth: 120}}).addTo({self.parent_name()});\n"


class _PointPicker(VerbatimMacro):
    """Lets a click on the map offer "Search from here" (see ``_PICK_JS``)."""

    def script_js(self) -> str:
        return _PICK_JS % {"map": self.parent_name()}


class _NumberedPoints(VerbatimMacro):
    """The handout's places as numbered dots matching the printed list; not interactive."""

    def __init__(self, features: list[dict[str, Any]]) -> None:
        super().__init__()
        self.features = features

    def script_js(self) -> str:
        collection = {"type": "FeatureCollection", "features": self.features}
        return (
            f"L.geoJSON({script_json(collection)}, {{\n"
            "  pointToLayer: function (f, latlng) {\n"
            "    var label = document.createElement('span');\n"
            "    label.textContent = String(f.properties.n);\n"
            "    return L.marker(latlng, {interactive: false, keyboard: false,\n"
            "      icon: L.divIcon({className: 'am-number', html: label, iconSize: [26, 26]})});\n"
            "  }\n"
            f"}}).addTo({self.parent_name()});\n"
        )


def _point(record: Mapping[str, Any]) -> dict[str, Any]:
    return point_geometry(float(record["lon"]), float(record["lat"]))


def distance_text(record: Mapping[str, Any]) -> str:
    """A result's distance for people: ``"640 m (0.40 miles)"``, ``"5 m (less than 0.01 miles)"``.

    Parameters
    ----------
    record
        A nearby result with ``distance_m`` (metres) and ``distance_miles``.

    Returns
    -------
    str
    """
    metres = float(record["distance_m"])
    miles = float(record["distance_miles"])
    if miles < 0.01:
        # distance_miles is to 0.01 mile, as the API gives it: under 8 m it reads 0.00.
        return f"{metres:,.0f} m (less than 0.01 miles)"
    return f"{metres:,.0f} m ({miles:.2f} {'mile' if miles == 1 else 'miles'})"


def result_feature(record: Mapping[str, Any], *, url: str = "", note: str = "") -> dict[str, Any]:
    """The GeoJSON Feature the nearby map shows for one result.

    Parameters
    ----------
    record
        A nearby result (``describe_hit``): ``id, name, lon, lat`` (WGS84), ``distance_m``,
        ``distance_miles`` and the contact fields.
    url
        Same-origin path of the asset's own page, for the popup's link.
    note
        An extra line for the popup, such as "Opening hours not known".

    Returns
    -------
    dict
        A Feature whose properties are plain strings: ``id``, ``name``, ``distance`` and,
        when present, ``address``, ``postcode``, ``phone``, ``website`` (http or https only),
        ``url`` and ``note``.
    """
    props: dict[str, str] = {
        "id": str(record["id"]),
        "name": str(record["name"]),
        "distance": distance_text(record),
        **contact_properties({key: record.get(key) for key in CONTACT_FIELDS}, url=url),
    }
    if note:
        props["note"] = note
    return {"type": "Feature", "geometry": _point(record), "properties": props}


def _osm_data(records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any record's source or licence says its data comes from OpenStreetMap."""
    return any(
        from_openstreetmap(str(r.get("source") or ""), str(r.get("licence") or "")) for r in records
    )


def _by_category(
    records: Sequence[Mapping[str, Any]], taxonomy: Taxonomy
) -> list[tuple[Category, list[Mapping[str, Any]]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        key = record["category"] if record["category"] in taxonomy else OTHER.id
        groups.setdefault(key, []).append(record)
    return [(c, groups[c.id]) for c in [*taxonomy, OTHER] if c.id in groups]


def nearby_map(
    results: Sequence[Mapping[str, Any]],
    taxonomy: Taxonomy,
    *,
    origin: Mapping[str, Any],
    radius_m: float,
    radius_label: str,
    hours_unknown: Sequence[Mapping[str, Any]] = (),
    tile_url: str,
    tile_attribution: str = "",
    vendor_base_url: str | None = None,
    use_cdn: bool = False,
    detail_url: Callable[[str], str] | None = None,
    pick_point: bool = True,
    licences_url: str = LICENCES_URL,
) -> folium.Map:
    """Build the map beside a nearby search's results.

    Parameters
    ----------
    results
        This page's results (``NearbyResult.results``): circles coloured by category, one
        layer per category, with a legend and layer switcher.
    taxonomy
        Category order, labels and colours; unknown categories go in a grey "Other" layer.
    origin
        The search origin, ``{"lon", "lat", "label"}`` (WGS84 degrees): a yellow dot.
    radius_m
        The search radius in metres (geodesic): a dashed circle the map is fitted to.
    radius_label
        The radius for the legend, such as ``"1 mile"``.
    hours_unknown
        Results whose opening hours are not known (``NearbyResult.hours_unknown``): drawn in
        their category's layer with a dashed outline and a note in the popup.
    tile_url, tile_attribution, vendor_base_url, use_cdn, licences_url
        As for :func:`assetmap.maps.assets_map`; each record's ``source`` and ``licence``
        decide whether OpenStreetMap is credited for the data.
    detail_url
        Asset id -> same-origin path of its page; popups link to it.
    pick_point
        Offer "Search from here" on a click on the map; the page gets an ``am:pick`` event
        (``detail: {lat, lon}``, strings with 5 decimals) on the map container.

    Returns
    -------
    folium.Map
        An :class:`~assetmap.maps.assets.AssetMap` fitted to the search area. Every asset
        circle has the class ``am-marker`` (and ``am-marker--hours-unknown`` for the second
        group); the origin is ``am-origin`` and the radius ``am-radius``.
    """
    lon, lat = float(origin["lon"]), float(origin["lat"])
    m = AssetMap(
        location=(lat, lon),
        zoom_start=14,
        tiles=None,
        maxZoom=MAX_ZOOM,
    )
    add_tiles(m, tile_url, tile_attribution)
    add_credits(
        m,
        tile_url=tile_url,
        tile_attribution=tile_attribution,
        osm_data=_osm_data([*results, *hours_unknown]),
        licences_url=licences_url,
    )
    _MapStyle().add_to(m)
    _NearbyStyle().add_to(m)
    _SearchArea(lon, lat, radius_m).add_to(m)
    binder = PopupBinder()
    binder.add_to(m)

    def features(group: Sequence[Mapping[str, Any]], note: str = "") -> list[dict[str, Any]]:
        return [
            result_feature(r, url=detail_url(str(r["id"])) if detail_url else "", note=note)
            for r in group
        ]

    known = dict(_by_category(results, taxonomy))
    unknown = dict(_by_category(hours_unknown, taxonomy))
    shown = [c for c in [*taxonomy, OTHER] if c in known or c in unknown]
    for category in shown:
        layer = folium.FeatureGroup(name=html_text(category.label))
        if category in known:
            CategoryPoints(category, features(known[category]), binder).add_to(layer)
        if category in unknown:
            CategoryPoints(
                category,
                features(unknown[category], HOURS_UNKNOWN_NOTE),
                binder,
                modifier="hours-unknown",
                style={"dashArray": "3 2", "weight": 2, "fillOpacity": 0.45},
            ).add_to(layer)
        layer.add_to(m)
    _SearchPoint(lon, lat).add_to(m)
    _Scale().add_to(m)
    keys = [
        (ORIGIN_SYMBOL, f"Search point: {origin.get('label') or 'chosen point'}"),
        (AREA_SYMBOL, f"Within {radius_label}"),
    ]
    if hours_unknown:
        keys.append((HOURS_UNKNOWN_SYMBOL, "Dashed outline: opening hours not known"))
    counts = [(c, len(known.get(c, [])) + len(unknown.get(c, []))) for c in shown]
    if shown:
        folium.LayerControl(collapsed=True).add_to(m)
    _Legend(counts, keys).add_to(m)
    if pick_point:
        _PointPicker().add_to(m)
    min_lon, min_lat, max_lon, max_lat = bbox_around(lon, lat, radius_m)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]], padding=(8, 8))
    use_resources(m, vendor_base_url=vendor_base_url, use_cdn=use_cdn)
    return m


def handout_map(
    records: Sequence[Mapping[str, Any]],
    *,
    origin: Mapping[str, Any],
    tile_url: str,
    tile_attribution: str = "",
    vendor_base_url: str | None = None,
    use_cdn: bool = False,
    licences_url: str = LICENCES_URL,
) -> folium.Map:
    """Build a handout's small map: the search point and numbered dots, fit for printing.

    Parameters
    ----------
    records
        The handout's places in order; the first is numbered 1. Each needs ``lon`` and
        ``lat`` (WGS84 degrees).
    origin
        The search origin, ``{"lon", "lat"}`` (WGS84 degrees).
    tile_url, tile_attribution, vendor_base_url, use_cdn, licences_url
        As for :func:`nearby_map`. The link to ``licences_url`` is left out when the page
        is opened from disk (the downloaded handout), where it could not be followed.

    Returns
    -------
    folium.Map
        Fitted to the origin and every place; no legend, layer switcher, popups or scroll
        zoom. Numbers are ``.am-number`` markers.
    """
    lon, lat = float(origin["lon"]), float(origin["lat"])
    m = AssetMap(
        location=(lat, lon),
        zoom_start=14,
        tiles=None,
        maxZoom=MAX_ZOOM,
        scrollWheelZoom=False,
    )
    add_tiles(m, tile_url, tile_attribution)
    add_credits(
        m,
        tile_url=tile_url,
        tile_attribution=tile_attribution,
        osm_data=_osm_data(records),
        licences_url=licences_url,
    )
    _MapStyle().add_to(m)
    _NearbyStyle().add_to(m)
    features = [
        {"type": "Feature", "geometry": _point(r), "properties": {"n": i}}
        for i, r in enumerate(records, 1)
    ]
    _SearchPoint(lon, lat, radius=15).add_to(m)
    _NumberedPoints(features).add_to(m)
    _Scale().add_to(m)
    lats = [lat, *(float(r["lat"]) for r in records)]
    lons = [lon, *(float(r["lon"]) for r in records)]
    m.fit_bounds(
        [[min(lats), min(lons)], [max(lats), max(lons)]],
        padding=(28, 28),
        max_zoom=HANDOUT_MAX_ZOOM,
    )
    use_resources(m, vendor_base_url=vendor_base_url, use_cdn=use_cdn)
    return m
