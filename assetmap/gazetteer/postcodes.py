"""Offline postcode geocoder backed by a postcode directory file (NSPL-derived CSV).

Coordinates are WGS84 longitude/latitude in decimal degrees (EPSG:4326), as published
in the ONS National Statistics Postcode Lookup (postcode centroids, 5 dp).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from assetmap.domain.errors import NotFound, ValidationError
from assetmap.domain.postcode import UNIT_PATTERN, PostcodeKind, parse_postcode_query

# Areas covered by the shipped directory file (Kent = its 12 districts).
STUDY_AREAS: tuple[str, ...] = ("Birmingham", "Camden", "Kent", "Leeds", "Sandwell", "Trafford")

_POSTCODE_COLUMNS = ("postcode", "pcds", "pcd")
_LAT_COLUMNS = ("lat",)
_LON_COLUMNS = ("long", "lon")
_AREA_COLUMN = "lad_name"

_KIND_LABEL = {"unit": "Postcode", "sector": "Postcode sector", "district": "Postcode district"}


def default_postcode_path() -> Path:
    """Return the path of the postcode directory shipped in the repository.

    Returns
    -------
    Path
        ``<repo>/data/postcodes/postcodes_study_las_nspl2025.csv.gz``: 165,968 unit
        postcodes for the study areas, from the ONS NSPL (May 2025).
    """
    return (
        Path(__file__).resolve().parents[2]
        / "data"
        / "postcodes"
        / "postcodes_study_las_nspl2025.csv.gz"
    )


class UnknownPostcode(NotFound):
    """A well-formed postcode, sector or district that the directory does not hold.

    It is a `NotFound`, but its HTTP status is 400: the usual cause is a typo or a
    place outside the study areas, which the user must fix.
    """

    status = 400

    def __init__(self, query: str, kind: PostcodeKind, areas: tuple[str, ...] = ()) -> None:
        message = f"{_KIND_LABEL[kind]} '{query}' is not in the postcode directory"
        if areas:
            message += f" (study areas: {', '.join(areas)})"
        super().__init__(message)
        self.query = query
        self.kind = kind
        # Named like a ValidationError's field, so every error handler can point at the input.
        self.field = "postcode"


@dataclass(frozen=True, slots=True)
class PostcodePoint:
    """Where a postcode, sector or district is.

    Attributes
    ----------
    query : str
        The normalised query, e.g. ``"M32 0TH"``, ``"M33 7"`` or ``"M33"``.
    kind : {"unit", "sector", "district"}
        Granularity of `query`.
    lon, lat : float
        WGS84 longitude and latitude in decimal degrees. For a unit postcode this is
        the published centroid; for a sector or district it is the unweighted mean of
        the centroids of its unit postcodes in the directory.
    count : int
        Number of unit postcodes behind the point (1 for a unit postcode).
    """

    query: str
    kind: PostcodeKind
    lon: float
    lat: float
    count: int


@dataclass(frozen=True, slots=True)
class _Table:
    """Sorted keys with their coordinates, searched with binary search."""

    keys: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    count: np.ndarray

    def find(self, key: str) -> int | None:
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return i
        return None


def _pick(columns: Iterable[str], wanted: tuple[str, ...], path: Path, what: str) -> str:
    by_lower = {c.strip().lower(): c for c in columns}
    for name in wanted:
        if name in by_lower:
            return by_lower[name]
    raise ValidationError(
        f"{path.name} has no {what} column (looked for {', '.join(wanted)})", field=what
    )


def _grouped(keys: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> _Table:
    """Mean lon/lat and size of each distinct key, sorted by key."""
    uniq, inverse, count = np.unique(keys, return_inverse=True, return_counts=True)
    return _Table(
        keys=uniq,
        lon=np.bincount(inverse, weights=lon) / count,
        lat=np.bincount(inverse, weights=lat) / count,
        count=count,
    )


class PostcodeIndex:
    """In-memory postcode directory answering unit, sector and district look-ups.

    Build it with :meth:`from_csv`. Look-ups are binary searches over sorted numpy
    arrays; sector and district centroids are computed once, at load time.
    """

    def __init__(
        self,
        postcodes: ArrayLike,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        areas: Iterable[str] = (),
    ) -> None:
        """Index unit postcodes with their coordinates.

        Parameters
        ----------
        postcodes : array-like of str
            Unit postcodes in any case or spacing; each must be a valid UK postcode
            and appear once.
        lon, lat : array-like of float
            WGS84 longitude and latitude (decimal degrees) of each postcode.
        areas : iterable of str, optional
            Names of the areas the directory covers, quoted in `UnknownPostcode`.

        Raises
        ------
        ValidationError
            If a postcode is malformed or repeated, or the lengths differ.
        """
        raw = [str(code) for code in np.asarray(postcodes, dtype=object)]
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        if not len(raw) == len(lon_arr) == len(lat_arr):
            raise ValidationError("postcodes, lon and lat must have the same length")

        # Inline form of normalise_postcode over plain lists: the directory mixes
        # "LS10 1AB", "LS101AB" and "M1 1AA" spellings, and calling the domain function
        # (or pandas .str methods) per row would double the load time.
        compact = ["".join(code.split()).upper() for code in raw]
        pattern = re.compile(UNIT_PATTERN)
        for row, code in enumerate(compact, start=1):
            if not pattern.fullmatch(code):
                raise ValidationError(
                    f"{raw[row - 1]!r} is not a UK postcode", field="postcode", row=row
                )
        units = np.array([f"{c[:-3]} {c[-3:]}" for c in compact])
        sectors = np.array([f"{c[:-3]} {c[-3]}" for c in compact])
        districts = np.array([c[:-3] for c in compact])

        unit_table = _grouped(units, lon_arr, lat_arr)
        if len(unit_table.keys) < len(units):
            repeated = unit_table.keys[unit_table.count > 1]
            shown = ", ".join(repeated[:5])
            raise ValidationError(
                f"{len(repeated)} postcodes appear more than once, e.g. {shown}",
                field="postcode",
            )
        self.areas: tuple[str, ...] = tuple(areas)
        self._tables: dict[str, _Table] = {
            "unit": unit_table,
            "sector": _grouped(sectors, lon_arr, lat_arr),
            "district": _grouped(districts, lon_arr, lat_arr),
        }

    @classmethod
    def from_csv(cls, path: str | Path, *, areas: Iterable[str] | None = None) -> PostcodeIndex:
        """Load a postcode directory CSV (plain or gzip-compressed ``.gz``).

        Parameters
        ----------
        path : str or Path
            CSV with a postcode column (``postcode``, ``pcds`` or ``pcd``), ``lat`` and
            ``long`` (or ``lon``) in WGS84 decimal degrees, as in the ONS NSPL. Other
            columns are ignored. Rows without coordinates (blank, or NSPL's
            ``99.999999`` latitude for "no grid reference") are skipped.
        areas : iterable of str, optional
            Names of the covered areas for error messages. By default the distinct
            values of a ``lad_name`` column if there is one.

        Returns
        -------
        PostcodeIndex

        Raises
        ------
        ValidationError
            If a required column is missing or a postcode is malformed or repeated.
        """
        path = Path(path)
        header = pd.read_csv(path, nrows=0).columns
        pc_col = _pick(header, _POSTCODE_COLUMNS, path, "postcode")
        lat_col = _pick(header, _LAT_COLUMNS, path, "lat")
        lon_col = _pick(header, _LON_COLUMNS, path, "long")
        area_col = next((c for c in header if c.strip().lower() == _AREA_COLUMN), None)
        wanted = [pc_col, lat_col, lon_col] + ([area_col] if areas is None and area_col else [])
        frame = pd.read_csv(
            path,
            usecols=wanted,
            dtype={pc_col: str, lat_col: np.float64, lon_col: np.float64},
            keep_default_na=False,
            na_values={lat_col: [""], lon_col: [""]},
        )
        lat = frame[lat_col].to_numpy()
        lon = frame[lon_col].to_numpy()
        located = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
        frame = frame[located]
        if areas is None:
            areas = sorted(frame[area_col].unique()) if area_col else ()
        postcodes = frame[pc_col].to_numpy(dtype=object)
        try:
            return cls(postcodes, lon[located], lat[located], areas=[str(a) for a in areas])
        except ValidationError as err:
            if err.row is None:
                raise
            # Report the data row of the file, not of the filtered arrays.
            file_row = int(np.flatnonzero(located)[err.row - 1]) + 1
            raise ValidationError(err.message, field=err.field, row=file_row) from None

    def lookup(self, text: str) -> PostcodePoint:
        """Find the point for a unit postcode, postcode sector or postcode district.

        Parameters
        ----------
        text : str
            E.g. ``"m320th"``, ``"M32 0TH"``, ``"M33 7"`` or ``"M33"``; case and
            spacing are forgiven (see `parse_postcode_query`).

        Returns
        -------
        PostcodePoint
            WGS84 lon/lat in decimal degrees, with the normalised query and kind.

        Raises
        ------
        ValidationError
            If `text` is not a postcode, sector or district (``field="postcode"``).
        UnknownPostcode
            If it is well formed but not in this directory (HTTP status 400).
        """
        query = parse_postcode_query(text)
        table = self._tables[query.kind]
        i = table.find(query.value)
        if i is None:
            raise UnknownPostcode(query.value, query.kind, self.areas)
        return PostcodePoint(
            query=query.value,
            kind=query.kind,
            lon=float(table.lon[i]),
            lat=float(table.lat[i]),
            count=int(table.count[i]),
        )

    def __contains__(self, text: object) -> bool:
        """Tell whether `lookup` would find `text` (a postcode, sector or district)."""
        if not isinstance(text, str):
            return False
        try:
            query = parse_postcode_query(text)
        except ValidationError:
            return False
        return self._tables[query.kind].find(query.value) is not None

    def __len__(self) -> int:
        """Count the unit postcodes in the directory."""
        return len(self._tables["unit"].keys)

    def __repr__(self) -> str:
        sectors = len(self._tables["sector"].keys)
        districts = len(self._tables["district"].keys)
        return f"PostcodeIndex({len(self)} postcodes, {sectors} sectors, {districts} districts)"


@lru_cache(maxsize=1)
def load_default_index() -> PostcodeIndex:
    """Load the shipped postcode directory, once per process.

    Returns
    -------
    PostcodeIndex
        Built from :func:`default_postcode_path`, naming `STUDY_AREAS` in errors.
    """
    return PostcodeIndex.from_csv(default_postcode_path(), areas=STUDY_AREAS)


__all__ = [
    "STUDY_AREAS",
    "PostcodeIndex",
    "PostcodePoint",
    "UnknownPostcode",
    "default_postcode_path",
    "load_default_index",
]
