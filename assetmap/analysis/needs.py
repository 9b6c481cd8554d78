"""Needs layers: area boundary sets and indicator tables, loaded and checked for a JSAA.

A *boundary set* is a polygon file (GeoJSON, GeoPackage or Shapefile, in any CRS) with one
feature per area and a code column. It is returned as a GeoDataFrame in EPSG:4326 with the
columns ``area_code``, ``area_name`` and ``geometry``, sorted by code.

An *indicator table* is a CSV keyed by area code. Each chosen column becomes an indicator
with metadata (label, unit, source, licence, date and whether a higher value means more
need). A table keyed by another code system (LSOA 2021 instead of 2011) is brought onto the
areas' codes through a lookup file; a split area's children are summed into their parent.

Nothing here drops a row or an area silently: every problem goes into a
:class:`ValidationReport`, with the row (1-based data row, header excluded) and column where
one applies. Errors stop an assessment; warnings and notes are published beside it.

Needs layers live in files named by the assessment config, not in the store: a layer is
pinned by its SHA-256 in every output, so a run can be repeated from the config alone.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from assetmap.domain.asset import clean_text
from assetmap.domain.errors import ValidationError

STORAGE_CRS = "EPSG:4326"
Level = Literal["error", "warning", "info"]
_LEVELS: tuple[Level, ...] = ("error", "warning", "info")
# Messages of one kind beyond this many are summarised in the text report (all stay in JSON).
_TEXT_LIMIT_PER_KIND = 20


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun as people read them: ``"1 area"``, ``"32,804 codes"``.

    Parameters
    ----------
    number
        How many.
    noun
        The singular noun.
    plural
        The plural, when it is not the noun with an 's' (``"categories"``).
    """
    word = noun if number == 1 else plural or f"{noun}s"
    return f"{number:,} {word}"


# A unit's note in brackets at its end: "rank of 32,844 (1 = most deprived)".
_UNIT_NOTE = re.compile(r"^(.*?)\s*\(([^()]*)\)$")


def unit_parts(unit: str) -> tuple[str, str]:
    """A unit and the note in brackets at its end: ``("score", "higher = more deprived")``.

    Units are free text, and many end in a note ("rank of 32,844 (1 = most deprived)"),
    which reads best apart from the unit wherever a value or a label comes before it.

    Parameters
    ----------
    unit
        An indicator's unit as its config gives it.

    Returns
    -------
    tuple of str
        The unit and its note, each stripped; ``("% of residents", "")`` for a unit without
        a note.
    """
    unit = unit.strip()
    match = _UNIT_NOTE.match(unit)
    return (match.group(1), match.group(2).strip()) if match else (unit, "")


def number_with_unit(number: str, unit: str) -> str:
    """A number already written out, with its unit, as priority reasons and map tooltips give it.

    Parameters
    ----------
    number
        The value as text (``"27.8"``, ``"1,634"``), in the places its table shows.
    unit
        The unit as the config gives it, perhaps ending in a note in brackets.

    Returns
    -------
    str
        ``"27.8% of residents"``, ``"1,634 people"``, ``"40.8 (score, higher = more
        deprived)"``, or the number alone for no unit. A note follows its unit after a comma,
        and a semicolon in a unit becomes one: a semicolon separates one reason from the next.
    """
    base, note = unit_parts(unit.replace(";", ","))
    if base.startswith("%"):
        return f"{number}{base}" + (f" ({note})" if note else "")
    if not note:
        return f"{number} {base}" if base else number
    return f"{number} ({base}, {note})" if base else f"{number} ({note})"


def number_text(value: float) -> str:
    """A number as messages write it: thousands separators, no needless decimals (20,000)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


@dataclass(frozen=True)
class Issue:
    """One finding about a needs layer.

    ``row`` is the 1-based data row (header excluded) of a table, or the 1-based feature
    number of a boundary file; ``column`` is the column it concerns. ``file`` names the
    layer's file and ``line`` the line of a table's file the row starts on (the header is
    line 1), which is what a spreadsheet or an editor shows: blank lines and values holding
    line breaks make it differ from ``row + 1``.
    """

    level: Level
    kind: str
    layer: str
    message: str
    row: int | None = None
    column: str | None = None
    codes: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the issue."""
        return {
            "level": self.level,
            "kind": self.kind,
            "layer": self.layer,
            "file": self.file,
            "message": self.message,
            "row": self.row,
            "line": self.line,
            "column": self.column,
            "codes": list(self.codes),
        }

    def text(self, file_names: Mapping[str, str] | None = None) -> str:
        """The issue as one line: level, layer, file, row (and line), column and message.

        Parameters
        ----------
        file_names
            The name to show for a file, when it is not the name it is stored under (an
            upload kept under its SHA-256 is shown by the name it was uploaded with). With a
            mapping, a file it does not name is left out of the text.
        """
        where = [f"[{self.layer}]"]
        shown = self.file if file_names is None else file_names.get(self.file or "")
        if shown:
            where.append(shown)
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{self.level}: {' '.join(where)}: {self.message}"

    def __str__(self) -> str:
        return self.text()


