"""Local authority districts from the shipped LSOA 2011 polygons (data/boundaries)."""

from __future__ import annotations

import csv
import gzip
import random

import pytest

import shapely

from assetmap.domain.errors import ValidationError
from assetmap.gazetteer.areas import AreaIndex, default_areas_path, load_default_areas
from assetmap.gazetteer.postcodes import default_postcode_path


@pytest.fixture(scope="module")
def areas() -> AreaIndex:
    return load_default_areas()


def test_the_shipped_districts(areas: AreaIndex) -> None:
    # data/README.md: Birmingham, Camden, Leeds, Sandwell, Trafford and Kent's 12 districts.
    assert len(areas.areas) == 17
    assert areas.get("e08000009") is not None and areas.areas["E08000009"].name == "Trafford"
    assert areas.areas["E07000112"].label == "E07000112 Shepway (Folkestone and Hythe)"
    assert default_areas_path().name == "lsoa11_study_las.geojson.gz"


def test_points_fall_in_their_district(areas: AreaIndex) -> None:
    hale_library = areas.area_at(-2.34571, 53.37612)
    assert hale_library is not None and hale_library.code == "E08000009"
    camden_town = areas.area_at(-0.1426, 51.539)
    assert camden_town is not None and camden_town.name == "Camden"
    assert areas.area_at(-2.2308, 53.4774) is None  # Manchester: not a shipped district
    assert areas.area_at(0.0, 0.0) is None


def test_postcode_centroids_agree_with_the_directory(areas: AreaIndex) -> None:
    # The postcode file's lad_code_pip came from the same polygons (data/README.md): a
    # random 2,000 of its 165,968 centroids must land in the district it names.
    with gzip.open(default_postcode_path(), "rt", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in random.Random(7).sample(rows, 2_000):
        found = areas.area_at(float(row["long"]), float(row["lat"]))
        assert found is not None and found.code == row["lad_code_pip"], row["postcode"]


def test_a_point_on_a_shared_edge_goes_to_the_smallest_lsoa_code() -> None:
    left, right = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    index = AreaIndex(
        ["E01000002", "E01000001"], ["E0000000B", "E0000000A"], ["B", "A"], [left, right]
    )
    edge, inside = index.area_at(1.0, 0.5), index.area_at(0.5, 0.5)
    assert edge is not None and edge.name == "A"
    assert inside is not None and inside.name == "B"


def test_codes_are_checked_and_the_bad_one_named(areas: AreaIndex) -> None:
    assert areas.check_codes([" e09000007", "E08000009", "E08000009"]) == ("E08000009", "E09000007")
    assert areas.check_codes([]) == ()
    with pytest.raises(ValidationError, match="'E08000003' is not a known area") as err:
        areas.check_codes(["E08000009", "E08000003"])
    assert err.value.field == "area"
    assert "E08000009 Trafford" in err.value.message
