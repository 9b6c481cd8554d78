"""The printable handout as the person holding it reads it: what each place says, and what not.

Places are made from real Trafford rows (``tests.maps.trafford``) with the details a handout
must carry; each test reads the handout's own list, item by item, key by value.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all

HANDOUT = "/nearby/handout"
DOWNLOAD = "/nearby/handout/download"
M32 = "postcode=M32+0TH&radius=1&unit=mi"


class _Handout(HTMLParser):
    """Each handout item's details as {key: value}, whitespace collapsed, by asset id."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, str]] = {}
        self._item: dict[str, str] | None = None
        self._key: str | None = None
        self._in: str | None = None  # "dt" or "dd" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "li" and "app-handout__item" in a.get("class", "").split():
            self._item = self.items.setdefault(a["data-asset-id"], {})
        elif self._item is not None and tag in {"dt", "dd"}:
            self._in = tag
            if tag == "dt":
                self._key = ""
            elif self._key is not None:
                self._item[self._key] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in {"dt", "dd"}:
            self._in = None
        if tag == "li" and self._in is None:
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._item is None or self._in is None:
            return
        if self._in == "dt":
            self._key = " ".join(f"{self._key} {data}".split())
        elif self._key is not None:
            self._item[self._key] = " ".join(f"{self._item[self._key]} {data}".split())


def details(html: str) -> dict[str, dict[str, str]]:
    page = _Handout()
    page.feed(html)
    return page.items


def intro(html: str) -> str:
    """The handout's opening sentence(s), under its heading."""
    found = re.search(r'<p class="[^"]*app-handout__intro[^"]*">(.*?)</p>', html, re.DOTALL)
    assert found is not None
    return " ".join(found[1].split())


def handouts(client: FlaskClient, ids: list[str], query: str = M32) -> list[str]:
    """The handout page and its downloaded file for these ids and search."""
    chosen = "&".join(f"ids={i}" for i in ids)
    out = []
    for url in (HANDOUT, DOWNLOAD):
        response = client.get(f"{url}?{chosen}&{query}")
        assert response.status_code == 200, url
        out.append(response.get_data(as_text=True))
    return out


def lostock(**fields: Any) -> dict[str, Any]:
    """Lostock Library (M32 9PL, about 2.9 km from M32 0TH) with these details."""
    return {**LIBRARIES[3], **fields}


def test_each_place_says_who_it_is_for(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    for_some, for_anyone = create_all(
        store,
        [lostock(audience=["carers", "older_people"]), lostock(name="Lostock Hub")],
        taxonomy,
    )
    for html in handouts(client, [for_some.id, for_anyone.id]):
        items = details(html)
        assert items[for_some.id]["Who it is for"] == "Carers, Older people"
        # no audience recorded: the row is left out rather than guessed
        assert "Who it is for" not in items[for_anyone.id]


def test_an_open_on_search_is_said_and_each_place_checked_against_it(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    hours = ["Mon-Fri 9:00-17:00", "Ring for times", "", "Sat 9:00-12:00"]
    weekdays, ring, blank, saturdays = create_all(
        store,
        [lostock(name=f"Lostock {i}", opening_times=text) for i, text in enumerate(hours)],
        taxonomy,
    )
    chosen = [weekdays.id, ring.id, blank.id, saturdays.id]
    for html in handouts(client, chosen, f"{M32}&day=tue&time=10:00"):
        first, _ = intro(html).split(". ", 1)
        assert first.endswith(", from places open on Tuesday at 10:00")
        times = {asset_id: item["Opening times"] for asset_id, item in details(html).items()}
        assert times == {
            weekdays.id: "Mon-Fri 9:00-17:00",
            # The search lists these apart, as hours not known; on paper they say so.
            ring.id: "Ring for times Not checked for Tuesday at 10:00: ask before going",
            blank.id: "Not known: check before going",
            # Hours changed since the search, or an edited link: the handout still says.
            saturdays.id: "Sat 9:00-12:00 Not open on Tuesday at 10:00 by these times",
        }
    for html in handouts(client, chosen):
        assert "from places open" not in intro(html)
        assert details(html)[ring.id]["Opening times"] == "Ring for times"


def test_the_downloaded_file_credits_the_data_as_the_site_does(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    # The file has no site footer, so it carries the attribution statements itself; the
    # licences ask for their exact wording, which the site's footer keeps.
    (place,) = create_all(store, [lostock()], taxonomy)
    _, saved = handouts(client, [place.id])
    site = client.get(HANDOUT, query_string={"ids": place.id, "postcode": "M32 0TH"})
    assert attribution(saved) == attribution(site.get_data(as_text=True))
    assert "Contains data © Sport England" in attribution(saved)


def attribution(html: str) -> str:
    found = re.search(r'<p class="[^"]*app-footer__attribution[^"]*">(.*?)</p>', html, re.DOTALL)
    assert found is not None
    return " ".join(found[1].split())
