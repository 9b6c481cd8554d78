"""Run an assessment from a config: load the needs layers and assets, assess, summarise.

:func:`run_jsaa` is what the CLI (and later the web job) calls. It reads every input the
config names, checks them into one :class:`ValidationReport` (any error stops the run with
:class:`NeedsLayerError`), takes the published assets of the chosen categories from the
store, and returns a :class:`JsaaResult` holding the per-area GeoDataFrame, the summary and
the provenance. Writing files is :func:`assetmap.analysis.jsaa.outputs.write_outputs`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import geopandas as gpd

from assetmap.analysis.jsaa.assessment import (
    ASSESS_STEPS,
    AssessmentParams,
    assess,
    assign_points,
)
from assetmap.analysis.jsaa.config import JsaaConfig
from assetmap.analysis.jsaa.outputs import build_provenance, build_summary
from assetmap.analysis.needs import (
    STORAGE_CRS,
    SourceMeta,
    ValidationReport,
    file_sha256,
    load_boundaries,
    load_indicator_table,
    load_postcode_points,
)
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store

StepCallback = Callable[[str], None]


@dataclass
class JsaaResult:
    """Everything one run produced, in memory; ``areas`` is the per-area GeoDataFrame."""

    config: JsaaConfig
    areas: gpd.GeoDataFrame
    assets: gpd.GeoDataFrame
    report: ValidationReport
    summary: dict[str, Any]
    provenance: dict[str, Any]


@dataclass
class NeedsData:
    """The checked needs layers of a config."""

    areas: gpd.GeoDataFrame
    indicators: pd.DataFrame
    postcodes: gpd.GeoDataFrame | None
    report: ValidationReport
    inputs: list[dict[str, Any]]


def run_steps(config: JsaaConfig) -> tuple[str, ...]:
    """Names of the steps :func:`run_jsaa` reports, in order (for a progress bar)."""
    tables = tuple(f"table {t.id}" for t in config.tables)
    postcodes = ("postcodes",) if config.postcodes else ()
    return ("areas", *tables, *postcodes, "assets", *ASSESS_STEPS, "summary")


def _input_record(
    config: JsaaConfig, role: str, path: Path, meta: SourceMeta, **extra: Any
) -> dict[str, Any]:
    digest = file_sha256(path)
    pinned = config.pins.get(path)
    if pinned is not None and pinned != digest:
        raise ValidationError(
            f"{role}: {config.written_paths.get(path, path.name)} has sha256 {digest}, but the "
            f"config pins {pinned}: the file changed since the config was saved",
            field="sha256",
        )
    return {
        "role": role,
        "path": config.written_paths.get(path, path.name),
        "sha256": digest,
        "bytes": path.stat().st_size,
        "source": meta.source,
        "licence": meta.licence,
        "date": meta.date,
        **extra,
    }


def load_needs(config: JsaaConfig, *, on_step: StepCallback | None = None) -> NeedsData:
    """Load and check the areas, indicator tables and postcodes a config names.

    Parameters
    ----------
    config
        A loaded config.
    on_step
        Called after each layer (names as in :func:`run_steps`).

    Returns
    -------
    NeedsData
        Areas (EPSG:4326), indicators (index ``area_code``, every row of every table),
        postcode points or None, the report and the input provenance records.

    Raises
    ------
    NeedsLayerError
        When the report holds any error; ``err.report`` lists them all.
    """
    step: StepCallback = on_step or (lambda _name: None)
    report = ValidationReport()
    spec = config.areas
    inputs = [
        _input_record(
            config,
            "areas",
            spec.path,
            spec.meta,
            code_column=spec.code_column,
            name_column=spec.name_column,
            code_system=spec.code_system,
            where={k: list(v) for k, v in spec.where.items()},
        )
    ]
    areas = load_boundaries(spec, report)
    step("areas")
    codes = list(areas["area_code"])
    names = dict(zip(areas["area_code"], areas["area_name"], strict=True))
    frames = []
    for table in config.tables:
        inputs.append(
            _input_record(
                config,
                f"table:{table.id}",
                table.path,
                table.meta,
                indicators=[i.name for i in table.indicators],
            )
        )
        if table.code_map is not None:
            inputs.append(
                _input_record(
                    config, f"code_map:{table.id}", table.code_map.path, table.code_map.meta
                )
            )
        frames.append(load_indicator_table(table, codes, report, area_names=names))
        step(f"table {table.id}")
    indicators = pd.concat(frames, axis=1, join="outer").sort_index()
    indicators.index.name = "area_code"
    if config.decile_indicator is not None:
        _check_deciles(config, config.decile_indicator, indicators, codes, report)
    postcodes = None
    if config.postcodes is not None:
        pc = config.postcodes
        inputs.append(_input_record(config, "postcodes", pc.path, pc.meta))
        minx, miny, maxx, maxy = areas.total_bounds
        postcodes = load_postcode_points(
            pc.path,
            lon_column=pc.lon_column,
            lat_column=pc.lat_column,
            bounds=(float(minx), float(miny), float(maxx), float(maxy)),
        )
        step("postcodes")
    report.raise_for_errors()
    return NeedsData(areas, indicators, postcodes, report, inputs)


def _check_deciles(
    config: JsaaConfig,
    name: str,
    indicators: pd.DataFrame,
    codes: list[str],
    report: ValidationReport,
) -> None:
    """Each chosen area's value of the summary's decile indicator must be a decile, 1 to 10.

    The provision charts group areas by this value and compare deciles 1-2 with 9-10: a
    score or a rank there would make dozens of "deciles" and a comparison of the wrong areas.
    """
    spec = config.indicator(name)
    values = indicators.reindex(codes)[name]
    bad = values.notna() & ~(values.between(1, 10) & (values == values.round()))
    for code, value in values[bad].items():
        report.add(
            "error",
            "not_a_decile",
            f"table:{config.table_of(name).id}",
            f"{spec.label} ('{name}') is summary.decile_indicator, but area {code} has "
            f"{value:g}: a decile is a whole number from 1 to 10",
            column=spec.column,
            codes=[str(code)],
        )


def assets_frame(
    store: Store, categories: tuple[str, ...]
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The published assets of some categories, as points, and their provenance.

    Returns
    -------
    tuple
        A GeoDataFrame (``id, name, category, revision``, point geometry, EPSG:4326, sorted by
        id) and a record with the count per category and a SHA-256 over each asset's id,
        revision, category and position, so a rerun on changed assets is detectable.
    """
    # Columns, not Assets: England holds a million, and only these fields are used.
    points = store.asset_points(status="published", categories=list(categories))
    frame = gpd.GeoDataFrame(
        {
            "id": points.ids,
            "name": points.names,
            "category": points.categories,
            "revision": points.revisions,
        },
        geometry=gpd.points_from_xy(points.lons, points.lats),
        crs=STORAGE_CRS,
    )
    digest = hashlib.sha256()
    for asset_id, revision, category, lon, lat in zip(
        points.ids,
        points.revisions,
        points.categories,
        points.lons.tolist(),  # Python floats: their repr is what the digest has always used
        points.lats.tolist(),
        strict=True,
    ):
        digest.update(f"{asset_id},{revision},{category},{lon!r},{lat!r}\n".encode())
    counts = Counter(points.categories)
    by_category = {c: counts.get(c, 0) for c in categories}
    record = {
        "role": "assets",
        "status": "published",
        "count": len(points),
        "by_category": by_category,
        "sha256": digest.hexdigest(),
        "licences": sorted({licence for licence in points.licences if licence}),
        "sources": sorted({source for source in points.sources if source}),
    }
    return frame, record


