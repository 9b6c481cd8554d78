"""data/README.md names every shipped data file with its source, version, licence and attribution.

The licences of the shipped data (OGL v3.0, CC BY 4.0, ODbL) ask for these statements wherever
the data is passed on, and a clone of the repository passes every file on.
"""

from __future__ import annotations

import re

import pytest

from assetmap.settings import REPO_ROOT

DATA = REPO_ROOT / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")
# Assetmap's own settings, not data (the README says so).
CONFIG_SUFFIXES = {".toml"}


def _squash(text: str) -> str:
    return " ".join(text.split())


def _section(path: str) -> str:
    """The README section whose heading names ``path`` (or its folder), squashed."""
    for heading, body in re.findall(r"^### (.+?)\n(.*?)(?=^##)", README, flags=re.S | re.M):
        if path in heading:
            return _squash(body)
    raise AssertionError(f"no section for {path}")


def test_every_data_file_is_documented() -> None:
    files = [
        p.relative_to(DATA).as_posix()
        for p in sorted(DATA.rglob("*"))
        if p.is_file() and p.name != "README.md" and p.suffix not in CONFIG_SUFFIXES
    ]
    assert len(files) >= 20
    assert [f for f in files if f.split("/")[-1] not in README] == []


@pytest.mark.parametrize(
    ("section", "statements"),
    [
        (
            "boundaries/",
            [
                "Contains OS data © Crown copyright and database right 2016.",
                "Contains National Statistics data © Crown copyright and database right 2016.",
                # The source's own licence note, quoted.
                '"Contains Ordnance Survey, Office of National Statistics … data © Crown'
                " copyright and database right [2016]. Data licensed under the terms of the"
                " Open Government Licence v3. Ordnance Survey data covered by OS OpenData"
                ' Licence."',
            ],
        ),
        (
            "postcodes/postcodes_study_las_nspl2025.csv.gz",
            [
                "Version: NSPL May 2025",
                "Source: Office for National Statistics licensed under the Open Government"
                " Licence v.3.0.",
                "Contains Royal Mail data © Royal Mail copyright and database right 2025.",
                '"OGL" (Code-Point Open derived',
            ],
        ),
        (
            "imd2019/imd2019_lsoa11_england_combined.csv.gz",
            [
                "Version: English Indices of Deprivation 2019",
                "Contains public sector information licensed under the Open Government Licence"
                " v3.0.",
                "Contains data from mySociety's composite UK IMD (CC BY 4.0).",
                "<https://creativecommons.org/licenses/by/4.0/>",
            ],
        ),
        (
            "population/",
            [
                "Versions: mid-2019, mid-2015 and mid-2024",
                "Source: Office for National Statistics licensed under the Open Government"
                " Licence v.3.0. Contains National Statistics data © Crown copyright and"
                " database right.",
            ],
        ),
        (
            "jsaa/lsoa21_to_lsoa11_trafford.csv",
            ["Contains National Statistics data © Crown copyright and database right."],
        ),
    ],
)
def test_each_section_states_version_licence_and_attribution(
    section: str, statements: list[str]
) -> None:
    text = _section(section)
    assert [s for s in statements if s not in text] == []


def test_the_project_readme_credits_every_licence_the_data_is_under() -> None:
    project = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = _squash(project.split("## Data and licences", 1)[1].split("\n## ", 1)[0])
    statements = [
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
        "Contains OS data © Crown copyright and database right.",
        "Contains National Statistics data © Crown copyright and database right.",
        "Contains Royal Mail data © Royal Mail copyright and database right",
        "Contains data © Sport England.",
        "Contains data from mySociety's composite UK IMD (CC BY 4.0).",
        "© OpenStreetMap contributors",
        # Each licence is linked, as OGL, CC BY and ODbL ask.
        "<https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/>",
        "<https://creativecommons.org/licenses/by/4.0/>",
        "<https://opendatacommons.org/licenses/odbl/1-0/>",
    ]
    assert [s for s in statements if s not in section] == []


@pytest.mark.parametrize("config", ["trafford.toml", "catalogue.toml"])
def test_assessment_configs_carry_the_statements_their_inputs_need(config: str) -> None:
    # The configs' licence strings go into every published assessment's provenance and
    # sources list: they must make the statements the README records for each input.
    import tomllib

    inputs = tomllib.loads((DATA / "jsaa" / config).read_text(encoding="utf-8"))
    boundaries = inputs["areas"]
    assert (
        "contains National Statistics data © Crown copyright and database right 2016"
        in (boundaries["licence"])
    )
    assert "OS data © Crown copyright and database right 2016" in boundaries["licence"]
    postcodes = inputs["postcodes"]
    assert (
        "Royal Mail data © Royal Mail copyright and database right 2025" in (postcodes["licence"])
    )
