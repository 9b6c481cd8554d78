"""Export published assets as CSV, GeoJSON or GeoPackage.

Only public fields are written, chosen by name in :data:`PUBLIC_FIELDS`, so a field added to
the asset later stays private until someone decides otherwise. Points are WGS84 lon/lat.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import geopandas as gpd
from shapely.geometry import Point

from assetmap.domain.asset import Asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.spreadsheet import safe_cell
from assetmap.store import Store

FORMATS = ("csv", "geojson", "gpkg")

# Public, in this column order. Contact details are the asset's own published ones (a
# library's enquiries address); people who submit or moderate are never part of an asset.
PUBLIC_FIELDS = (
    "id",
    "name",
    "category",
    "description",
    "address",
    "postcode",
    "phone",
    "email",
    "website",
    "opening_times",
    "cost",
    "currencies",
    "accessibility",
    "audience",
    "provider_type",
    "lon",
    "lat",
    "source",
    "source_id",
    "licence",
    "last_verified",
    "updated_at",
)
_LIST_FIELDS = {"currencies", "accessibility", "audience"}


def _public(asset: Asset) -> dict[str, Any]:
    """Public fields of one asset; opening times as their published text."""
    out: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        value = getattr(asset, name)
        if name == "opening_times":
            value = value.text
        elif name in _LIST_FIELDS:
            value = list(value)
        out[name] = value
    return out


def assets_to_geodataframe(assets: Iterable[Asset]) -> gpd.GeoDataFrame:
    """Assets as a GeoDataFrame of points.

    Parameters
    ----------
    assets
        Any assets (no status filter is applied here).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per asset with the :data:`PUBLIC_FIELDS` columns (list fields joined with
        "; ", opening times as text) and Point geometry in EPSG:4326 (lon, lat).
    """
    rows = []
    for asset in assets:
        row = _public(asset)
        for name in _LIST_FIELDS:
            row[name] = "; ".join(row[name])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(PUBLIC_FIELDS))
    geometry = [Point(lon, lat) for lon, lat in zip(frame["lon"], frame["lat"], strict=True)]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))


def write_csv(assets: Sequence[Asset], out_path: Path) -> None:
    """Write assets as UTF-8 CSV (with BOM so spreadsheets detect the encoding)."""
    with open(out_path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(PUBLIC_FIELDS)
        for asset in assets:
            row = _public(asset)
            for name in _LIST_FIELDS:
                row[name] = "; ".join(row[name])
            writer.writerow([safe_cell(row[name]) for name in PUBLIC_FIELDS])


def geojson_feature_collection(assets: Iterable[Asset]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection: lon/lat order, WGS84, no ``crs`` member.

    Each feature has the asset id as its ``id`` and the public fields as properties
    (lists stay JSON arrays).
    """
    features = []
    for asset in assets:
        props = _public(asset)
        lon, lat = props.pop("lon"), props.pop("lat")
        features.append(
            {
                "type": "Feature",
                "id": asset.id,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def export_assets(store: Store, fmt: str, out_path: str | Path) -> int:
    """Export every published asset to a file.

    Parameters
    ----------
    store
        Source of assets; only status "published" is exported.
    fmt
        ``"csv"`` (spreadsheet-safe: formula-like text is prefixed with an apostrophe),
        ``"geojson"`` (RFC 7946) or ``"gpkg"`` (GeoPackage layer "assets", EPSG:4326).
    out_path
        File to write (replaced if it exists).

    Returns
    -------
    int
        Number of assets written.

    Raises
    ------
    ValidationError
        For an unknown format.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"format '{fmt}' is not one of: {', '.join(FORMATS)}", field="format")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    assets = store.list_assets(status="published")
    if fmt == "csv":
        write_csv(assets, out)
    elif fmt == "geojson":
        with open(out, "w", encoding="utf-8") as f:
            json.dump(geojson_feature_collection(assets), f, ensure_ascii=False)
    else:
        if out.exists():
            out.unlink()  # GDAL would otherwise add a second layer to an existing file
        frame = assets_to_geodataframe(assets)
        frame.to_file(out, driver="GPKG", layer="assets", engine="pyogrio")
    return len(assets)
