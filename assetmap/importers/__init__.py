"""Importers: read CSV, GeoJSON, GeoPackage and Shapefile sources into validated records.

Importers never write. :func:`parse_source` returns records, row errors and likely duplicates;
the import service decides what to store, in one transaction per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.importers.csv_ import read_csv, read_csv_header
from assetmap.importers.manifest import (
    SourceSpec,
    detect_format,
    load_manifest,
    match_columns,
    plain_spec,
)
from assetmap.importers.records import (
    DuplicateRow,
    ParsedSource,
    RawRow,
    Record,
    RowError,
    build_records,
)
from assetmap.importers.vector import read_vector, read_vector_header

__all__ = [
    "DuplicateRow",
    "ParsedSource",
    "Record",
    "RowError",
    "SourceSpec",
    "check_header",
    "check_source",
    "ignored_columns",
    "load_manifest",
    "parse_source",
    "read_header",
    "spec_for_file",
]


def read_header(
    path: Path,
    fmt: str,
    *,
    encoding: str = "utf-8-sig",
    layer: str | None = None,
    crs: str | None = None,
) -> list[str]:
    """Column names of a source file (attribute names for vector files).

    Raises
    ------
    ValidationError
        When the file is missing or unreadable, or (vector files) its layer or CRS is unknown.
    """
    if not path.is_file():
        raise ValidationError(f"{path} does not exist", field="file")
    if fmt == "csv":
        return read_csv_header(path, encoding)
    return read_vector_header(path, layer, crs)


def spec_for_file(path: Path) -> SourceSpec:
    """The spec for a single file imported without a manifest (see :func:`plain_spec`)."""
    return plain_spec(path, read_header(path, detect_format(path)))


def with_coordinate_columns(spec: SourceSpec, header: list[str]) -> SourceSpec:
    """The spec with lon/lat columns found by name when it maps neither (CSV only).

    A manifest that forgets ``lon``/``lat`` would otherwise silently place every row at its
    postcode centroid.
    """
    if "lon" in spec.columns or "lat" in spec.columns:
        return spec
    found = {k: v for k, v in match_columns(header)[0].items() if k in {"lon", "lat"}}
    if len(found) < 2:
        return spec
    return replace(spec, columns={**spec.columns, **found})


def _delimiter_hint(header: list[str]) -> str:
    """Advice when the header looks split on something other than commas."""
    for char, label in ((";", "semicolons"), ("\t", "tabs")):
        if any(char in h for h in header):
            return (
                f". The header contains {label}: the file looks separated by {label}, not "
                "commas; save it again as CSV (comma delimited)"
            )
    return ""


def _columns_found(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header) if header else "(none)"


def _unplaced(spec: SourceSpec) -> list[str]:
    """What a file without a manifest lacks to make assets: name, category, a location."""
    missing = [] if "name" in spec.columns else ["'name'"]
    if spec.category.column is None and not spec.category.fixed:
        missing.append("'category'")
    if spec.format == "csv":
        has = {f for f in ("lat", "lon") if f in spec.columns}
        if len(has) == 1:
            missing.append(repr(({"lat", "lon"} - has).pop()))
        elif not has and "postcode" not in spec.columns:
            missing.append("'lat' and 'lon' (or 'postcode')")
    return missing


def check_header(spec: SourceSpec, header: list[str]) -> None:
    """Check a file's header against its spec, once for the file rather than on every row.

    A manifest's columns must all be present. A file imported without one must have columns
    for a name, a category and (CSV) a place: ``lat`` and ``lon``, or ``postcode``.

    Raises
    ------
    ValidationError
        Naming the missing columns and listing the ones the file has, with a hint when the
        file seems to use another delimiter.
    """
    missing = sorted(spec.used_columns() - set(header))
    if missing:
        raise ValidationError(
            f"source '{spec.source}': {spec.path.name} has no column(s) "
            f"{', '.join(repr(m) for m in missing)}; its columns are {_columns_found(header)}"
            + _delimiter_hint(header),
            field="columns",
        )
    lacking = _unplaced(spec) if spec.from_header else []
    if lacking:
        raise ValidationError(
            f"{spec.path.name} has no column {', '.join(lacking)}; its columns are "
            f"{_columns_found(header)}. Without a manifest a file needs the columns name, "
            "category, and lat and lon or postcode (case and spacing ignored)"
            + _delimiter_hint(header),
            field="columns",
        )


def ignored_columns(spec: SourceSpec, header: list[str]) -> list[str]:
    """Columns of a file imported without a manifest that match no asset field."""
    if not spec.from_header:
        return []  # a manifest chose its columns; leaving others out is deliberate
    used = spec.used_columns()
    return [h for h in header if h and h not in used]


def check_source(spec: SourceSpec) -> None:
    """Check, before anything is imported, that the file is readable and has the columns used.

    Raises
    ------
    ValidationError
        For a file that cannot be read as a whole (encoding, unclosed quote, repeated column
        names; a vector file's layer or CRS), and from :func:`check_header`.
    """
    header = read_header(
        spec.path, spec.format, encoding=spec.encoding, layer=spec.layer, crs=spec.crs
    )
    if spec.format == "csv":
        spec = with_coordinate_columns(spec, header)
    check_header(spec, header)


def parse_source(
    spec: SourceSpec,
    *,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    progress: Callable[[Iterable[RawRow]], Iterable[RawRow]] | None = None,
) -> ParsedSource:
    """Read and validate one source file.

    Parameters
    ----------
    spec
        What to read and how columns map onto assets.
    taxonomy
        Valid categories.
    postcodes
        Directory for checking postcodes and placing rows without coordinates.
    progress
        Optional wrapper around the row iterator (a progress bar).

    Returns
    -------
    ParsedSource
        Valid records (EPSG:4326 points), row errors, in-file duplicates and notes (the
        encoding a CSV was read with when not the one expected; columns ignored). Nothing is
        stored.

    Raises
    ------
    ValidationError
        For a problem with the file as a whole (see :func:`check_source`).
    """
    notes: list[str] = []
    if spec.format == "csv":
        table = read_csv(spec.path, encoding=spec.encoding, na_values=spec.na_values)
        header, rows, notes = table.header, table.rows, table.notes
        spec = with_coordinate_columns(spec, header)
    else:
        header, rows = read_vector(
            spec.path, layer=spec.layer, crs=spec.crs, na_values=spec.na_values
        )
    check_header(spec, header)
    ignored = ignored_columns(spec, header)
    if ignored:
        notes.append(f"ignored column(s), matching no asset field: {', '.join(map(repr, ignored))}")
    parsed = build_records(rows, spec, taxonomy=taxonomy, postcodes=postcodes, progress=progress)
    parsed.notes = [*notes, *parsed.notes]
    return parsed