@dataclass
class ValidationReport:
    """Every issue found while loading the needs layers of one assessment."""

    issues: list[Issue] = field(default_factory=list)
    # Per layer: its file's name and the line each data row starts on (None for features).
    _files: dict[str, tuple[str, Sequence[int] | None]] = field(default_factory=dict, repr=False)

    def locate(self, layer: str, file: str, lines: Sequence[int] | None = None) -> None:
        """Name the file of ``layer``, and the line each of its data rows starts on.

        Issues of the layer added afterwards carry the file's name, and the line of their row.
        """
        self._files[layer] = (file, lines)

    def where(self, layer: str, row: int) -> str:
        """``"row 5 (line 6)"``: a row of a layer as messages name it."""
        line = self._line(layer, row)
        return f"row {row}" + (f" (line {line})" if line else "")

    def _line(self, layer: str, row: int | None) -> int | None:
        lines = self._files.get(layer, ("", None))[1]
        if row is None or lines is None or not 1 <= row <= len(lines):
            return None
        return int(lines[row - 1])

    def add(
        self,
        level: Level,
        kind: str,
        layer: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        codes: Iterable[str] = (),
    ) -> None:
        """Record one issue."""
        file = self._files[layer][0] if layer in self._files else None
        line = self._line(layer, row)
        self.issues.append(
            Issue(level, kind, layer, message, row, column, tuple(codes), file, line)
        )

    def of_level(self, level: Level) -> list[Issue]:
        """The issues at one level, in the order found."""
        return [i for i in self.issues if i.level == level]

    @property
    def errors(self) -> list[Issue]:
        """Issues that stop an assessment."""
        return self.of_level("error")

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """Counts by level and every issue, JSON-safe."""
        return {
            "errors": len(self.errors),
            "warnings": len(self.of_level("warning")),
            "notes": len(self.of_level("info")),
            "issues": [i.to_dict() for i in self.issues],
        }

    def to_text(self) -> str:
        """A readable report: errors first, long runs of one kind summarised."""
        lines: list[str] = []
        for level in _LEVELS:
            seen: dict[tuple[str, str], int] = {}
            for issue in self.of_level(level):
                key = (issue.layer, issue.kind)
                seen[key] = seen.get(key, 0) + 1
                if seen[key] <= _TEXT_LIMIT_PER_KIND:
                    lines.append(str(issue))
            for (layer, kind), n in seen.items():
                if n > _TEXT_LIMIT_PER_KIND:
                    more = n - _TEXT_LIMIT_PER_KIND
                    issues = "issue" if more == 1 else "issues"
                    lines.append(f"{level}: [{layer}] … and {more:,} more '{kind}' {issues}")
        return "\n".join(lines) if lines else "no issues"

    def raise_for_errors(self) -> None:
        """Raise :class:`NeedsLayerError` when the report holds any error."""
        if not self.ok:
            raise NeedsLayerError(self)


class NeedsLayerError(ValidationError):
    """A needs layer has errors; ``report`` holds every issue, with rows and columns."""

    def __init__(self, report: ValidationReport) -> None:
        first = report.errors[0]
        count = len(report.errors)
        more = f" (and {counted(count - 1, 'more error')})" if count > 1 else ""
        super().__init__(
            f"[{first.layer}] {first.message}{more}", field=first.column, row=first.row
        )
        self.report = report

    def __str__(self) -> str:
        return "needs layers are not valid:\n" + self.report.to_text()


@dataclass(frozen=True)
class SourceMeta:
    """Where a layer comes from: publisher and dataset, licence and reference date."""

    source: str = ""
    licence: str = ""
    date: str = ""


