"""JSON responses written by orjson say what the standard provider said."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import cast

import pytest
from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider
from flask.testing import FlaskClient

from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from assetmap.web.json_provider import OrjsonProvider
from tests.analysis.trafford import load_trafford


@dataclass
class _Point:
    lon: float
    lat: float


@pytest.fixture
def bare() -> Flask:
    """A Flask app with the provider as create_app sets it up, and no store."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    return app


def _both(app: Flask, value: object) -> tuple[bytes, bytes]:
    """The body each provider writes for ``value``, with the app's settings."""
    standard = DefaultJSONProvider(app)
    standard.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    with app.app_context():
        # Typed as Werkzeug's sans-IO response; Flask's, with get_data, is what they return.
        fast = cast(Response, app.json.response(value)).get_data()
        slow = cast(Response, standard.response(value)).get_data()
    return fast, slow


def test_keys_keep_their_order(bare: Flask) -> None:
    fast, slow = _both(bare, {"results": [{"z": 1, "a": 2.5}], "total": 1})
    assert fast == b'{"results":[{"z":1,"a":2.5}],"total":1}\n'
    assert json.loads(fast) == json.loads(slow)


def test_values_orjson_hands_back_are_written_as_flask_writes_them(bare: Flask) -> None:
    value = {"day": date(2026, 11, 23), "point": _Point(-2.3, 53.4), "name": "Café Zoë"}
    fast, slow = _both(bare, value)
    assert json.loads(fast) == json.loads(slow)
    assert json.loads(fast)["day"] == "Mon, 23 Nov 2026 00:00:00 GMT"
    # UTF-8 instead of \\u escapes: the same text once parsed.
    assert "Café Zoë".encode() in fast
    assert b"\\u00e9" in slow


def test_not_a_number_becomes_null_not_invalid_json(bare: Flask) -> None:
    fast, slow = _both(bare, {"x": math.nan})
    assert json.loads(fast) == {"x": None}
    assert b"NaN" in slow


def test_integers_past_64_bits_fall_back_to_the_standard_library(bare: Flask) -> None:
    fast, slow = _both(bare, {"big": 2**70})
    assert fast == slow
    assert json.loads(fast) == {"big": 2**70}


def test_debug_output_stays_indented(bare: Flask) -> None:
    bare.debug = True
    with bare.app_context():
        body = jsonify({"a": [1]}).get_data(as_text=True)
    assert body == '{\n  "a": [\n    1\n  ]\n}\n'


def test_a_real_nearby_answer_is_what_the_standard_provider_wrote(
    client: FlaskClient, app: Flask, settings: Settings, store: Store
) -> None:
    assert isinstance(app.json, OrjsonProvider)
    load_trafford(store)
    # The same app as before this provider: Flask's standard one, keys in documented order.
    before = create_app(settings, store=store)
    before.json = DefaultJSONProvider(before)
    before.json.sort_keys = False
    url = "/api/v1/assets/nearby?postcode=M32%200TH&radius_m=3000"
    response, standard = client.get(url), before.test_client().get(url)
    assert response.status_code == standard.status_code == 200
    assert response.mimetype == "application/json"
    answer = json.loads(response.data, object_pairs_hook=list)
    # The same values, every object's keys in the same order.
    assert answer == json.loads(standard.data, object_pairs_hook=list)
    results = dict(answer)["results"]
    assert len(results) == 50
    assert [key for key, _ in results[0]][:5] == [
        "id",
        "name",
        "category",
        "category_label",
        "distance_m",
    ]


def test_every_answer_is_labelled_utf8_whichever_writer_wrote_it(bare: Flask) -> None:
    # The text is UTF-8, not \\u escapes: unlabelled, Windows PowerShell 5.1 read it as
    # Latin-1 ("CafÃ©"). The standard library's fallback and debug output say so too.
    with bare.app_context():
        fast = jsonify({"name": "Café"})
        big = jsonify({"big": 2**70})
    bare.debug = True
    with bare.app_context():
        indented = jsonify({"name": "Café"})
    for response in (fast, big, indented):
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.mimetype == "application/json"
    assert "Café".encode() in fast.data
