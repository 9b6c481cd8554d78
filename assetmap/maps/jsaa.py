"""JSAA maps: choropleths of any per-area column, a gap map, and asset layers per category.

Areas reach the page as one compact JSON object (:func:`encode_areas`): codes, names, value
text and class per area, and each polygon's rings as integer coordinates at 1e-5 degrees
(about 1 m), delta-encoded. A script of ours decodes them into Leaflet polygons and builds
every tooltip with ``textContent``, so no area name, asset name or label is ever parsed as
HTML or passed through a Folium template. Layer and legend text goes through
:func:`~assetmap.maps._elements.html_text`.

Geometry is simplified for display only (:func:`display_geometry`): the analysis keeps the
exact polygons. Simplification runs in British National Grid metres with a tolerance chosen
from the map's extent (:func:`display_tolerance_m`), so a local authority keeps street-level
detail and all of England stays within a few megabytes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

import folium
import geopandas as gpd
import mapclassify
import shapely

from assetmap.analysis.needs import number_with_unit
from assetmap.domain.taxonomy import Category, Taxonomy
from assetmap.maps._elements import VerbatimMacro, html_text, script_json
from assetmap.maps.assets import EMPTY_CENTRE, EMPTY_ZOOM, AssetMap
from assetmap.maps.popups import (
    OUTLINE,
    CategoryPoints,
    LegendControl,
    PopupBinder,
    legend_item,
    point_geometry,
    svg_symbol,
    tooltip_rules_js,
)
from assetmap.maps.resources import use_resources

BNG = "EPSG:27700"
STORAGE_CRS = "EPSG:4326"
# Coordinates are sent as integers of 1e-5 degrees (about 1.1 m of latitude).
COORD_SCALE = 100_000
# Display detail: the tolerance is the map's extent divided by this, so detail holds at the
# fitted view (about 1,000 px across) and two zoom levels in.
EXTENT_PIXELS = 4000
MIN_TOLERANCE_M = 1.0
# Above this many areas the map draws on one canvas instead of one SVG path per area.
SVG_MAX_AREAS = 5000
MAX_ZOOM = 18
NO_DATA_COLOUR = "#b1b4b6"
# Asset circles are smaller than on the asset map, so the area colours stay readable.
_ASSET_STYLE = {"radius": 4.5, "weight": 1}
# Viridis (reversed: pale is low, dark is high), sampled evenly for each number of classes.
# Perceptually uniform and readable with the common colour-vision deficiencies.
VIRIDIS: Mapping[int, tuple[str, ...]] = {
    1: ("#21918c",),
    2: ("#fde725", "#440154"),
    3: ("#fde725", "#21918c", "#440154"),
    4: ("#fde725", "#35b779", "#31688e", "#440154"),
    5: ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"),
    6: ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"),
    7: ("#fde725", "#8fd744", "#35b779", "#21918c", "#31688e", "#443983", "#440154"),
}
MAX_CLASSES = 7
METHODS = {
    "quantiles": "quantiles (about the same number of areas in each class)",
    "natural_breaks": "natural breaks (Fisher–Jenks: classes that keep similar values together)",
}
# Natural breaks are exact up to this many distinct values; above, they are found on this many
# evenly spaced order statistics: deterministic (unlike mapclassify's random sample), and
# quick without numba, where mapclassify's Fisher-Jenks is pure Python and O(k n²).
_JENKS_EXACT = 300

_MAP_SCRIPT = """
function %(name)s(data, group) {
  var scale = data.scale;
  function ring(flat) {
    var out = new Array(flat.length / 2), x = 0, y = 0;
    for (var i = 0, j = 0; i < flat.length; i += 2, j++) {
      x += flat[i]; y += flat[i + 1];
      out[j] = [y / scale, x / scale];
    }
    return out;
  }
  function tip(i) {
    var box = document.createElement("div");
    box.className = "am-area-tip";
    var name = document.createElement("strong");
    name.textContent = data.names[i];
    box.appendChild(name);
    var code = document.createElement("div");
    code.textContent = data.codes[i];
    box.appendChild(code);
    var value = document.createElement("div");
    value.textContent = data.label + ": " + data.text[i];
    box.appendChild(value);
    if (data.extra && data.extra[i]) {
      var extra = document.createElement("div");
      extra.textContent = data.extra[i];
      box.appendChild(extra);
    }
    return box;
  }
  var renderer = data.canvas ? L.canvas({padding: 0.5}) : L.svg({padding: 0.5});
  for (var i = 0; i < data.codes.length; i++) {
    var cls = data.classes[i];
    var style = Object.assign({}, data.style, {
      renderer: renderer,
      fillColor: cls < 0 ? data.noData : data.colours[cls],
      className: data.className + " " + data.className + "--c" + cls
    });
    var layer = L.polygon(data.geoms[i].map(function (p) { return p.map(ring); }), style);
    layer.amIndex = i;
    if (!data.canvas) {
      (function (code, layer) {
        layer.on("add", function () { layer.getElement().setAttribute("data-area-code", code); });
      })(data.codes[i], layer);
    }
    group.addLayer(layer);
  }
  if (data.style.interactive !== false) {
    // One tooltip for the whole layer, filled for the area under the pointer: tens of
    // thousands of areas need no tooltip object each. It opens where the pointer enters an
    // area (sticky) and stays there rather than following it, so that the pointer can move
    // onto it (WCAG 1.4.13, hoverable), as it can be hidden with Escape (dismissible).
    group.bindTooltip(function (layer) { return tip(layer.amIndex); },
                      {sticky: true, className: "am-hoverable"});
    group.off("mousemove", group._moveTooltip);
    %(name)s_dismissible(group);
  }
}
"""

_READY_SCRIPT = """
(function () {
  var done = function () {
    window.amMapReady = {areas: %(areas)d, ms: performance.now()};
    document.documentElement.setAttribute("data-am-ready", "%(areas)d");
  };
  requestAnimationFrame(function () { requestAnimationFrame(done); });
})();
"""


@dataclass(frozen=True)
class Classification:
    """Classes of a column for a choropleth.

    Attributes
    ----------
    method
        ``"quantiles"`` or ``"natural_breaks"``.
    lower, upper
        Each class's lowest and highest value (inclusive), in the column's units.
    counts
        Areas in each class; ``no_data`` areas have no value.
    colours
        Fill of each class, in class order (lowest values first): pale to dark, or dark to
        pale once :func:`oriented` for a measure where lower values mean more need.
    """

    method: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    counts: tuple[int, ...]
    colours: tuple[str, ...]
    no_data: int = 0

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.upper)

    def class_of(self, values: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Class index (0 … k−1) of each value; −1 for NaN."""
        vals = np.asarray(values, dtype=np.float64)
        out = np.searchsorted(np.asarray(self.upper), vals, side="left").astype(np.int64)
        out = np.minimum(out, self.k - 1)
        out[np.isnan(vals)] = -1
        return out


