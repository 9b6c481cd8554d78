"""Fixtures for the import and export services: the shipped postcode directory and real rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetmap.gazetteer.postcodes import PostcodeIndex, load_default_index
from tests.services.helpers import BAD_ROWS, UNKNOWN_POSTCODE, real_site_rows, write_rows


@pytest.fixture(scope="session")
def postcodes() -> PostcodeIndex:
    return load_default_index()


@pytest.fixture
def hundred_csv(tmp_path: Path) -> Path:
    """100 real Trafford sites with exactly 3 bad rows (see helpers.BAD_ROWS)."""
    assert sorted(BAD_ROWS) == [12, 40, 77]
    rows = real_site_rows(100)
    # No coordinates and a postcode that does not exist: the row cannot be placed.
    rows[12 - 1].update(postcode=UNKNOWN_POSTCODE, lat="", lon="")
    rows[40 - 1]["lat"] = "NaN"
    rows[77 - 1]["name"] = ""
    return write_rows(tmp_path / "trafford_sites.csv", rows)
