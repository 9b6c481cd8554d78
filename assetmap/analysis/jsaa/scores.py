"""Need, access and gap scores, and the priority rule: the JSAA method in numbers.

:data:`METHOD` states the method in words; reports and the README quote it, and the tests
check the code against it. Every score is built from mid-rank percentiles, so indicators in
different units (an IMD score, a rank, a share of residents, a distance) combine on one
0–100 scale and a single outlier cannot dominate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from assetmap.domain.errors import ValidationError

# Comparisons with the priority thresholds allow for float noise in the percentiles.
_EPS = 1e-9
# Percentiles and scores are published to this many decimals, and the priority rule reads the
# published values, so anyone can re-check a flag from areas.csv.
SCORE_DECIMALS = 4
# Weighted sums of percentiles are rounded to this many decimals before they are ranked.
_SETTLE_DECIMALS = 9

METHOD = """\
Method (Assetmap JSAA)

Areas and population. Each area is a polygon of the chosen boundary set (for the demo, the 138
Trafford LSOAs, 2011 codes). Population is the configured population indicator; values
published on other codes (LSOA 2021) are mapped onto the areas' codes through a lookup, and an
area that was split is given the sum of its children. Distances are geodesic metres on the
WGS84 ellipsoid, the same measure as the nearby search; candidates are found in British
National Grid (EPSG:27700) and then measured exactly.

Asset counts. count_<category> is the number of published assets of that category whose point
lies inside the area (a point on a shared edge counts once, in the area with the smallest
code). per_1000_<category> = count / population × 1,000.

Catchment and nearest. Each area has one reference point: the mean position (in EPSG:27700) of
the postcode centroids that lie inside it, a proxy for where its residents live. If that mean
falls outside the area, the postcode nearest to the mean is used; if the area has no
postcode, its representative point (a point guaranteed inside the polygon). centroid_method
says which was used. within_catchment_<category> counts assets of the category within the
catchment distance (default 1,600 m, about 20 minutes' walk) of that point, wherever they are
(assets across a boundary count); nearest_m_<category> is the distance to the nearest one.
Postcode points stand in for people: every postcode counts the same, whatever its number of
residents, and the directory includes some retired postcodes.

Percentiles. A value's percentile within a reference set is the mid-rank percentile
100 × (number of reference values below it + half the number equal to it) / (size of the
set), from 0 to 100; ties share one percentile, and an area alone at the top of n areas gets
100 × (n − 0.5) / n. Weighted means of percentiles are rounded to 9 decimals before they are
ranked, so equal sums tie whatever the order of addition.

Need. Each need indicator with weight w > 0 is turned into a percentile so that a higher
percentile always means more need (indicators where a lower value means more need, such as an
IMD rank, are reversed first). need_score is the weighted mean of those percentiles.
need_percentile is the percentile of need_score. With scope "national" the reference set is
every area of England in the need indicators' tables (need in the top quintile then means the
most needy 20% nationally); with scope "local" it is the chosen areas.

Access. For each category, access_<category> is the weighted mean of the percentile of
within_catchment_<category> (more is better) and the percentile of nearest_m_<category>
reversed (nearer is better; no asset at all counts as farthest), both among the chosen areas.
access_score is the category-weighted mean of access_<category>, and access_percentile its
percentile among the chosen areas. Access is always local: it is measured only where assets
were mapped.

Gap and priority. gap_score = (g_need × need_percentile + g_access × (100 − access_percentile))
/ (g_need + g_access), from 0 (low need, good access) to 100 (high need, poor access). An area
is a priority when need_percentile ≥ 100 × (1 − need_top) and access_percentile ≤ 100 ×
access_bottom (by default: need in the top quintile and access in the bottom quintile).
Priority areas are ranked by gap_score (highest first), then need_percentile, then code.
Percentiles and scores are rounded to 4 decimals before the rule is applied, so each flag
can be checked from the published table. Weights, thresholds, scope and catchment come from
the assessment config, which every output records with its SHA-256.
"""


def _settle(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round away float noise so equal weighted sums tie (30 + 50 and 50 + 30 rank together)."""
    return np.round(scores, _SETTLE_DECIMALS)


def mid_percentile(values: ArrayLike, reference: ArrayLike | None = None) -> NDArray[np.float64]:
    """Mid-rank percentiles (0–100) of values within a reference set.

    Parameters
    ----------
    values
        Numbers to place; NaN gives NaN. ``-inf`` and ``inf`` are ordinary (lowest, highest).
    reference
        The set to rank against (NaN ignored); ``values`` itself when None.

    Returns
    -------
    numpy.ndarray
        ``100 × (below + equal / 2) / n`` for each value.
    """
    vals = np.asarray(values, dtype=np.float64)
    ref = vals if reference is None else np.asarray(reference, dtype=np.float64)
    ref = np.sort(ref[~np.isnan(ref)])
    out = np.full(vals.shape, np.nan)
    if ref.size == 0:
        return out
    ok = ~np.isnan(vals)
    below = np.searchsorted(ref, vals[ok], side="left")
    upto = np.searchsorted(ref, vals[ok], side="right")
    out[ok] = 100.0 * (below + (upto - below) / 2.0) / ref.size
    return out