@dataclass(frozen=True)
class BoundarySpec:
    """How to read a boundary set.

    Parameters
    ----------
    path
        GeoJSON (optionally ``.gz``), GeoPackage or Shapefile; any CRS the file declares.
    code_column, name_column
        Columns holding each area's code and name (the name defaults to the code).
    layer
        GeoPackage layer name, when the file holds more than one.
    where
        Keep only features whose column value (as text) is one of the given values.
    """

    path: Path
    code_column: str
    name_column: str | None = None
    layer: str | None = None
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    meta: SourceMeta = field(default_factory=SourceMeta)
    code_system: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator and its metadata.

    The value is either a numeric ``column`` of the table or the ratio
    ``numerator / denominator * scale`` of two numeric columns (computed after any code
    mapping, so a split area's ratio uses the summed counts). ``additive`` says the value is
    a count that may be summed over areas (population is; a rate or a rank is not).

    The columns of an additive indicator and of a ratio are counts, so a negative value in
    them is an error. A ratio whose unit is a percentage (``"% of residents"``) is a share of
    its denominator, so a numerator larger than its denominator is an error too.
    """

    name: str
    label: str
    unit: str = ""
    higher_is_more_need: bool = True
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    additive: bool = False
    description: str = ""
    meta: SourceMeta = field(default_factory=SourceMeta)

    @property
    def input_columns(self) -> tuple[str, ...]:
        """Columns of the table this indicator reads."""
        if self.column is not None:
            return (self.column,)
        return tuple(c for c in (self.numerator, self.denominator) if c is not None)

    @property
    def is_share(self) -> bool:
        """True for a ratio given as a percentage: a part of its denominator."""
        return self.column is None and "%" in self.unit

    def metadata(self) -> dict[str, Any]:
        """Label, unit, source, licence, date, direction and definition, JSON-safe."""
        if self.column is not None:
            definition = f"column '{self.column}'"
        else:
            scale = f" × {self.scale:g}" if self.scale != 1 else ""
            definition = f"'{self.numerator}' / '{self.denominator}'{scale}"
        return {
            "name": self.name,
            "label": self.label,
            "unit": self.unit,
            "source": self.meta.source,
            "licence": self.meta.licence,
            "date": self.meta.date,
            "higher_is_more_need": self.higher_is_more_need,
            "additive": self.additive,
            "definition": definition,
            "description": self.description,
        }


@dataclass(frozen=True)
class CodeMapSpec:
    """A lookup from a table's codes to the areas' codes (e.g. LSOA 2021 → LSOA 2011).

    Each ``from_column`` code appears once. Several codes mapping to one target are the
    children of a split area; their values are summed (additive indicators only). Codes not
    in the lookup are taken to be unchanged.
    """

    path: Path
    from_column: str
    to_column: str
    meta: SourceMeta = field(default_factory=SourceMeta)


@dataclass(frozen=True)
class TableSpec:
    """How to read an indicator table (CSV, optionally gzipped, UTF-8 with or without BOM).

    Parameters
    ----------
    id
        Short name used in reports.
    path, code_column
        The CSV and the column holding each row's area code.
    indicators
        What to take from it.
    where
        Keep only rows whose column value is one of the given values (e.g. ``sex = Persons``).
    thousands
        Thousands separator to strip from numbers (``","`` for "1,954").
    national
        The table covers all of England: its rows for other areas are kept as the national
        reference (ranks may be national). Otherwise rows for other areas are left out (a
        note) when every chosen area has its row, and are errors when some area has none
        (then they are more likely typos or another code system).
    allow_missing
        An area without a row is a warning (values left empty) instead of an error.
    code_map
        Lookup onto the areas' code system.
    """

    id: str
    path: Path
    code_column: str
    indicators: tuple[IndicatorSpec, ...]
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    thousands: str | None = None
    national: bool = False
    allow_missing: bool = False
    code_map: CodeMapSpec | None = None
    meta: SourceMeta = field(default_factory=SourceMeta)


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, as stored (a ``.gz`` file is hashed compressed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gdal_path(path: Path) -> str:
    # GDAL reads gzip through its virtual file system; pyogrio does not add the prefix itself.
    return f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)


# British National Grid (EPSG:27700) eastings and northings, in metres, lie in this box.
_BNG_BOX = (0.0, 0.0, 700_000.0, 1_300_000.0)
_GEOJSON_CRS_MEMBER = (
    '"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}'
)


def _coordinate(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.5g}"


def lonlat_problem(
    bounds: Sequence[float], file_name: str, crs: str, *, geojson: bool = False
) -> str | None:
    """Why a layer read as longitude/latitude cannot be, or None when its extent fits.

    A GeoJSON file without a ``crs`` member is read as WGS84 whatever it holds, so a file of
    British National Grid metres arrives as "degrees" far outside the globe; the analysis
    would then fail deep inside with no hint of the cause.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the layer, in the units of ``crs`` (degrees).
    file_name
        Named in the message.
    crs
        The geographic CRS the layer declares or was read as (e.g. ``EPSG:4326``).
    geojson
        The file is GeoJSON (the message then says how GeoJSON declares a CRS).

    Returns
    -------
    str or None
        A message that names the file, the extent found and the CRS to declare.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return None  # no geometry at all: the geometry checks report that
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return None
    message = (
        f"{file_name}: coordinates run from {_coordinate(minx)} to {_coordinate(maxx)} across "
        f"and {_coordinate(miny)} to {_coordinate(maxy)} up, outside the longitude/latitude "
        f"range (-180 to 180, -90 to 90) of the CRS the file is read in ({crs}), so that CRS "
        "is probably wrong"
    )
    if geojson:
        message += ' (a GeoJSON file with no "crs" member is read as WGS84 longitude/latitude)'
    bx0, by0, bx1, by1 = _BNG_BOX
    if bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1:
        return (
            f"{message}. They look like British National Grid eastings and northings in "
            "metres: declare EPSG:27700 (in GeoJSON, add the member "
            f"{_GEOJSON_CRS_MEMBER}; or save the layer as a GeoPackage or Shapefile in "
            "EPSG:27700), or reproject the file to EPSG:4326"
        )
    return f"{message}. Declare the CRS the coordinates are in, or reproject the file to EPSG:4326"


def _where_mask(frame: pd.DataFrame, where: Mapping[str, tuple[str, ...]], layer: str) -> Any:
    mask = pd.Series(True, index=frame.index)
    for column, values in where.items():
        if column not in frame.columns:
            raise ValidationError(
                f"[{layer}] filter column '{column}' is not in the file; "
                f"columns are: {', '.join(map(str, frame.columns))}",
                field=column,
            )
        text = frame[column].astype("string").str.strip()
        mask &= text.isin(list(values))
    return mask


def _plain_text(column: pd.Series[Any]) -> pd.Series[str]:
    # Uploaded names and codes are shown on pages and matched against each other: control
    # and bidirectional characters go, as they do from asset text (a right-to-left override
    # in a name reverses whatever a page shows after it).
    return column.astype("string").fillna("").map(clean_text).astype(str)


def load_boundaries(
    spec: BoundarySpec, report: ValidationReport, *, layer_id: str = "areas"
) -> gpd.GeoDataFrame:
    """Read a boundary set, check it and return it in EPSG:4326.

    Invalid polygons are repaired with ``shapely.make_valid`` (structure method, polygons
    kept) and each repair is reported as a warning. Missing or duplicate codes, and empty or
    non-polygonal geometries, are errors.

    Parameters
    ----------
    spec
        File, columns and filter.
    report
        Receives every issue (feature numbers are 1-based, in file order).
    layer_id
        Name of the layer in the report.

    Returns
    -------
    geopandas.GeoDataFrame
        ``area_code``, ``area_name`` (str) and ``geometry`` (Polygon/MultiPolygon, EPSG:4326),
        one row per area, sorted by ``area_code``, with a 0-based RangeIndex.

    Raises
    ------
    ValidationError
        The file cannot be read, has no CRS, or lacks a named column.
    """
    try:
        raw = gpd.read_file(_gdal_path(spec.path), layer=spec.layer)
    except Exception as err:  # pyogrio raises several types; the message is what helps
        raise ValidationError(
            f"[{layer_id}] cannot read boundary file {spec.path.name}: {err}", field="path"
        ) from err
    if raw.crs is None:
        raise ValidationError(
            f"[{layer_id}] {spec.path.name} declares no CRS (a Shapefile needs its .prj)",
            field="path",
        )
    if len(raw) == 0:
        raise ValidationError(
            f"[{layer_id}] {spec.path.name} has no features: it holds no areas", field="path"
        )
    if raw.crs.is_geographic:
        problem = lonlat_problem(
            raw.total_bounds,
            spec.path.name,
            raw.crs.to_string(),
            geojson=spec.path.name.lower().endswith((".geojson", ".json", ".geojson.gz")),
        )
        if problem is not None:
            raise ValidationError(f"[{layer_id}] {problem}", field="path")
    for column in (spec.code_column, spec.name_column):
        if column is not None and column not in raw.columns:
            raise ValidationError(
                f"[{layer_id}] column '{column}' is not in {spec.path.name}; columns are: "
                f"{', '.join(c for c in raw.columns if c != 'geometry')}",
                field=column,
            )
    report.locate(layer_id, spec.path.name)
    raw["_row"] = np.arange(1, len(raw) + 1)
    raw = raw[_where_mask(raw, spec.where, layer_id)]
    codes = _plain_text(raw[spec.code_column])
    names = _plain_text(raw[spec.name_column]) if spec.name_column else codes
    rows = raw["_row"].to_numpy()
    keep = np.ones(len(raw), dtype=bool)
    for i in np.flatnonzero(codes.eq("").to_numpy()):
        report.add(
            "error",
            "missing_code",
            layer_id,
            "feature has no area code",
            row=int(rows[i]),
            column=spec.code_column,
        )
        keep[i] = False
    first_row: dict[str, int] = {}
    for pos, code in enumerate(codes.to_numpy()):
        if not keep[pos]:
            continue
        if code in first_row:
            report.add(
                "error",
                "duplicate_code",
                layer_id,
                f"area code {code} also appears at feature {first_row[code]}",
                row=int(rows[pos]),
                column=spec.code_column,
                codes=[code],
            )
            keep[pos] = False
        else:
            first_row[code] = int(rows[pos])
    geoms = raw.geometry.to_crs(STORAGE_CRS).to_numpy()
    if not raw.crs.is_geographic:
        # A projected CRS that does not match the numbers converts them to infinities.
        problem = lonlat_problem(shapely.total_bounds(geoms), spec.path.name, "EPSG:4326")
        if problem is not None:
            raise ValidationError(
                f"[{layer_id}] {spec.path.name}: its coordinates do not convert from the CRS it "
                f"declares ({raw.crs.to_string()}) to longitude/latitude, so that CRS is "
                "probably wrong; declare the CRS the coordinates are in",
                field="path",
            )
    geoms = _check_geometries(geoms, codes.to_numpy(), rows, keep, report, layer_id)
    out = gpd.GeoDataFrame(
        {
            "area_code": codes.to_numpy()[keep].astype(str),
            "area_name": names.to_numpy()[keep].astype(str),
        },
        geometry=geoms[keep],
        crs=STORAGE_CRS,
    )
    if len(out) == 0:
        report.add("error", "no_areas", layer_id, "no area left after the filter")
    return out.sort_values("area_code", kind="stable").reset_index(drop=True)


def _check_geometries(
    geoms: Any,
    codes: Any,
    rows: Any,
    keep: Any,
    report: ValidationReport,
    layer_id: str,
) -> Any:
    geoms = np.asarray(geoms, dtype=object).copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    for i in np.flatnonzero(keep & (missing | ~polygonal)):
        what = "no geometry" if missing[i] else f"a {geoms[i].geom_type} geometry"
        report.add(
            "error",
            "bad_geometry",
            layer_id,
            f"area {codes[i]} has {what}; areas must be polygons (Polygon or MultiPolygon)",
            row=int(rows[i]),
            codes=[str(codes[i])],
        )
        keep[i] = False
    invalid = keep & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        # The structure method keeps areas (it never turns a polygon into lines or points).
        fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        before, after = shapely.area(geoms[i]), shapely.area(fixed)
        if shapely.is_empty(fixed) or shapely.get_type_id(fixed) not in (3, 6):
            report.add(
                "error",
                "bad_geometry",
                layer_id,
                f"area {codes[i]}: geometry is invalid ({reason}) and cannot be repaired",
                row=int(rows[i]),
                codes=[str(codes[i])],
            )
            keep[i] = False
            continue
        change = abs(after - before) / before * 100 if before else math.inf
        report.add(
            "warning",
            "invalid_geometry_repaired",
            layer_id,
            f"area {codes[i]}: invalid geometry ({reason}) repaired with make_valid; "
            f"area changed by {change:.4f}%",
            row=int(rows[i]),
            codes=[str(codes[i])],
        )
        geoms[i] = fixed
    return geoms


def semicolon_problem(path: Path) -> str | None:
    """A header that separates its columns with semicolons, as a message asking for commas.

    Excel saves "CSV" with semicolons where the decimal mark is a comma (much of Europe), and
    then writes decimals with commas too: "12,5" is twelve and a half, but in a comma-separated
    file "1,234" is a thousand and more. A table can only be read one way, so such a file is
    refused, naming what its header looks like, rather than read by guessing the marks (and
    before :func:`longer_row_problem`, which would count a decimal comma as an extra value).

    Returns
    -------
    str or None
        ``"its header 'lsoa_code;score;residents' looks semicolon-separated ..."``, or None
        when the header has at least as many comma-separated columns as semicolon-separated
        ones (or there is no header, or it is not UTF-8: the reader that loads it says so).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            header = next((line for line in f if line.strip()), "")
    except (OSError, UnicodeDecodeError):
        return None
    by_comma = next(csv.reader([header]), [])
    by_semicolon = next(csv.reader([header], delimiter=";"), [])
    if len(by_semicolon) <= max(len(by_comma), 1):
        return None
    shown = header.strip()
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return (
        f"its header '{shown}' looks semicolon-separated (as Excel saves CSV where the decimal "
        "mark is a comma): the columns must be separated by commas and decimals written with a "
        "point, for example 12.5; save it again that way (for Excel, with the decimal "
        "separator set to a point and the list separator to a comma)"
    )


def longer_row_problem(path: Path) -> str | None:
    """The first data row holding more values than the header has columns, as a message.

    pandas reads a table whose rows are one value longer than the header (a comma at the end
    of every line, as some exports write) by making the first column the index: every
    value then sits under the column to its left, and the codes are read from the names.
    So such a file is refused, naming the row, before pandas reads it.

    Returns
    -------
    str or None
        ``"data row 3 (line 4 of the file) has 4 values, but the header names 3 columns
        ..."``, or None when every row fits. Rows are counted as in :class:`Issue`.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        try:
            width = len(next(reader))
            row = 0
            for values in reader:
                if _blank(values):
                    continue
                row += 1
                if len(values) > width:
                    return (
                        f"data row {row} (line {reader.line_num} of the file) has "
                        f"{counted(len(values), 'value')}, but the header names "
                        f"{counted(width, 'column')}: remove "
                        "the extra values (often a comma at the end of the line, or a value "
                        "holding a comma but not in quotes)"
                    )
        except (StopIteration, csv.Error):
            return None  # no header, or not CSV: pandas says so
    return None


def _blank(values: Sequence[str]) -> bool:
    # A line pandas skips and does not count as a row: empty, or nothing but spaces.
    return len(values) <= 1 and not "".join(values).strip()


def data_row_lines(path: Path) -> list[int] | None:
    """The line of the file each data row starts on, as pandas counts the rows.

    Row ``n`` (1-based, header excluded, blank lines skipped as pandas skips them) starts on
    line ``lines[n - 1]``; the header is line 1. A value holding a line break makes its row
    span two lines.

    Returns
    -------
    list of int or None
        One line number per data row, or None when the file cannot be read as CSV here
        (the reader that loads it says why).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines: list[int] = []
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            end = reader.line_num
            for values in reader:
                if not _blank(values):
                    lines.append(end + 1)
                end = reader.line_num
    except (StopIteration, csv.Error, OSError, UnicodeDecodeError):
        return None
    return lines


def utf8_problem(path: Path) -> str | None:
    """Where a text file first stops being UTF-8, as a message naming the line.

    Python and pandas report a byte offset in the file, which a spreadsheet cannot find;
    a file saved by Excel as plain "CSV" (Windows-1252) usually fails at a £ or an accented
    name, and the line and the text before the byte are enough to find it.

    Returns
    -------
    str or None
        ``"line 3 has the byte 0xE9, which is not UTF-8, after 'E01006074,Caf'"``, or None
        when the whole file is UTF-8.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                before = line[: err.start].decode("utf-8")[-30:]
                return (
                    f"line {number} has the byte 0x{line[err.start]:02X}, which is not UTF-8, "
                    f"after '{before}'"
                )
    return None


def _lines_of(path: Path, rows: int) -> list[int] | None:
    lines = data_row_lines(path)
    # Were pandas and the csv module ever to count rows differently, a line number could
    # point at the wrong row: then messages give the row alone.
    return lines if lines is not None and len(lines) == rows else None


def _read_csv_text(path: Path, layer_id: str) -> pd.DataFrame:
    try:
        problem = semicolon_problem(path) or longer_row_problem(path)
        if problem is not None:
            raise ValidationError(f"[{layer_id}] {path.name}: {problem}", field="path")
        # Everything as text: numbers are parsed per column below, so a bad cell can be named.
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            compression="infer",
            index_col=False,
        )
    except pd.errors.EmptyDataError as err:
        raise ValidationError(
            f"[{layer_id}] {path.name} is empty: a table needs a header row and data rows",
            field="path",
        ) from err
    except UnicodeDecodeError as err:
        raise ValidationError(
            f"[{layer_id}] {path.name} is not UTF-8 text: {utf8_problem(path) or err}; save it "
            "as UTF-8 (in Excel, 'CSV UTF-8')",
            field="path",
        ) from err
    except (OSError, pd.errors.ParserError) as err:
        raise ValidationError(f"[{layer_id}] cannot read {path.name}: {err}", field="path") from err


