"""Map test fixtures: the Trafford JSAA demo run and its site, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetmap.analysis.jsaa import JsaaResult
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.report import write_site
from tests.conftest import skip_or_fail
from tests.maps.jsaa_demo import VENDOR, demo_result


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    if not (VENDOR / "leaflet" / "leaflet.js").is_file():
        skip_or_fail("web/static/vendor is not built (make setup)")
    return VENDOR


@pytest.fixture(scope="session")
def trafford() -> JsaaResult:
    return demo_result()


@pytest.fixture(scope="session")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    trafford: JsaaResult,
    taxonomy: Taxonomy,
    vendor_dir: Path,
) -> Path:
    """The Trafford demo's whole site (report, maps, charts, data), written once."""
    out = tmp_path_factory.mktemp("site")
    write_site(trafford, out, taxonomy=taxonomy, vendor_dir=vendor_dir)
    return out
