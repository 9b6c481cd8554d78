"""Outputs of an assessment: summary, provenance and the files a run writes.

``areas.csv`` depends only on the config and the data: it holds no time stamp and its
numbers are rounded as published, so the same config and data give the same bytes. The time
of the run is recorded only in ``provenance.json``.

The later map and report builders take :func:`build_summary`'s dict and the per-area
GeoDataFrame; nothing here renders HTML.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

import geopandas as gpd

from assetmap.analysis.jsaa.scores import METHOD
from assetmap.analysis.needs import ValidationReport
from assetmap.domain.spreadsheet import safe_cell

if TYPE_CHECKING:
    from assetmap.analysis.jsaa.assessment import AssessmentParams
    from assetmap.analysis.jsaa.config import JsaaConfig
    from assetmap.analysis.jsaa.run import JsaaResult

WRITE_STEPS = ("areas.csv", "areas.gpkg", "summary.json", "provenance.json")
DICTIONARY_FILE = "areas-columns.csv"
_PACKAGES = ("assetmap", "geopandas", "shapely", "pyproj", "pyogrio", "pandas", "numpy", "scipy")


def _json_safe(value: Any) -> Any:
    """Plain JSON types: NaN and NA become null, numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _whole(value: float) -> float | int:
    # Head counts print as 241025, not 241025.0.
    return int(value) if float(value).is_integer() else value


def _per_1000(count: float, population: float) -> float | None:
    return round(count * 1000.0 / population, 3) if population > 0 else None


def build_summary(
    table: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    *,
    config: JsaaConfig,
    params: AssessmentParams,
    report: ValidationReport,
) -> dict[str, Any]:
    """The headline numbers of an assessment, JSON-safe.

    Parameters
    ----------
    table
        :func:`assess` output.
    assets
        The assets assessed (``category`` column).
    config, params
        The run's config and parameters.
    report
        The needs-layer validation report (counts go in the summary).

    Returns
    -------
    dict
        ``assessment`` (title, scope, catchment_m, config sha256, weights, thresholds,
        method), ``totals``, ``categories`` (assets, assets inside the areas and per 1,000
        residents, for each), ``indicators`` (metadata), ``priority_areas`` ranked with their
        reasons, ``by_decile`` (assets per 1,000 residents by decile of the configured
        indicator, e.g. IMD decile, per category) and ``validation`` counts.
    """
    population = float(np.nansum(table["population"].to_numpy(dtype=np.float64)))
    categories: list[dict[str, Any]] = []
    for cat in params.categories:
        inside = int(table[f"count_{cat}"].sum())
        total = int((assets["category"] == cat).sum())
        categories.append(
            {
                "id": cat,
                "label": params.category_labels.get(cat, cat),
                "weight": params.category_weights.get(cat, 1.0),
                "assets": total,
                "assets_in_areas": inside,
                "assets_outside_areas": total - inside,
                "per_1000": _per_1000(inside, population),
                "areas_with_none_within_catchment": int(
                    (table[f"within_catchment_{cat}"] == 0).sum()
                ),
            }
        )
    flagged = table[table["priority"]].sort_values("priority_rank")
    priority = [
        {
            "rank": int(row.priority_rank),
            "area_code": row.area_code,
            "area_name": row.area_name,
            "population": row.population,
            "need_score": row.need_score,
            "need_percentile": row.need_percentile,
            "access_score": row.access_score,
            "access_percentile": row.access_percentile,
            "gap_score": row.gap_score,
            "reasons": str(row.priority_reason).split("; "),
        }
        for row in flagged.itertuples()
    ]
    summary = {
        "assessment": {
            "title": config.title,
            "slug": config.slug,
            "description": config.description,
            "config_sha256": config.sha256,
            "scope": config.scope,
            "catchment_m": config.catchment_m,
            "weights": {
                "need": dict(config.need_weights),
                "categories": dict(config.category_weights),
                "access": {
                    "within_catchment": config.catchment_weight,
                    "nearest": config.nearest_weight,
                },
                "gap": {"need": config.gap_need_weight, "access": config.gap_access_weight},
            },
            "thresholds": {"need_top": config.need_top, "access_bottom": config.access_bottom},
            "method": METHOD,
        },
        "totals": {
            "areas": len(table),
            "population": _whole(population),
            "assets": int(sum(c["assets"] for c in categories)),
            "assets_in_areas": int(sum(c["assets_in_areas"] for c in categories)),
            "priority_areas": len(priority),
            "reference_points": {
                str(k): int(v)
                for k, v in table["centroid_method"].value_counts().sort_index().items()
            },
        },
        "categories": categories,
        "indicators": [i.metadata() for i in config.indicators],
        "priority_areas": priority,
        "by_decile": _by_decile(table, config, params),
        "validation": {
            "errors": len(report.errors),
            "warnings": [str(i) for i in report.of_level("warning")],
            "notes": [str(i) for i in report.of_level("info")],
        },
    }
    result: dict[str, Any] = _json_safe(summary)
    return result


