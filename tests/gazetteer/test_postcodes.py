"""Offline postcode geocoder over the shipped NSPL-derived directory."""

from __future__ import annotations

import csv
import gzip
import time
from pathlib import Path

import pytest

from assetmap.domain.errors import NotFound, ValidationError
from assetmap.gazetteer import (
    STUDY_AREAS,
    PostcodeIndex,
    PostcodePoint,
    UnknownPostcode,
    default_postcode_path,
    load_default_index,
)

SHIPPED_ROWS = 165_968  # data/README.md and the shared manifest


@pytest.fixture(scope="module")
def index() -> PostcodeIndex:
    return load_default_index()


@pytest.fixture(scope="module")
def raw_rows() -> list[dict[str, str]]:
    """The shipped file read with the csv module, independently of the index."""
    with gzip.open(default_postcode_path(), "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _outward(postcode: str) -> str:
    compact = postcode.replace(" ", "")
    return compact[:-3]


def test_default_path_is_inside_the_repository() -> None:
    path = default_postcode_path()
    repo_root = Path(__file__).resolve().parents[2]
    assert path == repo_root / "data" / "postcodes" / "postcodes_study_las_nspl2025.csv.gz"
    assert path.is_file()


def test_loads_every_row_quickly() -> None:
    started = time.perf_counter()
    index = PostcodeIndex.from_csv(default_postcode_path())
    elapsed = time.perf_counter() - started
    assert len(index) == SHIPPED_ROWS
    assert elapsed < 2.0  # typically ~0.3 s; generous for slow CI machines


def test_unit_postcode_has_its_published_centroid(index: PostcodeIndex) -> None:
    # data/postcodes/postcodes_study_las_nspl2025.csv.gz, row "M32 0TH,53.45901,-2.28748,..."
    point = index.lookup("m320th")
    assert point == PostcodePoint(query="M32 0TH", kind="unit", lon=-2.28748, lat=53.45901, count=1)


def test_postcode_stored_without_a_space_is_found(index: PostcodeIndex) -> None:
    # The file spells 4-character districts without a space: "LS101AA,53.76576,-1.50051,..."
    point = index.lookup("LS10 1AA")
    assert (point.query, point.lon, point.lat) == ("LS10 1AA", -1.50051, 53.76576)
    assert "ls101aa" in index


def test_terminated_london_postcode_is_found(index: PostcodeIndex) -> None:
    # "W1N 0BS,51.5221,-0.13623,..." (W1N is a terminated district, still in NSPL)
    point = index.lookup("W1N 0BS")
    assert (point.lon, point.lat) == (-0.13623, 51.5221)


@pytest.mark.parametrize("district", ["M33", "LS10", "WC2H", "B1"])
def test_district_centroid_is_the_mean_of_its_units(
    index: PostcodeIndex, raw_rows: list[dict[str, str]], district: str
) -> None:
    rows = [r for r in raw_rows if _outward(r["postcode"]) == district]
    assert rows
    point = index.lookup(district.lower())
    assert point.kind == "district"
    assert point.query == district
    assert point.count == len(rows)
    assert point.lon == pytest.approx(sum(float(r["long"]) for r in rows) / len(rows), abs=1e-9)
    assert point.lat == pytest.approx(sum(float(r["lat"]) for r in rows) / len(rows), abs=1e-9)


def test_m33_district_size(index: PostcodeIndex) -> None:
    # 2,585 rows of the shipped file start with "M33 " (grep -c '^M33 ').
    assert index.lookup("M33").count == 2585


@pytest.mark.parametrize("sector", ["M33 7", "LS10 1", "WC2H 9"])
def test_sector_centroid_is_the_mean_of_its_units(
    index: PostcodeIndex, raw_rows: list[dict[str, str]], sector: str
) -> None:
    outward, digit = sector.split()
    rows = [
        r
        for r in raw_rows
        if _outward(r["postcode"]) == outward and r["postcode"].replace(" ", "")[-3] == digit
    ]
    assert rows
    point = index.lookup(sector)
    assert (point.kind, point.query, point.count) == ("sector", sector, len(rows))
    assert point.lon == pytest.approx(sum(float(r["long"]) for r in rows) / len(rows), abs=1e-9)
    assert point.lat == pytest.approx(sum(float(r["lat"]) for r in rows) / len(rows), abs=1e-9)


def test_points_lie_in_the_study_areas(index: PostcodeIndex) -> None:
    # Trafford is around 53.4N 2.3W; a swapped lon/lat would fail this.
    point = index.lookup("M33")
    assert 53.3 < point.lat < 53.5
    assert -2.5 < point.lon < -2.2


@pytest.mark.parametrize("text", ["XYZ", "", "M3 3 3 3"])
def test_malformed_query_is_a_validation_error(index: PostcodeIndex, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        index.lookup(text)
    assert not isinstance(caught.value, NotFound)
    assert caught.value.field == "postcode"
    assert repr(text) in caught.value.message
    assert text not in index


def test_unknown_postcode_is_reported_as_a_user_error(
    index: PostcodeIndex, raw_rows: list[dict[str, str]]
) -> None:
    present = {r["postcode"].replace(" ", "") for r in raw_rows}
    assert "M999ZZ" not in present
    with pytest.raises(UnknownPostcode) as caught:
        index.lookup("m99 9zz")
    error = caught.value
    assert isinstance(error, NotFound)
    assert not isinstance(error, ValidationError)
    assert error.status == 400
    assert "'M99 9ZZ'" in error.message
    assert "study areas: " + ", ".join(STUDY_AREAS) in error.message
    assert "M99 9ZZ" not in index


@pytest.mark.parametrize(("text", "label"), [("M99", "district"), ("M33 8", "sector")])
def test_unknown_district_and_sector(
    index: PostcodeIndex, raw_rows: list[dict[str, str]], text: str, label: str
) -> None:
    # M33 has sectors 0-7 and 9 in the file, but no 8.
    prefix = text.replace(" ", "")
    assert not any(r["postcode"].replace(" ", "").startswith(prefix) for r in raw_rows)
    with pytest.raises(UnknownPostcode, match=f"Postcode {label} '{text}' is not in"):
        index.lookup(text)


def test_contains_and_len(index: PostcodeIndex) -> None:
    assert len(index) == SHIPPED_ROWS
    assert "M32 0TH" in index
    assert "M33" in index
    assert "M33 7" in index
    assert 42 not in index


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_ons_style_columns_and_missing_grid_references(tmp_path: Path) -> None:
    # NSPL marks postcodes without a grid reference with latitude 99.999999.
    path = write_csv(
        tmp_path / "nspl.csv",
        "pcd,pcds,lat,long\n"
        "M1  1AA,M1 1AA,53.47,-2.24\n"
        "M1  1AB,M1 1AB,53.48,-2.26\n"
        "M1  1ZZ,M1 1ZZ,99.999999,0.000000\n"
        "M1  1ZY,M1 1ZY,,\n",
    )
    index = PostcodeIndex.from_csv(path)
    assert len(index) == 2
    assert "M1 1ZZ" not in index
    district = index.lookup("M1")
    assert district.count == 2
    assert district.lat == pytest.approx(53.475)
    assert district.lon == pytest.approx(-2.25)
    with pytest.raises(UnknownPostcode) as caught:
        index.lookup("M2 1AA")
    assert "study areas" not in caught.value.message


def test_gzip_and_lon_column(tmp_path: Path) -> None:
    path = tmp_path / "points.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("Postcode,Lat,Lon,lad_name\nsk1 1aa,53.41,-2.15,Stockport\n")
    index = PostcodeIndex.from_csv(path)
    assert index.lookup("SK1 1AA") == PostcodePoint("SK1 1AA", "unit", -2.15, 53.41, 1)
    assert index.areas == ("Stockport",)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", "postcode,lat\nM1 1AA,53.4\n")
    with pytest.raises(ValidationError, match="no long column"):
        PostcodeIndex.from_csv(path)


def test_malformed_postcode_in_file_names_the_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        "postcode,lat,long\nM1 1AA,53.4,-2.2\nM2 1AA,99.999999,0\nNOT A CODE,53.4,-2.2\n",
    )
    with pytest.raises(ValidationError) as caught:
        PostcodeIndex.from_csv(path)
    assert caught.value.row == 3  # data row in the file, counting the skipped one
    assert "'NOT A CODE'" in caught.value.message


def test_repeated_postcode_is_rejected(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", "postcode,lat,long\nM1 1AA,53.4,-2.2\nM11AA,53.5,-2.3\n")
    with pytest.raises(ValidationError, match="M1 1AA"):
        PostcodeIndex.from_csv(path)
