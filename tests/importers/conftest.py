"""Fixtures for importer tests: the shipped postcode directory."""

from __future__ import annotations

import pytest

from assetmap.gazetteer.postcodes import PostcodeIndex, load_default_index


@pytest.fixture(scope="session")
def postcodes() -> PostcodeIndex:
    return load_default_index()