def _jenks_bins(values: np.ndarray[Any, Any], k: int) -> np.ndarray[Any, Any]:
    unique = np.unique(values)
    sample = values
    if unique.size > _JENKS_EXACT:
        # Evenly spaced order statistics: the same every run, and shaped like the data.
        positions = np.linspace(0, values.size - 1, _JENKS_EXACT).round().astype(int)
        sample = np.sort(values)[positions]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        bins = np.asarray(mapclassify.FisherJenks(sample, k=k).bins, dtype=np.float64)
    if sample is not values:
        # A break found on the sample lies somewhere between two sampled values; put it in
        # the widest gap between real values there, so a cluster is not cut in two.
        ordered = np.sort(values)
        for i in range(len(bins) - 1):
            after = sample[np.searchsorted(sample, bins[i], side="right")]
            lo = np.searchsorted(ordered, bins[i], side="left")
            hi = np.searchsorted(ordered, after, side="left")
            segment = ordered[lo : hi + 1]
            bins[i] = segment[int(np.argmax(np.diff(segment)))]
    bins[-1] = values.max()
    return bins


def classify(values: Any, *, method: str = "quantiles", k: int = 5) -> Classification:
    """Put values into classes for a choropleth.

    Parameters
    ----------
    values
        One value per area, NaN for none.
    method
        ``"quantiles"`` (mapclassify ``Quantiles``) or ``"natural_breaks"`` (mapclassify
        ``FisherJenks``; on more than 300 distinct values, on 300 evenly spaced order
        statistics, so the classes are the same every run and quick to find).
    k
        Number of classes wanted (2–7). Fewer are made when the data have fewer distinct
        values or repeated quantiles.

    Returns
    -------
    Classification
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not 2 <= k <= MAX_CLASSES:
        raise ValueError(f"k must be between 2 and {MAX_CLASSES}")
    vals = np.asarray(values, dtype=np.float64)
    finite = vals[np.isfinite(vals)]
    no_data = int(vals.size - finite.size)
    if finite.size == 0:
        return Classification(method, (), (), (), (), no_data)
    k = min(k, int(np.unique(finite).size))
    if k < 2:
        upper = np.array([finite.max()])
    elif method == "quantiles":
        with warnings.catch_warnings():
            # Tied quantiles: mapclassify warns and merges them; fewer classes are fine here.
            warnings.simplefilter("ignore", UserWarning)
            upper = np.unique(np.asarray(mapclassify.Quantiles(finite, k=k).bins))
    else:
        upper = np.unique(_jenks_bins(finite, k))
    upper = upper.astype(np.float64)
    idx = np.minimum(np.searchsorted(upper, finite, side="left"), upper.size - 1)
    counts = np.bincount(idx, minlength=upper.size)
    # Each class's lowest and highest values actually present, not the breaks: a break
    # between whole numbers (a quantile of deciles at 6.6) would print as a value no area
    # in the class has ("5 to 7" for deciles 5 and 6). Classing by the highest values puts
    # every value in the same class as the breaks do.
    lower = np.array([finite[idx == c].min() if counts[c] else np.nan for c in range(upper.size)])
    upper = np.array([finite[idx == c].max() if counts[c] else np.nan for c in range(upper.size)])
    keep = counts > 0
    upper, lower, counts = upper[keep], lower[keep], counts[keep]
    return Classification(
        method=method,
        lower=tuple(float(v) for v in lower),
        upper=tuple(float(v) for v in upper),
        counts=tuple(int(c) for c in counts),
        colours=VIRIDIS[int(upper.size)],
        no_data=no_data,
    )


def oriented(classes: Classification, higher_is_more_need: bool | None) -> Classification:
    """Classes coloured so that more need is always the darker (stronger) end.

    A ramp runs pale (low values) to dark (high values). Where a lower value means more need
    (an IMD rank: 1 is the most deprived area in England), the ramp is turned round, so the
    most deprived areas are dark on every need map, as they are on the IMD score map.

    Parameters
    ----------
    classes
        From :func:`classify`.
    higher_is_more_need
        The measure's direction; None (not a need measure) and True leave the ramp as it is.

    Returns
    -------
    Classification
        The same classes, with ``colours`` reversed when ``higher_is_more_need`` is False.
    """
    if higher_is_more_need is False:
        return replace(classes, colours=classes.colours[::-1])
    return classes


def _darkest_first(classes: Classification, higher_is_more_need: bool | None) -> list[int]:
    """Class indexes in legend order: the darkest (more need) class at the top."""
    order = list(range(classes.k))
    return order if higher_is_more_need is False else order[::-1]


def value_decimals(values: Any) -> int:
    """Decimals to show for a column: 0 for whole numbers and large values, else 1–3."""
    vals = np.asarray(values, dtype=np.float64)
    finite = vals[np.isfinite(vals)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        return 0
    biggest = float(np.abs(finite).max())
    if biggest >= 1000:
        return 0
    if biggest >= 10:
        return 1
    return 2 if biggest >= 1 else 3


def format_value(value: Any, decimals: int) -> str:
    """A number as shown in tables, tooltips and legends: thousands separators, fixed decimals."""
    if value is None or value is pd.NA:
        return "no data"
    number = float(value)
    if math.isnan(number):
        return "no data"
    return f"{number:,.{decimals}f}"


def value_text(value: Any, decimals: int, unit: str) -> str:
    """A value as an area's tooltip gives it: in its table's places, with its unit.

    Parameters
    ----------
    value
        The value, in ``unit``; None or NaN for none.
    decimals
        Places, as :func:`value_decimals` chose for the column (the table beside the map
        shows the same number).
    unit
        The column's unit as its config gives it, perhaps ending in a note in brackets.

    Returns
    -------
    str
        ``"27.8% of residents"``, ``"40.8 (score, higher = more deprived)"``, ``"2,401 (rank
        of 32,844, 1 = most deprived)"``: the unit placed as priority reasons place it
        (:func:`~assetmap.analysis.needs.number_with_unit`), its note included, since for a
        rank or decile the note says which end is most deprived. ``"no data"`` for no value.
    """
    number = format_value(value, decimals)
    return number if number == "no data" else number_with_unit(number, unit)


def display_tolerance_m(bounds: Sequence[float]) -> float:
    """Simplification tolerance (metres) for a map of this extent (EPSG:27700 bounds).

    The extent's longer side divided by 4,000: at the zoom that fits the extent into about
    1,000 pixels, a quarter of a pixel, so outlines stay true two zoom levels in. Never less
    than 1 m (the precision coordinates are sent at).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    extent = max(maxx - minx, maxy - miny)
    return max(MIN_TOLERANCE_M, extent / EXTENT_PIXELS)


