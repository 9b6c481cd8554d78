"""Split a Folium map into the pieces a page template places: head tags, body HTML, script.

Folium renders a whole HTML document. A page that embeds a map needs the parts instead, with
the page's Content-Security-Policy nonce on every script and inline style the map adds.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import folium
from branca.element import CssLink, Figure, JavascriptLink


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
    """

    head: str
    html: str
    script: str


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
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("the map is not inside a Figure")
    for child in figure._children.values():
        child.render(nonce=nonce)
    head = []
    for name, child in figure.header._children.items():
        if name == "meta_http":  # the page declares its own charset
            continue
        if isinstance(child, JavascriptLink):
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
    return MapParts(head="\n".join(h for h in head if h), html=body, script=script)
