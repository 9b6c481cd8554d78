"""The coordinators' nearby page and handout through the Flask client, on SQLite and PostGIS.

Searches run on the real Trafford demo (``assetmap.services.importing.load_demo``) and are
checked against ``search_nearby`` for the same query, so the page shows exactly what the
library finds, in the same order.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from markupsafe import escape

from assetmap.analysis.nearby import PARAMETERS, NearbyResult, parse_nearby_query, search_nearby
from assetmap.analysis.shortlist import MAX_SHORTLIST
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.maps import distance_text
from assetmap.services.importing import load_demo
from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from assetmap.web.nearby import SEARCH_PARAMETERS
from tests.maps.trafford import HOSTILE_NAME, JINJA_NAME, SCRIPT_NAME, create_all, hostile

NEARBY = "/nearby"
HANDOUT = "/nearby/handout"
DOWNLOAD = "/nearby/handout/download"
M32 = "postcode=M32+0TH&radius=1&unit=mi"


class _Page(HTMLParser):
    """What a test needs from a nearby page or handout: listed ids, ids and links, errors."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {}
        self.handout: list[str] = []
        self.ids: list[str] = []
        self.summary_links: list[str] = []
        self.pagination: list[str] = []
        self.hidden: list[tuple[str, str]] = []
        self.texts: dict[str, str] = {}
        self.described_by: list[str] = []
        self._list: str | None = None
        self._stack: list[str] = []
        self._in_summary = self._in_pagination = False
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        self.described_by.extend(a.get("aria-describedby", "").split())
        if "id" in a:
            self.ids.append(a["id"])
            if a["id"].endswith("-error") or a["id"] == "results-heading":
                self._capture = a["id"]
                self.texts[a["id"]] = ""
        if tag == "ol" and "id" in a:
            self._list = a["id"]
            self.lists[a["id"]] = []
        if tag == "li" and "data-asset-id" in a:
            if self._list is not None:
                self.lists[self._list].append(a["data-asset-id"])
            if "app-handout__item" in classes:
                self.handout.append(a["data-asset-id"])
        if "govuk-error-summary__list" in classes:
            self._in_summary = True
        if tag == "nav" and "govuk-pagination" in classes:
            self._in_pagination = True
        if tag == "a" and self._in_summary:
            self.summary_links.append(a["href"])
        if tag == "a" and self._in_pagination:
            self.pagination.append(a["href"])
        if tag == "input" and a.get("type") == "hidden":
            self.hidden.append((a["name"], a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol":
            self._list = None
        if tag == "ul":
            self._in_summary = False
        if tag == "nav":
            self._in_pagination = False
        if tag in {"p", "h2"}:
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self.texts[self._capture] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.texts = {k: " ".join(v.split()) for k, v in page.texts.items()}
    return page


@pytest.fixture
def demo(store: Store, taxonomy: Taxonomy) -> Store:
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    return store


def expected(store: Store, taxonomy: Taxonomy, params: dict[str, Any]) -> NearbyResult:
    query = parse_nearby_query(params, taxonomy=taxonomy, postcodes=load_default_index())
    return search_nearby(store, query, taxonomy=taxonomy, today=date.today())


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


# (page query string, the same search as API parameters)
SEARCHES = [
    (M32, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"}),
    (
        "postcode=M33&radius=2&unit=km&category=library&category=park&q=",
        {"postcode": "M33", "radius": "2", "unit": "km", "category": ["library", "park"]},
    ),
    (
        "postcode=&lat=53.42&lon=-2.35&radius=5&unit=km&q=park&limit=10&offset=5",
        {
            "lat": "53.42",
            "lon": "-2.35",
            "radius_m": "5000",
            "q": "park",
            "limit": "10",
            "offset": "5",
        },
    ),
    (
        "postcode=M32+0TH&radius=3&unit=mi&day=mon&time=14%3A00",
        {"postcode": "M32 0TH", "radius": "3", "unit": "mi", "open_on": "mon 14:00"},
    ),
    (
        "postcode=M41&radius=&unit=mi&cost=free&audience=everyone",
        {"postcode": "M41", "cost": "free", "audience": "everyone"},
    ),
]


@pytest.mark.parametrize(("page_query", "params"), SEARCHES)
def test_results_list_matches_search_nearby(
    client: FlaskClient,
    demo: Store,
    taxonomy: Taxonomy,
    page_query: str,
    params: dict[str, Any],
) -> None:
    want = expected(demo, taxonomy, params)
    response = client.get(f"{NEARBY}?{page_query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.lists.get("results-list", []) == ids(want.results)
    assert page.lists.get("hours-unknown-list", []) == ids(want.hours_unknown)
    assert want.results or want.hours_unknown, "pick a search that finds something"
    heading = page.texts["results-heading"]
    assert heading.startswith(f"{want.total:,} place")
    for record in want.results + want.hours_unknown:
        # distance in metres and miles, walking minutes labelled as a straight line
        assert distance_text(record) in html
        assert f"{record['walking_minutes']} min walk (straight line at 4.8 km/h)" in html
    if "open_on" in params:
        assert want.hours_unknown_total > 0
        assert "whose opening hours are not known" in html
    else:
        assert "hours-unknown-list" not in page.lists


def test_results_show_the_details_and_stale_tag(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    want = expected(demo, taxonomy, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"})
    html = client.get(f"{NEARBY}?{M32}").get_data(as_text=True)
    stale = [r for r in want.results if r["stale"]]
    assert html.count("Not verified in the last 12 months") == len(stale) > 0
    library = next(r for r in want.results if r["name"] == "Trafford Town Hall Library")
    assert str(escape(library["address"])) in html
    assert f'href="mailto:{library["email"]}"' in html
    assert "31 places within 1 mile of M32 0TH" in html
    # one circle per listed result on the map, with the search point and radius
    assert html.count('"type":"Feature"') == len(want.results)
    assert "am-origin" in html and "am-radius" in html


def test_empty_form_without_javascript_or_errors(client: FlaskClient) -> None:
    response = client.get(NEARBY)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = parse(html)
    assert "govuk-error-summary" not in html
    assert '<form class="app-search" id="search-form" method="get" action="/nearby"' in html
    for control in (
        "postcode",
        "lat",
        "lon",
        "radius",
        "unit",
        "category",
        "q",
        "cost",
        "access",
        "audience",
        "day",
        "time",
        "limit",
    ):
        assert page.ids.count(control) == 1, control
    assert 'id="radius" name="radius" type="text" inputmode="decimal" value="1"' in html
    assert '<option value="mi" selected>miles</option>' in html
    assert response.headers["Cache-Control"] == "no-store"


ERRORS = [
    ("radius=1&unit=mi&postcode=&q=", "postcode"),
    ("postcode=M32+0QQ", "postcode"),
    ("postcode=not+a+postcode", "postcode"),
    ("postcode=M32+0TH&lat=53.4&lon=-2.3", "postcode"),
    ("lat=53.4", "lon"),
    ("lat=NaN&lon=-2.3", "lat"),
    ("lat=95&lon=-2.3", "lat"),
    ("lat=53.4&lon=200", "lon"),
    ("lat=-2.3&lon=53.4", "lat"),
    ("postcode=M32+0TH&radius=40&unit=mi", "radius"),
    ("postcode=M32+0TH&radius=abc&unit=mi", "radius"),
    ("postcode=M32+0TH&radius_m=0", "radius"),
    ("postcode=M32+0TH&radius=1&radius_m=100", "radius"),
    ("postcode=M32+0TH&radius=1&unit=parsec", "unit"),
    ("postcode=M32+0TH&category=library&category=zoo", "category"),
    ("postcode=M32+0TH&cost=cheap", "cost"),
    ("postcode=M32+0TH&access=lift", "access"),
    ("postcode=M32+0TH&audience=cats", "audience"),
    ("postcode=M32+0TH&q=%21%21", "q"),
    ("postcode=M32+0TH&open_on=someday", "day"),
    ("postcode=M32+0TH&day=mon", "time"),
    ("postcode=M32+0TH&time=14%3A00", "day"),
    ("postcode=M32+0TH&day=mon&time=25%3A00", "time"),
    ("postcode=M32+0TH&day=caturday&time=10%3A00", "day"),
    ("postcode=M32+0TH&day=mon&time=10%3A00&open_on=tue+10%3A00", "day"),
    ("postcode=M32+0TH&limit=1000", "limit"),
    ("postcode=M32+0TH&offset=-3", "search-form"),
    ("postcode=M32+0TH&categories=library", "search-form"),
    # bytes that are not UTF-8 (café sent as Latin-1) are an error on their field
    ("postcode=M32+0TH&radius_m=5000&q=caf%E9", "q"),
    ("postcode=M32%E9+0TH", "postcode"),
    ("postcode=M32+0TH&category=libr%E9ry", "category"),
    ("postcode=M32+0TH&radius=1%FF&unit=mi", "radius"),
]


@pytest.mark.parametrize(("query", "control"), ERRORS)
def test_each_error_links_to_its_field(client: FlaskClient, query: str, control: str) -> None:
    response = client.get(f"{NEARBY}?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.summary_links == [f"#{control}"]
    assert page.ids.count(control) == 1, "the link must land on exactly one element"
    message = page.texts[f"{control}-error"].removeprefix("Error: ")
    assert message and message[0].isupper()
    assert f'<li><a href="#{control}">{escape(message)}</a></li>' in html
    if control != "search-form":
        # the control (or its fieldset) announces the message
        assert f"{control}-error" in page.described_by, "the control must announce it"
    assert "<title>Error: " in html
    assert 'id="results-heading"' not in html


def test_every_problem_is_listed_in_the_order_of_the_form(client: FlaskClient) -> None:
    query = "postcode=M32+0QQ&radius=60&unit=mi&q=%3F&day=mon&cost=cheap&limit=0&offset=x"
    response = client.get(f"{NEARBY}?{query}")
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    controls = ["search-form", "postcode", "radius", "q", "cost", "time", "limit"]
    assert page.summary_links == [f"#{c}" for c in controls]
    assert all(f"{c}-error" in page.texts for c in controls)


def test_error_messages_use_the_forms_words(client: FlaskClient, taxonomy: Taxonomy) -> None:
    page = parse(client.get(f"{NEARBY}?lat=53.4").get_data(as_text=True))
    assert page.texts["lon-error"] == (
        "Error: Longitude is missing: give both latitude and longitude, or a postcode"
    )
    page = parse(client.get(f"{NEARBY}?postcode=M32+0TH&category=zoo").get_data(as_text=True))
    assert all(c in page.texts["category-error"] for c in taxonomy.ids)
    # what was typed is kept, so it can be corrected
    html = client.get(f"{NEARBY}?postcode=M32+0QQ&radius=3&unit=km&q=walk").get_data(as_text=True)
    assert 'value="M32 0QQ"' in html and 'value="walk"' in html and 'value="3"' in html
    assert '<option value="km" selected>' in html


@pytest.mark.parametrize(
    ("query", "control", "message"),
    [
        ("lat=-2.3&lon=53.4", "lat", "Longitude 53.4, latitude -2.3 look swapped: as latitude"),
        ("postcode=M32+0TH&lat=53.4&lon=-2.3", "postcode", "Give either a postcode or latitude"),
        # the box is labelled Distance, whichever parameter the link gave it in
        ("postcode=M32+0TH&radius_m=0", "radius", "Distance must be more than 0 and at most"),
        ("postcode=M32+0TH&radius=40&unit=mi", "radius", "Distance must be more than 0 and"),
        ("postcode=M32+0TH&radius=far&unit=km", "radius", "Distance 'far' is not a number"),
        ("postcode=M32+0TH&radius=1&radius=2&unit=km", "radius", "Give distance once, not 2"),
        (
            "postcode=M32+0TH&radius=2",
            "unit",
            "Distance '2' needs a unit: choose miles, kilometres or metres",
        ),
        ("postcode=M32+0TH&radius_m=1600&unit=km", "unit", "Unit goes with radius, not radius_m"),
        ("postcode=M32+0TH&access=lift", "access", "Accessibility 'lift' is not one of:"),
        ("postcode=M32+0TH&limit=0", "limit", "Results per page must be a whole number"),
        ("postcode=M32+0TH&q=" + "x" * 201, "q", "Search words are 201 characters; at most 200"),
        ("postcode=M32+0TH&q=caf%E9", "q", "Search words are not valid UTF-8 text: it holds"),
        ("postcode=M32+0TH&q=%21%21", "q", "Search words '!!' have no letters or digits"),
        # Named in the form's words wherever the name comes (a rewording of the API's message
        # only renamed q and limit at its start)
        ("postcode=M32+0TH&q=a&q=b", "q", "Give search words once, not 2 times"),
        ("postcode=M32+0TH&limit=5&limit=9", "limit", "Give results per page once, not 2 times"),
        # What was typed is shown as typed, even where it looks like a parameter's name
        ("postcode=M32+0TH&category=open_on", "category", "Unknown category 'open_on'; valid"),
    ],
)
def test_parser_messages_name_the_forms_fields(
    client: FlaskClient, query: str, control: str, message: str
) -> None:
    page = parse(client.get(f"{NEARBY}?{query}").get_data(as_text=True))
    assert page.texts[f"{control}-error"].startswith(f"Error: {message}")


def test_random_input_is_never_a_server_error(app: Flask) -> None:
    client = app.test_client()
    names = [
        "postcode",
        "lat",
        "lon",
        "radius",
        "radius_m",
        "unit",
        "category",
        "q",
        "cost",
        "access",
        "audience",
        "open_on",
        "limit",
        "offset",
        "day",
        "time",
        "x",
    ]
    values = st.one_of(
        st.text(max_size=10),
        st.sampled_from(
            [
                "M32 0TH",
                "M33",
                "53.4",
                "-2.3",
                "1e400",
                "nan",
                "1",
                "mi",
                "library",
                "mon",
                "14:00",
                "mon 14:00",
                "",
            ]
        ),
    )

    @hsettings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=st.lists(st.tuples(st.sampled_from(names), values), max_size=6))
    def check(params: list[tuple[str, str]]) -> None:
        assert client.get(NEARBY, query_string=params).status_code in (200, 400)
        ids_param = [("ids", "a1"), *params]
        assert client.get(HANDOUT, query_string=ids_param).status_code in (200, 400)

    check()


@pytest.mark.parametrize("name", [HOSTILE_NAME, SCRIPT_NAME, JINJA_NAME])
def test_resident_text_is_escaped(
    client: FlaskClient, store: Store, taxonomy: Taxonomy, name: str
) -> None:
    (asset,) = create_all(
        store,
        [hostile(name, address=name, description=name, opening_times=name)],
        taxonomy,
    )
    query = "postcode=WA15+9NT&radius=1&unit=mi"
    pages = [
        client.get(f"{NEARBY}?{query}"),
        client.get(f"{HANDOUT}?ids={asset.id}&{query}"),
        client.get(f"{DOWNLOAD}?ids={asset.id}&{query}"),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<img src=x" not in html
        assert "<script>alert" not in html
        assert f"PID={os.getpid()}" not in html
        # What a second template pass would print for JINJA_NAME: "49 <this process id>".
        assert f"49 {os.getpid()}" not in html
        assert str(escape(name)) in html
        assert parse(html).lists.get("results-list", [asset.id]) == [asset.id]


def test_paging_links_keep_the_query(client: FlaskClient, demo: Store, taxonomy: Taxonomy) -> None:
    page_query = "postcode=M32+0TH&radius=2&unit=mi&category=park&category=place_of_worship&limit=5"
    params = {
        "postcode": "M32 0TH",
        "radius": "2",
        "unit": "mi",
        "category": ["park", "place_of_worship"],
        "limit": "5",
    }
    total = expected(demo, taxonomy, params).total
    assert total > 15
    first = parse(client.get(f"{NEARBY}?{page_query}").get_data(as_text=True))
    asked = parse_qs(page_query)
    offsets = []
    for href in first.pagination:
        parts = urlsplit(href)
        assert parts.path == NEARBY
        got = parse_qs(parts.query)
        offsets.append(int(got.pop("offset", ["0"])[0]))
        assert got == asked
    assert offsets[0] == 0 and offsets[-1] == 5  # page 1 ... last page, then "next"
    assert all(offset % 5 == 0 for offset in offsets)
    # the shortlist form carries the whole query too
    assert sorted(first.hidden) == sorted((k, v) for k, vs in asked.items() for v in vs)

    second = client.get(first.pagination[-1])
    page = parse(second.get_data(as_text=True))
    assert page.lists["results-list"] == ids(
        expected(demo, taxonomy, {**params, "offset": "5"}).results
    )
    previous = parse_qs(urlsplit(page.pagination[0]).query)
    assert previous == asked


def counts(store: Store) -> tuple[int, ...]:
    return (
        store.count_assets(status=None),
        store.count_revisions(),
        store.count_submissions(),
        len(store.import_runs(limit=1000)),
        len(store.list_users()),
    )


def test_handout_shows_the_chosen_places_in_order_and_stores_nothing(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    found = expected(demo, taxonomy, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"})
    chosen = [found.results[5]["id"], found.results[0]["id"], found.results[9]["id"]]
    before = counts(demo)
    query = "&".join(f"ids={i}" for i in chosen) + f"&{M32}"
    response = client.get(f"{HANDOUT}?{query}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert parse(html).handout == chosen
    by_id = {r["id"]: r for r in found.results}
    for asset_id in chosen:
        assert distance_text(by_id[asset_id]) in html
    assert "This list was not saved" in html
    assert 'href="/nearby?postcode=M32+0TH&amp;radius=1&amp;unit=mi"' in html  # back link
    # comma-separated ids work as well, and a repeated id is shown once
    again = client.get(f"{HANDOUT}?ids={','.join(chosen)}&ids={chosen[0]}&{M32}")
    assert parse(again.get_data(as_text=True)).handout == chosen

    download = client.get(f"{DOWNLOAD}?{query}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="assetmap-handout-\d{4}-\d\d-\d\d\.html"', disposition
    )
    file_html = download.get_data(as_text=True)
    assert parse(file_html).handout == chosen
    # standalone: Leaflet and the styles are inside; nothing is fetched from anywhere
    assert "<script src" not in file_html and "<link" not in file_html
    assert "L.map(" in file_html and "leaflet-container" in file_html
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", unescape(file_html))
    assert nonce is not None
    assert all(f'nonce="{nonce[1]}"' in tag for tag in re.findall(r"<script[^>]*>", file_html))
    assert counts(demo) == before


def test_handout_leaves_out_unpublished_places(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    found = expected(demo, taxonomy, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"})
    keep, hide = found.results[0], found.results[1]
    demo.set_status(hide["id"], "archived", author="test")
    html = client.get(f"{HANDOUT}?ids={hide['id']}&ids={keep['id']}&ids=nope&{M32}").get_data(
        as_text=True
    )
    assert parse(html).handout == [keep["id"]]
    assert "2 of the places you ticked are no longer listed" in html
    assert str(escape(hide["name"])) not in html


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (M32, "Select at least one place for the handout"),
        (f"ids={'&ids='.join(f'a{i:012x}' for i in range(31))}&{M32}", "Select at most 30"),
        ("ids=a000000000001&postcode=M32+0QQ", "Postcode 'M32 0QQ' is not in"),
        # a malformed postcode is named too, as on the search page
        ("ids=a000000000001&postcode=ZZ", "Postcode 'ZZ' is not a UK postcode"),
        (f"ids=a000000000001&{M32}", "None of the chosen places is listed now: they may"),
        (f"ids=%FF&{M32}", "or the link may be incomplete"),
    ],
)
def test_handout_problems_are_400_with_a_way_back(
    client: FlaskClient, store: Store, query: str, problem: str
) -> None:
    for url in (HANDOUT, DOWNLOAD):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert str(escape(problem)) in html
        assert "Content-Disposition" not in response.headers
        assert 'href="/nearby?' in html


def test_a_page_past_the_last_says_so_and_links_back(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    params = {"postcode": "M32 0TH", "radius": "1", "unit": "mi", "limit": "10"}
    total = expected(demo, taxonomy, params).total
    assert total == 31  # pages 1-4, the last from offset 30
    html = client.get(f"{NEARBY}?{M32}&limit=10&offset=9999").get_data(as_text=True)
    page = parse(html)
    assert page.texts["results-heading"] == "31 places within 1 mile of M32 0TH"
    assert "Nothing matches" not in html
    first = f"{NEARBY}?postcode=M32+0TH&amp;radius=1&amp;unit=mi&amp;limit=10"
    assert (
        f'There are no results on this page. Go to the <a class="govuk-link" href="{first}">'
        f'first page</a> or the <a class="govuk-link" href="{first}&amp;offset=30">last page'
        " (page 4)</a>."
    ) in html
    assert "results-list" not in page.lists and "shortlist-form" not in page.ids
    # "Previous" goes to the last page that has results, which lists them
    previous = page.pagination[0]
    assert parse_qs(urlsplit(previous).query)["offset"] == ["30"]
    last = parse(client.get(previous).get_data(as_text=True))
    assert last.lists["results-list"] == ids(
        expected(demo, taxonomy, {**params, "offset": "30"}).results
    )
    # with one page of results only the first page is offered
    html = client.get(f"{NEARBY}?{M32}&offset=9999").get_data(as_text=True)
    assert (
        f'no results on this page. Go to the <a class="govuk-link" href="{NEARBY}?postcode='
        'M32+0TH&amp;radius=1&amp;unit=mi">first page</a>.</p>'
    ) in html


def test_an_open_on_page_past_the_open_places_says_where_they_are(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    params = {"postcode": "M32 0TH", "open_on": "mon 14:00", "limit": "10", "offset": "10"}
    want = expected(demo, taxonomy, params)
    assert 1 < want.total <= 10 < want.hours_unknown_total  # open ones all on page 1
    query = "postcode=M32+0TH&day=mon&time=14%3A00&limit=10&offset=10"
    html = client.get(f"{NEARBY}?{query}").get_data(as_text=True)
    page = parse(html)
    assert page.texts["results-heading"].startswith(f"{want.total} places open on Monday at 14:00")
    assert "None of the places whose hours are known is open then" not in html
    assert (
        f"The {want.total} places open then are on earlier pages, from the"
        f' <a class="govuk-link" href="{NEARBY}?postcode=M32+0TH&amp;day=mon&amp;time=14%3A00'
        '&amp;limit=10">first page</a>.'
    ) in html
    assert "results-list" not in page.lists
    assert page.lists["hours-unknown-list"] == ids(want.hours_unknown)
    # past both lists: no results on this page at all
    html = client.get(f"{NEARBY}?{query}0").get_data(as_text=True)  # offset=100
    assert "There are no results on this page." in html
    pages = -(-want.hours_unknown_total // 10)
    assert f'&amp;offset={(pages - 1) * 10}">last page (page {pages})</a>' in html


def test_unknown_parameters_are_named_with_the_list_the_page_takes(client: FlaskClient) -> None:
    assert sorted(SEARCH_PARAMETERS) == sorted({*PARAMETERS, "day", "time"})
    response = client.get(f"{NEARBY}?postcode=M32+0TH&foo=1&bar=2")
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert page.summary_links == ["#search-form"]
    assert page.texts["search-form-error"] == (
        "Error: Unknown parameters 'bar', 'foo' in the link; known parameters are: postcode,"
        " lat, lon, radius, unit, radius_m, category, q, cost, access, audience, day, time,"
        " open_on, limit, offset"
    )
    response = client.get(f"{HANDOUT}?ids=a000000000001&{M32}&foo=1")
    assert response.status_code == 400
    assert (
        "Unknown parameter &#39;foo&#39; in the link; known parameters are: ids, postcode, lat,"
        in response.get_data(as_text=True)
    )


TRACKING = "utm_source=newsletter&utm_medium=email&UTM_Campaign=spring&fbclid=IwAR0&gclid=Cj0"


def test_tracking_parameters_of_a_shared_link_are_ignored(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    want = expected(demo, taxonomy, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"})
    response = client.get(f"{NEARBY}?{TRACKING}&{M32}&limit=10")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert page.lists["results-list"] == ids(want.results[:10])
    # nor are they passed on to the next page or the handout
    kept = {"postcode", "radius", "unit", "limit"}
    assert {name for name, _ in page.hidden} == kept
    assert all(set(parse_qs(urlsplit(href).query)) <= kept | {"offset"} for href in page.pagination)
    chosen = want.results[0]["id"]
    for url in (HANDOUT, DOWNLOAD):
        handout = client.get(f"{url}?ids={chosen}&{M32}&{TRACKING}")
        assert handout.status_code == 200
        assert parse(handout.get_data(as_text=True)).handout == [chosen]
    # the API stays strict
    assert client.get(f"/api/v1/assets/nearby?{M32}&utm_source=x").status_code == 400


def test_radius_in_metres_and_with_a_unit_are_named_apart(client: FlaskClient) -> None:
    html = client.get(f"{NEARBY}?postcode=M32+0TH&radius_m=100&radius=1&unit=mi").get_data(
        as_text=True
    )
    assert parse(html).texts["radius-error"] == (
        "Error: Give the distance in metres (radius_m) or a distance and unit (radius and"
        " unit), not both"
    )


@pytest.mark.parametrize(
    ("days", "tag", "note"),
    [
        (365, "Not verified in the last 12 months", "not verified in the last 12 months come"),
        (30, "Not verified in the last month", "not verified in the last month come"),
        (1, "Not verified in the last day", "not verified in the last day come"),
        (60, "Not verified in the last 2 months", "not verified in the last 2 months come"),
        (730, "Not verified in the last 2 years", "not verified in the last 2 years come"),
        (45, "Not verified in the last 45 days", "not verified in the last 45 days come"),
        (0, "Not verified today", "not verified today come"),
    ],
)
def test_stale_tag_and_note_read_well_for_any_period(
    settings: Settings, demo: Store, taxonomy: Taxonomy, days: int, tag: str, note: str
) -> None:
    client = create_app(
        dataclasses.replace(settings, stale_after_days=days), store=demo
    ).test_client()
    today = date.today()
    params = {"postcode": "M32 0TH", "radius": "1", "unit": "mi"}
    query = parse_nearby_query(params, taxonomy=taxonomy, postcodes=load_default_index())
    want = search_nearby(demo, query, taxonomy=taxonomy, today=today, stale_after_days=days)
    stale = [r for r in want.results if r["stale"]]
    html = client.get(f"{NEARBY}?{M32}").get_data(as_text=True)
    assert html.count(f">{tag}</strong>") == len(stale) > 0
    assert f"Listings {note} after verified ones" in html
    handout = client.get(f"{HANDOUT}?ids={stale[0]['id']}&{M32}").get_data(as_text=True)
    assert f">{tag}</strong>" in handout


def test_small_radius_and_distances_are_shown_to_their_precision(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy
) -> None:
    html = client.get(f"{NEARBY}?postcode=M32+0TH&radius_m=0.5").get_data(as_text=True)
    assert parse(html).texts["results-heading"] == "0 places within 0.5 m of M32 0TH"
    html = client.get(f"{NEARBY}?postcode=M32+0TH&radius_m=1234.5678").get_data(as_text=True)
    assert "within 1,234.568 m of M32 0TH" in html
    # From Trafford Town Hall Library's own point, and from about 4 m north of it.
    found = expected(demo, taxonomy, {"postcode": "M32 0TH", "radius": "1", "unit": "mi"})
    library = next(r for r in found.results if r["name"] == "Trafford Town Hall Library")
    at = f"lat={library['lat']}&lon={library['lon']}&radius=100&unit=m"
    html = client.get(f"{NEARBY}?{at}").get_data(as_text=True)
    assert "<strong>0 m (less than 0.01 miles)</strong>" in html
    assert ">less than 1 min walk (straight line at 4.8 km/h)</span>" in html
    # Nowhere on the page, the map's popups included.
    assert "0 min walk" not in html and "0.00 miles" not in html
    handout = client.get(f"{HANDOUT}?ids={library['id']}&{at}").get_data(as_text=True)
    assert "<strong>0 m (less than 0.01 miles)</strong> away · less than 1 min walk" in handout
    near = f"lat={library['lat'] + 0.00004}&lon={library['lon']}&radius=100&unit=m"
    html = client.get(f"{NEARBY}?{near}").get_data(as_text=True)
    assert "<strong>4 m (less than 0.01 miles)</strong>" in html
    assert ">1 min walk (straight line at 4.8 km/h)</span>" in html
    # from 32.9 m the miles are shown as before
    html = client.get(f"{NEARBY}?{M32}").get_data(as_text=True)
    assert "<strong>33 m (0.02 miles)</strong>" in html


class _SearchForm(HTMLParser):
    """The search form's controls as a browser submits them: text boxes, ticked boxes and,
    for each list, its selected option or else its first."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = a.get("id") == "search-form"
        if not self._in_form:
            return
        if tag == "input" and a.get("type") in {"text", "hidden"}:
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.fields.append((a["name"], a["value"]))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a["value"], "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[-1]))
            self._select = None


def submitted_again(html: str) -> str:
    """The query string the page's search form sends when its button is pressed unchanged."""
    form = _SearchForm()
    form.feed(html)
    return urlencode([(name, value) for name, value in form.fields if value])


@pytest.mark.parametrize(
    "query",
    [
        # values spelled otherwise than the form's options, as an edited or older link may
        "postcode=M33&radius=3&unit=mi&audience=Carers",
        "postcode=M32+0TH&day=MON&time=14%3A00",
        "postcode=M32+0TH&open_on=Sat+9%3A30",
        "postcode=M32+0TH&limit=%2B7",
        "postcode=M32+0TH&limit=007",
        "postcode=M32+0TH&cost=FREE&category=LIBRARY,Park",
    ],
)
def test_the_form_shows_the_search_that_ran(
    client: FlaskClient, demo: Store, taxonomy: Taxonomy, query: str
) -> None:
    first = client.get(f"{NEARBY}?{query}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    again = client.get(f"{NEARBY}?{submitted_again(html)}")
    # Pressing Search without changing anything runs the same search, not one that lost a
    # filter (audience back to "Anyone", 7 results per page become 10) or fails (day).
    assert again.status_code == 200, parse(again.get_data(as_text=True)).texts
    before, after = parse(html), parse(again.get_data(as_text=True))
    assert after.texts["results-heading"] == before.texts["results-heading"]
    assert after.lists == before.lists and before.lists


@pytest.mark.parametrize("query", ["postcode=M32+0TH", "postcode=M32+0TH&unit=km"])
def test_the_form_shows_the_default_distance_it_searched(
    client: FlaskClient, demo: Store, query: str
) -> None:
    html = client.get(f"{NEARBY}?{query}").get_data(as_text=True)
    assert parse(html).texts["results-heading"].endswith(" within 1 mile of M32 0TH")
    # the distance box shows that 1 mile, not an empty box (beside "kilometres")
    assert 'id="radius" name="radius" type="text" inputmode="decimal" value="1"' in html
    assert '<option value="mi" selected>miles</option>' in html
    assert '<option value="km" selected>' not in html


def test_readme_states_the_handouts_limit() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Nearby search") : readme.index("## Joint Strategic")]
    stated = re.search(r"Up to (\d+) results ticked on one page make\s+a handout", section)
    assert stated is not None and int(stated[1]) == MAX_SHORTLIST
