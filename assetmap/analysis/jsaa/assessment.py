"""The per-area assessment: pure functions, GeoDataFrames in and out.

Storage and display CRS is EPSG:4326. Point-in-polygon tests run on the published (EPSG:4326)
boundaries; candidate searches run in British National Grid (EPSG:27700) metres; every
reported distance is geodesic (WGS84), as in the nearby search. All the spatial work is
vectorised: one STRtree query for point-in-polygon, one KD-tree per category for catchments
and nearest neighbours; nothing loops over areas or assets in Python.

The method is stated in :data:`assetmap.analysis.jsaa.scores.METHOD`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import KDTree

import geopandas as gpd
import shapely
from pyproj import Transformer

from assetmap.analysis.jsaa.scores import (
    SCORE_DECIMALS,
    access_scores,
    gap_and_priority,
    need_scores,
)
from assetmap.analysis.needs import STORAGE_CRS, counted, number_with_unit
from assetmap.domain.errors import ValidationError
from assetmap.domain.geodesy import WGS84

BNG = "EPSG:27700"
CENTROID_POSTCODE_MEAN = "postcode_mean"
CENTROID_POSTCODE_NEAREST = "postcode_nearest_mean"
CENTROID_REPRESENTATIVE = "representative_point"
# Assessment steps reported through ``on_step``, in order.
ASSESS_STEPS = ("assets in areas", "reference points", "catchments and nearest", "scores")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
StepCallback = Callable[[str], None]


@dataclass(frozen=True)
class AssessmentParams:
    """What to assess and how to score it (see ``METHOD``).

    Parameters
    ----------
    categories
        Category ids, in output order.
    population
        Name of the indicator column holding residents per area.
    indicators
        Indicator columns to copy into the output, in order.
    need_weights, higher_is_more_need
        Weight (> 0) and direction of each need indicator.
    category_weights
        Weight of each category in ``access_score`` (default 1).
    catchment_m
        Catchment radius in geodesic metres.
    catchment_weight, nearest_weight
        How the two access measures combine within a category.
    gap_need_weight, gap_access_weight
        How need and access combine in ``gap_score``.
    scope
        ``"national"`` or ``"local"`` need percentiles.
    need_top, access_bottom
        Fractions defining the priority rule (0.2 and 0.2: top and bottom quintiles).
    category_labels, indicator_labels
        Display names used in ``priority_reason``.
    indicator_units
        Each indicator's unit, as its config gives it, which ``priority_reason`` puts after
        its value.
    """

    categories: tuple[str, ...]
    population: str
    need_weights: Mapping[str, float]
    higher_is_more_need: Mapping[str, bool]
    indicators: tuple[str, ...] = ()
    category_weights: Mapping[str, float] = field(default_factory=dict)
    catchment_m: float = 1600.0
    catchment_weight: float = 0.5
    nearest_weight: float = 0.5
    gap_need_weight: float = 0.5
    gap_access_weight: float = 0.5
    scope: str = "local"
    need_top: float = 0.2
    access_bottom: float = 0.2
    category_labels: Mapping[str, str] = field(default_factory=dict)
    indicator_labels: Mapping[str, str] = field(default_factory=dict)
    indicator_units: Mapping[str, str] = field(default_factory=dict)


@cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(STORAGE_CRS, BNG, always_xy=True)


@cache
def _from_bng() -> Transformer:
    return Transformer.from_crs(BNG, STORAGE_CRS, always_xy=True)


def to_bng(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS84 lon/lat degrees → British National Grid easting/northing metres."""
    x, y = _to_bng().transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def from_bng(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """British National Grid metres → WGS84 lon/lat degrees."""
    lon, lat = _from_bng().transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def asset_arrays(
    assets: gpd.GeoDataFrame, categories: Sequence[str]
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Lon, lat (EPSG:4326 degrees) and category index of the assets in ``categories``.

    A polygon asset is represented by its representative point. Assets of other categories
    are left out.
    """
    frame = assets.to_crs(STORAGE_CRS) if assets.crs != STORAGE_CRS else assets
    cat = pd.Categorical(frame["category"], categories=list(categories)).codes.astype(np.int64)
    keep = cat >= 0
    geoms = np.asarray(frame.geometry.to_numpy())[keep]
    other = shapely.get_type_id(geoms) != 0
    if other.any():
        geoms = geoms.copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
    return (
        shapely.get_x(geoms).astype(np.float64),
        shapely.get_y(geoms).astype(np.float64),
        cat[keep],
    )


def assign_points(polygons: Any, lon: FloatArray, lat: FloatArray) -> IntArray:
    """The area each point lies in (point-in-polygon, EPSG:4326), or -1.

    A point on an edge shared by several areas goes to the one listed first (the smallest
    code, as areas are sorted), so each point is counted once.

    Parameters
    ----------
    polygons
        Array of area polygons, EPSG:4326.
    lon, lat
        Point coordinates, WGS84 degrees.

    Returns
    -------
    numpy.ndarray
        For each point, the index of its polygon in ``polygons``, or -1 when outside all.
    """
    owner = np.full(len(lon), -1, dtype=np.int64)
    if len(lon) == 0 or len(polygons) == 0:
        return owner
    # The tree holds the points and the polygons query it, so each polygon is prepared once
    # and tested only against the points in its bounding box.
    tree = shapely.STRtree(shapely.points(lon, lat))
    poly_idx, point_idx = tree.query(np.asarray(polygons), predicate="intersects")
    owner[point_idx] = poly_idx
    shared = np.bincount(point_idx, minlength=len(lon)) > 1
    if shared.any():
        # Points on a shared edge go to the smallest polygon index (the smallest code).
        np.minimum.at(owner, point_idx[shared[point_idx]], poly_idx[shared[point_idx]])
    return owner


def reference_points(
    polygons: Any, postcode_lon: FloatArray, postcode_lat: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.object_], IntArray]:
    """Each area's population-weighted reference point, from the postcodes inside it.

    Parameters
    ----------
    polygons
        Area polygons, EPSG:4326.
    postcode_lon, postcode_lat
        Postcode centroids, WGS84 degrees (empty arrays: every area falls back).

    Returns
    -------
    tuple
        ``(lon, lat, method, n_postcodes)``: the point in WGS84 degrees; ``method`` is
        ``postcode_mean`` (mean of the postcodes in EPSG:27700), ``postcode_nearest_mean``
        (the mean fell outside the area, so the postcode nearest to it) or
        ``representative_point`` (no postcode in the area); and how many postcodes were used.
    """
    polys = np.asarray(polygons)
    n = len(polys)
    owner = assign_points(polys, postcode_lon, postcode_lat)
    inside = owner >= 0
    own = owner[inside]
    px, py = to_bng(postcode_lon[inside], postcode_lat[inside])
    count = np.bincount(own, minlength=n).astype(np.int64)
    has = count > 0
    mx = np.bincount(own, weights=px, minlength=n).astype(np.float64)
    my = np.bincount(own, weights=py, minlength=n).astype(np.float64)
    mx[has] /= count[has]
    my[has] /= count[has]
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    method = np.full(n, CENTROID_REPRESENTATIVE, dtype=object)
    lon[has], lat[has] = from_bng(mx[has], my[has])
    method[has] = CENTROID_POSTCODE_MEAN
    shapely.prepare(polys)
    outside = has.copy()
    outside[has] = ~shapely.intersects_xy(polys[has], lon[has], lat[has])
    if outside.any():
        # A crescent-shaped area can have its mean outside it; its nearest postcode is inside.
        sel = outside[own]
        areas_sel = own[sel]
        dist = np.hypot(px[sel] - mx[areas_sel], py[sel] - my[areas_sel])
        order = np.lexsort((dist, areas_sel))
        _, first = np.unique(areas_sel[order], return_index=True)
        picked = np.flatnonzero(inside)[np.flatnonzero(sel)[order[first]]]
        target = areas_sel[order[first]]
        lon[target], lat[target] = postcode_lon[picked], postcode_lat[picked]
        method[target] = CENTROID_POSTCODE_NEAREST
    if (~has).any():
        rep = shapely.point_on_surface(polys[~has])
        lon[~has], lat[~has] = shapely.get_x(rep), shapely.get_y(rep)
    return lon, lat, method, count


def catchment_and_nearest(
    centre_lon: FloatArray,
    centre_lat: FloatArray,
    asset_lon: FloatArray,
    asset_lat: FloatArray,
    asset_cat: IntArray,
    n_categories: int,
    catchment_m: float,
) -> tuple[IntArray, FloatArray]:
    """Assets within the catchment of each centre, and the distance to the nearest one.

    Parameters
    ----------
    centre_lon, centre_lat
        Reference points, WGS84 degrees.
    asset_lon, asset_lat, asset_cat
        Asset points (WGS84 degrees) and category index (0 … n_categories − 1).
    n_categories
        Number of categories.
    catchment_m
        Radius in geodesic metres (distance ≤ radius counts).

    Returns
    -------
    tuple
        ``(within, nearest_m)``, each ``(centres, categories)``: counts, and geodesic metres
        (NaN where a category has no asset).
    """
    n = len(centre_lon)
    within = np.zeros((n, n_categories), dtype=np.int64)
    nearest = np.full((n, n_categories), np.nan)
    if n == 0:
        return within, nearest
    cx, cy = to_bng(centre_lon, centre_lat)
    centres = np.column_stack([cx, cy])
    # Grid metres per geodesic metre at each centre. The projection (and the datum shift) is
    # conformal, so one probe gives the local scale in every direction; over a catchment it
    # changes by under a millimetre, so the grid radius below selects exactly the assets
    # within catchment_m geodesic metres.
    probe_lon, probe_lat = from_bng(cx + catchment_m, cy)
    _, _, probe_m = WGS84.inv(centre_lon, centre_lat, probe_lon, probe_lat)
    radius_grid = catchment_m * catchment_m / np.asarray(probe_m, dtype=np.float64)
    ax, ay = to_bng(asset_lon, asset_lat)
    for j in range(n_categories):
        sel = np.flatnonzero(asset_cat == j)
        if sel.size == 0:
            continue
        tree = KDTree(np.column_stack([ax[sel], ay[sel]]))
        within[:, j] = np.asarray(
            tree.query_ball_point(centres, r=radius_grid, return_length=True), dtype=np.int64
        )
        _, idx = tree.query(centres, k=1)
        best = sel[np.asarray(idx, dtype=np.int64)]
        # The grid finds the nearest; the distance reported is the exact geodesic one.
        _, _, dist = WGS84.inv(centre_lon, centre_lat, asset_lon[best], asset_lat[best])
        nearest[:, j] = np.asarray(dist, dtype=np.float64)
    return within, nearest


def _storage_areas(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for column in ("area_code", "area_name"):
        if column not in areas.columns:
            raise ValidationError(f"areas need an '{column}' column", field=column)
    if not areas["area_code"].is_unique:
        raise ValidationError("area codes must be unique", field="area_code")
    frame = areas.to_crs(STORAGE_CRS) if areas.crs != STORAGE_CRS else areas
    return frame.sort_values("area_code", kind="stable").reset_index(drop=True)


def assess(
    areas: gpd.GeoDataFrame,
    indicators: pd.DataFrame,
    assets: gpd.GeoDataFrame,
    params: AssessmentParams,
    *,
    postcodes: gpd.GeoDataFrame | None = None,
    on_step: StepCallback | None = None,
) -> gpd.GeoDataFrame:
    """Assess every area: indicators, asset counts, catchments, nearest distances, scores.

    Parameters
    ----------
    areas
        ``area_code``, ``area_name`` and polygon ``geometry`` (any CRS; EPSG:4326 expected).
    indicators
        Indicator values indexed by area code; must hold ``params.population`` and every
        need indicator for each area. For national scope it also holds the rest of England.
    assets
        ``category`` and point ``geometry`` (polygons use their representative point).
    params
        Categories, weights, thresholds, catchment (metres) and scope.
    postcodes
        Postcode points, the population proxy for reference points (optional).
    on_step
        Called with each name of :data:`ASSESS_STEPS` when that step is done.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area, sorted by ``area_code``, EPSG:4326, columns in this order:
        ``area_code, area_name, population``, the indicators, then per category
        ``count_, per_1000_, within_catchment_, nearest_m_`` (geodesic metres, unrounded) and
        ``access_``; ``centroid_method, centroid_postcodes, centroid_lon, centroid_lat``;
        ``need_score, need_percentile, access_score, access_percentile, gap_score,
        priority, priority_rank, priority_reason`` and ``geometry``.
    """
    step: StepCallback = on_step or (lambda _name: None)
    frame = _storage_areas(areas)
    codes = frame["area_code"].astype(str).to_numpy()
    polygons = np.asarray(frame.geometry.to_numpy())
    cats = params.categories
    n, k = len(frame), len(cats)
    if params.population not in indicators.columns:
        raise ValidationError(f"no indicator '{params.population}'", field="population")
    chosen = indicators.reindex(codes)
    population = chosen[params.population].to_numpy(dtype=np.float64)

    a_lon, a_lat, a_cat = asset_arrays(assets, cats)
    owner = assign_points(polygons, a_lon, a_lat)
    counts = np.zeros((n, k), dtype=np.int64)
    hit = owner >= 0
    np.add.at(counts, (owner[hit], a_cat[hit]), 1)
    step(ASSESS_STEPS[0])

    if postcodes is not None and len(postcodes):
        pc = postcodes.to_crs(STORAGE_CRS) if postcodes.crs != STORAGE_CRS else postcodes
        pc_lon = shapely.get_x(pc.geometry.to_numpy()).astype(np.float64)
        pc_lat = shapely.get_y(pc.geometry.to_numpy()).astype(np.float64)
    else:
        pc_lon = pc_lat = np.empty(0, dtype=np.float64)
    c_lon, c_lat, method, n_pc = reference_points(polygons, pc_lon, pc_lat)
    step(ASSESS_STEPS[1])

    within, nearest = catchment_and_nearest(
        c_lon, c_lat, a_lon, a_lat, a_cat, k, params.catchment_m
    )
    step(ASSESS_STEPS[2])

    need = need_scores(
        indicators, codes, params.need_weights, params.higher_is_more_need, scope=params.scope
    )
    weights = {c: params.category_weights.get(c, 1.0) for c in cats}
    access = access_scores(
        within,
        nearest,
        cats,
        weights,
        catchment_weight=params.catchment_weight,
        nearest_weight=params.nearest_weight,
    )
    need_pct = need["need_percentile"].to_numpy()
    access_pct = access["access_percentile"].to_numpy()
    gap, priority = gap_and_priority(
        need_pct,
        access_pct,
        gap_need_weight=params.gap_need_weight,
        gap_access_weight=params.gap_access_weight,
        need_top=params.need_top,
        access_bottom=params.access_bottom,
    )

    columns: dict[str, Any] = {
        "area_code": codes,
        "area_name": frame["area_name"].astype(str).to_numpy(),
        "population": _whole_numbers(population),
    }
    for name in params.indicators:
        if name != "population":
            columns[name] = _whole_numbers(chosen[name].to_numpy(dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_1000 = np.where(population[:, None] > 0, counts * 1000.0 / population[:, None], np.nan)
    for j, cat in enumerate(cats):
        columns[f"count_{cat}"] = counts[:, j]
        columns[f"per_1000_{cat}"] = np.round(per_1000[:, j], SCORE_DECIMALS)
        columns[f"within_catchment_{cat}"] = within[:, j]
        # Full precision: the access percentiles rank these exact distances, so the table
        # must hold them too, or it shows ties (922.8 and 922.8 m) the method never saw and
        # access_<category> cannot be re-derived from it. Displays round for themselves.
        columns[f"nearest_m_{cat}"] = nearest[:, j]
        columns[f"access_{cat}"] = access[f"access_{cat}"].to_numpy()
    columns.update(
        {
            "centroid_method": method.astype(str),
            "centroid_postcodes": n_pc,
            "centroid_lon": np.round(c_lon, 7),
            "centroid_lat": np.round(c_lat, 7),
            "need_score": need["need_score"].to_numpy(),
            "need_percentile": need_pct,
            "access_score": access["access_score"].to_numpy(),
            "access_percentile": access_pct,
            "gap_score": gap,
            "priority": priority,
        }
    )
    out = pd.DataFrame(columns)
    out["priority_rank"] = _priority_rank(out)
    out["priority_reason"] = _reasons(out, chosen, params)
    step(ASSESS_STEPS[3])
    return gpd.GeoDataFrame(out, geometry=polygons, crs=STORAGE_CRS)


def _whole_numbers(values: FloatArray) -> Any:
    """Counts, ranks and deciles as integers (nullable), so the CSV says 1634, not 1634.0."""
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
        return pd.array(np.where(np.isfinite(values), values, np.nan), dtype="Int64")
    return values


def _priority_rank(table: pd.DataFrame) -> pd.Series[Any]:
    flagged = table[table["priority"]]
    order = flagged.sort_values(
        ["gap_score", "need_percentile", "area_code"], ascending=[False, False, True]
    ).index
    rank = pd.Series(pd.NA, index=table.index, dtype="Int64")
    rank.loc[order] = np.arange(1, len(order) + 1)
    return rank


def _reasons(table: pd.DataFrame, chosen: pd.DataFrame, params: AssessmentParams) -> list[str]:
    """A plain-English reason for each priority area (empty for the others)."""
    need_cut = 100.0 * (1.0 - params.need_top)
    access_cut = 100.0 * params.access_bottom
    scope = "in England" if params.scope == "national" else "among these areas"
    reasons = [""] * len(table)
    for i in map(int, np.flatnonzero(table["priority"].to_numpy())):
        row = table.iloc[i]
        parts = [
            f"need percentile {row['need_percentile']:.1f} {scope} (priority from {need_cut:g})",
            f"access percentile {row['access_percentile']:.1f} (priority up to {access_cut:g})",
        ]
        for name in params.need_weights:
            label = params.indicator_labels.get(name, name)
            unit = params.indicator_units.get(name, "")
            parts.append(f"{label} {value_with_unit(chosen[name].iat[i], unit)}")
        weakest = sorted(params.categories, key=lambda c: (row[f"access_{c}"], c))[:3]
        for cat in weakest:
            label = params.category_labels.get(cat, cat)
            dist = row[f"nearest_m_{cat}"]
            near = "none mapped" if pd.isna(dist) else f"nearest {dist:,.0f} m"
            within = counted(int(row[f"within_catchment_{cat}"]), "asset")
            parts.append(
                f"weak access to {label}: {near}, {within} within {params.catchment_m:,.0f} m"
            )
        reasons[i] = "; ".join(parts)
    return reasons


def value_with_unit(value: object, unit: str) -> str:
    """An indicator's value with its unit, as a priority reason gives it.

    Parameters
    ----------
    value
        The value, in the indicator's unit.
    unit
        The unit as the config gives it, perhaps ending in a note in brackets.

    Returns
    -------
    str
        ``"27.8% of residents"``, ``"1,634 people"``, ``"2,401 (rank of 32,844, 1 = most
        deprived)"``, or the number alone for an indicator without a unit. A note follows
        its unit after a comma: a semicolon separates one reason from the next.
    """
    return number_with_unit(_fmt(value), unit)


def _fmt(value: object) -> str:
    """Whole numbers with separators; others to three significant figures, never as 1e+03."""
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer() or abs(number) >= 100:
        return f"{number:,.0f}"
    return str(np.format_float_positional(number, precision=3, fractional=False, trim="-"))
