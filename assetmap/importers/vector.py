"""Read GeoJSON, GeoPackage and Shapefile features into raw rows with WGS84 points.

Any CRS is accepted and reprojected. Points are used as they are. Other geometries become a
representative point (guaranteed to lie inside the shape), computed on the British National
Grid (EPSG:27700) so it does not depend on degree distortion, then converted to EPSG:4326.
Polygons also keep their outline as a GeoJSON footprint in EPSG:4326, simplified to about
1 m and rounded to 6 decimal places (~0.1 m) so it stays small enough to store per asset.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import pyogrio.raw
import shapely
from shapely.geometry import mapping

from assetmap.domain.errors import ValidationError
from assetmap.importers.records import RawRow, projected_area

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
FOOTPRINT_TOLERANCE_M = 1.0
FOOTPRINT_DECIMALS = 6
_POLYGONAL = {"Polygon", "MultiPolygon"}


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a mended geometry (make_valid may add stray lines or points)."""
    if geom.geom_type in _POLYGONAL or geom.geom_type != "GeometryCollection":
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else geom


_KINDS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "a GeoPackage", ".shp": "a Shapefile"}
# A Shapefile is several files; GDAL cannot open one without its index and says so in terms
# of a GDAL setting, and without its table it reads shapes with no columns at all.
_SHAPEFILE_PARTS = {".shx": "index", ".dbf": "table of columns"}


def gdal_reason(err: Exception, path: Path, kind: str) -> str:
    """GDAL's reason ``path`` cannot be opened as ``kind``, in words for whoever chose it.

    GDAL names the file by its path (for an upload, the server's hidden staging file, which
    means nothing to the person) and, for contents it does not recognise, suggests a driver
    prefix only a GDAL programmer can use.
    """
    text = str(err)
    if path.is_file() and path.stat().st_size == 0:
        return "it is empty"
    if "not recognized as being in a supported file format" in text:
        return f"its contents are not {kind} (is it the right file, saved as that type?)"
    text = text.replace(str(path), "the file").replace(path.name, "the file")
    return text.split("; It might help", 1)[0].removeprefix("Failed to read GeoJSON data; ")


def _unreadable(path: Path, err: Exception) -> ValidationError:
    kind = _KINDS.get(path.suffix.lower(), "a file of this type")
    reason = gdal_reason(err, path, kind)
    return ValidationError(f"{path.name} cannot be read as {kind}: {reason}", field="file")


def _check_shapefile_parts(path: Path) -> None:
    if path.suffix.lower() != ".shp":
        return
    siblings = {p.name.casefold() for p in path.parent.iterdir()}
    lacking = [
        f"{path.stem}{suffix} (its {what})"
        for suffix, what in _SHAPEFILE_PARTS.items()
        if f"{path.stem}{suffix}".casefold() not in siblings
    ]
    if lacking:
        raise ValidationError(
            f"{path.name} is a Shapefile without {' or '.join(lacking)} beside it; copy all "
            f"of its files ({path.stem}.shp, .shx, .dbf and .prj) into the same folder",
            field="file",
        )


