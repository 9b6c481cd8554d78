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
from assetmap.importers.manifest import SourceSpec, detect_format, load_manifest, plain_spec
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
    "check_source",
    "load_manifest",
    "parse_source",
    "read_header",
    "spec_for_file",
]


def read_header(
    path: Path, fmt: str, *, encoding: str = "utf-8-sig", layer: str | None = None
) -> list[str]:
    """Column names of a source file (attribute names for vector files).

    Raises
    ------
    ValidationError
        When the file is missing or unreadable.
    """
    if not path.is_file():
        raise ValidationError(f"{path} does not exist", field="file")
    if fmt == "csv":
        return read_csv_header(path, encoding)
    return read_vector_header(path, layer)


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
    found = {k: v for k, v in plain_spec(spec.path, header).columns.items() if k in {"lon", "lat"}}
    if len(found) < 2:
        return spec
    return replace(spec, columns={**spec.columns, **found})


def check_source(spec: SourceSpec) -> None:
    """Check, before anything is imported, that the file exists and has every column used.

    Raises
    ------
    ValidationError
        Naming the missing columns and listing the ones the file has.
    """
    header = read_header(spec.path, spec.format, encoding=spec.encoding, layer=spec.layer)
    missing = sorted(spec.used_columns() - set(header))
    if missing:
        raise ValidationError(
            f"source '{spec.source}': {spec.path.name} has no column(s) "
            f"{', '.join(repr(m) for m in missing)}; its columns are {', '.join(header)}",
            field="columns",
        )


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
        Valid records (EPSG:4326 points), row errors and in-file duplicates. Nothing is stored.
    """
    if spec.format == "csv":
        header, rows = read_csv(spec.path, encoding=spec.encoding, na_values=spec.na_values)
        spec = with_coordinate_columns(spec, header)
    else:
        _header, rows = read_vector(
            spec.path, layer=spec.layer, crs=spec.crs, na_values=spec.na_values
        )
    return build_records(rows, spec, taxonomy=taxonomy, postcodes=postcodes, progress=progress)
