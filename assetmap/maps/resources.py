"""Where a map loads Leaflet from: the app's own copies (default) or the public CDNs.

Folium links every map to Leaflet, jQuery, Bootstrap and Font Awesome on CDNs. Our maps need
only Leaflet (and Leaflet.markercluster when a layer clusters), so :func:`use_resources`
rewrites each element's ``default_js``/``default_css`` to those files and drops the rest.
The versions are the ones folium 0.20.0 links to; web/package.json pins the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from branca.element import Element
from folium.elements import JSCSSMixin

LEAFLET_VERSION = "1.9.3"
MARKERCLUSTER_VERSION = "1.1.0"

# Folium's resource name -> (npm package, file under web/static/vendor/<package>/).
_LOCAL_FILES = {
    "leaflet": ("leaflet", "leaflet.js"),
    "leaflet_css": ("leaflet", "leaflet.css"),
    "markerclusterjs": ("leaflet.markercluster", "leaflet.markercluster.js"),
    "markerclustercss": ("leaflet.markercluster", "MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "MarkerCluster.Default.css"),
}

CDN_URLS = {
    "leaflet": f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js",
    "leaflet_css": f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css",
    "markerclusterjs": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/"
        f"{MARKERCLUSTER_VERSION}/leaflet.markercluster.js"
    ),
    "markerclustercss": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/"
        f"{MARKERCLUSTER_VERSION}/MarkerCluster.css"
    ),
    "markerclusterdefaultcss": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/"
        f"{MARKERCLUSTER_VERSION}/MarkerCluster.Default.css"
    ),
}

# Origins the CDN URLs above point at; a Content-Security-Policy must allow them when used.
CDN_ORIGINS = ("https://cdn.jsdelivr.net", "https://cdnjs.cloudflare.com")

# Folium's defaults that none of our maps use (markers are circles, popups plain DOM).
_UNUSED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}


def resource_urls(*, vendor_base_url: str | None = None, use_cdn: bool = False) -> dict[str, str]:
    """Map Folium resource names to the URLs a map should load them from.

    Parameters
    ----------
    vendor_base_url
        URL of the app's vendor folder (for example ``/static/vendor``), without a trailing
        slash; required unless ``use_cdn``.
    use_cdn
        Use the public CDNs instead of the app's copies.

    Returns
    -------
    dict
        Resource name (``leaflet``, ``leaflet_css``, ``markerclusterjs``...) -> URL.
    """
    if use_cdn:
        return dict(CDN_URLS)
    if not vendor_base_url:
        raise ValueError("vendor_base_url is required unless use_cdn is True")
    base = vendor_base_url.rstrip("/")
    return {name: f"{base}/{pkg}/{path}" for name, (pkg, path) in _LOCAL_FILES.items()}


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def use_resources(
    root: Element, *, vendor_base_url: str | None = None, use_cdn: bool = False
) -> None:
    """Point every Folium element under ``root`` at our Leaflet files and drop unused ones.

    Call it after the map is complete. Each element gets its own ``default_js`` and
    ``default_css`` lists (Folium's are class attributes shared by every map).

    Parameters
    ----------
    root
        A ``folium.Map`` (or any element); its whole subtree is rewritten.
    vendor_base_url, use_cdn
        As for :func:`resource_urls`.

    Raises
    ------
    ValueError
        When an element needs a file we do not vendor: it would otherwise load from a CDN
        behind the app's back and fail offline.
    """
    urls = resource_urls(vendor_base_url=vendor_base_url, use_cdn=use_cdn)
    for element in _walk(root):
        if not isinstance(element, JSCSSMixin):
            continue
        for attr in ("default_js", "default_css"):
            rewritten = []
            for name, _url in getattr(element, attr):
                if name in _UNUSED:
                    continue
                if name not in urls:
                    raise ValueError(f"{type(element).__name__} needs '{name}', not vendored")
                rewritten.append((name, urls[name]))
            setattr(element, attr, rewritten)