def _extent(frame: gpd.GeoDataFrame) -> str:
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    return f"longitude {minx:.3f} to {maxx:.3f}, latitude {miny:.3f} to {maxy:.3f}"


def check_alignment(
    config: JsaaConfig, needs: NeedsData, table: gpd.GeoDataFrame, assets: gpd.GeoDataFrame
) -> None:
    """Refuse a run whose layers do not lie on one another; warn where one adds nothing.

    Boundaries with longitude and latitude swapped, or assets of another place, put every
    asset outside every area: each count is 0 and priority follows need alone, a result that
    looks complete and is wrong, so that is an error. Postcode columns swapped put no
    postcode in any area and every reference point falls back to the area's representative
    point; that is an error when the swapped columns would fit. Otherwise a postcode file
    that does not cover the areas (an uploaded boundary set beyond it) leaves the method's
    fallback, which is sound, so it is a warning, printed by the CLI and listed in the
    report. So are zero assets in the chosen categories: nothing was mapped yet.

    Parameters
    ----------
    config, needs
        The run's config and its loaded needs layers; issues go into ``needs.report``.
    table, assets
        :func:`assess` output and the assets assessed (EPSG:4326).

    Raises
    ------
    NeedsLayerError
        When no asset lies in any area, or the postcode columns look swapped.
    """
    report = needs.report
    areas_file = config.written_paths.get(config.areas.path, config.areas.path.name)
    inside = int(sum(int(table[f"count_{c}"].sum()) for c in config.categories))
    if len(assets) == 0:
        report.add(
            "warning",
            "no_assets",
            "assets",
            f"the store holds no published assets in the chosen categories "
            f"({', '.join(config.categories)}): every area has the same access",
        )
    elif inside == 0:
        report.add(
            "error",
            "no_assets_in_areas",
            "areas",
            f"none of the {len(assets):,} published assets lies inside any of the "
            f"{len(table):,} areas of {areas_file}: the areas span {_extent(table)}, the "
            f"assets {_extent(assets)}. Check that the boundary file has longitude and "
            "latitude the right way round and in the CRS it declares, and that it covers the "
            "place the assets are in",
        )
        report.raise_for_errors()
    pc = config.postcodes
    if pc is not None and int(table["centroid_postcodes"].sum()) == 0:
        postcodes_file = config.written_paths.get(pc.path, pc.path.name)
        minx, miny, maxx, maxy = (float(v) for v in table.total_bounds)
        swapped = load_postcode_points(
            pc.path,
            lon_column=pc.lat_column,
            lat_column=pc.lon_column,
            bounds=(minx, miny, maxx, maxy),
        )
        polygons = table.geometry.to_numpy()
        lon = swapped.geometry.x.to_numpy()
        lat = swapped.geometry.y.to_numpy()
        if (assign_points(polygons, lon, lat) >= 0).any():
            report.add(
                "error",
                "postcode_columns_swapped",
                "postcodes",
                f"no postcode of {postcodes_file} lies in any area with lon_column = "
                f"'{pc.lon_column}' and lat_column = '{pc.lat_column}', but they do the other "
                "way round: the two columns are swapped in the config",
                column=pc.lon_column,
            )
            report.raise_for_errors()
        report.add(
            "warning",
            "no_postcodes_in_areas",
            "postcodes",
            f"no postcode of {postcodes_file} lies in any area, so every area's reference "
            "point is its representative point, not where its residents live; the postcode "
            "file may not cover these areas",
        )


