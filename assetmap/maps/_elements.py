"""Building blocks for map elements whose output must not pass through a template engine.

branca's ``MacroElement.render`` turns each rendered macro into ``Element(text)``, which
compiles that text as a Jinja template a second time. Any ``{{ ... }}`` in data that reached
a macro (a Folium popup, tooltip or GeoJSON property) is then evaluated on the server, with
unsandboxed Jinja. The elements here build their HTML and JavaScript in Python and insert it
as :class:`Verbatim` text, which is never parsed again; data goes in only through
:func:`script_json` and :func:`html_text`.
"""

from __future__ import annotations

import html
import json
from typing import Any

from branca.element import Element, Figure, MacroElement

# Characters that could end a <script> element or start an HTML comment or entity inside one,
# plus the two line separators older JavaScript engines reject in string literals.
_SCRIPT_UNSAFE = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def script_json(value: Any) -> str:
    r"""JSON for a JavaScript expression inside an inline ``<script>``.

    Every ``<``, ``>`` and ``&`` is written as a ``\u`` escape, so no string value can close
    the script (``</script>``), open an HTML comment or change how the page parses. The
    result is plain data: ``${...}`` inside a JSON string is inert.

    Parameters
    ----------
    value
        Anything ``json.dumps`` accepts.

    Returns
    -------
    str
        Compact JSON text.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_UNSAFE)


def html_text(value: str) -> str:
    """Escape text for HTML, braces included.

    Braces become character references so the text stays inert if it reaches a Folium
    template (Leaflet shows layer names and attributions as HTML, so this is also how plain
    text is passed to those).

    Parameters
    ----------
    value
        Plain text.

    Returns
    -------
    str
        HTML-escaped text.
    """
    return html.escape(value, quote=True).replace("{", "&#123;").replace("}", "&#125;")


class Verbatim(Element):
    """A piece of a figure's header, body or script that renders exactly as given."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class VerbatimMacro(MacroElement):
    """A map element that builds its header, HTML and script in Python.

    Subclasses override :meth:`header_html`, :meth:`body_html` and :meth:`script_js`;
    whatever they return is added to the figure as :class:`Verbatim` text.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        # get_name() makes the JavaScript variable name from this: PopupBinder -> popup_binder_<id>
        self._name = type(self).__name__.lstrip("_")

    def header_html(self, nonce: str) -> str:
        """Tags for the document head; ``nonce`` goes on any inline script or style."""
        return ""

    def body_html(self) -> str:
        """HTML for the document body."""
        return ""

    def script_js(self) -> str:
        """JavaScript run after the map is created (no ``<script>`` tags)."""
        return ""

    def parent_name(self) -> str:
        """The JavaScript variable of the element this one was added to."""
        if self._parent is None:
            raise TypeError(f"{type(self).__name__} has not been added to a map or layer")
        return self._parent.get_name()

    def render(self, **kwargs: Any) -> str:
        """Add this element's parts to its figure, then render its children."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{type(self).__name__} can only be rendered inside a Figure")
        nonce = str(kwargs.get("nonce") or "")
        parts = (
            (figure.header, self.header_html(nonce)),
            (figure.html, self.body_html()),
            (figure.script, self.script_js()),
        )
        for target, text in parts:
            if text:
                target.add_child(Verbatim(text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)
        return ""


class StyleSheet(VerbatimMacro):
    """A map's own stylesheet, inline in the head with the page's CSP nonce.

    Subclasses set :attr:`css` (a constant of this package, never data).
    """

    css = ""

    def header_html(self, nonce: str) -> str:
        """The ``<style>`` element, with ``nonce`` when there is one."""
        nonce_attr = f' nonce="{html.escape(nonce)}"' if nonce else ""
        return f"<style{nonce_attr}>{self.css.strip()}</style>"
