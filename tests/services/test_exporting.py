"""Exports: published assets only, spreadsheet-safe CSV, RFC 7946 GeoJSON, GeoPackage."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import pyogrio

from assetmap.domain.asset import Asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.spreadsheet import safe_cell
from assetmap.services import exporting
from assetmap.services.exporting import PUBLIC_FIELDS, export_assets
from assetmap.store import Store

# Real Trafford assets (council libraries GeoJSON and leisure centres CSV, OGL).
ALTRINCHAM = Asset(
    name="Altrincham Library",
    category="library",
    lon=-2.352156600534233,
    lat=53.38705468210445,
    address="2 Pott Street, Altrincham",
    postcode="WA14 1AH",
    email="altrincham.library@trafford.gov.uk",
    accessibility=("step_free", "hearing_loop"),
    source="trafford-council-libraries",
    source_id="name:altrincham library|postcode:WA14 1AH",
)
SALE = Asset(
    name="Sale Leisure Centre",
    category="leisure_centre",
    lon=-2.3159524585775513,
    lat=53.42488843133235,
    phone="+44 161 749 2570",
)


@pytest.fixture
def stocked(store: Store) -> Store:
    store.create_asset(ALTRINCHAM, author="test")
    store.create_asset(SALE, author="test")
    store.create_asset(
        Asset(
            name='=HYPERLINK("http://evil.example","click")', category="library", lon=-2.3, lat=53.4
        ),
        author="test",
    )
    pending = store.create_asset(
        Asset(name="Hale Library", category="library", lon=-2.345594, lat=53.376032), author="test"
    )
    store.set_status(pending.id, "pending", author="test")
    archived = store.create_asset(
        Asset(name="Closed Library", category="library", lon=-2.34, lat=53.38), author="test"
    )
    store.set_status(archived.id, "archived", author="test")
    return store


def test_csv_defuses_formulas_and_keeps_numbers(stocked: Store, tmp_path: Path) -> None:
    out = tmp_path / "assets.csv"
    assert export_assets(stocked, "csv", out) == 3
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(PUBLIC_FIELDS)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {
        '\'=HYPERLINK("http://evil.example","click")',
        "Altrincham Library",
        "Sale Leisure Centre",
    }
    sale = by_name["Sale Leisure Centre"]
    assert sale["lon"] == "-2.3159524585775513"  # a number, not "'-2.31…"
    assert sale["phone"] == "'+44 161 749 2570"
    assert by_name["Altrincham Library"]["accessibility"] == "step_free; hearing_loop"
    assert "Hale Library" not in by_name and "Closed Library" not in by_name


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-2.35", "-2.35"),
        ("+44", "+44"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        (-2.35, -2.35),
        (None, ""),
        ("Library", "Library"),
        # Text starting with an apostrophe and a formula character keeps its own apostrophe
        # through the importer, which takes one off.
        ("'+ve' group", "''+ve' group"),
        ("''=", "'''="),
        ("'-2.35", "''-2.35"),
        ("'Tis", "'Tis"),
        ("'", "'"),
    ],
)
def test_safe_cell(value: object, cell: object) -> None:
    assert safe_cell(value) == cell


def test_geojson_is_rfc7946(stocked: Store, tmp_path: Path) -> None:
    out = tmp_path / "assets.geojson"
    assert export_assets(stocked, "geojson", out) == 3
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    assert len(data["features"]) == stocked.count_assets(status="published") == 3
    by_name = {f["properties"]["name"]: f for f in data["features"]}
    lib = by_name["Altrincham Library"]
    assert lib["geometry"] == {
        "type": "Point",
        "coordinates": [-2.352156600534233, 53.38705468210445],
    }
    assert lib["id"] == lib["properties"]["id"] and lib["id"].startswith("a")
    assert lib["properties"]["category"] == "library"
    assert lib["properties"]["accessibility"] == ["step_free", "hearing_loop"]
    assert set(lib["properties"]) == set(PUBLIC_FIELDS) - {"lon", "lat"}
    assert "status" not in lib["properties"] and "footprint" not in lib["properties"]


def test_geopackage_reads_back_in_wgs84(stocked: Store, tmp_path: Path) -> None:
    out = tmp_path / "assets.gpkg"
    assert export_assets(stocked, "gpkg", out) == 3
    assert export_assets(stocked, "gpkg", out, replace=True) == 3  # no second layer
    assert [name for name, _ in pyogrio.list_layers(out)] == ["assets"]
    frame = pyogrio.read_dataframe(out)
    assert frame.crs.to_epsg() == 4326
    sale = frame[frame["name"] == "Sale Leisure Centre"].iloc[0]
    assert (sale.geometry.x, sale.geometry.y) == (-2.3159524585775513, 53.42488843133235)


def test_unknown_format_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="format 'xlsx' is not one of: csv, geojson, gpkg"):
        export_assets(store, "xlsx", tmp_path / "x.xlsx")


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_an_existing_file_is_kept_unless_replaced(stocked: Store, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "exports" / f"assets.{fmt}"
    out.parent.mkdir()
    out.write_text("a commissioner's corrections", encoding="utf-8")
    with pytest.raises(ValidationError, match="already exists: give another file name"):
        export_assets(stocked, fmt, out)
    assert out.read_text(encoding="utf-8") == "a commissioner's corrections"
    assert export_assets(stocked, fmt, out, replace=True) == 3
    assert len(pyogrio.read_dataframe(out)) == 3
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_a_failed_export_leaves_no_partial_file(
    stocked: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports" / "assets.csv"
    out.parent.mkdir()
    out.write_text("the last good export", encoding="utf-8")
    calls = 0

    def fail_midway(value: object) -> object:
        nonlocal calls
        calls += 1
        if calls > len(PUBLIC_FIELDS) + 5:  # after the first row, in the second
            raise OSError(28, "No space left on device")
        return safe_cell(value)

    monkeypatch.setattr(exporting, "safe_cell", fail_midway)
    with pytest.raises(ValidationError, match=f"^cannot write {out}: No space left on device$"):
        export_assets(stocked, "csv", out, replace=True)
    assert out.read_text(encoding="utf-8") == "the last good export"
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_an_unwritable_path_is_one_line(stocked: Store, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    not_a_folder = tmp_path / "exports" / "notes.txt"
    not_a_folder.write_text("", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"^cannot write .*notes.txt/assets.csv: File exists$"
    ):
        export_assets(stocked, "csv", not_a_folder / "assets.csv")
    with pytest.raises(ValidationError, match="is a folder: give a file name"):
        export_assets(stocked, "csv", not_a_folder.parent)
    assert [p.name for p in not_a_folder.parent.iterdir()] == ["notes.txt"]