def assessment_params(config: JsaaConfig, taxonomy: Taxonomy | None = None) -> AssessmentParams:
    """The assessment parameters a config sets."""
    labels = {c.id: c.label for c in taxonomy} if taxonomy is not None else {}
    return AssessmentParams(
        categories=config.categories,
        population=config.population,
        indicators=tuple(i.name for i in config.indicators),
        need_weights=dict(config.need_weights),
        higher_is_more_need={i.name: i.higher_is_more_need for i in config.indicators},
        category_weights=dict(config.category_weights),
        catchment_m=config.catchment_m,
        catchment_weight=config.catchment_weight,
        nearest_weight=config.nearest_weight,
        gap_need_weight=config.gap_need_weight,
        gap_access_weight=config.gap_access_weight,
        scope=config.scope,
        need_top=config.need_top,
        access_bottom=config.access_bottom,
        category_labels={c: labels.get(c, c) for c in config.categories},
        indicator_labels={i.name: i.label for i in config.indicators},
        indicator_units={i.name: i.unit for i in config.indicators},
    )


def run_jsaa(
    config: JsaaConfig,
    store: Store,
    *,
    taxonomy: Taxonomy | None = None,
    on_step: StepCallback | None = None,
) -> JsaaResult:
    """Run the assessment a config describes against the store's published assets.

    Parameters
    ----------
    config
        A loaded config (:func:`assetmap.analysis.jsaa.config.load_config`).
    store
        Where the assets come from (published only, the config's categories).
    taxonomy
        For category labels in the summary and reasons (ids are used without it).
    on_step
        Progress callback, called with each name of :func:`run_steps`.

    Returns
    -------
    JsaaResult
        The per-area GeoDataFrame (EPSG:4326), assets used, validation report, summary and
        provenance.
    """
    step: StepCallback = on_step or (lambda _name: None)
    needs = load_needs(config, on_step=step)
    assets, assets_record = assets_frame(store, config.categories)
    step("assets")
    params = assessment_params(config, taxonomy)
    table = assess(
        needs.areas, needs.indicators, assets, params, postcodes=needs.postcodes, on_step=step
    )
    check_alignment(config, needs, table, assets)
    summary = build_summary(table, assets, config=config, params=params, report=needs.report)
    provenance = build_provenance(config, [*needs.inputs, assets_record], store_url=store.url)
    step("summary")
    return JsaaResult(config, table, assets, needs.report, summary, provenance)
