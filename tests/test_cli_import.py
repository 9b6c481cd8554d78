"""`assetmap import` as a data officer runs it: a problem with any file of a manifest is one
message (exit status 2, no traceback) given before any of the manifest's files is stored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import geopandas as gpd

from assetmap.settings import REPO_ROOT
from assetmap.store import open_store
from tests.cli_main import run_main

TRAFFORD = REPO_ROOT / "data" / "assets" / "trafford"
LEISURE = TRAFFORD / "council_assets_leisure_centres_trafford_leisure_centres.csv"
LIBRARIES = TRAFFORD / "council_assets_libraries_libraries.geojson"


def _import(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    path: Path,
) -> tuple[int, str, str]:
    return run_main(monkeypatch, capsys, "--db", store_url, "import", str(path), "--no-progress")


def _stored(store_url: str) -> int:
    store = open_store(store_url)
    try:
        return store.count_assets()
    finally:
        store.close()


def _leisure_then(folder: Path, second: str) -> Path:
    """A manifest: the real council leisure centres, then a second source."""
    shutil.copy(LEISURE, folder / "leisure.csv")
    manifest = folder / "m.toml"
    manifest.write_text(
        '[[source]]\nsource = "leisure"\nfile = "leisure.csv"\ncategory = "leisure_centre"\n'
        '[source.columns]\nname = "name"\npostcode = "postcode"\n' + second,
        encoding="utf-8",
    )
    return manifest


def test_a_shapefile_without_prj_stops_the_manifest_before_its_first_file_is_stored(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    tmp_path: Path,
) -> None:
    gpd.read_file(LIBRARIES).to_crs("EPSG:27700").to_file(
        tmp_path / "libraries.shp", engine="pyogrio"
    )
    (tmp_path / "libraries.prj").unlink()
    manifest = _leisure_then(
        tmp_path,
        '[[source]]\nsource = "libraries"\nfile = "libraries.shp"\ncategory = "library"\n'
        '[source.columns]\nname = "name"\n',
    )
    status, out, err = _import(monkeypatch, capsys, store_url, manifest)
    assert status == 2, out + err
    assert err.startswith("error: field 'crs': libraries.shp does not say which coordinate")
    assert "Traceback" not in err
    assert _stored(store_url) == 0
