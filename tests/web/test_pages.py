"""Public pages through the Flask test client: content, escaping, status codes, headers."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import content_security_policy, create_app
from tests.maps.trafford import (
    HOSTILE_NAME,
    JINJA_NAME,
    LIBRARIES,
    SCRIPT_NAME,
    TRAFFORD,
    create_all,
    hostile,
)

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right; Contains National Statistics data"
    " © Crown copyright and database right; Contains Royal Mail data © Royal Mail copyright and"
    " database right; © OpenStreetMap contributors; Contains data © Sport England"
)


class _Tables(HTMLParser):
    """Collects each table's caption and its body rows as lists of cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.captions: list[str] = []
        self.rows: list[list[str]] = []
        self._in: str | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in {"th", "td"} and self._in_body:
            self.rows[-1].append("")
            self._in = "cell"
        elif tag == "caption":
            self.captions.append("")
            self._in = "caption"

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag in {"th", "td", "caption"}:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "cell":
            self.rows[-1][-1] += data
        elif self._in == "caption":
            self.captions[-1] += data


def tables(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    parser.rows = [[" ".join(cell.split()) for cell in row] for row in parser.rows]
    parser.captions = [" ".join(c.split()) for c in parser.captions]
    return parser


def test_home_lists_published_assets(client: FlaskClient, store: Store, taxonomy: Taxonomy) -> None:
    create_all(store, TRAFFORD, taxonomy)
    create_all(store, [{**LIBRARIES[0], "name": "Awaiting review", "status": "pending"}], taxonomy)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = tables(html)
    assert found.captions == [f"{len(TRAFFORD)} published assets"]
    assert len(found.rows) == len(TRAFFORD)
    assert ["Altrincham Library", "Library", "2 Pott Street, Altrincham", "WA14 1AH"] in found.rows
    assert ["Davyhulme Park", "Park or green space", "", ""] in found.rows
    assert "Awaiting review" not in html
    # Rows are in name order and link to each asset's page.
    names = [row[0] for row in found.rows]
    assert names == sorted(names, key=str.casefold)
    ids = re.findall(r'href="/assets/(a[0-9a-f]+)"', html)
    assert len(ids) == len(TRAFFORD)


def test_home_embeds_the_map(client: FlaskClient, store: Store, taxonomy: Taxonomy) -> None:
    create_all(store, TRAFFORD, taxonomy)
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/static/vendor/leaflet/leaflet.js"' in html
    assert html.count("L.featureGroup(") == 4
    assert html.count('"type":"Feature"') == len(TRAFFORD)
    assert 'class="am-legend"' in html
    assert "Library (5)" in html
    # Popups link to the same pages as the table.
    assert html.count('"url":"/assets/a') == len(TRAFFORD)


def test_home_with_no_assets(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "0 published assets" in html
    assert "<table" not in html
    assert "L.map(" in html


def test_one_asset_is_singular(client: FlaskClient, store: Store, taxonomy: Taxonomy) -> None:
    create_all(store, LIBRARIES[:1], taxonomy)
    assert tables(client.get("/").get_data(as_text=True)).captions == ["1 published asset"]


def test_detail_page_shows_public_fields(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    (centre,) = create_all(store, TRAFFORD[-1:], taxonomy)
    response = client.get(f"/assets/{centre.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Old Trafford</h1>' in html
    for text in (
        "Community centre",
        "St John&#39;s Centre, St John&#39;s Road, Old Trafford",
        "M16 7GX",
        "0161 872 7795",
        'href="mailto:info@stjohnscentre.org"',
        'href="https://www.stjohnscentre.org/"',
        "Monday to Friday, 9.30am-4pm",
    ):
        assert text in html
    assert html.count('"type":"Feature"') == 1


def test_detail_page_hides_unpublished_assets(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    (pending,) = create_all(store, [{**LIBRARIES[0], "status": "pending"}], taxonomy)
    (archived,) = create_all(store, [{**LIBRARIES[1], "status": "archived"}], taxonomy)
    for asset in (pending, archived):
        response = client.get(f"/assets/{asset.id}")
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Page not found" in html
        assert asset.name not in html
    # Same answer as for an id that never existed, so status is not revealed.
    unknown = client.get("/assets/a000000000000")
    assert unknown.status_code == 404
    assert "There is no published asset" in unknown.get_data(as_text=True)


def test_unknown_page_is_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in html
    assert "Error 404" in html


def test_error_message_is_escaped(client: FlaskClient) -> None:
    response = client.get("/assets/%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in html


def test_healthz(client: FlaskClient, store: Store, taxonomy: Taxonomy) -> None:
    create_all(store, TRAFFORD, taxonomy)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "published_assets": len(TRAFFORD)}


def test_licences_page(client: FlaskClient, store: Store, taxonomy: Taxonomy) -> None:
    create_all(
        store,
        [{**r, "source": "trafford-libraries", "licence": "OGL v3"} for r in LIBRARIES],
        taxonomy,
    )
    html = client.get("/licences").get_data(as_text=True)
    assert "Data sources and licences" in html
    assert "https://www.openstreetmap.org/copyright" in html
    assert ["trafford-libraries", "OGL v3", "5"] in tables(html).rows


@pytest.mark.parametrize("path", ["/", "/licences", "/accessibility", "/no/such/page"])
def test_layout_on_every_page(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    assert '<a href="#main-content" class="govuk-skip-link">Skip to main content</a>' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html
    assert '<span class="app-header__service-name">Assetmap</span>' in html
    assert ATTRIBUTION in html
    assert '<a class="govuk-footer__link" href="/licences">' in html
    assert '<a class="govuk-footer__link" href="/accessibility">' in html
    assert '<html lang="en-GB"' in html


@pytest.mark.parametrize("name", [HOSTILE_NAME, SCRIPT_NAME, JINJA_NAME])
def test_resident_text_is_escaped(
    client: FlaskClient, store: Store, taxonomy: Taxonomy, name: str
) -> None:
    (asset,) = create_all(
        store, [hostile(name, address=name, description=name, opening_times=name)], taxonomy
    )
    for path in ("/", f"/assets/{asset.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<img src=x" not in html
        assert "<script>alert" not in html
        assert f"PID={os.getpid()}" not in html
        # What a second template pass would print for JINJA_NAME: "49 <this process id>".
        assert f"49 {os.getpid()}" not in html
        # Shown as text: the exact name, HTML-escaped by Jinja.
        assert str(escape(name)) in html


def test_security_headers_on_every_response(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, LIBRARIES, taxonomy)
    for path in ("/", "/healthz", "/licences", "/no/such/page", "/static/images/favicon.svg"):
        with client.get(path) as response:
            headers = response.headers
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
            csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'none'"
        assert directives["frame-ancestors"] == "'self'"
        assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", directives["script-src"]), csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp


def test_inline_scripts_carry_this_responses_nonce(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    create_all(store, LIBRARIES, taxonomy)
    first = client.get("/")
    second = client.get("/")
    nonce = re.search(r"'nonce-([\w-]+)'", first.headers["Content-Security-Policy"])
    assert nonce is not None
    html = first.get_data(as_text=True)
    tags = re.findall(r"<(?:script|style)\b[^>]*>", html)
    assert tags
    assert all(f'nonce="{nonce[1]}"' in tag for tag in tags)
    assert nonce[1] not in second.headers["Content-Security-Policy"]


def test_policy_allows_tiles_and_cdn_when_configured(settings: Settings) -> None:
    from dataclasses import replace

    osm = replace(settings, tile_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    osm_policy = content_security_policy(osm, "n")
    # data: for the blank GIF Leaflet puts in place of the tiles it drops; nothing else differs.
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in osm_policy
    assert osm_policy.replace(" data: https://tile.openstreetmap.org", "") == (
        content_security_policy(settings, "n")
    )
    sub = replace(settings, tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org;" in content_security_policy(sub, "n")
    assert "img-src 'self';" in content_security_policy(settings, "n")
    cdn = content_security_policy(replace(settings, use_cdn=True), "n")
    assert "script-src 'self' 'nonce-n' https://cdn.jsdelivr.net" in cdn


def test_cdn_setting_switches_map_urls(
    settings: Settings, store: Store, taxonomy: Taxonomy
) -> None:
    from dataclasses import replace

    create_all(store, LIBRARIES, taxonomy)
    app: Flask = create_app(replace(settings, use_cdn=True), store=store)
    html = app.test_client().get("/").get_data(as_text=True)
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in html
    assert "/static/vendor/leaflet/" not in html


def statement(settings: Settings, store: Store, **given: str) -> str:
    app = create_app(replace(settings, **given), store=store)
    response = app.test_client().get("/accessibility")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_accessibility_statement_names_who_runs_it_and_how_to_report(
    settings: Settings, store: Store
) -> None:
    html = statement(
        settings,
        store,
        organisation="Trafford Council",
        accessibility_contact="accessibility@trafford.gov.uk",
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Accessibility statement for Assetmap" in text
    assert "The service is run by Trafford Council." in text
    assert '<a class="govuk-link" href="mailto:accessibility@trafford.gov.uk">' in html
    # Map labels became hoverable as well as dismissible (WCAG 1.4.13), the one known failure.
    assert "fully compliant" in text and "partially compliant" not in text
    assert "disappears if you move the pointer onto the label" not in text
    assert "has not been given a contact address" not in text


@pytest.mark.parametrize(
    ("contact", "link"),
    [
        ("https://www.trafford.gov.uk/accessibility", "https://www.trafford.gov.uk/accessibility"),
        ("0161 912 2000", None),
        ("javascript:alert(1)", None),
        ("not@an email", None),
    ],
)
def test_accessibility_contact_links_only_email_and_web_addresses(
    settings: Settings, store: Store, contact: str, link: str | None
) -> None:
    html = statement(settings, store, accessibility_contact=contact)
    assert str(escape(contact)) in html
    if link is None:
        assert f'href="{escape(contact)}"' not in html
        assert "mailto:" not in html
    else:
        assert f'<a class="govuk-link" href="{link}">' in html


def test_accessibility_statement_without_settings_says_what_is_missing(
    settings: Settings, store: Store
) -> None:
    html = statement(settings, store)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "run by the organisation that runs it." in text
    assert "has not been given a contact address for accessibility problems" in text


def test_accessibility_statement_escapes_its_settings(settings: Settings, store: Store) -> None:
    html = statement(settings, store, organisation=HOSTILE_NAME, accessibility_contact=HOSTILE_NAME)
    assert HOSTILE_NAME not in html
    assert str(escape(HOSTILE_NAME)) in html


def test_accessibility_settings_come_from_the_environment() -> None:
    env = {
        "ASSETMAP_ORGANISATION": " Trafford Council ",
        "ASSETMAP_ACCESSIBILITY_CONTACT": "accessibility@trafford.gov.uk",
    }
    settings = Settings.from_env(env)
    assert settings.organisation == "Trafford Council"
    assert settings.accessibility_contact == "accessibility@trafford.gov.uk"


def test_a_page_asked_with_the_wrong_method_says_which_it_has(client: FlaskClient) -> None:
    response = client.post("/licences")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    ["/assets/a%00b", "/assets/a%00b/history", "/submissions/AM-%00", "/api/v1/assets/a%00b"],
)
def test_a_path_holding_a_nul_is_not_found_on_either_store(client: FlaskClient, path: str) -> None:
    # PostgreSQL refuses a NUL in any text it is sent; the lookup must not get that far.
    response = client.get(path)
    assert response.status_code == 404


def test_map_credits_link_to_the_licences_page_under_the_apps_prefix(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    # Mounted under /assetmap (behind a proxy), /licences is another site's page.
    (asset,) = create_all(store, LIBRARIES[:1], taxonomy)
    prefix = {"SCRIPT_NAME": "/assetmap"}
    for path in ("/", f"/assets/{asset.id}", "/nearby?postcode=M32+0TH"):
        html = client.get(path, environ_overrides=prefix).get_data(as_text=True)
        assert "/assetmap/licences" in html, path
        assert '\\"/licences\\"' not in html and 'href="/licences"' not in html, path