def load_code_map(spec: CodeMapSpec, report: ValidationReport, *, layer_id: str) -> dict[str, str]:
    """Read a code lookup (``from_column`` → ``to_column``).

    A ``from`` code listed with two targets cannot be apportioned without weights, so it is
    an error (a merge, seen from the other direction, or a complex change).

    Returns
    -------
    dict
        From-code to to-code, for the codes that change.
    """
    frame = _read_csv_text(spec.path, layer_id)
    report.locate(layer_id, spec.path.name, _lines_of(spec.path, len(frame)))
    for column in (spec.from_column, spec.to_column):
        if column not in frame.columns:
            raise ValidationError(
                f"[{layer_id}] column '{column}' is not in {spec.path.name}", field=column
            )
    mapping: dict[str, str] = {}
    # From-codes in capitals, as the table's codes are read (load_indicator_table).
    sources = _plain_text(frame[spec.from_column]).str.upper()
    for i, (src, dst) in enumerate(
        zip(sources, _plain_text(frame[spec.to_column]).str.upper(), strict=True), start=1
    ):
        if src in mapping and mapping[src] != dst:
            report.add(
                "error",
                "code_map_ambiguous",
                layer_id,
                f"code {src} maps to both {mapping[src]} and {dst}: a value cannot be "
                "apportioned between areas without weights",
                row=i,
                column=spec.from_column,
                codes=[src, mapping[src], dst],
            )
            continue
        mapping[src] = dst
    return mapping


