"""CSV importer: row and line numbers, geocoding by postcode, coordinate systems, encodings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pyproj import Transformer

from assetmap.domain.asset import Asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.importers import check_source, load_manifest, parse_source, spec_for_file
from assetmap.importers.csv_ import read_csv
from assetmap.importers.records import build_records
from assetmap.services.exporting import write_csv

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
    table = read_csv(path)
    header, rows = table.header, table.rows
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


@pytest.mark.parametrize(
    ("easting", "northing", "field", "reason"),
    [
        ("NaN", "387760.55", "lon", "lon is NaN, not a finite number"),
        ("", "387760.55", "lon", "lon is missing"),
        ("376530.12", "north", "lat", "lat 'north' is not a number"),
        (
            "-2.352157",
            "53.387055",
            "lon",
            "'-2.352157', '53.387055' look like longitude and latitude, not EPSG:27700 "
            "eastings and northings: check the manifest's crs",
        ),
        # A digit too many: British National Grid northings stop at about 1,257 km.
        ("376530.12", "3877605.5", "lat", "'376530.12', '3877605.5' lie outside the area "),
    ],
)
def test_eastings_and_northings_errors_name_the_bad_one(
    tmp_path: Path,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    easting: str,
    northing: str,
    field: str,
    reason: str,
) -> None:
    (tmp_path / "bng.csv").write_text(
        f"site,easting,northing\nAltrincham Library,{easting},{northing}\n", encoding="utf-8"
    )
    (tmp_path / "m.toml").write_text(
        '[[source]]\nsource = "bng"\nfile = "bng.csv"\ncategory = "library"\ncrs = "EPSG:27700"\n'
        '[source.columns]\nname = "site"\nlon = "easting"\nlat = "northing"\n',
        encoding="utf-8",
    )
    [spec] = load_manifest(tmp_path / "m.toml")
    parsed = parse_source(spec, taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.records == []
    [err] = parsed.errors
    assert (err.row, err.line, err.field) == (1, 2, field)
    assert err.reason.startswith(reason)
    assert err.value == (easting if field == "lon" else northing)


def test_windows_1252_files_still_import(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + HALE.replace("Hale Library", "Café Hale") + "\n").encode("cp1252"))
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    [rec] = parsed.records
    assert rec.asset.name == "Café Hale"
    assert parsed.notes == [
        "read as Windows-1252: it is not UTF-8 (byte 0xE9 at line 2, byte offset 62); "
        "check its accented letters"
    ]


def test_one_bad_byte_in_utf8_rejects_the_file_instead_of_garbling_it(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "damaged.csv"
    good = (HEADER + HALE.replace("Hale Library", "Zoë’s Café") + "\n").encode("utf-8")
    # One cp1252 byte pasted into an otherwise UTF-8 file: "Pétt Street" on line 3.
    damaged = ALTRINCHAM.replace("Pott", "Pétt").encode("cp1252")
    path.write_bytes(good + damaged + b"\n")
    offset = len(good) + damaged.index(b"\xe9")
    with pytest.raises(ValidationError) as caught:
        parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert caught.value.message.startswith(
        f"damaged.csv is UTF-8 but has 1 invalid byte(s); the first, 0xE9, is at line 3, "
        f"byte offset {offset}."
    )
    with pytest.raises(ValidationError, match="0xE9, is at line 3"):
        check_source(spec_for_file(path))  # before any file of an import is stored


def test_unicode_line_separators_stay_inside_their_cell(tmp_path: Path) -> None:
    path = tmp_path / "separators.csv"
    odd = "Opens\u2028late\u2029on\x85Thursdays\x0bor\x0cFridays"
    path.write_text(
        HEADER + HALE + odd + "\r\n" + ALTRINCHAM + "\r" + HALE + "\n", encoding="utf-8", newline=""
    )
    table = read_csv(path)
    assert [(r.row, r.line) for r in table.rows] == [(1, 2), (2, 3), (3, 4)]
    assert table.rows[0].values["description"] == odd
    assert [r.values["name"] for r in table.rows] == [
        "Hale Library",
        "Altrincham Library",
        "Hale Library",
    ]


def test_the_exports_formula_guard_is_undone(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # Trafford Council's switchboard number and three names a spreadsheet would run as formulas.
    assets = [
        Asset(
            name=name,
            category="library",
            lon=-2.345594,
            lat=53.376032 + i / 100,  # apart, so they are not taken for duplicates
            phone="+44 161 912 5920",
            description="=SUM(A1) is text here",
            source_id=f"hale-{i}",
        )
        for i, name in enumerate(["-Hale Library-", "=Hale Library", "@Hale Library"])
    ]
    path = tmp_path / "exported.csv"
    write_csv(assets, path)
    assert "'+44 161 912 5920" in path.read_text(encoding="utf-8-sig")  # the guard is there
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.errors == []
    got = [(r.asset.name, r.asset.phone, r.asset.description) for r in parsed.records]
    assert got == [(a.name, a.phone, a.description) for a in assets]


def test_an_apostrophe_before_other_text_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "apostrophe.csv"
    path.write_text("name,description\n'Ere We Go,'-' means closed\n", encoding="utf-8")
    [row] = read_csv(path).rows
    assert row.values == {"name": "'Ere We Go", "description": "-' means closed"}


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (
            HEADER.replace(",", ";") + HALE.replace(",", ";") + "\n",
            "utf-8",
            "broken.csv has no column 'name', 'category', 'lat' and 'lon' \\(or 'postcode'\\); "
            "its columns are 'name;category;address;postcode;lat;lon;website;description'.*"
            "The header contains semicolons: the file looks separated by semicolons",
        ),
        (
            HEADER.replace(",", "\t") + HALE.replace(",", "\t") + "\n",
            "utf-16",  # Excel's "Unicode Text": UTF-16 with a byte-order mark, tab-separated
            "broken.csv has no column 'name', 'category'.*The header contains tabs",
        ),
        (
            HEADER + HALE + '"Opens late\n' + ALTRINCHAM + "\n",
            "utf-8",
            "the row starting on line 2 is broken: on line 3, ',' expected after '\"'. Most "
            "likely a quote opened in it is never closed",
        ),
        (
            HEADER + HALE + "\n" + HALE + '"Opens late\n\n',
            "utf-8",
            "the row starting on line 3 is broken: the file ends inside a quoted cell",
        ),
        (
            "name,category,lat,lon,name\n" + "Hale Library,library,53.376032,-2.345594,Hale\n",
            "utf-8",
            "the header repeats 'name' \\(columns 1, 5\\)",
        ),
        (
            "Name,Category,Latitude,Longitude,name \n"
            + "Hale Library,library,53.376032,-2.345594,Hale\n",
            "utf-8",
            "columns 'Name' and 'name' have the same name",
        ),
    ],
    ids=["semicolons", "utf-16-tabs", "quote-closed-later", "quote-never-closed", "repeat", "case"],
)
def test_a_broken_file_is_reported_once_not_on_every_row(
    tmp_path: Path,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    text: str,
    encoding: str,
    message: str,
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding=encoding)
    with pytest.raises(ValidationError, match=message):
        check_source(spec_for_file(path))
    with pytest.raises(ValidationError, match=message):
        parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)


def test_utf16_with_a_byte_order_mark_is_read_as_utf16(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "unicode.csv"
    path.write_text(HEADER + HALE.replace("Hale Library", "Café Hale") + "\n", encoding="utf-16")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert [r.asset.name for r in parsed.records] == ["Café Hale"]
    assert parsed.notes == ["read as UTF-16, as its byte-order mark says"]


def test_headers_match_ignoring_case_and_spacing_and_the_rest_are_listed(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "leisure.csv"
    # council_assets_leisure_centres_trafford_leisure_centres.csv (OGL), headers as typed by hand.
    path.write_text(
        "Name,Category,Opening Times,Post-Code,Latitude,Longitude,Telephone,Managed By\n"
        'Sale Leisure Centre,leisure_centre,"Mon-Fri: 6:30am-9:30pm, Sat-Sun: 8:00am-6:00pm",'
        "M33 2AL,53.42488843133235,-2.3159524585775513,01617492570,Trafford Leisure CIC.\n",
        encoding="utf-8",
    )
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    [rec] = parsed.records
    assert rec.asset.opening_times.text == "Mon-Fri: 6:30am-9:30pm, Sat-Sun: 8:00am-6:00pm"
    assert (rec.asset.postcode, rec.asset.phone) == ("M33 2AL", "01617492570")
    assert parsed.notes == ["ignored column(s), matching no asset field: 'Managed By'"]


def test_values_under_a_column_with_no_name_are_noted_not_dropped_silently(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "leisure.csv"
    # The same real centre, its "Managed By" header cell cleared; the empty last column of a
    # spreadsheet's export holds nothing and says nothing.
    path.write_text(
        "Name,Category,Latitude,Longitude,,\n"
        "Sale Leisure Centre,leisure_centre,53.42488843133235,-2.3159524585775513,"
        "Trafford Leisure CIC.,\n",
        encoding="utf-8",
    )
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert [r.asset.name for r in parsed.records] == ["Sale Leisure Centre"]
    assert parsed.notes == [
        "column(s) 5 (E) have no name in the header but hold values, which were not read; "
        "give each column a name"
    ]


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


def test_a_date_last_checked_after_today_rejects_the_row(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "checked.csv"
    path.write_text(
        "name,category,postcode,lat,lon,last_verified\n"
        "Altrincham Library,library,WA14 1AH,53.38705,-2.35216,2026-03-14\n"
        "Hale Library,library,WA15 9NT,53.376032,-2.345594,2026-03-15\n",
        encoding="utf-8",
    )
    rows = read_csv(path).rows
    parsed = build_records(
        rows, spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes, today=date(2026, 3, 14)
    )
    # Today is fine; tomorrow is refused, as the moderators' edit form refuses it.
    assert [r.asset.name for r in parsed.records] == ["Altrincham Library"]
    assert [e.to_dict() for e in parsed.errors] == [
        {
            "row": 2,
            "line": 3,
            "field": "last_verified",
            "reason": "last_verified 2026-03-15 is in the future (today is 2026-03-14): it must"
            " be the date the details were last checked, today or earlier",
            "value": "2026-03-15",
        }
    ]


def test_the_day_first_note_counts_imported_rows_with_slashed_dates_only(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "checked.csv"
    path.write_text(
        "name,category,postcode,lat,lon,last_verified\n"
        "Altrincham Library,library,WA14 1AH,53.38705,-2.35216,01/02/2025\n"
        "Hale Library,library,WA15 9NT,53.376032,-2.345594,30-Jun-25\n"
        "Sale Library,library,M33 7ZF,999,-2.31,02/03/2025\n",
        encoding="utf-8",
    )
    rows = read_csv(path).rows
    parsed = build_records(
        rows, spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes, today=date(2026, 3, 14)
    )
    assert [str(r.asset.last_verified) for r in parsed.records] == ["2025-02-01", "2025-06-30"]
    # A named month is no guess, and the refused row (its latitude) was not read at all.
    assert [n for n in parsed.notes if "day first" in n] == [
        "last_verified of 1 row(s) read as a UK date, day first (DD/MM/YYYY):"
        " row 1's '01/02/2025' is 2025-02-01"
    ]


def test_a_website_with_quotes_or_angle_brackets_rejects_the_row(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # A source that quoted or bracketed its addresses inside the cell (the CSV quotes
    # themselves are undone by the reader).
    path = tmp_path / "quoted.csv"
    path.write_text(
        HEADER
        + ALTRINCHAM
        + "\n"
        + 'Hale Library,library,,WA15 9NT,53.376032,-2.345594,"""https://example.org/hale""",\n'
        + "Sale Library,library,,M33 7YZ,53.4246,-2.3181,<https://example.org/sale>,\n",
        encoding="utf-8",
    )
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert [r.asset.name for r in parsed.records] == ["Altrincham Library"]
    assert [(e.row, e.line, e.field, e.value) for e in parsed.errors] == [
        (2, 3, "website", '"https://example.org/hale"'),
        (3, 4, "website", "<https://example.org/sale>"),
    ]
    assert parsed.errors[0].reason == (
        """website '"https://example.org/hale"' has a quotation mark ("), which cannot be in a"""
        " web address"
    )
