"""Needs layers: boundary sets and indicator tables, on the real shipped data.

Data: data/boundaries/lsoa11_trafford.geojson and lsoa11_study_las.geojson.gz (ONS LSOA 2011,
OGL), data/imd2019/imd2019_lsoa11_england_combined.csv.gz (IoD2019, OGL / CC BY 4.0),
data/population/trafford_mid2024_population_lsoa21.csv (ONS mid-2024, LSOA 2021 codes, OGL),
data/population/mysociety_2019_population_lsoa_uk.csv.gz (ONS mid-2019 via mySociety).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from assetmap.analysis.jsaa.workspace import inspect_table
from assetmap.analysis.needs import (
    BoundarySpec,
    CodeMapSpec,
    IndicatorSpec,
    NeedsLayerError,
    SourceMeta,
    TableSpec,
    ValidationReport,
    load_boundaries,
    load_indicator_table,
    load_postcode_points,
)
from assetmap.domain.errors import ValidationError
from tests.conftest import DATA

TRAFFORD = DATA / "boundaries" / "lsoa11_trafford.geojson"
IMD = DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz"
POP24 = DATA / "population" / "trafford_mid2024_population_lsoa21.csv"
CODE_MAP = DATA / "jsaa" / "lsoa21_to_lsoa11_trafford.csv"
SPLIT_PARENT, SPLIT_CHILDREN = "E01006185", ("E01034000", "E01034001")


def trafford_spec(path: Path = TRAFFORD, **kw: object) -> BoundarySpec:
    return BoundarySpec(path=path, code_column="LSOA11CD", name_column="LSOA11NM", **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trafford() -> gpd.GeoDataFrame:
    report = ValidationReport()
    areas = load_boundaries(trafford_spec(), report)
    assert report.ok
    return areas


def pop_spec(code_map: bool = True, **kw: object) -> TableSpec:
    return TableSpec(
        id="pop24",
        path=POP24,
        code_column="area_code",
        where={"sex": ("Persons",)},
        code_map=CodeMapSpec(CODE_MAP, "lsoa21cd", "lsoa11cd") if code_map else None,
        indicators=(
            IndicatorSpec("population", "Residents", column="all_ages", additive=True),
            IndicatorSpec("pop_65plus", "Aged 65+", column="aged_65_and_over", additive=True),
            IndicatorSpec(
                "pct_65plus",
                "Aged 65+ (%)",
                numerator="aged_65_and_over",
                denominator="all_ages",
                scale=100,
                unit="% of residents",
            ),
        ),
        **kw,  # type: ignore[arg-type]
    )


def test_trafford_boundaries_load_and_invalid_ones_are_repaired_and_reported(
    trafford: gpd.GeoDataFrame,
) -> None:
    report = ValidationReport()
    areas = load_boundaries(trafford_spec(), report)
    assert len(areas) == 138
    assert list(areas.columns) == ["area_code", "area_name", "geometry"]
    assert areas.crs == "EPSG:4326"
    assert areas["area_code"].is_monotonic_increasing
    assert areas.is_valid.all()
    repaired = [i for i in report.issues if i.kind == "invalid_geometry_repaired"]
    assert sorted(c for i in repaired for c in i.codes) == ["E01006195", "E01006205"]
    assert all(i.level == "warning" and i.row is not None for i in repaired)
    raw = gpd.read_file(TRAFFORD)
    assert (~raw.is_valid).sum() == 2  # the published file really has two


def test_boundaries_in_another_crs_and_format_come_back_in_wgs84(
    trafford: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    bng = trafford.rename(columns={"area_code": "code", "area_name": "name"}).to_crs(27700)
    bng.to_file(tmp_path / "areas.gpkg", layer="lsoa", driver="GPKG")
    bng.to_file(tmp_path / "areas.shp")
    for path, layer in ((tmp_path / "areas.gpkg", "lsoa"), (tmp_path / "areas.shp", None)):
        report = ValidationReport()
        spec = BoundarySpec(path=path, code_column="code", name_column="name", layer=layer)
        back = load_boundaries(spec, report)
        assert back.crs == "EPSG:4326"
        assert list(back["area_code"]) == list(trafford["area_code"])
        # A round trip through EPSG:27700 moves vertices by far less than a metre.
        moved = shapely.hausdorff_distance(back.geometry.values, trafford.geometry.values)
        assert moved.max() < 1e-5


def test_boundary_filter_picks_one_district_from_the_study_file(
    trafford: gpd.GeoDataFrame,
) -> None:
    spec = trafford_spec(
        DATA / "boundaries" / "lsoa11_study_las.geojson.gz", where={"LAD_CODE": ("E08000009",)}
    )
    areas = load_boundaries(spec, ValidationReport())
    assert list(areas["area_code"]) == list(trafford["area_code"])


def test_boundary_errors_name_the_column_and_feature(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="column 'LSOA_CODE' is not in") as err:
        load_boundaries(BoundarySpec(TRAFFORD, code_column="LSOA_CODE"), ValidationReport())
    assert err.value.field == "LSOA_CODE"
    raw = gpd.read_file(TRAFFORD).iloc[:3].copy()
    raw.loc[2, "LSOA11CD"] = raw.loc[0, "LSOA11CD"]
    raw.to_file(tmp_path / "dup.geojson")
    report = ValidationReport()
    load_boundaries(trafford_spec(tmp_path / "dup.geojson"), report)
    (dup,) = report.errors
    assert (dup.kind, dup.row, dup.column) == ("duplicate_code", 3, "LSOA11CD")
    assert "feature 1" in dup.message


def test_imd_deciles_loaded_equal_the_published_file(trafford: gpd.GeoDataFrame) -> None:
    spec = TableSpec(
        id="imd",
        path=IMD,
        code_column="lsoa11cd",
        national=True,
        indicators=(
            IndicatorSpec(
                "imd_decile", "IMD decile", column="imd_decile", higher_is_more_need=False
            ),
            IndicatorSpec("imd_score", "IMD score", column="imd_score"),
        ),
    )
    report = ValidationReport()
    table = load_indicator_table(spec, list(trafford["area_code"]), report)
    assert report.ok
    published = pd.read_csv(IMD, index_col="lsoa11cd")
    assert len(table) == len(published) == 32_844
    for code in trafford["area_code"]:
        assert table.at[code, "imd_decile"] == published.at[code, "imd_decile"], code
    assert (table["imd_decile"] == published["imd_decile"].reindex(table.index)).all()
    assert (table["imd_score"] == published["imd_score"].reindex(table.index)).all()
    assert [i.kind for i in report.issues] == ["other_areas"]
    assert report.issues[0].message.startswith("32,706 codes are outside the chosen areas")


def test_split_lsoa_gets_the_sum_of_its_2021_children_and_is_reported(
    trafford: gpd.GeoDataFrame,
) -> None:
    report = ValidationReport()
    names = dict(zip(trafford["area_code"], trafford["area_name"], strict=True))
    table = load_indicator_table(pop_spec(), list(trafford["area_code"]), report, area_names=names)
    assert report.ok
    assert list(table.index) == list(trafford["area_code"])  # 139 rows became 138, none lost
    raw = pd.read_csv(POP24)
    persons = raw[raw["sex"] == "Persons"].set_index("area_code")
    children = persons.loc[list(SPLIT_CHILDREN)]
    assert table.at[SPLIT_PARENT, "population"] == children["all_ages"].sum() == 1952 + 1644
    assert table.at[SPLIT_PARENT, "pop_65plus"] == children["aged_65_and_over"].sum()
    # The ratio is taken after summing, not averaged over the children.
    expected = 100 * children["aged_65_and_over"].sum() / children["all_ages"].sum()
    assert table.at[SPLIT_PARENT, "pct_65plus"] == pytest.approx(expected)
    assert table["population"].sum() == persons["all_ages"].sum()
    (split,) = [i for i in report.issues if i.kind == "code_split"]
    assert split.level == "info"
    assert split.codes == (SPLIT_PARENT, *SPLIT_CHILDREN)
    assert SPLIT_PARENT in split.message and all(c in split.message for c in SPLIT_CHILDREN)
    assert "Trafford 001E" in split.message
    # Lines of the file, as a spreadsheet numbers them (the header is line 1).
    assert "into E01034000 at row 412 (line 413) + E01034001 at row 415 (line 416);" in (
        split.message
    )
    assert (split.file, split.row, split.line) == (POP24.name, 412, 413)


def test_2021_codes_without_a_lookup_are_errors_with_a_hint(trafford: gpd.GeoDataFrame) -> None:
    report = ValidationReport()
    load_indicator_table(pop_spec(code_map=False), list(trafford["area_code"]), report)
    unknown = [i for i in report.errors if i.kind == "unknown_code"]
    assert sorted(i.codes[0] for i in unknown) == list(SPLIT_CHILDREN)
    assert all(i.column == "area_code" and i.row is not None for i in unknown)
    (missing,) = [i for i in report.errors if i.kind == "area_missing"]
    assert missing.codes == (SPLIT_PARENT,)
    assert "LSOA 2021" in missing.message and "code_map" in missing.message


def test_a_table_of_wards_for_lsoa_areas_says_so_naming_file_and_lines(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    # Four of Trafford's electoral wards (2004-2023 codes, ONS Register of Geographic Codes):
    # ward-level figures given for an assessment of LSOAs. A code_map cannot help (it maps
    # codes that changed, it does not share a ward out among its LSOAs), so it is not offered.
    path = tmp_path / "wards.csv"
    path.write_text(
        "\ufeffward_code,older_people\r\n"
        "E05000819,1200\r\n"
        "E05000820,1350\r\n"
        "E05000821,980\r\n"
        "E05000822,1410\r\n",
        encoding="utf-8",
        newline="",
    )
    spec = TableSpec(
        id="wards",
        path=path,
        code_column="ward_code",
        indicators=(IndicatorSpec("older_people", "Older people", column="older_people"),),
    )
    report = ValidationReport()
    load_indicator_table(spec, list(trafford["area_code"]), report)
    text = report.to_text()
    assert (
        "error: [table:wards] wards.csv row 1 (line 2) column 'ward_code': code E05000819 is "
        "not one of the chosen areas"
    ) in text
    (missing,) = [i for i in report.errors if i.kind == "area_missing"]
    assert missing.message.endswith(
        "; the table's codes are electoral wards (E05…), but the areas are LSOAs (E01…): use "
        "a table with one row for each of the areas, by their codes"
    )
    assert "code_map" not in missing.message


def test_codes_in_lower_case_or_between_spaces_are_read_in_capitals(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    # Trafford's IMD rows as a hand-made table may hold them: every code lowered, and
    # Trafford 017E's between spaces. "e01006108 is not one of the chosen areas", 138 times.
    imd = pd.read_csv(IMD, dtype=str)
    rows = imd[imd["lad19nm"] == "Trafford"][["lsoa11cd", "imd_score"]].copy()
    rows["lsoa11cd"] = rows["lsoa11cd"].str.lower().replace("e01006108", " e01006108  ")
    assert (rows["lsoa11cd"] == " e01006108  ").sum() == 1
    path = tmp_path / "imd_lower.csv"
    rows.to_csv(path, index=False)
    spec = TableSpec(
        id="imd",
        path=path,
        code_column="lsoa11cd",
        indicators=(IndicatorSpec("imd_score", "IMD score", column="imd_score"),),
    )
    codes = list(trafford["area_code"])
    report = ValidationReport()
    table = load_indicator_table(spec, codes, report)
    assert report.to_text() == "no issues"
    assert list(table.index) == sorted(codes)
    assert table.at["E01006108", "imd_score"] == 65.582  # Trafford 017E, as published
    # Areas whose own codes are in lower case (an uploaded boundary layer's) keep them.
    report = ValidationReport()
    lower = load_indicator_table(spec, [c.lower() for c in codes], report)
    assert report.ok
    assert lower.at["e01006108", "imd_score"] == 65.582
    # One code in two cases is one code given twice (and the second row's area has none).
    assert rows.iloc[0, 0] == "e01006074"
    rows.iloc[1, 0] = "E01006074"
    rows.to_csv(path, index=False)
    report = ValidationReport()
    load_indicator_table(spec, codes, report)
    (twice,) = [i for i in report.errors if i.kind == "duplicate_code"]
    assert (twice.kind, twice.row, twice.message) == (
        "duplicate_code",
        2,
        "code E01006074 already appears at row 1 (line 2)",
    )


def test_lower_case_codes_are_mapped_through_a_lookup_in_capitals(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    # The mid-2024 population on 2021 codes, lowered: the split E01006185's children
    # (e01034000, e01034001) must still be found in the lookup and summed.
    path = tmp_path / "population_lower.csv"
    raw = pd.read_csv(POP24, dtype=str, keep_default_na=False)
    raw["area_code"] = raw["area_code"].str.lower()
    raw.to_csv(path, index=False)
    report = ValidationReport()
    table = load_indicator_table(
        replace(pop_spec(), path=path), list(trafford["area_code"]), report
    )
    assert report.ok, report.to_text()
    assert table.at[SPLIT_PARENT, "population"] == 1952 + 1644
    (split,) = [i for i in report.issues if i.kind == "code_split"]
    assert split.codes == (SPLIT_PARENT, *SPLIT_CHILDREN)


def test_split_of_a_non_additive_indicator_is_refused(trafford: gpd.GeoDataFrame) -> None:
    spec = TableSpec(
        id="pop24",
        path=POP24,
        code_column="area_code",
        where={"sex": ("Persons",)},
        code_map=CodeMapSpec(CODE_MAP, "lsoa21cd", "lsoa11cd"),
        indicators=(IndicatorSpec("pop", "Residents", column="all_ages"),),  # not additive
    )
    report = ValidationReport()
    load_indicator_table(spec, list(trafford["area_code"]), report)
    (err,) = report.errors
    assert err.kind == "code_split_not_additive" and err.column == "all_ages"


def test_bad_indicator_csv_errors_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    # Row numbers count data rows; lines are what an editor or a spreadsheet shows, and a
    # blank line and a note holding a line break put them two apart.
    path.write_text(
        "code,older_people,note\n"
        "E01006074,120,ok\n"
        "\n"
        'E01006075,abc,"not a\nnumber"\n'
        "E01006074,130,duplicate code\n"
        "E09999999,140,unknown code\n"
        "E01006076,,empty\n",
        encoding="utf-8",
    )
    spec = TableSpec(
        id="bad",
        path=path,
        code_column="code",
        indicators=(IndicatorSpec("older_people", "Older people", column="older_people"),),
        meta=SourceMeta("test", "OGL", "2024"),
    )
    report = ValidationReport()
    # E01006077 has no row: the unknown E09999999 may be its typo, so both are errors.
    load_indicator_table(spec, ["E01006074", "E01006075", "E01006076", "E01006077"], report)
    found = {(i.kind, i.row, i.column) for i in report.errors}
    assert found == {
        ("non_numeric", 2, "older_people"),
        ("duplicate_code", 3, "code"),
        ("unknown_code", 4, "code"),
        ("missing_value", 5, "older_people"),
        ("area_missing", None, "code"),
    }
    with pytest.raises(NeedsLayerError) as err:
        report.raise_for_errors()
    text = str(err.value)
    assert "[table:bad] bad.csv row 2 (line 4) column 'older_people': 'abc' is not a number" in (
        text
    )
    assert (
        "bad.csv row 3 (line 6) column 'code': code E01006074 already appears at row 1 (line 2)"
    ) in text
    assert "bad.csv row 4 (line 7) column 'code': code E09999999 is not one of the chosen" in text
    assert "bad.csv row 5 (line 8) column 'older_people': empty value" in text
    # One odd code among LSOAs is a typo, not a table of London boroughs.
    assert (
        "bad.csv column 'code': 1 area has no row: E01006077; the table may use another code "
        "system (for example LSOA 2021 instead of 2011): give it a code_map"
    ) in text
    issues = err.value.report.to_dict()
    assert issues["errors"] == 5
    assert {(i["file"], i["row"], i["line"]) for i in issues["issues"]} == {
        ("bad.csv", 2, 4),
        ("bad.csv", 3, 6),
        ("bad.csv", 4, 7),
        ("bad.csv", 5, 8),
        ("bad.csv", None, None),
    }


def test_counts_in_messages_are_written_as_people_read_them() -> None:
    report = ValidationReport()
    for n in range(22):
        report.add("error", "unknown_code", "table:t", f"code C{n} is not one of the chosen areas")
    with pytest.raises(NeedsLayerError) as err:
        report.raise_for_errors()
    assert err.value.message.endswith("(and 21 more errors)")
    assert report.to_text().endswith("… and 2 more 'unknown_code' issues")
    two = ValidationReport()
    for n in range(2):
        two.add("error", "unknown_code", "table:t", f"code C{n} is not one of the chosen areas")
    with pytest.raises(NeedsLayerError) as err:
        two.raise_for_errors()
    assert err.value.message.endswith("(and 1 more error)")


def test_missing_column_is_named(tmp_path: Path) -> None:
    spec = TableSpec(
        id="imd",
        path=IMD,
        code_column="lsoa11cd",
        indicators=(IndicatorSpec("idaopi", "IDAOPI", column="idaopi_score"),),
    )
    with pytest.raises(ValidationError, match="'idaopi_score' not in") as err:
        load_indicator_table(spec, ["E01006074"], ValidationReport())
    assert err.value.field == "idaopi_score"


def test_a_split_with_a_child_missing_is_an_error(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    rows = POP24.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "pop.csv"
    path.write_text("".join(r for r in rows if "E01034001" not in r), encoding="utf-8")
    spec = pop_spec()
    spec = TableSpec(**{**spec.__dict__, "path": path})
    report = ValidationReport()
    load_indicator_table(spec, list(trafford["area_code"]), report)
    (err,) = report.errors
    assert err.kind == "code_split_incomplete"
    assert err.codes == (SPLIT_PARENT, "E01034001")


def test_ambiguous_lookup_is_an_error(tmp_path: Path, trafford: gpd.GeoDataFrame) -> None:
    lookup = tmp_path / "map.csv"
    lookup.write_text("from,to\nE01034000,E01006185\nE01034000,E01006186\n", encoding="utf-8")
    spec = pop_spec()
    spec = TableSpec(**{**spec.__dict__, "code_map": CodeMapSpec(lookup, "from", "to")})
    report = ValidationReport()
    load_indicator_table(spec, list(trafford["area_code"]), report)
    ambiguous = [i for i in report.errors if i.kind == "code_map_ambiguous"]
    assert ambiguous and ambiguous[0].row == 2 and ambiguous[0].column == "from"


def test_thousands_separators_are_read(trafford: gpd.GeoDataFrame) -> None:
    spec = TableSpec(
        id="pop19",
        path=DATA / "population" / "mysociety_2019_population_lsoa_uk.csv.gz",
        code_column="lsoa",
        thousands=",",
        national=True,
        indicators=(IndicatorSpec("pop2019", "Residents 2019", column="pop", additive=True),),
    )
    report = ValidationReport()
    table = load_indicator_table(spec, list(trafford["area_code"]), report)
    assert report.ok
    assert table.loc[trafford["area_code"], "pop2019"].notna().all()
    assert table.at["E01011949", "pop2019"] == 1954  # "1,954" in the file


def test_indicator_metadata_is_complete() -> None:
    meta = pop_spec().indicators[2].metadata()
    assert set(meta) >= {"label", "unit", "source", "licence", "date", "higher_is_more_need"}
    assert meta["definition"] == "'aged_65_and_over' / 'all_ages' × 100"


def test_postcode_points_are_filtered_to_a_box() -> None:
    box = (-2.48, 53.35, -2.25, 53.48)  # around Trafford
    points = load_postcode_points(
        DATA / "postcodes" / "postcodes_study_las_nspl2025.csv.gz", bounds=box
    )
    assert points.crs == "EPSG:4326"
    assert 10_000 < len(points) < 20_000
    minx, miny, maxx, maxy = points.total_bounds
    assert box[0] <= minx and maxx <= box[2] and box[1] <= miny and maxy <= box[3]


def test_a_table_of_more_areas_than_chosen_uses_only_theirs(trafford: gpd.GeoDataFrame) -> None:
    # The England IMD file, not marked national: every Trafford LSOA has its row, so the
    # other 32,706 rows are a wider table, left out with a note, not 32,706 errors.
    spec = TableSpec(
        id="imd",
        path=IMD,
        code_column="lsoa11cd",
        indicators=(IndicatorSpec("imd_score", "IMD score", column="imd_score"),),
    )
    report = ValidationReport()
    table = load_indicator_table(spec, list(trafford["area_code"]), report)
    assert report.ok
    assert list(table.index) == list(trafford["area_code"])
    published = pd.read_csv(IMD, index_col="lsoa11cd")["imd_score"]
    assert (table["imd_score"] == published.reindex(table.index)).all()
    (note,) = report.issues
    assert (note.level, note.kind) == ("info", "other_areas")
    assert note.message.startswith("32,706 rows for 32,706 codes outside the chosen areas")


def bng_geojson_without_crs(tmp_path: Path) -> Path:
    """Trafford in British National Grid metres, saved as GeoJSON with no "crs" member."""
    bng = gpd.read_file(TRAFFORD).to_crs(27700)
    data = json.loads(bng.to_json())
    data.pop("crs", None)
    path = tmp_path / "trafford_bng.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_grid_metres_read_as_degrees_are_refused_naming_the_file_and_the_crs(
    tmp_path: Path,
) -> None:
    path = bng_geojson_without_crs(tmp_path)
    with pytest.raises(ValidationError) as err:
        load_boundaries(trafford_spec(path), ValidationReport())
    message = str(err.value)
    assert "trafford_bng.geojson: coordinates run from 368,290 to 383,296 across" in message
    assert "outside the longitude/latitude range" in message
    assert 'a GeoJSON file with no "crs" member is read as WGS84' in message
    assert "British National Grid" in message and "declare EPSG:27700" in message
    assert err.value.field == "path"


def test_an_empty_table_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "indicators.csv"
    path.write_bytes(b"")
    spec = TableSpec(
        id="mine",
        path=path,
        code_column="code",
        indicators=(IndicatorSpec("x", "X", column="x"),),
    )
    with pytest.raises(ValidationError, match=r"\[table:mine\] indicators.csv is empty"):
        load_indicator_table(spec, ["E01006074"], ValidationReport())


@pytest.mark.parametrize(
    ("text", "row", "line"),
    [
        # A comma after every row: pandas would take the codes as an index and shift each
        # value under the column to its left.
        ("code,older_people\nE01006074,120,\nE01006075,130,\n", 1, 2),
        ("code,older_people\nE01006074,120\n\nE01006075,130,7\n", 2, 4),
    ],
)
def test_a_row_longer_than_the_header_is_named(
    tmp_path: Path, text: str, row: int, line: int
) -> None:
    path = tmp_path / "indicators.csv"
    path.write_text(text, encoding="utf-8")
    spec = TableSpec(
        id="mine",
        path=path,
        code_column="code",
        indicators=(IndicatorSpec("older_people", "Older people", column="older_people"),),
    )
    with pytest.raises(ValidationError) as err:
        load_indicator_table(spec, ["E01006074", "E01006075"], ValidationReport())
    assert err.value.message.startswith(
        f"[table:mine] indicators.csv: data row {row} (line {line} of the file) has 3 values, "
        "but the header names 2 columns"
    )


@pytest.mark.parametrize(
    "text",
    [
        # As Excel saves "CSV" where the decimal mark is a comma: 12,5 is twelve and a half,
        # which the longer-row check would otherwise count as two values.
        "lsoa_code;score;residents\nE01006074;12,5;1500\nE01006075;3,25;1400\n",
        "lsoa_code;score;residents\r\nE01006074;12;1500\r\nE01006075;3;1400\r\n",
        # A header cell holding a comma is still fewer columns by commas than by semicolons.
        "lsoa_code;score, 2019;residents\nE01006074;12;1500\n",
    ],
)
def test_a_semicolon_separated_table_is_refused_asking_for_commas(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "indicators.csv"
    path.write_text(text, encoding="utf-8")
    spec = TableSpec(
        id="mine",
        path=path,
        code_column="lsoa_code",
        indicators=(IndicatorSpec("score", "Score", column="score"),),
    )
    with pytest.raises(ValidationError) as err:
        load_indicator_table(spec, ["E01006074", "E01006075"], ValidationReport())
    header = text.splitlines()[0]
    assert err.value.message == (
        f"[table:mine] indicators.csv: its header '{header}' looks semicolon-separated (as "
        "Excel saves CSV where the decimal mark is a comma): the columns must be separated by "
        "commas and decimals written with a point, for example 12.5; save it again that way "
        "(for Excel, with the decimal separator set to a point and the list separator to a "
        "comma)"
    )
    assert err.value.field == "path"


def test_a_semicolon_separated_code_lookup_is_refused_too(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    lookup = tmp_path / "lookup.csv"
    lookup.write_text(CODE_MAP.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    spec = replace(pop_spec(), code_map=CodeMapSpec(lookup, "lsoa21cd", "lsoa11cd"))
    with pytest.raises(ValidationError) as err:
        load_indicator_table(spec, list(trafford["area_code"]), ValidationReport())
    assert err.value.message.startswith(
        "[code_map:pop24] lookup.csv: its header 'lsoa21cd;lsoa21nm;lsoa11cd;lsoa11nm;change' "
        "looks semicolon-separated"
    )


def test_a_comma_separated_table_with_semicolons_in_its_header_is_read(tmp_path: Path) -> None:
    path = tmp_path / "indicators.csv"
    path.write_text(
        'code,"older; 65+",note\nE01006074,120,a;b;c\nE01006075,130,\n', encoding="utf-8"
    )
    spec = TableSpec(
        id="mine",
        path=path,
        code_column="code",
        indicators=(IndicatorSpec("older", "Older people", column="older; 65+"),),
    )
    report = ValidationReport()
    table = load_indicator_table(spec, ["E01006074", "E01006075"], report)
    assert report.ok
    assert table["older"].to_dict() == {"E01006074": 120.0, "E01006075": 130.0}


def test_a_table_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    # Excel's plain "CSV" is Windows-1252: the £ is byte 0xA3.
    path = tmp_path / "indicators.csv"
    path.write_bytes("code,x,note\nE01006074,1,ok\nE01006075,2,\u00a35 a week\n".encode("cp1252"))
    spec = TableSpec(
        id="mine", path=path, code_column="code", indicators=(IndicatorSpec("x", "X", column="x"),)
    )
    with pytest.raises(ValidationError) as err:
        load_indicator_table(spec, ["E01006074", "E01006075"], ValidationReport())
    assert err.value.message.startswith(
        "[table:mine] indicators.csv is not UTF-8 text: line 3 has the byte 0xA3, which is not "
        "UTF-8, after 'E01006075,2,'"
    )


def test_a_boundary_file_of_points_or_of_nothing_says_so(tmp_path: Path) -> None:
    raw = gpd.read_file(TRAFFORD).iloc[:2].copy()
    raw["geometry"] = raw.geometry.representative_point()
    raw.to_file(tmp_path / "points.geojson")
    report = ValidationReport()
    load_boundaries(trafford_spec(tmp_path / "points.geojson"), report)
    first = report.errors[0]
    assert first.message == (
        "area E01006074 has a Point geometry; areas must be polygons (Polygon or MultiPolygon)"
    )
    (tmp_path / "none.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ValidationError, match=r"none\.geojson has no features: it holds no areas"):
        load_boundaries(trafford_spec(tmp_path / "none.geojson"), ValidationReport())


def test_negative_counts_and_parts_larger_than_the_whole_are_errors(
    tmp_path: Path, trafford: gpd.GeoDataFrame
) -> None:
    # Two real rows of the mid-2024 file, made impossible: Trafford 025A (row 1 of the
    # Persons rows) with -50 residents, and the next LSOA with more over-65s than residents.
    raw = pd.read_csv(POP24, dtype=str, keep_default_na=False)
    persons = raw.index[raw["sex"] == "Persons"]
    first, second = int(persons[0]), int(persons[1])
    raw.loc[first, "all_ages"] = "-50"
    raw.loc[second, "aged_65_and_over"] = "99999"
    path = tmp_path / "pop.csv"
    raw.to_csv(path, index=False)
    spec = TableSpec(**{**pop_spec().__dict__, "path": path})
    report = ValidationReport()
    load_indicator_table(spec, list(trafford["area_code"]), report)
    found = [(i.kind, i.row, i.column) for i in report.errors]
    assert found == [
        ("negative_count", first + 1, "all_ages"),
        ("part_larger_than_whole", second + 1, "aged_65_and_over"),
    ]
    assert report.errors[0].message == "'all_ages' is a count and cannot be negative (-50)"
    total = raw.at[second, "all_ages"]
    assert report.errors[1].message == (
        f"'aged_65_and_over' (99,999) is larger than 'all_ages' ({int(total):,}), but "
        "pct_65plus (% of residents) counts it as a part of 'all_ages'"
    )


def test_control_and_bidirectional_characters_are_removed_from_area_names_and_codes(
    tmp_path: Path,
) -> None:
    # A name with a right-to-left override shows whatever a page puts after it reversed;
    # a code with an invisible character matches no table row.
    frame = gpd.read_file(TRAFFORD).head(2)[["LSOA11CD", "LSOA11NM", "geometry"]]
    first, second = frame["LSOA11CD"]
    frame["LSOA11CD"] = [f"\u2066{first}\u2069", f"{second}\x00"]
    frame["LSOA11NM"] = ["Trafford\u202e 001A", "Trafford\u202a 001B\u202c\x1b[31m"]
    path = tmp_path / "hostile.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = ValidationReport()
    areas = load_boundaries(trafford_spec(path), report)
    assert report.ok
    assert list(areas["area_code"]) == sorted([first, second])
    assert sorted(areas["area_name"]) == ["Trafford 001A", "Trafford 001B[31m"]
    table = tmp_path / "table.csv"
    table.write_text(f"code,value\n\u202d{first},1\n{second}\u202c,2\n", encoding="utf-8")
    spec = TableSpec(
        id="t",
        path=table,
        code_column="code",
        indicators=(IndicatorSpec("value", "Value", column="value"),),
    )
    values = load_indicator_table(spec, list(areas["area_code"]), report)
    assert report.ok, report.to_text()
    assert list(values.index) == sorted([first, second])


def test_the_upload_check_refuses_the_cells_the_run_refuses(tmp_path: Path) -> None:
    # One column per cell, every other row a clean number: the check must offer exactly the
    # columns the run takes, and name the same row and line as the run does.
    cells = ["12", " 7.5 ", "-3", "1e3", "inf", "-Infinity", "NaN", "1e999", "", " ", "1,5"]
    cells += ["0x10", "1_000", "½", "n/a"]
    columns = [f"c{n}" for n in range(len(cells))]
    rows = [["E01006074", *["1"] * len(cells)], ["E01006075", *cells]]
    rows += [[f"E0100607{n}", *["2"] * len(cells)] for n in range(6, 9)]
    path = tmp_path / "cells.csv"
    path.write_text(
        "\n".join(",".join(f'"{v}"' for v in row) for row in [["code", *columns], *rows]) + "\n",
        encoding="utf-8",
    )
    info = inspect_table(path)
    spec = TableSpec(
        id="cells",
        path=path,
        code_column="code",
        indicators=tuple(IndicatorSpec(c, c, column=c) for c in columns),
    )
    report = ValidationReport()
    load_indicator_table(spec, [r[0] for r in rows], report)
    refused = {i.column: (i.row, i.kind) for i in report.errors}
    assert set(info.numeric) == set(columns) - set(refused)
    assert set(info.numeric) == {"c0", "c1", "c2", "c3"}
    flagged = {n.column: (n.row, n.line, n.value, n.empty) for n in info.not_numeric}
    assert set(flagged) == set(refused)
    for column, (row, _kind) in refused.items():
        assert flagged[column][:2] == (row, row + 1), column
    assert flagged["c4"] == (2, 3, "inf", 0)
    assert flagged["c8"] == (2, 3, "", 1) and refused["c8"] == (2, "missing_value")
    assert flagged["c9"] == (2, 3, "", 1)
