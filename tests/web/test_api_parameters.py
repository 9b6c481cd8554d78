"""Query parameters the API does not know: refused, named in the error, and never echoed whole.

Runs on SQLite and PostGIS; no assets are needed, as the parameters are refused first.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from assetmap.analysis.nearby import MAX_FIELD_CHARS, field_name
from tests.web.test_api import NEARBY, SIMILAR, documented

# A made-up parameter 5,000 characters long: "aaaa…".
LONG_NAME = "a" * 5000


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


@pytest.mark.parametrize(
    ("path", "query", "known"),
    [
        (
            NEARBY,
            "postcode=M32+0TH",
            "postcode, lat, lon, radius_m, radius, unit, category, q, cost, access, audience,"
            " open_on, limit, offset",
        ),
        (SIMILAR, "name=Library&postcode=M32+0TH", "name, postcode, lat, lon"),
    ],
)
def test_an_unknown_parameter_name_comes_back_cut_to_100_characters(
    client: FlaskClient, document: dict[str, Any], path: str, query: str, known: str
) -> None:
    # The nearby search put the whole name in field: 5,000 characters back for 5,000 sent.
    response = client.get(f"{path}?{query}&{LONG_NAME}=1")
    assert response.status_code == 400
    documented(document, path, response)
    error = response.get_json()["error"]
    assert error["field"] == "a" * 100
    assert error["message"].endswith(f"; known parameters are: {known}")
    assert len(response.data) < 1000


def test_field_name_keeps_a_short_name_and_cuts_a_long_one() -> None:
    assert MAX_FIELD_CHARS == 100
    assert field_name("radius_km") == "radius_km"
    assert field_name("é" * 100) == "é" * 100
    assert field_name("b" * 101) == "b" * 100