def display_geometry(geometry: gpd.GeoSeries, *, tolerance_m: float | None = None) -> gpd.GeoSeries:
    """Polygons simplified for display, back in EPSG:4326.

    Each polygon is simplified on its own in British National Grid metres (Douglas–Peucker
    keeping topology, so no polygon becomes invalid or empty). Neighbours may then differ by
    up to the tolerance along a shared edge; the exact polygons stay in the analysis.

    Parameters
    ----------
    geometry
        Area polygons in any CRS.
    tolerance_m
        Metres; :func:`display_tolerance_m` of the extent when None.

    Returns
    -------
    geopandas.GeoSeries
        Simplified polygons in EPSG:4326, same index.
    """
    bng = geometry.to_crs(BNG)
    tol = display_tolerance_m(bng.total_bounds) if tolerance_m is None else tolerance_m
    simple = shapely.simplify(np.asarray(bng.values), tol, preserve_topology=True)
    return gpd.GeoSeries(simple, index=geometry.index, crs=BNG).to_crs(STORAGE_CRS)


def _encode_ring(coords: np.ndarray[Any, Any]) -> list[int]:
    ints = np.round(coords * COORD_SCALE).astype(np.int64)
    # Drop the closing point (Leaflet closes rings) and points that round onto the previous.
    ints = ints[:-1]
    if len(ints) > 1:
        moved = np.any(ints[1:] != ints[:-1], axis=1)
        ints = ints[np.concatenate([[True], moved])]
    if len(ints) < 3:
        return []
    deltas = np.vstack([ints[:1], np.diff(ints, axis=0)])
    flat: list[int] = deltas.ravel().tolist()
    return flat


