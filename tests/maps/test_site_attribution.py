"""Every page of a published JSAA site credits the boundary and statistics data, with licences.

A site is copied to any static host and its pages are shared one by one, so each page's footer
carries the statements and each licence's address (OGL and ODbL ask for one), as text: a
site's pages link only to its own files.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"


def _footer(page: str) -> str:
    footer = page.split('<footer class="govuk-footer">', 1)[1].split("</footer>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", footer)).split())


@pytest.mark.parametrize("name", ["index.html", "report.html", "map-gap.html", "map-need.html"])
def test_every_page_footer_credits_the_data_and_names_its_licences(site: Path, name: str) -> None:
    footer = _footer((site / name).read_text("utf-8"))
    for statement in (
        "Source: Office for National Statistics licensed under the Open Government Licence"
        f" v.3.0 ({OGL}).",
        "Contains OS data © Crown copyright and database right;",
        "Contains National Statistics data © Crown copyright and database right;",
        "Contains Royal Mail data © Royal Mail copyright and database right;",
        f"© OpenStreetMap contributors, Open Database Licence 1.0 ({ODBL}).",
    ):
        assert statement in footer, (name, statement)