def _by_decile(
    table: pd.DataFrame, config: JsaaConfig, params: AssessmentParams
) -> dict[str, Any] | None:
    name = config.decile_indicator
    if name is None:
        return None
    deciles = table[name].astype("Float64").round()
    rows = []
    for decile in sorted(int(d) for d in deciles.dropna().unique()):
        part = table[(deciles == decile).fillna(False).to_numpy()]
        pop = float(np.nansum(part["population"].to_numpy(dtype=np.float64)))
        rows.append(
            {
                "decile": decile,
                "areas": len(part),
                "population": _whole(pop),
                "count": {c: int(part[f"count_{c}"].sum()) for c in params.categories},
                "per_1000": {
                    c: _per_1000(float(part[f"count_{c}"].sum()), pop) for c in params.categories
                },
            }
        )
    return {
        "indicator": name,
        "label": config.indicator(name).label,
        "note": "decile 1 is the most deprived 10% of areas in England",
        "rows": rows,
    }


@dataclass(frozen=True)
class ColumnDoc:
    """What one output column (or family of columns) holds.

    ``name`` is a column name, or a pattern with ``<category>`` (one column per category) or
    ``<indicator>`` (one per indicator of the config). ``meaning`` may name ``{label}`` (the
    category's or indicator's label), ``{more}``, ``{definition}`` and ``{source}`` (an
    indicator's direction, definition, source and date), ``{catchment}``, ``{scope}``,
    ``{need_cut}`` and ``{access_cut}``, which :func:`data_dictionary` fills in for a run.
    """

    name: str
    unit: str
    meaning: str


