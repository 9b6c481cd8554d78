"""Split a Folium map into the pieces a page template places: head tags, body HTML, script.

Folium renders a whole HTML document. A page that embeds a map needs the parts instead, with
the page's Content-Security-Policy nonce on every script and inline style the map adds.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import folium
from branca.element import CssLink, Figure, JavascriptLink

from assetmap.maps.resources import use_resources

# The vendor base URL a standalone map is pointed at before its files are read and inlined.
_INLINE_BASE = "assetmap-inline:"


@dataclass(frozen=True)
class MapParts:
    """A map ready to embed: three HTML fragments for a page template.

    Attributes
    ----------
    head
        ``<link>`` and ``<script src>`` tags (and the map's stylesheet) for ``<head>``.
    html
        The map container and the elements shown with it (the legend).
    script
        One inline ``<script>`` element that draws the map; place it after ``html``.
    code
        The same script's JavaScript alone, for pages that load it from a file (a static
        page served under a Content-Security-Policy without a nonce).
    """

    head: str
    html: str
    script: str
    code: str = ""


def _nonce_attr(nonce: str) -> str:
    return f' nonce="{html.escape(nonce)}"' if nonce else ""


def map_parts(m: folium.Map, *, nonce: str = "") -> MapParts:
    """Render a map into :class:`MapParts`.

    Parameters
    ----------
    m
        The map. Render each map once: Folium gives every layer a new ``addTo`` call each
        time its figure renders (harmless, but the script grows).
    nonce
        The page's CSP nonce, put on every ``<script>`` and inline ``<style>``.

    Returns
    -------
    MapParts

    Raises
    ------
    ValueError
        If the map script contains ``</script`` or ``<!--``: data reached it unescaped.
    """
    return _render(m, nonce, None)


def standalone_map_parts(m: folium.Map, *, vendor_dir: Path, nonce: str = "") -> MapParts:
    """Render a map for a file opened from disk: Leaflet's JS and CSS inlined, no links.

    Parameters
    ----------
    m
        The map (its resources are re-pointed at ``vendor_dir``; render it once).
    vendor_dir
        The folder :func:`~assetmap.maps.resources.resource_urls` files are under
        (``web/static/vendor``).
    nonce
        Put on every ``<script>`` and ``<style>``, for the file's own CSP.

    Returns
    -------
    MapParts
        ``head`` holds ``<style>`` and ``<script>`` elements with the files' text.

    Raises
    ------
    ValueError
        If a vendored file could end its element early (contains ``</script`` or ``</style``).
    """
    use_resources(m, vendor_base_url=_INLINE_BASE)

    def inline(url: str, tag: str) -> str:
        path = vendor_dir / url.removeprefix(_INLINE_BASE + "/")
        text = path.read_text(encoding="utf-8")
        if f"</{tag}" in text.lower():
            raise ValueError(f"{path.name} contains '</{tag}' and cannot be inlined")
        return f"<{tag}{_nonce_attr(nonce)}>\n{text}\n</{tag}>"

    return _render(m, nonce, inline)


def _render(m: folium.Map, nonce: str, inline: Callable[[str, str], str] | None) -> MapParts:
    """Render the figure's parts; ``inline(url, tag)`` replaces links to files when given."""
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("the map is not inside a Figure")
    for child in figure._children.values():
        child.render(nonce=nonce)
    head = []
    for name, child in figure.header._children.items():
        if name == "meta_http":  # the page declares its own charset
            continue
        if inline is not None and isinstance(child, JavascriptLink | CssLink):
            tag = "script" if isinstance(child, JavascriptLink) else "style"
            head.append(inline(child.url, tag))
        elif isinstance(child, JavascriptLink):
            src = html.escape(child.url)
            head.append(f'<script src="{src}"{_nonce_attr(nonce)}></script>')
        elif isinstance(child, CssLink):
            head.append(f'<link rel="stylesheet" href="{html.escape(child.url)}">')
        else:
            head.append(child.render(nonce=nonce).strip())
    body = figure.html.render(nonce=nonce).strip()
    code = figure.script.render(nonce=nonce).strip()
    lowered = code.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ValueError("map script contains '</script' or '<!--'; data was not escaped")
    script = f"<script{_nonce_attr(nonce)}>\n{code}\n</script>"
    return MapParts(head="\n".join(h for h in head if h), html=body, script=script, code=code)