def encode_geometry(geom: Any) -> list[list[list[int]]]:
    """A (multi)polygon as polygons → rings → flat delta-encoded integer coordinates.

    Each ring is ``[x0, y0, dx1, dy1, …]`` in 1e-5 degrees (lon, lat), the first point absolute,
    the rest differences from the point before; the closing point is left out. Rings that
    collapse to fewer than three points at that precision are dropped.
    """
    polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out: list[list[list[int]]] = []
    for polygon in polygons:
        if polygon.is_empty:
            continue
        exterior = _encode_ring(np.asarray(polygon.exterior.coords))
        if not exterior:
            continue
        rings = [exterior]
        for interior in polygon.interiors:
            ring = _encode_ring(np.asarray(interior.coords))
            if ring:
                rings.append(ring)
        out.append(rings)
    return out


@dataclass(frozen=True)
class AreaStyle:
    """How the area polygons are drawn (Leaflet path options)."""

    weight: float = 0.6
    colour: str = "#ffffff"
    fill_opacity: float = 0.85

    interactive: bool = True
    class_name: str = "am-area"

    def options(self) -> dict[str, Any]:
        """Leaflet path options."""
        return {
            "weight": self.weight,
            "color": self.colour,
            "fillOpacity": self.fill_opacity,
            "opacity": 1,
            "interactive": self.interactive,
        }


