"""CSV importer: row and line numbers, geocoding by postcode, coordinate systems, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyproj import Transformer

from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.importers import load_manifest, parse_source, spec_for_file
from assetmap.importers.csv_ import read_csv

HEADER = "name,category,address,postcode,lat,lon,website,description\n"
# Two real Trafford libraries (data/assets/trafford/libraries_trafford_libraries.csv, OGL).
ALTRINCHAM = (
    'Altrincham Library,library,"2 Pott Street, Altrincham",WA14 1AH,53.38705468210445,'
    "-2.352156600534233,https://www.trafford.gov.uk/,"
)
HALE = 'Hale Library,library,"25 Cecil Road, Hale",WA15 9NT,53.376032,-2.345594,,'


def test_rows_count_data_rows_and_lines_count_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "libs.csv"
    path.write_text(
        HEADER + ALTRINCHAM + '"Opens\non two lines"\n\n' + HALE + "\n" + HALE + "extra,cells\n",
        encoding="utf-8",
    )
    header, rows = read_csv(path)
    assert header[:2] == ["name", "category"]
    # The quoted description spans lines 2-3; line 4 is blank and is not a data row.
    assert [(r.row, r.line) for r in rows] == [(1, 2), (2, 5), (3, 6)]
    assert rows[0].values["description"] == "Opens\non two lines"
    assert rows[2].problems == [
        ("columns", "row has 9 cells but the header has 8 columns", "cells")
    ]


def test_postcode_only_rows_are_placed_at_the_postcode_centroid(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "no_coords.csv"
    path.write_text(
        "name,category,postcode\nTrafford Town Hall Library,library,m320th\n", encoding="utf-8"
    )
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    [rec] = parsed.records
    point = postcodes.lookup("M32 0TH")
    assert (rec.asset.lon, rec.asset.lat, rec.asset.postcode) == (point.lon, point.lat, "M32 0TH")
    assert parsed.geocoded == 1
    assert rec.asset.source_id == "name:trafford town hall library|postcode:M32 0TH"


def test_manifest_crs_reads_eastings_and_northings(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    east, north = to_bng.transform(-2.352156600534233, 53.38705468210445)
    (tmp_path / "bng.csv").write_text(
        f"site,easting,northing\nAltrincham Library,{east:.2f},{north:.2f}\n", encoding="utf-8"
    )
    (tmp_path / "m.toml").write_text(
        '[[source]]\nsource = "bng"\nfile = "bng.csv"\ncategory = "library"\ncrs = "EPSG:27700"\n'
        '[source.columns]\nname = "site"\nlon = "easting"\nlat = "northing"\n',
        encoding="utf-8",
    )
    [spec] = load_manifest(tmp_path / "m.toml")
    [rec] = parse_source(spec, taxonomy=taxonomy, postcodes=postcodes).records
    assert (
        distances_m(-2.352156600534233, 53.38705468210445, [rec.asset.lon], [rec.asset.lat])[0]
        < 0.05
    )


def test_windows_1252_files_still_import(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + HALE.replace("Hale Library", "Café Hale") + "\n").encode("cp1252"))
    [rec] = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes).records
    assert rec.asset.name == "Café Hale"


@pytest.mark.parametrize(
    ("lat", "lon", "field", "reason"),
    [
        ("nan", "-2.345594", "lat", "lat is nan, not a finite number"),
        ("53.376032", "", "lon", "lon is missing"),
        ("north", "-2.345594", "lat", "lat 'north' is not a number"),
    ],
)
def test_coordinate_errors_name_field_and_value(
    tmp_path: Path,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    lat: str,
    lon: str,
    field: str,
    reason: str,
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + f"Hale Library,library,,WA15 9NT,{lat},{lon},,\n", encoding="utf-8")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.records == []
    [err] = parsed.errors
    assert (err.row, err.line, err.field, err.reason) == (1, 2, field, reason)
    assert err.value == (lat if field == "lat" else lon)
