"""The pure assessment on small hand-made layers, where every answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import Point, box

from assetmap.analysis.jsaa import AssessmentParams, assess
from assetmap.analysis.jsaa.scores import gap_and_priority, mid_percentile
from assetmap.domain.errors import ValidationError

# Two 0.01° squares side by side near Stretford (about 660 m × 1,110 m each).
WEST = box(-2.32, 53.44, -2.31, 53.45)
EAST = box(-2.31, 53.44, -2.30, 53.45)


def layers() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    areas = gpd.GeoDataFrame(
        {"area_code": ["E2", "E1"], "area_name": ["East", "West"]},
        geometry=[EAST, WEST],
        crs=4326,
    )
    indicators = pd.DataFrame(
        {"population": [1000.0, 0.0], "imd_score": [10.0, 40.0]},
        index=pd.Index(["E2", "E1"], name="area_code"),
    )
    assets = gpd.GeoDataFrame(
        {"category": ["library", "library", "park", "park"]},
        geometry=[
            Point(-2.31, 53.445),  # on the shared edge
            Point(-2.315, 53.445),  # inside West
            Point(-2.305, 53.441),  # inside East
            Point(-2.25, 53.445),  # outside both, about 3.4 km east of East
        ],
        crs=4326,
    )
    return areas, indicators, assets


def params(**kw: object) -> AssessmentParams:
    base: dict[str, object] = {
        "categories": ("library", "park", "food_bank"),
        "population": "population",
        "indicators": ("population", "imd_score"),
        "need_weights": {"imd_score": 1.0},
        "higher_is_more_need": {"imd_score": True},
        "catchment_m": 1000.0,
    }
    base.update(kw)
    return AssessmentParams(**base)  # type: ignore[arg-type]


def test_small_case_numbers() -> None:
    areas, indicators, assets = layers()
    steps: list[str] = []
    out = assess(areas, indicators, assets, params(), on_step=steps.append)
    assert steps == ["assets in areas", "reference points", "catchments and nearest", "scores"]
    assert list(out["area_code"]) == ["E1", "E2"]  # sorted by code
    west, east = out.iloc[0], out.iloc[1]
    # The asset on the shared edge counts once, in the area with the smaller code.
    assert (west["count_library"], east["count_library"]) == (2, 0)
    assert (west["count_park"], east["count_park"]) == (0, 1)
    assert pd.isna(west["per_1000_library"])  # no residents: no rate
    assert east["per_1000_park"] == 1.0
    # No postcodes given: the representative point, inside each square.
    assert set(out["centroid_method"]) == {"representative_point"}
    assert (out["centroid_postcodes"] == 0).all()
    # No food bank anywhere: no distance, nobody in reach, and the same access everywhere.
    assert out["nearest_m_food_bank"].isna().all()
    assert (out["within_catchment_food_bank"] == 0).all()
    assert (out["access_food_bank"] == 50.0).all()
    # Local need: West (IMD 40) is the needier of two areas.
    assert list(out["need_percentile"]) == [75.0, 25.0]


def test_distances_are_geodesic_metres() -> None:
    areas, indicators, assets = layers()
    out = assess(areas, indicators, assets, params())
    east = out.iloc[1]
    from pyproj import Geod

    _, _, expected = Geod(ellps="WGS84").inv(
        east["centroid_lon"], east["centroid_lat"], -2.305, 53.441
    )
    assert east["nearest_m_park"] == pytest.approx(expected, abs=0.1)


def test_missing_need_value_is_an_error() -> None:
    areas, indicators, assets = layers()
    indicators.loc["E1", "imd_score"] = np.nan
    with pytest.raises(ValidationError, match="imd_score has no value for area"):
        assess(areas, indicators, assets, params())


def test_mid_percentile() -> None:
    assert list(mid_percentile([1, 2, 3, 4])) == [12.5, 37.5, 62.5, 87.5]
    assert list(mid_percentile([5, 5, 5, 5])) == [50.0] * 4
    # Against a reference set: below + half of equal, over its size.
    assert list(mid_percentile([2, 10], [1, 2, 3, 4])) == [37.5, 100.0]
    assert np.isnan(mid_percentile([np.nan], [1, 2]))[0]


def test_priority_needs_both_conditions() -> None:
    gap, flag = gap_and_priority(
        [80.0, 95.0, 50.0],
        [20.0, 30.0, 5.0],
        gap_need_weight=0.5,
        gap_access_weight=0.5,
        need_top=0.2,
        access_bottom=0.2,
    )
    assert list(flag) == [True, False, False]
    assert list(gap) == [80.0, 82.5, 72.5]
