"""Helpers for tests of the resident pages: real form tokens, error summaries, submissions."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# M32 0TH's centroid in the shipped directory (data/postcodes: "M32 0TH,53.45901,-2.28748").
M32_0TH = (-2.28748, 53.45901)

# A complete, valid new place (a Tuesday walking group near Lostock, Stretford).
GOOD: dict[str, Any] = {
    "name": "Lostock Tuesday Walkers",
    "category": "activity_group",
    "description": "A gentle hour's walk round Turn Moss, then tea.",
    "postcode": "M32 0TH",
    "address": "Meet at the gates, Lostock Park",
    "opening_times": "Tuesdays 10am-11am",
    "cost": "free",
    "currencies": [],
    "accessibility": ["step_free", "assistance_dogs"],
    "audience": ["older_people", "carers"],
    "provider_type": "voluntary_community",
    "phone": "0161 912 5920",
    "email": "walkers@example.org",
    "website": "https://example.org/walkers",
    "submitter_name": "Rita Resident",
    "submitter_email": "rita@example.org",
}

_TOKEN = re.compile(r'name="(csrf_token|form_token)" value="([^"]*)"')
_SUMMARY = re.compile(
    r'<div class="govuk-error-summary".*?'
    r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>',
    re.S,
)
_LINK = re.compile(r'<a href="#([^"]+)">([^<]*)</a>')
_REF = re.compile(r'id="reference">(AM-[0-9A-Z]{4}-[0-9A-Z]{4})<')


def tokens(html: str) -> dict[str, str]:
    """The CSRF and form tokens of the first form on a page."""
    found: dict[str, str] = {}
    for name, value in _TOKEN.findall(html):
        found.setdefault(name, unescape(value))
    assert "csrf_token" in found, "the page has no CSRF token"
    return found


def form_tokens(client: FlaskClient, path: str = "/submit") -> dict[str, str]:
    """Tokens for this client's session, read from the form at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, path
    return tokens(response.get_data(as_text=True))


def error_summary(html: str) -> list[tuple[str, str]]:
    """(field id, message) for each link in the error summary, in order."""
    found = _SUMMARY.search(html)
    if found is None:
        return []
    return [(href, unescape(text)) for href, text in _LINK.findall(found.group(1))]


def reference(html: str) -> str:
    found = _REF.search(html)
    assert found, "no reference number on the page"
    return found.group(1)


def check(client: FlaskClient, fields: dict[str, Any], **extra: str) -> TestResponse:
    """Post the new-place form (Continue): the check page, or the form with errors."""
    return client.post("/submit", data={**form_tokens(client), **fields, **extra})


def send(
    client: FlaskClient, fields: dict[str, Any], *, same_as: str = "", **extra: str
) -> TestResponse:
    """Continue, then Send from the check page with its tokens, as a browser would."""
    page = check(client, fields, **extra)
    assert page.status_code == 200, error_summary(page.get_data(as_text=True))
    data = {**tokens(page.get_data(as_text=True)), **fields, "action": "send", **extra}
    if same_as:
        data["same_as"] = same_as
    return client.post("/submit", data=data)


def send_ok(client: FlaskClient, fields: dict[str, Any], **kwargs: Any) -> str:
    """Send a new place and follow to the confirmation; return its reference."""
    response = send(client, fields, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return reference(page.get_data(as_text=True))


class Inputs(HTMLParser):
    """Every form control on a page: id -> attributes, and textarea contents by name."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.textareas: dict[str, str] = {}
        self.ids: set[str] = set()
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag in {"input", "textarea", "select"} and attributes.get("id"):
            self.by_id[str(attributes["id"])] = attributes
        if tag == "textarea":
            self._textarea = str(attributes.get("name"))
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.textareas[self._textarea] += data


def inputs(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


def checked(html: str, name: str) -> list[str]:
    """Values of the checked checkboxes or radios called ``name``."""
    return [
        str(a["value"])
        for a in inputs(html).by_id.values()
        if a.get("name") == name and "checked" in a
    ]
