"""Export published assets as CSV, GeoJSON or GeoPackage.

Only public fields are written, chosen by name in :data:`PUBLIC_FIELDS`, so a field added to
the asset later stays private until someone decides otherwise. Points are WGS84 lon/lat.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
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


def _write(assets: Sequence[Asset], fmt: str, out: Path) -> None:
    """Write the file of one format at a path where there is none yet."""
    if fmt == "csv":
        write_csv(assets, out)
    elif fmt == "geojson":
        with open(out, "w", encoding="utf-8") as f:
            json.dump(geojson_feature_collection(assets), f, ensure_ascii=False)
    else:
        frame = assets_to_geodataframe(assets)
        frame.to_file(out, driver="GPKG", layer="assets", engine="pyogrio")


def export_assets(store: Store, fmt: str, out_path: str | Path, *, replace: bool = False) -> int:
    """Export every published asset to a file.

    The file is written under a temporary name beside it and renamed when complete, so a
    failed export leaves no partial file, and a file it replaces stays whole until then.

    Parameters
    ----------
    store
        Source of assets; only status "published" is exported.
    fmt
        ``"csv"`` (spreadsheet-safe: formula-like text is prefixed with an apostrophe),
        ``"geojson"`` (RFC 7946) or ``"gpkg"`` (GeoPackage layer "assets", EPSG:4326).
    out_path
        File to write; its folder is created if missing.
    replace
        Replace a file already at ``out_path``; without it, one there is refused.

    Returns
    -------
    int
        Number of assets written.

    Raises
    ------
    ValidationError
        For an unknown format, an existing file (without ``replace``), a path that is a
        folder, and a file that cannot be written (the system's reason, in one line).
    """
    if fmt not in FORMATS:
        raise ValidationError(f"format '{fmt}' is not one of: {', '.join(FORMATS)}", field="format")
    out = Path(out_path)
    if out.is_dir():
        raise ValidationError(f"{out} is a folder: give a file name")
    # An export replacing a file by accident could lose someone's corrections to it.
    if out.exists() and not replace:
        raise ValidationError(
            f"{out} already exists: give another file name, or --replace to overwrite it"
        )
    assets = store.list_assets(status="published")
    # Beside the file, so the rename cannot cross filesystems; its own suffix, for GDAL.
    partial = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.partial{out.suffix}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write(assets, fmt, partial)
        os.replace(partial, out)
    except BaseException as err:
        with contextlib.suppress(OSError):
            partial.unlink()
        if isinstance(err, OSError):
            reason = err.strerror or str(err)
            raise ValidationError(f"cannot write {out}: {reason}") from None
        raise
    return len(assets)