def need_scores(
    indicators: pd.DataFrame,
    area_codes: Sequence[str],
    weights: Mapping[str, float],
    higher_is_more_need: Mapping[str, bool],
    *,
    scope: str,
) -> pd.DataFrame:
    """need_score and need_percentile of each area.

    Parameters
    ----------
    indicators
        Indicator values indexed by area code. For ``scope="national"`` it holds every area
        of the reference set (all England), not just the chosen ones.
    area_codes
        The chosen areas.
    weights
        Indicator name → weight (> 0).
    higher_is_more_need
        Indicator name → direction.
    scope
        ``"national"``: percentiles within every area that has all the need indicators;
        ``"local"``: within the chosen areas.

    Returns
    -------
    pandas.DataFrame
        Index ``area_codes``; ``need_score`` and ``need_percentile`` (0–100), rounded.

    Raises
    ------
    ValidationError
        A chosen area has no value for a weighted need indicator.
    """
    names = list(weights)
    chosen = indicators.reindex(list(area_codes))[names]
    gaps = chosen.isna()
    if gaps.to_numpy().any():
        col = next(c for c in names if gaps[c].any())
        codes = ", ".join(chosen.index[gaps[col]][:10])
        raise ValidationError(f"need indicator {col} has no value for area(s) {codes}", field=col)
    # National need is ranked against every area with all the need indicators (all England).
    reference = indicators[names].dropna() if scope == "national" else chosen
    total = sum(weights.values())
    ref_score = np.zeros(len(reference))
    area_score = np.zeros(len(chosen))
    for name in names:
        sign = 1.0 if higher_is_more_need[name] else -1.0
        ref_values = sign * reference[name].to_numpy(dtype=np.float64)
        area_values = sign * chosen[name].to_numpy(dtype=np.float64)
        ref_score += weights[name] * mid_percentile(ref_values, ref_values)
        area_score += weights[name] * mid_percentile(area_values, ref_values)
    ref_score = _settle(ref_score / total)
    area_score = _settle(area_score / total)
    return pd.DataFrame(
        {
            "need_score": np.round(area_score, SCORE_DECIMALS),
            "need_percentile": np.round(mid_percentile(area_score, ref_score), SCORE_DECIMALS),
        },
        index=chosen.index,
    )


def access_scores(
    within: NDArray[np.int64],
    nearest_m: NDArray[np.float64],
    categories: Sequence[str],
    category_weights: Mapping[str, float],
    *,
    catchment_weight: float,
    nearest_weight: float,
) -> pd.DataFrame:
    """Per-category access, access_score and access_percentile (all local, 0–100).

    Parameters
    ----------
    within
        ``(areas, categories)`` counts of assets within the catchment.
    nearest_m
        ``(areas, categories)`` geodesic metres to the nearest asset; NaN when there is none.
    categories, category_weights
        Category ids (column order) and their weights.
    catchment_weight, nearest_weight
        How the two measures combine within a category.

    Returns
    -------
    pandas.DataFrame
        ``access_<category>`` columns, ``access_score`` and ``access_percentile``, rounded;
        RangeIndex aligned with the rows of ``within``.
    """
    measure_total = catchment_weight + nearest_weight
    cat_total = sum(category_weights[c] for c in categories)
    out: dict[str, NDArray[np.float64]] = {}
    score = np.zeros(within.shape[0])
    for j, cat in enumerate(categories):
        # No asset at all is the worst possible access, not a missing value.
        reach = -np.nan_to_num(nearest_m[:, j], nan=np.inf)
        per_cat = (
            catchment_weight * mid_percentile(within[:, j].astype(np.float64))
            + nearest_weight * mid_percentile(reach)
        ) / measure_total
        out[f"access_{cat}"] = np.round(per_cat, SCORE_DECIMALS)
        score += category_weights[cat] * per_cat
    score = _settle(score / cat_total)
    out["access_score"] = np.round(score, SCORE_DECIMALS)
    out["access_percentile"] = np.round(mid_percentile(score), SCORE_DECIMALS)
    return pd.DataFrame(out)


def gap_and_priority(
    need_percentile: ArrayLike,
    access_percentile: ArrayLike,
    *,
    gap_need_weight: float,
    gap_access_weight: float,
    need_top: float,
    access_bottom: float,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """gap_score (0–100) and the priority flag, from published (rounded) percentiles.

    Returns
    -------
    tuple
        ``(gap_score, priority)`` arrays.
    """
    need = np.asarray(need_percentile, dtype=np.float64)
    access = np.asarray(access_percentile, dtype=np.float64)
    gap = (gap_need_weight * need + gap_access_weight * (100.0 - access)) / (
        gap_need_weight + gap_access_weight
    )
    priority = (need >= 100.0 * (1.0 - need_top) - _EPS) & (access <= 100.0 * access_bottom + _EPS)
    return np.round(gap, SCORE_DECIMALS), priority