@dataclass(frozen=True)
class ChoroplethSpec:
    """What a choropleth shows: one column of the per-area table, with its metadata.

    Attributes
    ----------
    column
        Column of the per-area table.
    label, unit, source
        Shown in the legend, tooltips and table headings; each area's tooltip gives its
        value with the unit (:func:`value_text`), unless ``unit_is_scale``.
    unit_is_scale
        The unit is a reading guide to a 0 to 100 scale the label names ("0 to 100; 100 =
        most need"), not what a value counts: after a value it would read as part of it
        ("96.8 0 to 100, 100 = most need"), so the legend gives it and tooltips do not.
    method, k
        Classification (:func:`classify`).
    higher_is_more_need
        The measure's direction (None: not a need measure). Where lower values mean more
        need (a rank), the colours are turned round so that more need is always darker
        (:func:`oriented`), and the legend says which end is more need.
    """

    column: str
    label: str
    unit: str = ""
    source: str = ""
    method: str = "quantiles"
    k: int = 5
    higher_is_more_need: bool | None = None
    description: str = ""
    unit_is_scale: bool = False


@dataclass
class MapData:
    """A built map and the per-area rows shown in the table beside it."""

    map: folium.Map
    spec: ChoroplethSpec
    classes: Classification
    decimals: int
    areas: int
    tolerance_m: float
    rows: list[dict[str, Any]] = field(default_factory=list)


class _AreaDecoder(VerbatimMacro):
    """Defines the function that decodes the area data into polygons with tooltips."""

    def script_js(self) -> str:
        name = self.get_name()
        return tooltip_rules_js(name) + _MAP_SCRIPT % {"name": name}


class _Areas(VerbatimMacro):
    """One choropleth layer: the encoded areas, added to its parent feature group."""

    def __init__(self, data: dict[str, Any], decoder: _AreaDecoder) -> None:
        super().__init__()
        self.data = data
        self.decoder = decoder

    def script_js(self) -> str:
        return f"{self.decoder.get_name()}({script_json(self.data)}, {self.parent_name()});\n"


@dataclass(frozen=True)
class Attribution:
    """A line for the map's attribution control: plain text, optionally a link.

    Attributes
    ----------
    text
        Plain text (escaped here: Leaflet shows attributions as HTML).
    href
        A relative address or fragment (``#data-sources``) the text links to; none when empty.
    """

    text: str
    href: str = ""

    def html(self) -> str:
        """The escaped HTML Leaflet is given."""
        body = html_text(self.text)
        if not self.href:
            return body
        return f'<a href="{html_text(self.href)}">{body}</a>'


class _AttributionLine(VerbatimMacro):
    """Adds one attribution to the map's attribution control (bottom right)."""

    def __init__(self, attribution: Attribution) -> None:
        super().__init__()
        self.attribution = attribution

    def script_js(self) -> str:
        # The HTML is built from escaped text above and passed as JSON, never as a template.
        return (
            f"{self.parent_name()}.attributionControl.addAttribution("
            f"{script_json(self.attribution.html())});\n"
        )


def _add_attribution(m: folium.Map, attribution: Attribution | None) -> None:
    if attribution is not None and attribution.text:
        _AttributionLine(attribution).add_to(m)


class _Ready(VerbatimMacro):
    """Marks the page when the areas are drawn (benchmarks and tests wait for it)."""

    def __init__(self, areas: int) -> None:
        super().__init__()
        self.areas = areas

    def script_js(self) -> str:
        return _READY_SCRIPT % {"areas": self.areas}


def _swatch(colour: str, *, shape: str = "rect", outline: str = OUTLINE, width: float = 1) -> str:
    if shape == "circle":
        body = (
            f'<circle cx="8" cy="8" r="6" fill="{html_text(colour)}" stroke="{outline}" '
            f'stroke-width="{width:g}"/>'
        )
    else:
        body = (
            f'<rect x="1" y="1" width="14" height="14" fill="{html_text(colour)}" '
            f'stroke="{outline}" stroke-width="{width:g}"/>'
        )
    return svg_symbol(body, size=16)


_OUTLINE_SWATCH = svg_symbol(
    '<rect x="2" y="2" width="12" height="12" fill="none" stroke="#ffffff" stroke-width="4"/>'
    f'<rect x="2" y="2" width="12" height="12" fill="none" stroke="{OUTLINE}" '
    'stroke-width="2"/>',
    size=16,
)


def _layer_name(
    classes: Classification, label: str, higher_is_more_need: bool | None = None
) -> str:
    """A layer switch's label (HTML): a swatch of the darkest class and the escaped label."""
    if not classes.k:
        return _swatch(NO_DATA_COLOUR) + html_text(label)
    darkest = _darkest_first(classes, higher_is_more_need)[0]
    return _swatch(classes.colours[darkest]) + html_text(label)


