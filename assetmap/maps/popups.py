"""Popups, tooltips and legends shared by the asset, nearby and JSAA maps.

Resident text reaches a popup or tooltip only as a GeoJSON property (:func:`contact_properties`)
that our script (:class:`PopupBinder`) shows with ``textContent``. Legend text goes through
:func:`~assetmap.maps._elements.html_text` here, in :func:`legend_item` and
:meth:`LegendControl.details`, so no map builds legend HTML of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from assetmap.domain.taxonomy import Category
from assetmap.maps._elements import VerbatimMacro, html_text, script_json

# GOV.UK text colour: a dark outline keeps pale category colours visible (WCAG 1.4.11).
OUTLINE = "#0b0c0c"
# The contact fields a popup shows, in this order; a website only with an http(s) address.
CONTACT_FIELDS = ("address", "postcode", "phone", "website")
# Coordinates are rounded to 6 decimal places (about 0.1 m) to keep the page small.
_PLACES = 6

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
  // A circle marker is an SVG path, which the keyboard cannot reach: each one becomes a
  // button named after its place, Enter or Space opening the popup, and focus goes into
  // the popup and back to the circle when it closes.
  function popupBox() {
    var popup = layer.getPopup();
    var el = popup && popup.getElement();
    return el && el.querySelector(".am-popup");
  }
  var openedByKey = false;
  var ring = null;
  layer.on("add", function () {
    var el = layer.getElement && layer.getElement();
    if (!el) { return; }
    if (p.id) { el.setAttribute("data-asset-id", p.id); }
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "button");
    el.setAttribute("aria-label", [p.name, category].filter(Boolean).join(", "));
    el.addEventListener("focus", function () {
      layer.openTooltip();
      // Circles drawn later cover this one; a ring drawn over them all keeps the focused
      // place in sight (WCAG 2.4.11). The circle is not moved to the top itself: moving a
      // focused element in the page takes its focus away.
      if (el.matches(":focus-visible") && layer._map) {
        ring = L.circleMarker(layer.getLatLng(), {
          radius: layer.getRadius() + 2, interactive: false, className: "am-focus-ring",
          color: "#0b0c0c", weight: 4, fillColor: "#ffdd00", fillOpacity: 1
        }).addTo(layer._map);
      }
    });
    el.addEventListener("blur", function () {
      layer.closeTooltip();
      if (ring) { ring.remove(); ring = null; }
    });
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        layer.openPopup();
        openedByKey = true;
        var box = popupBox();
        if (box) { box.focus(); }
      } else if (ev.key === "Escape") {
        layer.closePopup();
      }
    });
  });
  layer.on("popupclose", function (e) {
    var el = layer.getElement && layer.getElement();
    var active = document.activeElement;
    var box = e.popup && e.popup.getElement();
    // The popup may have left the page already (taking focus to the body) or still be
    // fading out. A popup opened with the mouse, or closed by selecting elsewhere, leaves
    // focus where it is.
    var lost = !active || active === document.body || (box && box.contains(active));
    if (openedByKey && lost && el) { el.focus(); }
    openedByKey = false;
  });
  layer.bindTooltip(function () {
    var span = document.createElement("span");
    span.className = "am-tooltip";
    span.textContent = p.name || "";
    return span;
  }, {className: "am-hoverable"});
  %(name)s_dismissible(layer);
  layer.bindPopup(function () {
    var box = document.createElement("div");
    box.className = "am-popup";
    box.setAttribute("tabindex", "-1");
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { layer.closePopup(); }
    });
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


# WCAG 1.4.13 for a label shown on hover or focus. Dismissible: Escape hides it with the
# pointer and focus left where they are (one document listener per script). Hoverable: Leaflet
# closes it the moment the pointer leaves the shape, so the pointer could never reach it; here
# it closes a moment later, and not while the pointer is on the label itself. The label takes
# pointer events through its class (SHARED_MAP_CSS), not Leaflet's ``interactive`` option:
# that would pass its events on to the layer as if over a shape, and a choropleth's one
# tooltip would then be filled for the label itself. NAME_dismissible(layer) applies both to
# a layer (a circle, a whole choropleth) after its tooltip is bound.
_TOOLTIP_JS = """
var %(name)s_shown = null;
document.addEventListener("keydown", function (ev) {
  if (ev.key === "Escape" && %(name)s_shown) { %(name)s_shown.closeTooltip(); }
});
function %(name)s_dismissible(layer) {
  var timer = null;
  function keep() { clearTimeout(timer); }
  function later() {
    keep();
    timer = setTimeout(function () { layer.closeTooltip(); }, %(delay_ms)d);
  }
  layer.off("mouseout", layer.closeTooltip);
  layer.on("mouseout", later);
  layer.on("mouseover", keep);
  layer.on("tooltipopen", function (e) {
    %(name)s_shown = layer;
    var el = e.tooltip.getElement();
    if (el && !el.amHoverable) {
      el.amHoverable = true;
      el.addEventListener("mouseenter", keep);
      el.addEventListener("mouseleave", later);
    }
  });
  layer.on("tooltipclose", function () {
    keep();
    if (%(name)s_shown === layer) { %(name)s_shown = null; }
  });
}
"""
# Long enough to cross the few pixels between a circle and its label, short enough that the
# label of a circle left behind is not mistaken for the next one's.
TOOLTIP_LINGER_MS = 300


def tooltip_rules_js(name: str) -> str:
    """JavaScript defining ``<name>_dismissible(layer)``: its tooltip is dismissible and hoverable.

    Call it once the layer's tooltip is bound, with ``className: "am-hoverable"`` among its
    options.
    """
    return _TOOLTIP_JS % {"name": name, "delay_ms": TOOLTIP_LINGER_MS}


def is_web_address(url: str) -> bool:
    """Whether ``url`` is an absolute http or https address (the only links popups make)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def point_geometry(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON Point at WGS84 ``lon``, ``lat`` (degrees), rounded to about 0.1 m."""
    return {"type": "Point", "coordinates": [round(lon, _PLACES), round(lat, _PLACES)]}


def contact_properties(contact: Mapping[str, Any], *, url: str = "") -> dict[str, str]:
    """The popup properties for a place's contact fields and its page.

    Parameters
    ----------
    contact
        Values of :data:`CONTACT_FIELDS`; empty or missing ones are left out, and a website
        that is not an http(s) address too.
    url
        Same-origin path of the place's own page (``/assets/a1b2``); left out when empty.

    Returns
    -------
    dict
        Plain strings, in the order of :data:`CONTACT_FIELDS`, then ``url``.
    """
    props: dict[str, str] = {}
    for key in CONTACT_FIELDS:
        value = contact.get(key)
        if value and (key != "website" or is_web_address(str(value))):
            props[key] = str(value)
    if url:
        props["url"] = url
    return props


# Rules every map carries (the asset maps inline, published JSAA maps in jsaa.css, which a
# test keeps in step). GOV.UK's focus colours: a focused circle turns yellow with a heavy
# dark outline. A label takes pointer events, so that the pointer can rest on it (see
# _TOOLTIP_JS); Leaflet's own stylesheet lets them through to the map. The layer switcher's
# checkboxes are 24px (WCAG 2.2, 2.5.8 target size): at 13px, rows about 18px apart, and over
# the map's circles, they had too little room around them.
SHARED_MAP_CSS = """
.am-marker:focus{outline:none}
.am-marker:focus-visible{fill:#ffdd00;fill-opacity:1;stroke:#0b0c0c;stroke-width:4px}
.leaflet-tooltip.am-hoverable{pointer-events:auto}
.leaflet-control-layers label>span{display:flex;align-items:center}
.leaflet-control-layers-selector{flex:none;width:24px;height:24px;margin:0 .3rem 0 0}
"""


class PopupBinder(VerbatimMacro):
    """Defines the function that gives each asset circle its tooltip, popup and keyboard use."""

    def script_js(self) -> str:
        """The binder function's definition."""
        name = self.get_name()
        return tooltip_rules_js(name) + _POPUP_JS % {"name": name}


class CategoryPoints(VerbatimMacro):
    """One category's assets: a GeoJSON FeatureCollection drawn as circle markers.

    ``modifier`` adds a class (``am-marker--<modifier>``) and ``style`` overrides the circle
    options, for a set of markers drawn differently (such as hours unknown on the nearby map).
    """

    def __init__(
        self,
        category: Category,
        features: list[dict[str, Any]],
        binder: PopupBinder,
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
        """The features, drawn as circles in the parent layer with the binder's popups."""
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


def svg_symbol(body: str, *, size: int = 14) -> str:
    """A decorative ``size`` px SVG (hidden from assistive technology) around ``body``.

    ``body`` is SVG markup built by this package, never resident text.
    """
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


def legend_item(symbol: str, text: str) -> str:
    """One legend row: a symbol from :func:`svg_symbol` and plain ``text`` (escaped here)."""
    return f"<li>{symbol}<span>{html_text(text)}</span></li>"


class LegendControl(VerbatimMacro):
    """A legend as a Leaflet control: a disclosure, folded on narrow screens.

    Subclasses build their HTML with :meth:`details`.
    """

    def details(
        self, title: str, items: Iterable[str], *, before: str = "", after: str = ""
    ) -> str:
        """The legend's HTML: plain ``title``, then HTML ``before``, the items and ``after``."""
        # A disclosure, so a long legend folds away instead of scrolling or covering the map.
        return (
            f'<details class="am-legend" id="{self.get_name()}" open>'
            f"<summary>{html_text(title)}</summary>{before}"
            f"<ul>{''.join(items)}</ul>{after}</details>"
        )

    def script_js(self) -> str:
        """Adds the legend to the map as a control that lets clicks and scrolls stay in it."""
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