# Every column of areas.csv and areas.gpkg, in their order. The README's "Output columns"
# lists the same names, and a test checks that every column a run writes is here.
OUTPUT_COLUMNS: tuple[ColumnDoc, ...] = (
    ColumnDoc("area_code", "code", "The area's code in the boundary set (the config's areas)."),
    ColumnDoc("area_name", "text", "The area's name in the boundary set."),
    ColumnDoc(
        "population",
        "people",
        "Residents: the config's population indicator, {label}; assets per 1,000 residents "
        "divide by it.",
    ),
    ColumnDoc(
        "<indicator>",
        "the indicator's unit",
        "{label}, from {definition} in its table; {more} values mean more need. Source: {source}.",
    ),
    ColumnDoc(
        "count_<category>",
        "assets",
        "Published {label} assets whose point lies inside the area (a point on a shared edge "
        "counts once, in the area with the smallest code).",
    ),
    ColumnDoc(
        "per_1000_<category>",
        "assets per 1,000 residents",
        "{label} assets inside the area per 1,000 residents (count_ / population × 1,000), to "
        "4 decimals; empty where the population is 0.",
    ),
    ColumnDoc(
        "within_catchment_<category>",
        "assets",
        "{label} assets within {catchment} (geodesic) of the area's reference point, "
        "wherever they are (assets across the boundary count).",
    ),
    ColumnDoc(
        "nearest_m_<category>",
        "metres (geodesic, WGS84)",
        "Distance from the area's reference point to the nearest {label} asset, unrounded "
        "(the access percentiles rank these exact values); empty when none is mapped.",
    ),
    ColumnDoc(
        "access_<category>",
        "percentile, 0 to 100 (100 = best access)",
        "Access to {label}: the weighted mean of the percentile of within_catchment_ and of "
        "nearest_m_ reversed (nearer is better; none counts as farthest), among these areas.",
    ),
    ColumnDoc(
        "centroid_method",
        "text",
        "How the reference point (where residents live) was found: postcode_mean (the mean, "
        "in EPSG:27700, of the postcodes inside the area), postcode_nearest_mean (that mean "
        "fell outside the area, so the postcode nearest to it) or representative_point (no "
        "postcode inside: a point guaranteed inside the polygon).",
    ),
    ColumnDoc(
        "centroid_postcodes",
        "postcodes",
        "Postcodes inside the area that the reference point was found from (0 for "
        "representative_point).",
    ),
    ColumnDoc(
        "centroid_lon",
        "degrees (WGS84, EPSG:4326)",
        "Longitude of the reference point, to 7 decimals (about 1 cm); catchments and "
        "nearest distances are measured from it.",
    ),
    ColumnDoc(
        "centroid_lat",
        "degrees (WGS84, EPSG:4326)",
        "Latitude of the reference point, to 7 decimals (about 1 cm).",
    ),
    ColumnDoc(
        "need_score",
        "0 to 100",
        "Weighted mean of the need indicators' percentiles {scope} (each turned so that "
        "higher means more need), to 4 decimals.",
    ),
    ColumnDoc(
        "need_percentile",
        "percentile, 0 to 100 (100 = most need)",
        "Percentile of need_score {scope}, to 4 decimals.",
    ),
    ColumnDoc(
        "access_score",
        "0 to 100",
        "Category-weighted mean of the access_ columns, to 4 decimals.",
    ),
    ColumnDoc(
        "access_percentile",
        "percentile, 0 to 100 (100 = best access)",
        "Percentile of access_score among these areas, to 4 decimals.",
    ),
    ColumnDoc(
        "gap_score",
        "0 to 100 (100 = high need, poor access)",
        "Weighted mean of need_percentile and 100 − access_percentile, to 4 decimals.",
    ),
    ColumnDoc(
        "priority",
        "True or False",
        "True when need_percentile ≥ {need_cut} and access_percentile ≤ {access_cut}: need in "
        "the top band and access in the bottom band.",
    ),
    ColumnDoc(
        "priority_rank",
        "rank (1 = largest gap)",
        "Rank of a priority area by gap_score (then need_percentile, then code); empty for "
        "the other areas.",
    ),
    ColumnDoc(
        "priority_reason",
        "text",
        "Why a priority area is one: its need and access percentiles, each need indicator's "
        "value with its unit and the three categories with the weakest access (nearest "
        "distance in metres, assets within the catchment); empty for the other areas.",
    ),
    ColumnDoc(
        "geometry",
        "polygon (EPSG:4326)",
        "The area's exact boundary, as assessed (areas.gpkg only; maps draw a simplified copy).",
    ),
)
_PER_CATEGORY = tuple(d for d in OUTPUT_COLUMNS if d.name.endswith("_<category>"))
_PER_INDICATOR = next(d for d in OUTPUT_COLUMNS if d.name == "<indicator>")