def direction_text(higher_is_more_need: bool | None) -> str:
    """The legend's line saying which end of the ramp is more need ('' for other measures).

    "Darker: more need (lower values)": it said "more need" twice, "(lower values mean more
    need)" in the brackets.
    """
    if higher_is_more_need is None:
        return ""
    values = "higher" if higher_is_more_need else "lower"
    return f"Darker: more need ({values} values)"


def class_labels(classes: Classification, decimals: int) -> list[str]:
    """``"lower to upper"`` for each class, as the legend and table show them.

    Printed with ``decimals``, or with up to four more where that is what it takes for no
    class to end on the number the next one starts with: IMD scores of 9.198 and 9.243 in
    neighbouring classes made "5.7 to 9.2" and "9.2 to 14.1", which put an area showing 9.2
    in either.
    """
    pairs: list[tuple[str, str]] = []
    for places in range(decimals, decimals + 5):
        pairs = [
            (format_value(low, places), format_value(high, places))
            for low, high in zip(classes.lower, classes.upper, strict=True)
        ]
        if all(pairs[i][1] != pairs[i + 1][0] for i in range(len(pairs) - 1)):
            break
    return [a if a == b else f"{a} to {b}" for a, b in pairs]


class _Legend(LegendControl):
    """A Leaflet control: the classes (with units and source), then any other symbols."""

    def __init__(
        self,
        spec: ChoroplethSpec,
        classes: Classification,
        decimals: int,
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.spec = spec
        self.classes = classes
        self.decimals = decimals
        self.extra = list(extra)

    def body_html(self) -> str:
        spec = self.spec
        labels = class_labels(self.classes, self.decimals)
        # The darkest class first, as readers scan a legend from the top: the highest values,
        # or the lowest where lower values mean more need, so more need is always on top.
        items = [
            legend_item(
                _swatch(self.classes.colours[c], outline="#505a5f"),
                f"{labels[c]} ({self.classes.counts[c]:,})",
            )
            for c in _darkest_first(self.classes, spec.higher_is_more_need)
        ]
        if self.classes.no_data:
            items.append(
                legend_item(
                    _swatch(NO_DATA_COLOUR, outline="#505a5f"),
                    f"No data ({self.classes.no_data:,})",
                )
            )
        items += [legend_item(swatch_html, text) for swatch_html, text in self.extra]
        unit = f'<p class="am-legend__unit">{html_text(spec.unit)}</p>' if spec.unit else ""
        direction = direction_text(spec.higher_is_more_need)
        if direction:
            unit += f'<p class="am-legend__direction">{html_text(direction)}</p>'
        source = (
            f'<p class="am-legend__source">Source: {html_text(spec.source)}</p>'
            if spec.source
            else ""
        )
        # Asset categories are keyed in the layer control, beside their switches.
        return self.details(spec.label, items, before=unit, after=source)


def _base_map(bounds: Sequence[float]) -> folium.Map:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    m = AssetMap(
        location=EMPTY_CENTRE,
        zoom_start=EMPTY_ZOOM,
        tiles=None,
        maxZoom=MAX_ZOOM,
        control_scale=True,
    )
    if all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(8, 8))
    return m


def _area_payload(
    areas: gpd.GeoDataFrame,
    display: gpd.GeoSeries,
    values: np.ndarray[Any, Any],
    classes: Classification,
    decimals: int,
    spec: ChoroplethSpec,
    *,
    style: AreaStyle,
    extra: Sequence[str] | None = None,
    colours: Sequence[str] | None = None,
) -> dict[str, Any]:
    unit = "" if spec.unit_is_scale else spec.unit
    text = [value_text(v, decimals, unit) for v in values]
    return {
        "scale": COORD_SCALE,
        "canvas": len(areas) > SVG_MAX_AREAS,
        "label": spec.label,
        "codes": [str(c) for c in areas["area_code"]],
        "names": [str(n) for n in areas["area_name"]],
        "text": text,
        "extra": list(extra) if extra is not None else None,
        "classes": classes.class_of(values).tolist(),
        "colours": list(colours if colours is not None else classes.colours),
        "noData": NO_DATA_COLOUR,
        "style": style.options(),
        "className": style.class_name,
        "geoms": [encode_geometry(g) for g in display],
    }


