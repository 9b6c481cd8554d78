"""The /licences page gives each shipped dataset's licence and the attribution it asks for.

The statements are the ones data/README.md records for each file (from the sources' own
licence notes); a page that drops one no longer credits that data where it is shown.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app

OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"

# Dataset heading -> the attribution statements that must be shown with it.
STATEMENTS = {
    "Area boundaries": [
        "Contains OS data © Crown copyright and database right 2016.",
        "Contains National Statistics data © Crown copyright and database right 2016.",
    ],
    "Postcodes": [
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
        "Contains OS data © Crown copyright and database right 2025.",
        "Contains Royal Mail data © Royal Mail copyright and database right 2025.",
        "Contains National Statistics data © Crown copyright and database right 2025.",
    ],
    "Deprivation": [
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        "Contains National Statistics data © Crown copyright and database right.",
        "Contains data from mySociety's composite UK IMD",
    ],
    "Population": [
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
        "Contains National Statistics data © Crown copyright and database right.",
    ],
    "Trafford community assets": [
        "Contains public sector information licensed under the Open Government Licence v3.0"
        " (Trafford Data Lab / Trafford Council).",
    ],
    "Parks, green spaces and places of worship": [
        "Contains OS data © Crown copyright and database right.",
        "Contains OS data © Crown copyright and database right 2018.",
    ],
    "Sports facilities": ["Contains data © Sport England."],
    "Allotments": ["© OpenStreetMap contributors."],
    "Children's centres": ["Contains Department for Education data, OGL v3.0."],
}


def _rows(page: str) -> dict[str, str]:
    """Each summary-list row of the attribution list: key text -> value text and links."""
    rows = re.findall(
        r'<dt class="govuk-summary-list__key">(.*?)</dt>\s*'
        r'<dd class="govuk-summary-list__value">(.*?)</dd>',
        page,
        flags=re.S,
    )

    def text(fragment: str) -> str:
        # Keep link targets in the text so a row's licence link can be checked with it.
        fragment = re.sub(r'<a [^>]*href="([^"]*)"[^>]*>', r" [\1] ", fragment)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())

    return {text(key): text(value) for key, value in rows}


@pytest.fixture
def page(client: FlaskClient) -> str:
    response = client.get("/licences")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("dataset", sorted(STATEMENTS))
def test_each_dataset_has_its_attribution_statements(page: str, dataset: str) -> None:
    rows = _rows(page)
    assert dataset in rows, sorted(rows)
    for statement in STATEMENTS[dataset]:
        assert statement in rows[dataset], (dataset, statement)


def test_each_licence_is_linked_where_its_data_is_credited(page: str) -> None:
    rows = _rows(page)
    for dataset in STATEMENTS:
        if dataset != "Allotments":
            assert f"[{OGL}]" in rows[dataset], dataset
    # Open Database Licence terms (share-alike) and the copyright page OSM asks to link to.
    assert f"[{ODBL}]" in rows["Allotments"]
    assert f"[{OSM_COPYRIGHT}]" in rows["Allotments"]
    # mySociety's scores are CC BY 4.0, which asks for a link to the licence.
    assert f"[{CC_BY}]" in rows["Deprivation"]


def test_the_background_map_credit_is_the_configured_one(
    settings: Settings, store: Store, page: str
) -> None:
    # The test settings draw no tiles, so no tile provider is credited...
    assert "Background map" not in _rows(page)
    # ...and with tiles the provider's own attribution is shown, escaped.
    tiled = replace(
        settings,
        tile_url="https://tiles.example.org/{z}/{x}/{y}.png",
        tile_attribution="© Example <Tiles> & OpenStreetMap contributors",
    )
    app: Flask = create_app(tiled, store=store)
    body = app.test_client().get("/licences").get_data(as_text=True)
    assert "© Example &lt;Tiles&gt; &amp; OpenStreetMap contributors" in body
    assert _rows(body)["Background map"].startswith(
        "Map tiles: © Example <Tiles> & OpenStreetMap contributors"
    )