def data_dictionary(
    table: pd.DataFrame, config: JsaaConfig, *, category_labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Each column of a run's per-area table with its unit and meaning, filled in for the run.

    Parameters
    ----------
    table
        :func:`assess` output (``geometry`` included or not).
    config
        The run's config: indicator labels and units, categories, catchment, scope and
        thresholds.
    category_labels
        Category id → label (the taxonomy's); ids are shown without it.

    Returns
    -------
    pandas.DataFrame
        ``column, unit, meaning``, one row per column of ``table``, in its order.

    Raises
    ------
    ValueError
        A column has no entry in :data:`OUTPUT_COLUMNS`: it would be published undocumented.
    """
    fill = {
        "catchment": f"{config.catchment_m:,.0f} m",
        "scope": "among every area of England in the indicator tables"
        if config.scope == "national"
        else "among these areas",
        "need_cut": f"{100 * (1 - config.need_top):g}",
        "access_cut": f"{100 * config.access_bottom:g}",
    }
    exact = {d.name: d for d in OUTPUT_COLUMNS if "<" not in d.name}
    indicators = {i.name: i for i in config.indicators}
    labels = dict(category_labels or {})
    rows = []
    for column in map(str, table.columns):
        doc, label, unit = exact.get(column), "", ""
        about = {"more": "", "definition": "", "source": ""}
        if column == "population":
            label = indicators[config.population].label if config.population in indicators else ""
        elif doc is None and column in indicators:
            meta = indicators[column].metadata()
            doc, label, unit = _PER_INDICATOR, meta["label"], meta["unit"]
            about = {
                "more": "higher" if meta["higher_is_more_need"] else "lower",
                "definition": meta["definition"],
                "source": ", ".join(str(v) for v in (meta["source"], meta["date"]) if v)
                or "not given",
            }
        elif doc is None:
            for candidate in _PER_CATEGORY:
                prefix = candidate.name.removesuffix("<category>")
                category = column.removeprefix(prefix)
                if column.startswith(prefix) and category in config.categories:
                    doc, label = candidate, labels.get(category, category)
                    break
        if doc is None:
            raise ValueError(f"output column '{column}' is not described in OUTPUT_COLUMNS")
        rows.append(
            {
                "column": column,
                "unit": unit or doc.unit,
                "meaning": doc.meaning.format(label=label, **about, **fill),
            }
        )
    return pd.DataFrame(rows, columns=["column", "unit", "meaning"])


def store_provenance(url: str) -> dict[str, str]:
    """What a published ``provenance.json`` says about the store the assets came from.

    The kind of store and the name of its database, and nothing that says where it is: for
    SQLite the file's name (``demo.db``), not its path on the publisher's machine; for
    PostgreSQL the database and the ``?schema=`` if one was given, without user, password,
    host, port or any other connection setting (a ``host=`` may be a socket directory). A
    reader could not reach the store anyway: the assets record of ``inputs`` (count, per
    category, and a SHA-256 of ids, revisions and positions) is what pins the assets used.

    Parameters
    ----------
    url
        The store's database URL, as given to :func:`assetmap.store.open_store`.

    Returns
    -------
    dict
        ``kind`` (``sqlite`` or ``postgresql``), ``database`` when the URL names one, and
        ``schema`` when it gives one.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db alike: the last part of the path.
        return {"kind": "sqlite", "database": PurePosixPath(unquote(parts.path)).name}
    if parts.scheme not in ("postgresql", "postgres"):
        return {"kind": parts.scheme}
    query = dict(parse_qsl(parts.query))
    out = {"kind": "postgresql"}
    # libpq takes the database from the path, or from ?dbname= when the path has none.
    database = unquote(parts.path.lstrip("/")) or query.get("dbname", "")
    if database:
        out["database"] = database
    if query.get("schema"):
        out["schema"] = query["schema"]
    return out


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_provenance(
    config: JsaaConfig, inputs: list[dict[str, Any]], *, store_url: str
) -> dict[str, Any]:
    """Where every number came from: the config (text and SHA-256), inputs and software.

    Returns
    -------
    dict
        ``config`` (path as given, sha256, text), ``inputs`` (role, path as written in the
        config, sha256, bytes, source, licence, date; assets: count, per category and a
        SHA-256 of their ids, revisions and positions), ``store`` (its kind and database
        name, never where it is: :func:`store_provenance`),
        ``software`` versions and ``generated_at`` (UTC). :func:`write_outputs` adds the
        SHA-256 of each file it writes.
    """
    return {
        "config": {"path": config.path.name, "sha256": config.sha256, "text": config.text},
        "inputs": inputs,
        "store": store_provenance(store_url),
        "software": _versions(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def areas_csv_bytes(table: pd.DataFrame) -> bytes:
    """The per-area table as CSV bytes (UTF-8, LF line ends, no geometry, empty for NA).

    Text cells are guarded as in every CSV the app writes (domain.spreadsheet): an area's
    name comes from an uploaded boundary file and must not run as a spreadsheet formula.
    """
    frame = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
    for name in frame.select_dtypes(include=["object", "string"]).columns:
        frame[name] = frame[name].map(lambda v: v if pd.isna(v) else safe_cell(v))
    return frame.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_outputs(
    result: JsaaResult, out_dir: Path, *, on_step: Callable[[str], None] | None = None
) -> dict[str, Path]:
    """Write the run's files into ``out_dir`` (created if needed).

    The files are ``areas.csv``, ``areas-columns.csv`` (the unit and meaning of each of its
    columns: :func:`data_dictionary`), ``areas.gpkg``, ``summary.json``, ``validation.json``
    and ``provenance.json``. The GeoPackage holds the ``areas`` layer (EPSG:4326) and a
    ``provenance`` table with the config hash and text. ``provenance.json`` ends with the
    SHA-256 of the other files.

    Returns
    -------
    dict
        File name → path written.
    """
    step = on_step or (lambda _name: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    path = out_dir / "areas.csv"
    path.write_bytes(areas_csv_bytes(result.areas))
    written[path.name] = path
    # Beside the table, what each of its columns holds, filled in for this run.
    labels = {str(c["id"]): str(c["label"]) for c in result.summary.get("categories", [])}
    path = out_dir / DICTIONARY_FILE
    dictionary = data_dictionary(result.areas, result.config, category_labels=labels)
    path.write_bytes(areas_csv_bytes(dictionary))
    written[path.name] = path
    step("areas.csv")

    path = out_dir / "areas.gpkg"
    path.unlink(missing_ok=True)  # GeoPackage layers append to an existing file otherwise
    result.areas.to_file(path, layer="areas", driver="GPKG", engine="pyogrio")
    meta = pd.DataFrame(
        {
            "key": ["title", "config_sha256", "config_text", "method"],
            "value": [result.config.title, result.config.sha256, result.config.text, METHOD],
        }
    )
    import pyogrio  # local: only this writer needs the raw interface for a non-spatial table

    pyogrio.write_dataframe(meta, path, layer="provenance", driver="GPKG", append=True)
    written[path.name] = path
    step("areas.gpkg")

    for name, payload in (
        ("summary.json", result.summary),
        ("validation.json", result.report.to_dict()),
    ):
        path = out_dir / name
        path.write_text(
            json.dumps(_json_safe(payload), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        written[name] = path
    step("summary.json")

    path = write_provenance(result, out_dir, written)
    written[path.name] = path
    step("provenance.json")
    return written


def write_provenance(result: JsaaResult, out_dir: Path, files: Mapping[str, Path]) -> Path:
    """Write ``out_dir/provenance.json``: the run's provenance and the SHA-256 of each file.

    Parameters
    ----------
    result
        The run.
    out_dir
        Where the files are; ``provenance.json`` is (re)written there.
    files
        Name (path relative to ``out_dir``, with ``/``) → path of every output to list;
        ``provenance.json`` itself is left out.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    provenance = dict(result.provenance)
    provenance["outputs"] = {
        name: _sha256(p) for name, p in sorted(files.items()) if name != "provenance.json"
    }
    path = out_dir / "provenance.json"
    path.write_text(
        json.dumps(_json_safe(provenance), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    return path