def _asset_layers(
    m: folium.Map, assets: gpd.GeoDataFrame | None, taxonomy: Taxonomy | None, *, show: bool
) -> list[tuple[Category, int]]:
    """One toggleable layer of circles per category; popups and tooltips are built as text."""
    if assets is None or taxonomy is None or len(assets) == 0:
        return []
    binder = PopupBinder()
    binder.add_to(m)
    shown = []
    points = assets.to_crs(STORAGE_CRS) if assets.crs != STORAGE_CRS else assets
    for category in taxonomy:
        part = points[points["category"] == category.id]
        if part.empty:
            continue
        features = [
            {
                "type": "Feature",
                "geometry": point_geometry(float(p.x), float(p.y)),
                "properties": {"id": str(i), "name": str(n)},
            }
            for i, n, p in zip(part["id"], part["name"], part.geometry, strict=True)
        ]
        # The switch's label doubles as the key: the circle drawn, the label and the count.
        name = (
            f"{_swatch(category.colour, shape='circle')}{html_text(category.label)} ({len(part):,})"
        )
        layer = folium.FeatureGroup(name=name, show=show)
        CategoryPoints(category, features, binder, style=_ASSET_STYLE).add_to(layer)
        layer.add_to(m)
        shown.append((category, len(part)))
    return shown


def choropleth_map(
    areas: gpd.GeoDataFrame,
    spec: ChoroplethSpec,
    *,
    assets: gpd.GeoDataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    show_assets: bool = False,
    vendor_base_url: str = "vendor",
    tolerance_m: float | None = None,
    attribution: Attribution | None = None,
) -> MapData:
    """A choropleth of one column, with asset layers per category in a layer control.

    Parameters
    ----------
    areas
        ``area_code``, ``area_name``, ``spec.column`` and polygons (any CRS; the exact
        geometry is left untouched).
    spec
        Column, label, unit, source and classification.
    assets, taxonomy
        Assets (``id``, ``name``, ``category``, points) shown as one layer per category of
        the taxonomy; left out when either is None.
    show_assets
        Whether the asset layers start switched on.
    vendor_base_url
        Where the page loads Leaflet from (``vendor`` = ``vendor/leaflet/leaflet.js``
        relative to the page; ``/static/vendor`` in the app).
    tolerance_m
        Display simplification in metres; chosen from the extent when None.
    attribution
        Shown in the map's attribution control (the data's sources and licences, or a link
        to them); none when None.

    Returns
    -------
    MapData
        The map, its classes and the table rows (code, name, value text, class label).
    """
    frame = areas.to_crs(STORAGE_CRS) if areas.crs != STORAGE_CRS else areas
    values = pd.to_numeric(frame[spec.column], errors="coerce").to_numpy(dtype=np.float64)
    classes = oriented(classify(values, method=spec.method, k=spec.k), spec.higher_is_more_need)
    decimals = value_decimals(values)
    bng_bounds = frame.geometry.to_crs(BNG).total_bounds
    tol = display_tolerance_m(bng_bounds) if tolerance_m is None else tolerance_m
    display = display_geometry(frame.geometry, tolerance_m=tol)
    m = _base_map(frame.total_bounds)
    decoder = _AreaDecoder()
    decoder.add_to(m)
    group = folium.FeatureGroup(name=_layer_name(classes, spec.label, spec.higher_is_more_need))
    payload = _area_payload(frame, display, values, classes, decimals, spec, style=AreaStyle())
    _Areas(payload, decoder).add_to(group)
    group.add_to(m)
    _asset_layers(m, assets, taxonomy, show=show_assets)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _Legend(spec, classes, decimals).add_to(m)
    _add_attribution(m, attribution)
    _Ready(len(frame)).add_to(m)
    use_resources(m, vendor_base_url=vendor_base_url)
    labels = class_labels(classes, decimals)
    cls = classes.class_of(values)
    rows = [
        {
            "code": str(code),
            "name": str(name),
            "value": format_value(v, decimals),
            "class": labels[c] if c >= 0 else "No data",
        }
        for code, name, v, c in zip(
            frame["area_code"], frame["area_name"], values, cls, strict=True
        )
    ]
    return MapData(m, spec, classes, decimals, len(frame), tol, rows)


