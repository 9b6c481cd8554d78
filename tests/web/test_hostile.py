"""Hostile input on the server side: malformed JSON, and generated submissions rendered by
the app itself (the Chromium run is tests/browser/test_hostile_render.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store
from tests.web.hostile_input import PROFILE, SUBMISSIONS, Sender, submissions

_H1 = re.compile(r'<h1 class="govuk-heading-l">(.*?)</h1>', re.S)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, without rate limits: one test client sends everything."""
    return replace(settings, submissions_per_client_per_hour=0, submissions_per_email_per_day=0)


# -- malformed JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'{"name": "x", "lon": NaN, "lat": 53.4}', None, 400, "NaN is not allowed"),
        (b'{"name": "x", "lon": Infinity, "lat": 53.4}', None, 400, "Infinity is not allowed"),
        (b'{"name": "x", "lon": -Infinity, "lat": 53.4}', None, 400, "-Infinity is not allowed"),
        (b'{"name": "x", "lon": 1e400, "lat": 53.4}', None, 400, "the number '1e400' is too large"),
        (b'{"name": "x", "lon": ' + b"9" * 5000 + b', "lat": 1}', None, 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, None, 400, "nested too deeply"),
        (b'{"a":' * 11 + b"1" + b"}" * 11, None, 400, "nested too deeply"),
        (b'{"name": {"name": {"name": {}}}}', None, 400, "name must be a string"),
        (b"[]", None, 400, "the body must be a JSON object, not an array"),
        (b'"name"', None, 400, "the body must be a JSON object, not a string"),
        (b"null", None, 400, "the body must be a JSON object, not null"),
        (b"42", None, 400, "the body must be a JSON object, not a number"),
        (b"true", None, 400, "the body must be a JSON object, not a boolean"),
        (b"", None, 400, "the body is empty"),
        (b"{", None, 400, "the body is not valid JSON"),
        (b"\xff\xfe\xfa", None, 400, "the body is not valid JSON"),
        (b'{"name": "a", "name": "b"}', None, 400, "the key 'name' appears more than once"),
        (b'{"name": "x"}', "text/plain", 415, "Send the body as JSON"),
        (b"x" * (2 * 1024 * 1024 + 1), None, 413, "larger than 2 MiB"),
    ],
)
def test_hostile_json_is_a_4xx_with_a_message(
    client: FlaskClient,
    store: Store,
    body: bytes,
    content_type: str | None,
    status: int,
    message: str,
) -> None:
    response = client.post(SUBMISSIONS, data=body, content_type=content_type or "application/json")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert set(error) == {"field", "message"}
    assert message in error["message"]
    assert store.count_submissions() == 0 and store.count_assets() == 0


def test_generated_submissions_are_shown_as_text_by_the_app(
    client: FlaskClient, store: Store, taxonomy: Taxonomy
) -> None:
    sender = Sender(client)

    @hsettings(PROFILE, max_examples=150)
    @given(sub=submissions(taxonomy.ids), via=st.sampled_from(["api", "form"]))
    def run(sub: dict[str, Any], via: str) -> None:
        before = len(sender.refs)
        sender.send(sub, via)
        if len(sender.refs) == before:  # refused with a 400, as it should have been
            return
        ref = sender.refs[-1]
        store.approve(ref, moderator="user:mo", expected_version=1)
        asset = store.get_asset(store.get_submission(ref).asset_id)
        page = client.get(f"/assets/{asset.id}")
        assert page.status_code == 200
        (heading,) = _H1.findall(page.get_data(as_text=True))
        assert unescape(heading) == asset.name
        assert client.get(f"/api/v1/assets/{asset.id}").get_json()["name"] == asset.name

    run()
    assert not [s for s in sender.statuses if s >= 500], sender.statuses
    home = client.get("/")
    assert home.status_code == 200
    assert "<script>window.__pwned" not in home.get_data(as_text=True)