def _layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: the one named, or the file's only layer of features.

    GDAL would read the first layer of a file that has several and leave the others out
    without a word; tables without geometry (QGIS keeps its styles in one) do not count.
    """
    _check_shapefile_parts(path)
    try:
        layers = [(str(name), geom) for name, geom in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as err:
        raise _unreadable(path, err) from None
    names = [name for name, _geom in layers]
    if layer is not None:
        if layer not in names:
            raise ValidationError(
                f"{path.name} has no layer '{layer}'; its layers are {', '.join(map(repr, names))}",
                field="layer",
            )
        return layer
    spatial = [name for name, geom in layers if geom is not None]
    if len(spatial) > 1:
        raise ValidationError(
            f"{path.name} has {len(spatial)} layers of features ({', '.join(map(repr, spatial))}) "
            "and only one can be imported at a time: import it through a manifest, with a "
            '[[source]] for each layer wanted, naming it with layer = "..."',
            field="layer",
        )
    return spatial[0] if spatial else None


def _crs_unknown(path: Path) -> ValidationError:
    return ValidationError(
        f"{path.name} does not say which coordinate system it uses (no .prj?); "
        'import it through a manifest with crs = "EPSG:27700" (or whichever it is)',
        field="crs",
    )


def _needs_crs(path: Path, file_crs: object) -> bool:
    """Whether the file leaves its CRS unsaid; GeoJSON without one is EPSG:4326 (RFC 7946)."""
    return file_crs is None and path.suffix.lower() not in {".geojson", ".json"}


def read_vector_header(path: Path, layer: str | None = None, crs: str | None = None) -> list[str]:
    """Attribute column names of a vector file's layer (no geometry column).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile.
    layer
        The layer to read; may be None only when the file has one layer of features.
    crs
        The manifest's CRS for the file, if any.

    Raises
    ------
    ValidationError
        When the file cannot be read, the layer is missing or not named among several, or
        the file and the manifest both leave the CRS unsaid: each found here, before any file
        of an import is stored.
    """
    layer = _layer(path, layer)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except pyogrio.errors.DataSourceError as err:
        raise _unreadable(path, err) from None
    if info["geometry_type"] is None:
        raise ValidationError(
            f"{path.name}: {f'layer {layer!r}' if layer else 'the file'} is a table with no "
            "points or shapes; import it as a CSV with lat and lon (or postcode) columns",
            field="file",
        )
    if not info["features"] and not len(info["fields"]):
        # GDAL learns a GeoJSON's columns from its features: with none, it has none either.
        raise ValidationError(f"{path.name} has no features: nothing to import", field="file")
    if crs is None and _needs_crs(path, info["crs"]):
        raise _crs_unknown(path)
    return [str(f) for f in info["fields"]]


def _items(value: Any) -> list[str] | None:
    """A list property's items as text (None when the value is not a list).

    GDAL reads a JSON array of strings or numbers as a list field, which pyogrio returns as a
    numpy array, and a mixed one as a Python list; str() of either is not what the file said.
    """
    if isinstance(value, np.ndarray | list | tuple):
        return [text for text in (_text(v) for v in value) if text]
    return None


def _text(value: Any) -> str:
    """A property value as stripped text; missing values become ''; lists join with "; "."""
    items = _items(value)
    if items is not None:
        return "; ".join(items)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        # Integer-valued floats (ids read as REAL) lose the ".0" so keys stay stable.
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value).strip()


def footprint_geojson(geom_bng: shapely.Geometry) -> dict[str, Any]:
    """A small GeoJSON geometry (EPSG:4326) for a polygon given in EPSG:27700.

    Parameters
    ----------
    geom_bng
        Polygon or MultiPolygon in British National Grid metres.

    Returns
    -------
    dict
        GeoJSON geometry with lon/lat lists, simplified to ``FOOTPRINT_TOLERANCE_M`` metres
        and rounded to ``FOOTPRINT_DECIMALS`` places. Plain lists (not tuples), so it equals
        its own JSON round trip and re-imports compare as unchanged.
    """
    simple = shapely.simplify(geom_bng, FOOTPRINT_TOLERANCE_M, preserve_topology=True)
    wgs = gpd.GeoSeries([simple], crs=BNG).to_crs(WGS84).iloc[0]
    rounded = shapely.transform(wgs, lambda xy: np.round(xy, FOOTPRINT_DECIMALS))
    result: dict[str, Any] = json.loads(json.dumps(mapping(rounded)))
    return result


# GEOS's reasons for refusing a shape GDAL read, for the person who drew it.
_BROKEN_SHAPES = {
    "do not form a closed linestring": "a ring of the polygon does not end where it starts",
    "Invalid number of points in LinearRing": "a ring of the polygon has fewer than 4 points",
    "must contain 0 or >1 elements": "the line has only one point",
}


def _broken(path: Path, layer: str | None, missing: np.ndarray) -> dict[int, str]:
    """Features whose shape the file holds but GEOS would not build: position -> reason.

    The features were read with such shapes as None, as if they had none: one unclosed ring
    would otherwise stop the whole import with a GEOS traceback.
    """
    if not missing.any():
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _meta, _fids, shapes, _fields = pyogrio.raw.read(path, layer=layer, columns=[])
    found: dict[int, str] = {}
    for i in np.flatnonzero(missing):
        if shapes[i] is None:
            continue
        try:
            shapely.from_wkb(shapes[i])
        except shapely.errors.GEOSException as err:
            detail = str(err).split(": ", 1)[-1]
            found[int(i)] = next(
                (plain for key, plain in _BROKEN_SHAPES.items() if key in detail), detail
            )
    return found


def _misplaced(geoms: gpd.GeoSeries, missing: np.ndarray) -> dict[int, tuple[str, str]]:
    """Features whose coordinates cannot be in the file's CRS: position -> (reason, value).

    Converted as they are, they land anywhere: a longitude of 500 wraps round to 140, a
    latitude of 95 comes out as a point off Cornwall, degrees read as metres as a point near
    the projection's origin.
    """
    crs, name = geoms.crs, geoms.crs.to_string()
    min_x, min_y, max_x, max_y = geoms.bounds.to_numpy().T
    present = ~missing
    in_degrees = (min_x >= -180) & (max_x <= 180) & (min_y >= -90) & (max_y <= 90)
    if crs.is_geographic:
        wrong = present & ~in_degrees
    else:
        wrong = present & in_degrees if crs.is_projected else np.zeros(len(geoms), dtype=bool)
    area = projected_area(crs)
    outside = np.zeros(len(geoms), dtype=bool)
    if area is not None:
        inside = (min_x >= area[0]) & (min_y >= area[1]) & (max_x <= area[2]) & (max_y <= area[3])
        outside = present & ~in_degrees & ~inside
    found: dict[int, tuple[str, str]] = {}
    for i in np.flatnonzero(wrong | outside):
        x, y = shapely.get_coordinates(geoms.iloc[i])[0]
        shown = f"{x:.10g}, {y:.10g}"
        if outside[i] and area is not None:
            reason = (
                f"coordinates ({shown}) lie outside the area {name} is for (x from "
                f"{area[0]:,.0f} to {area[2]:,.0f}, y from {area[1]:,.0f} to {area[3]:,.0f})"
            )
        elif crs.is_projected:
            reason = (
                f"coordinates ({shown}) look like longitude and latitude, not the {name} "
                "eastings and northings the file says it holds; import it through a manifest "
                'with crs = "EPSG:4326"'
            )
        else:
            reason = f"coordinates ({shown}) are not a longitude (-180..180) and latitude (-90..90)"
            if abs(x) > 180 and abs(y) > 90:
                reason += (
                    ": they look like eastings and northings; import the file through a "
                    'manifest with crs = "EPSG:27700" (or whichever it is)'
                )
        found[int(i)] = (reason, shown)
    return found


def read_vector(
    path: Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    na_values: tuple[str, ...] = ("",),
) -> tuple[list[str], list[RawRow]]:
    """Read every feature of a vector file.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile (anything GDAL reads).
    layer
        Layer name; may be None only when the file has one layer of features.
    crs
        The file's CRS when it declares none (a Shapefile without .prj). GeoJSON without one
        is EPSG:4326 (RFC 7946).
    na_values
        Property values that mean "no value"; they become ''.

    Returns
    -------
    header, rows
        Attribute names, and one RawRow per feature (``row`` = feature number from 1) with
        ``lon``/``lat`` in EPSG:4326 and, for polygons, ``footprint``.

    Raises
    ------
    ValidationError
        As :func:`read_vector_header`.
    """
    layer = _layer(path, layer)
    try:
        with warnings.catch_warnings():
            # GDAL's warnings about a feature ("Non closed ring detected") are for a
            # programmer; the feature's own row error says what is wrong with it.
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
    except pyogrio.errors.DataSourceError as err:
        raise _unreadable(path, err) from None
    if crs:
        frame = frame.set_crs(crs, allow_override=True)
    elif _needs_crs(path, frame.crs):
        raise _crs_unknown(path)
    elif frame.crs is None:
        frame = frame.set_crs(WGS84)
    header = [str(c) for c in frame.columns if c != frame.geometry.name]
    na = set(na_values)

    geoms = frame.geometry
    missing = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    broken = _broken(path, layer, missing)
    misplaced = _misplaced(geoms, missing)
    unusable = missing | np.isin(np.arange(len(frame)), list(misplaced))
    is_point = (geoms.geom_type == "Point").to_numpy() & ~unusable
    other = ~unusable & ~is_point

    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    footprints: dict[int, dict[str, Any]] = {}
    if is_point.any():
        pts = geoms[is_point].to_crs(WGS84)
        lon[is_point], lat[is_point] = pts.x.to_numpy(), pts.y.to_numpy()
    if other.any():
        shapes = geoms[other].to_crs(BNG)
        invalid = ~shapes.is_valid
        if invalid.any():
            # Mend self-intersecting rings so representative_point lands inside; make_valid
            # keeps every lobe of a bow-tie, where the old buffer(0) trick drops one.
            shapes[invalid] = shapes[invalid].make_valid().apply(_polygonal_part)
        reps = shapes.representative_point().to_crs(WGS84)
        lon[other], lat[other] = reps.x.to_numpy(), reps.y.to_numpy()
        for pos, shape in zip(np.flatnonzero(other), shapes, strict=True):
            if shape.geom_type in _POLYGONAL:
                footprints[int(pos)] = footprint_geojson(shape)

    rows: list[RawRow] = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for i, props in enumerate(records):
        values = {}
        lists = {}
        for name in header:
            value = props.get(name)
            items = _items(value)
            if items is not None:
                lists[name] = [v for v in items if v not in na]
            text = _text(value) if items is None else "; ".join(items)
            values[name] = "" if text in na else text
        raw = RawRow(row=i + 1, line=None, values=values, lists=lists)
        if i in broken:
            raw.problems.append(("geometry", f"the feature's geometry is broken: {broken[i]}", ""))
        elif missing[i]:
            raw.problems.append(("geometry", "feature has no geometry", ""))
        elif i in misplaced:
            raw.problems.append(("geometry", *misplaced[i]))
        else:
            raw.lon, raw.lat = float(lon[i]), float(lat[i])
            raw.footprint = footprints.get(i)
        rows.append(raw)
    return header, rows