GAP_SPEC = ChoroplethSpec(
    column="gap_score",
    label="Gap score",
    unit="0 = low need, good access; 100 = high need, poor access",
    source="this assessment (need and access percentiles)",
    unit_is_scale=True,
)


def gap_map(
    areas: gpd.GeoDataFrame,
    *,
    assets: gpd.GeoDataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    source: str = "",
    method: str = "quantiles",
    vendor_base_url: str = "vendor",
    tolerance_m: float | None = None,
    attribution: Attribution | None = None,
) -> MapData:
    """The gap map: gap score classes, priority areas outlined, assets per category on top.

    Parameters
    ----------
    areas
        The per-area assessment table (``gap_score``, ``priority``, ``priority_rank``,
        ``need_percentile``, ``access_percentile``) with polygons.
    assets, taxonomy
        Asset layers, switched on, one per category.
    source
        Sources line of the legend.
    method
        Classification of the gap score.
    vendor_base_url, tolerance_m, attribution
        As for :func:`choropleth_map`.

    Returns
    -------
    MapData
        The map and table rows ranked priority areas first (rank, code, name, need and access
        percentiles, gap score).
    """
    frame = areas.to_crs(STORAGE_CRS) if areas.crs != STORAGE_CRS else areas
    spec = replace(GAP_SPEC, source=source or GAP_SPEC.source, method=method)
    values = frame["gap_score"].to_numpy(dtype=np.float64)
    classes = classify(values, method=method, k=5)
    decimals = 1
    tol = (
        display_tolerance_m(frame.geometry.to_crs(BNG).total_bounds)
        if tolerance_m is None
        else tolerance_m
    )
    display = display_geometry(frame.geometry, tolerance_m=tol)
    priority = frame["priority"].to_numpy(dtype=bool)
    ranks = frame["priority_rank"]
    extra = [
        f"Priority area {int(r)}: need in the top band, access in the bottom band"
        if p
        else f"Need percentile {n:.1f}; access percentile {a:.1f}"
        for p, r, n, a in zip(
            priority, ranks, frame["need_percentile"], frame["access_percentile"], strict=True
        )
    ]
    m = _base_map(frame.total_bounds)
    decoder = _AreaDecoder()
    decoder.add_to(m)
    group = folium.FeatureGroup(name=_layer_name(classes, "Gap score"))
    payload = _area_payload(
        frame, display, values, classes, decimals, spec, style=AreaStyle(), extra=extra
    )
    _Areas(payload, decoder).add_to(group)
    group.add_to(m)
    if priority.any():
        # Priority areas: a white halo under a black outline, visible on every fill colour.
        sub = frame[priority]
        halo = folium.FeatureGroup(name=f"{_OUTLINE_SWATCH}{html_text('Priority areas')}")
        for colour, weight in (("#ffffff", 6.0), (OUTLINE, 3.0)):
            outline = _area_payload(
                sub,
                display[priority],
                sub["gap_score"].to_numpy(dtype=np.float64),
                classes,
                decimals,
                spec,
                style=AreaStyle(
                    weight=weight,
                    colour=colour,
                    fill_opacity=0.0,
                    interactive=False,
                    class_name="am-priority",
                ),
            )
            _Areas(outline, decoder).add_to(halo)
        halo.add_to(m)
    _asset_layers(m, assets, taxonomy, show=True)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _Legend(
        spec,
        classes,
        decimals,
        extra=[(_OUTLINE_SWATCH, f"Priority area ({int(priority.sum())})")],
    ).add_to(m)
    _add_attribution(m, attribution)
    _Ready(len(frame)).add_to(m)
    use_resources(m, vendor_base_url=vendor_base_url)
    order = np.lexsort(
        (
            frame["area_code"].to_numpy(),
            -values,
            np.where(priority, ranks.fillna(0).to_numpy(dtype=np.float64), np.inf),
        )
    )
    rows = []
    for i in order:
        row = frame.iloc[int(i)]
        rows.append(
            {
                "rank": "" if not priority[i] else str(int(row["priority_rank"])),
                "code": str(row["area_code"]),
                "name": str(row["area_name"]),
                "need": format_value(row["need_percentile"], 1),
                "access": format_value(row["access_percentile"], 1),
                "value": format_value(row["gap_score"], 1),
                "priority": bool(priority[i]),
            }
        )
    return MapData(m, spec, classes, decimals, len(frame), tol, rows)