def load_indicator_table(
    spec: TableSpec,
    area_codes: Sequence[str],
    report: ValidationReport,
    *,
    area_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read an indicator table, check it against the areas and return its indicators.

    Checks, each reported with row and column: missing columns; empty, duplicate and unknown
    codes (unknown: not one of ``area_codes``, after mapping; expected and only counted for a
    national table, or when every area has its row); empty and non-numeric values; negative
    counts and shares larger than their whole; areas with no row. A lookup
    (``spec.code_map``) maps codes first; the children of a split area are summed into the
    parent and the split is reported as a note naming all the codes.

    Parameters
    ----------
    spec
        The table, its code column, filter, lookup and indicators.
    area_codes
        Codes of the chosen areas.
    report
        Receives every issue.
    area_names
        Area code → name, for messages.

    Returns
    -------
    pandas.DataFrame
        Index ``area_code`` (sorted), one float64 column per indicator (named by
        ``IndicatorSpec.name``). A national table keeps every row (all England), so callers
        select their areas with ``.reindex``; another keeps only the chosen areas' rows.
    """
    layer_id = f"table:{spec.id}"
    frame = _read_csv_text(spec.path, layer_id)
    report.locate(layer_id, spec.path.name, _lines_of(spec.path, len(frame)))
    needed = [spec.code_column, *dict.fromkeys(c for i in spec.indicators for c in i.input_columns)]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise ValidationError(
            f"[{layer_id}] column(s) {', '.join(repr(c) for c in absent)} not in "
            f"{spec.path.name}; columns are: {', '.join(frame.columns[:40])}",
            field=absent[0],
        )
    frame["_row"] = np.arange(1, len(frame) + 1)
    frame = frame[_where_mask(frame, spec.where, layer_id)]
    # Codes are read in capitals: a GSS code is one (E01006108), but a spreadsheet or a
    # hand-made table may lower it (e01006108), which matched no area and was refused.
    codes = _plain_text(frame[spec.code_column]).str.upper()
    rows = frame["_row"].to_numpy()
    values = _parse_numbers(frame, needed[1:], rows, spec, report, layer_id)
    _check_counts(values, rows, spec, report, layer_id)
    ok = codes.ne("").to_numpy()
    for i in np.flatnonzero(~ok):
        report.add(
            "error",
            "missing_code",
            layer_id,
            "row has no area code",
            row=int(rows[i]),
            column=spec.code_column,
        )
    dup = codes.duplicated(keep="first").to_numpy() & ok
    if dup.any():
        first_row: dict[str, int] = {}
        for code, row in zip(codes.to_numpy(), rows, strict=True):
            first_row.setdefault(str(code), int(row))
        for i in np.flatnonzero(dup):
            code = str(codes.iat[int(i)])
            report.add(
                "error",
                "duplicate_code",
                layer_id,
                f"code {code} already appears at {report.where(layer_id, first_row[code])}",
                row=int(rows[i]),
                column=spec.code_column,
                codes=[code],
            )
    keep = ok & ~dup
    values = values[keep]
    source_codes = codes.to_numpy()[keep].astype(str)
    src_rows = rows[keep]
    targets = source_codes
    if spec.code_map is not None:
        mapping = load_code_map(spec.code_map, report, layer_id=f"code_map:{spec.id}")
        targets = np.array([mapping.get(c, c) for c in source_codes], dtype=object).astype(str)
        _check_split_complete(mapping, source_codes, spec, report, layer_id)
    # Each code as the areas spell it: an uploaded boundary layer may have codes of its own
    # in lower or mixed case, which the capitals above would otherwise no longer match.
    spelling = {str(c).upper(): str(c) for c in area_codes}
    targets = np.array([spelling.get(t, t) for t in targets], dtype=object).astype(str)
    values.index = pd.Index(targets, name="area_code")
    values = _combine_mapped(values, source_codes, src_rows, spec, report, layer_id, area_names)
    _check_coverage(values.index, source_codes, targets, src_rows, area_codes, spec, report)
    if not spec.national:
        values = values[values.index.isin(list(area_codes))]
    return _indicator_columns(values, spec, report, layer_id).sort_index()


def cell_numbers(text: pd.Series[str]) -> pd.Series[float]:
    """Each cell's number as an indicator table is read: NaN where it is empty or not one.

    The one reading of a table's numbers, for the run and for the upload check alike, so a
    column the check offers is one the run takes. Text that Python reads as a number but
    that is not a finite one ("inf", "NaN", "1e999") is not a number here: no percentile
    or weighted mean can be made of it.

    Parameters
    ----------
    text
        The cells, stripped of spaces (and of any thousands separator the table declares).

    Returns
    -------
    pandas.Series
        float64, with the index of ``text``.
    """
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    return number.where(np.isfinite(number.to_numpy()))


def _parse_numbers(
    frame: pd.DataFrame,
    columns: Sequence[str],
    rows: Any,
    spec: TableSpec,
    report: ValidationReport,
    layer_id: str,
) -> pd.DataFrame:
    out = {}
    for column in columns:
        text = frame[column].str.strip()
        if spec.thousands:
            text = text.str.replace(spec.thousands, "", regex=False)
        number = cell_numbers(text)
        finite = number.notna().to_numpy()
        empty = text.eq("").to_numpy()
        for i in np.flatnonzero(empty):
            report.add(
                "error",
                "missing_value",
                layer_id,
                "empty value",
                row=int(rows[i]),
                column=column,
            )
        for i in np.flatnonzero(~finite & ~empty):
            report.add(
                "error",
                "non_numeric",
                layer_id,
                f"'{frame[column].iat[int(i)]}' is not a number",
                row=int(rows[i]),
                column=column,
            )
        out[column] = number
    return pd.DataFrame(out, index=frame.index)


def _check_counts(
    values: pd.DataFrame,
    rows: Any,
    spec: TableSpec,
    report: ValidationReport,
    layer_id: str,
) -> None:
    """Counts cannot be negative, and a part cannot be larger than its whole.

    Either would go on silently into every rate and percentage (a share of 5,235%).
    """
    counts = dict.fromkeys(
        c for i in spec.indicators if i.additive or i.column is None for c in i.input_columns
    )
    for column in counts:
        number = values[column].to_numpy()
        for i in np.flatnonzero(number < 0):
            report.add(
                "error",
                "negative_count",
                layer_id,
                f"'{column}' is a count and cannot be negative ({number_text(number[i])})",
                row=int(rows[i]),
                column=column,
            )
    for ind in spec.indicators:
        if not ind.is_share:
            continue
        assert ind.numerator is not None and ind.denominator is not None  # noqa: S101
        part = values[ind.numerator].to_numpy()
        whole = values[ind.denominator].to_numpy()
        # A negative whole is reported above; it makes no part larger than it meaningful.
        for i in np.flatnonzero((part > whole) & (whole >= 0)):
            report.add(
                "error",
                "part_larger_than_whole",
                layer_id,
                f"'{ind.numerator}' ({number_text(part[i])}) is larger than "
                f"'{ind.denominator}' ({number_text(whole[i])}), but {ind.name} "
                f"({ind.unit}) counts it as a part of '{ind.denominator}'",
                row=int(rows[i]),
                column=ind.numerator,
            )


def _check_split_complete(
    mapping: Mapping[str, str],
    source_codes: Any,
    spec: TableSpec,
    report: ValidationReport,
    layer_id: str,
) -> None:
    """A split area needs all its children in the table, or its sum would be too low."""
    children_of: dict[str, set[str]] = {}
    for child, parent in mapping.items():
        children_of.setdefault(parent, set()).add(child)
    present = set(source_codes)
    for parent, children in sorted(children_of.items()):
        have = children & present
        if have and have != children:
            missing = sorted(children - have)
            report.add(
                "error",
                "code_split_incomplete",
                layer_id,
                f"area {parent} was split into {', '.join(sorted(children))}, but the table "
                f"has no row for {', '.join(missing)}: the sum would be too low",
                column=spec.code_column,
                codes=[parent, *missing],
            )


def _combine_mapped(
    values: pd.DataFrame,
    source_codes: Any,
    rows: Any,
    spec: TableSpec,
    report: ValidationReport,
    layer_id: str,
    area_names: Mapping[str, str] | None,
) -> pd.DataFrame:
    """Sum the children of each split area into one row; report every split."""
    if values.index.is_unique:
        return values
    additive_cols = {
        c for i in spec.indicators for c in i.input_columns if i.additive or i.column is None
    }
    plain_cols = [c for c in values.columns if c not in additive_cols]
    groups: dict[str, list[int]] = {}
    for pos, target in enumerate(values.index):
        groups.setdefault(target, []).append(pos)
    for target, positions in groups.items():
        if len(positions) < 2:
            continue
        children = [str(source_codes[p]) for p in positions]
        if target in children:
            report.add(
                "error",
                "code_map_conflict",
                layer_id,
                f"code {target} has its own row and also receives "
                f"{', '.join(c for c in children if c != target)} through the lookup",
                row=int(rows[positions[children.index(target)]]),
                column=spec.code_column,
                codes=[target, *children],
            )
            continue
        name = f" ({area_names[target]})" if area_names and target in area_names else ""
        parts = " + ".join(
            f"{c} at {report.where(layer_id, int(rows[p]))}"
            for c, p in zip(children, positions, strict=True)
        )
        if plain_cols:
            report.add(
                "error",
                "code_split_not_additive",
                layer_id,
                f"area {target}{name} was split into {parts}; column(s) "
                f"{', '.join(plain_cols)} are not additive (set additive = true only for "
                "counts), so they cannot be combined",
                row=int(rows[positions[0]]),
                column=plain_cols[0],
                codes=[target, *children],
            )
            continue
        report.add(
            "info",
            "code_split",
            layer_id,
            f"area {target}{name} was split into {parts}; their values were summed into "
            f"{target} for {', '.join(values.columns)}",
            row=int(rows[positions[0]]),
            column=spec.code_column,
            codes=[target, *children],
        )
    # Sum with min_count so a child with a missing value leaves the parent empty, not low.
    return values.groupby(level=0, sort=True).sum(min_count=1)


def _check_coverage(
    index: pd.Index,
    source_codes: Any,
    targets: Any,
    rows: Any,
    area_codes: Sequence[str],
    spec: TableSpec,
    report: ValidationReport,
) -> None:
    layer_id = f"table:{spec.id}"
    wanted = set(area_codes)
    unknown = [i for i, t in enumerate(targets) if t not in wanted]
    missing = sorted(wanted - set(index))
    if unknown and spec.national:
        outside = len(set(targets[unknown]))
        report.add(
            "info",
            "other_areas",
            layer_id,
            f"{counted(outside, 'code')} {'is' if outside == 1 else 'are'} outside the chosen "
            "areas (kept as the national reference)",
        )
    elif unknown and not missing:
        # Every chosen area has its row, so the others are a wider table (a region, or
        # England without national = true), not typos or another code system: a typo or a
        # code system leaves some area without a row, which stays an error below.
        others = sorted({str(t) for t in targets[unknown]})
        shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        report.add(
            "info",
            "other_areas",
            layer_id,
            f"{counted(len(unknown), 'row')} for {counted(len(others), 'code')} outside the "
            f"chosen areas ({shown}) {'was' if len(unknown) == 1 else 'were'} left out",
            codes=others,
        )
    elif unknown:
        for i in unknown:
            mapped = f" (mapped from {source_codes[i]})" if source_codes[i] != targets[i] else ""
            report.add(
                "error",
                "unknown_code",
                layer_id,
                f"code {targets[i]}{mapped} is not one of the chosen areas",
                row=int(rows[i]),
                column=spec.code_column,
                codes=[str(targets[i])],
            )
    if missing:
        level: Level = "warning" if spec.allow_missing else "error"
        hint = ""
        if unknown and not spec.national:
            hint = _other_codes_hint({str(t) for t in targets}, wanted)
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        report.add(
            level,
            "area_missing",
            layer_id,
            f"{counted(len(missing), 'area')} {'has' if len(missing) == 1 else 'have'} no row: "
            f"{shown}{hint}",
            column=spec.code_column,
            codes=missing,
        )


# The first three characters of a GSS code (ONS Register of Geographic Codes) say what kind
# of area it is: a table of wards (E05) for LSOA areas (E01) is a common slip.
_GSS_ENTITIES = {
    "E00": "output areas",
    "E01": "LSOAs",
    "E02": "MSOAs",
    "E04": "civil parishes",
    "E05": "electoral wards",
    "E06": "unitary authorities",
    "E07": "non-metropolitan districts",
    "E08": "metropolitan districts",
    "E09": "London boroughs",
    "E10": "counties",
    "E12": "regions",
    "E14": "parliamentary constituencies",
    "W00": "output areas (Wales)",
    "W01": "LSOAs (Wales)",
    "W02": "MSOAs (Wales)",
    "W05": "electoral wards (Wales)",
    "W06": "unitary authorities (Wales)",
}


def _kinds(prefixes: Iterable[str]) -> str:
    return " and ".join(
        f"{_GSS_ENTITIES[p]} ({p}…)" if p in _GSS_ENTITIES else f"codes starting {p}"
        for p in sorted(prefixes)
    )


def _other_codes_hint(codes: set[str], wanted: set[str]) -> str:
    """What to do when a table's codes are not the areas': another kind of area, or year.

    Only a table none of whose codes is of the areas' kind is called another kind of area:
    one odd code among the right kind is more likely a typo.
    """
    theirs = {c[:3] for c in codes}
    ours = {c[:3] for c in wanted}
    if theirs & ours or not (theirs <= _GSS_ENTITIES.keys() and ours <= _GSS_ENTITIES.keys()):
        return (
            "; the table may use another code system (for example LSOA 2021 instead of "
            "2011): give it a code_map"
        )
    # A code_map cannot help here: it maps codes that changed, it does not share a ward's
    # value out among the LSOAs inside it.
    return (
        f"; the table's codes are {_kinds(theirs)}, but the areas are {_kinds(ours)}: use a "
        "table with one row for each of the areas, by their codes"
    )


def _indicator_columns(
    values: pd.DataFrame, spec: TableSpec, report: ValidationReport, layer_id: str
) -> pd.DataFrame:
    out: dict[str, pd.Series[float]] = {}
    for ind in spec.indicators:
        if ind.column is not None:
            out[ind.name] = values[ind.column]
            continue
        assert ind.numerator is not None and ind.denominator is not None  # noqa: S101
        den = values[ind.denominator]
        zero = den.eq(0)
        if zero.any():
            report.add(
                "warning",
                "zero_denominator",
                layer_id,
                f"{ind.name}: denominator '{ind.denominator}' is 0 for "
                f"{', '.join(values.index[zero][:10])}; value left empty",
                column=ind.denominator,
                codes=list(values.index[zero]),
            )
        out[ind.name] = values[ind.numerator] / den.where(~zero) * ind.scale
    return pd.DataFrame(out, index=values.index).astype("float64")


def load_postcode_points(
    path: Path,
    *,
    lon_column: str = "long",
    lat_column: str = "lat",
    bounds: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read postcode centroids, the population proxy for population-weighted centroids.

    Parameters
    ----------
    path
        CSV (optionally gzipped) with a longitude and a latitude column (WGS84 degrees).
    lon_column, lat_column
        Their names.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)``: keep only points inside this box.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per postcode with a position, EPSG:4326. Rows without a position (blank,
        or 0/0 as some directories write it) are left out.
    """
    try:
        frame = pd.read_csv(path, usecols=[lon_column, lat_column], encoding="utf-8-sig")
    except ValueError as err:
        raise ValidationError(f"[postcodes] {path.name}: {err}", field="lon_column") from err
    lon = pd.to_numeric(frame[lon_column], errors="coerce").to_numpy(dtype="float64")
    lat = pd.to_numeric(frame[lat_column], errors="coerce").to_numpy(dtype="float64")
    keep = np.isfinite(lon) & np.isfinite(lat) & ~((lon == 0) & (lat == 0))
    if bounds is not None:
        keep &= (lon >= bounds[0]) & (lat >= bounds[1]) & (lon <= bounds[2]) & (lat <= bounds[3])
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(lon[keep], lat[keep]), crs=STORAGE_CRS
    ).reset_index(drop=True)
