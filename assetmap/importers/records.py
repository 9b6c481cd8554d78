"""Turn raw rows into validated asset records, row errors and likely duplicates.

The steps, for every source format: drop rows the manifest filters out; merge grouped rows;
map columns onto asset fields; place the row (its geometry, its lon/lat columns, or else its
postcode); validate with :func:`assetmap.domain.asset.validate_asset`; give it a source id;
and flag rows that repeat another row of the same file.

Source ids. A row's id is the manifest's ``source_id`` column when it has a value. Otherwise
it is derived from what identifies a place in a list: the normalised name and the postcode
(``"name:sale library|postcode:M33 7ZF"``), or, with no postcode, the point rounded to 5 dp
(about 1 m: ``"name:…|at:-2.31595,53.42489"``). Re-importing the same row therefore finds
the same asset; renaming it or moving it to another postcode makes it a new one.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyproj import CRS, Transformer

from assetmap.domain.asset import (
    Asset,
    clean_text,
    future_verified_error,
    normalise_name,
    validate_asset,
)
from assetmap.domain.errors import ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.postcode import normalise_postcode
from assetmap.domain.spreadsheet import (
    lost_phone_digits,
    phone_digits_lost,
    restored_phone,
    spreadsheet_date,
)
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex, UnknownPostcode
from assetmap.importers.manifest import GroupRule, SourceSpec, fill_template

# Two rows with the same normalised name closer than this are taken to be the same place.
DUPLICATE_RADIUS_M = 50.0
_KEY_NAME_CHARS = 120
_LIST_FIELDS = ("currencies", "accessibility", "audience")


@dataclass
class RawRow:
    """One data row or feature as read: text values by column, plus geometry if any.

    ``row`` counts data rows (or features) from 1; ``line`` is the file line where a CSV row
    starts. ``lon``/``lat`` (EPSG:4326) and ``footprint`` come from a vector geometry.
    ``problems`` are (field, reason, value) found while reading. ``lists`` holds the items of
    columns whose value was a list (a JSON array in GeoJSON), whose ``values`` entry is then
    the items joined with "; ".
    """

    row: int
    line: int | None
    values: dict[str, str]
    lon: float | None = None
    lat: float | None = None
    footprint: dict[str, Any] | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    accessibility: set[str] = field(default_factory=set)
    category: str = ""
    lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RowError:
    """Why a row was rejected: 1-based data row, file line (CSV), asset field, reason, value."""

    row: int
    field: str
    reason: str
    value: str = ""
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "row": self.row,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
        }


@dataclass(frozen=True)
class DuplicateRow:
    """A row not imported because it repeats another: ``existing`` is an asset id or "row N"."""

    row: int
    reason: str
    existing: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "row": self.row,
            "line": self.line,
            "reason": self.reason,
            "existing": self.existing,
        }


@dataclass(frozen=True)
class Record:
    """A valid row: its asset (not yet stored) and where it came from.

    ``name_is_fallback`` is true when the source gave no name and the manifest's generic one
    was used; such names say nothing about identity, so they are not matched as duplicates.
    ``asset_id`` is the id the row had in the store it was exported from (a file of the app's
    own export), else empty. ``phone_cell`` is such a row's phone as a spreadsheet saved it
    with digits lost (``1.62E+09``); the asset then has no phone, and the import service
    keeps the stored asset's if it is the number the cell came from, else refuses the row.
    """

    row: int
    line: int | None
    asset: Asset
    name_is_fallback: bool = False
    asset_id: str = ""
    phone_cell: str = ""


@dataclass
class ParsedSource:
    """Everything an importer learnt from one file, before anything is stored.

    ``notes`` are things the report should say that are not row errors: an encoding other
    than the one expected, columns that were ignored.
    """

    spec: SourceSpec
    read: int = 0
    notes: list[str] = field(default_factory=list)
    filtered: int = 0
    merged: int = 0
    geocoded: int = 0
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[DuplicateRow] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """How many rows have at least one error."""
        return len({e.row for e in self.errors})


def _keep(raw: RawRow, spec: SourceSpec) -> bool:
    for column, allowed in spec.include.items():
        if raw.values.get(column, "") not in allowed:
            return False
    return all(raw.values.get(col, "") not in banned for col, banned in spec.exclude.items())


def _merge(rows: list[RawRow], group: GroupRule) -> RawRow:
    """One row standing for a group (see GroupRule)."""
    first = rows[0]
    values = dict(first.values)
    for column in group.join:
        distinct = list(
            dict.fromkeys(r.values.get(column, "") for r in rows if r.values.get(column))
        )
        values[column] = "; ".join(distinct)
    categories = [r.category for r in rows]
    category = next((c for c in group.category_order if c in categories), first.category)
    merged = RawRow(
        row=first.row,
        line=first.line,
        values=values,
        lon=first.lon,
        lat=first.lat,
        footprint=first.footprint,
        problems=[p for r in rows for p in r.problems],
        accessibility=set().union(*(r.accessibility for r in rows)),
        category=category,
        # A joined column's items are now its joined text.
        lists={k: v for k, v in first.lists.items() if k not in group.join},
    )
    return merged


def _column_value(spec: SourceSpec, field_name: str, values: Mapping[str, str]) -> str:
    mapped = spec.columns.get(field_name)
    if mapped is None:
        return ""
    templates = (mapped,) if isinstance(mapped, str) else mapped
    parts = [p for p in (fill_template(t, values) for t in templates) if p]
    # Parts read as sentences: end each but the last with a full stop unless it has punctuation.
    joined = " ".join(
        p if i == len(parts) - 1 or p[-1] in ".,;:!?" else p + "." for i, p in enumerate(parts)
    )
    return joined.rstrip(",;")


def _resolve_category(raw: str, taxonomy: Taxonomy) -> str:
    """A category id from an id or a label typed any case; otherwise the text unchanged."""
    if raw in taxonomy:
        return raw
    folded = raw.strip().casefold()
    for cat in taxonomy:
        if folded in {cat.id.casefold(), cat.label.casefold()}:
            return cat.id
    return raw


def derived_source_id(name: str, postcode: str, lon: float, lat: float) -> str:
    """The stable key of a row without an id column (see the module docstring)."""
    key = normalise_name(name)[:_KEY_NAME_CHARS]
    if postcode:
        return f"name:{key}|postcode:{postcode}"
    return f"name:{key}|at:{lon:.5f},{lat:.5f}"


def projected_area(crs: CRS) -> tuple[float, float, float, float] | None:
    """A projected CRS's area of use in its own units (min x, min y, max x, max y).

    None for a geographic CRS or one with no stated area.
    """
    if not crs.is_projected or crs.area_of_use is None:
        return None
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    bounds: tuple[float, float, float, float] = to_crs.transform_bounds(*crs.area_of_use.bounds)
    return bounds


class _Locator:
    """Places a row: geometry, else lon/lat columns (any CRS), else the postcode centroid."""

    def __init__(self, spec: SourceSpec, postcodes: PostcodeIndex) -> None:
        self.spec = spec
        self.postcodes = postcodes
        self.transformer: Transformer | None = None
        self.projected = False
        # The manifest CRS's area of use in its own units; a projection converts points far
        # outside it to anywhere, a mistyped northing of 1e9 included to a point in the UK.
        self.bounds: tuple[float, float, float, float] | None = None
        self.geocoded = 0
        if spec.crs and spec.format == "csv":
            self.transformer = Transformer.from_crs(spec.crs, "EPSG:4326", always_xy=True)
            crs = CRS.from_user_input(spec.crs)
            self.projected = crs.is_projected
            self.bounds = projected_area(crs)

    def locate(
        self, raw: RawRow, postcode: str, errors: list[tuple[str, str, str]]
    ) -> tuple[object, object]:
        """(lon, lat) for validation: floats or raw text; (None, None) after an error."""
        if raw.lon is not None and raw.lat is not None:
            return raw.lon, raw.lat
        if self.spec.format != "csv":
            return None, None  # the geometry problem is already recorded
        lon = _column_value(self.spec, "lon", raw.values)
        lat = _column_value(self.spec, "lat", raw.values)
        if lon or lat:
            if self.transformer is None:
                return lon, lat
            return self._from_crs(self.transformer, lon, lat, errors)
        if not postcode:
            if not any(field == "postcode" for field, _, _ in errors):  # not already "bad"
                errors.append(
                    ("postcode", "no coordinates and no postcode: cannot place this row", "")
                )
            return None, None
        try:
            point = self.postcodes.lookup(postcode)
        except UnknownPostcode as err:
            errors.append(("postcode", f"unknown postcode: {err.message}", postcode))
            return None, None
        self.geocoded += 1
        return point.lon, point.lat

    def _from_crs(
        self, transformer: Transformer, lon: str, lat: str, errors: list[tuple[str, str, str]]
    ) -> tuple[object, object]:
        """The row's coordinates in the manifest's CRS as lon/lat, or as text to validate.

        Text that is not two finite numbers goes to validation as it is, which names the
        missing or bad one: converted, a NaN easting made both coordinates infinite.
        """
        try:
            x, y = float(lon), float(lat)
        except ValueError:
            return lon, lat
        if not (math.isfinite(x) and math.isfinite(y)):
            return lon, lat
        crs = self.spec.crs
        # Metres this close to a projection's origin are degrees typed into the wrong file.
        if self.projected and abs(x) <= 180 and abs(y) <= 90:
            errors.append(
                (
                    "lon",
                    f"'{lon}', '{lat}' look like longitude and latitude, not {crs} eastings "
                    "and northings: check the manifest's crs",
                    lon,
                )
            )
            return None, None
        if self.bounds is not None:
            min_x, min_y, max_x, max_y = self.bounds
            if not (min_x <= x <= max_x and min_y <= y <= max_y):
                field_name, value = ("lon", lon) if not min_x <= x <= max_x else ("lat", lat)
                errors.append(
                    (
                        field_name,
                        f"'{lon}', '{lat}' lie outside the area {crs} is for (x from "
                        f"{min_x:,.0f} to {max_x:,.0f}, y from {min_y:,.0f} to {max_y:,.0f})",
                        value,
                    )
                )
                return None, None
        return transformer.transform(x, y)


def _json_array(text: str) -> list[object] | None:
    """The items of a JSON array of strings or numbers written as text, else None."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        items = json.loads(text)
    except ValueError:
        return None
    if isinstance(items, list) and all(isinstance(v, str | int | float) for v in items):
        return items
    return None


def _as_list(value: object) -> list[str]:
    """Items of a list field: a list, a JSON array as text, or text separated by ; or ,."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items: list[object] = list(value)
    else:
        text = str(value).strip()
        # GDAL writes list fields it cannot type as JSON text, e.g. '["step_free"]' or '[]'.
        array = _json_array(text)
        items = array if array is not None else list(text.replace(";", ",").split(","))
    return [str(v).strip() for v in items if str(v).strip()]


def _list_column(spec: SourceSpec, field_name: str, raw: RawRow) -> list[str]:
    """A list field's items from its column; a column read as a list keeps its items whole."""
    mapped = spec.columns.get(field_name)
    if isinstance(mapped, str) and mapped in raw.lists:
        return [v.strip() for v in raw.lists[mapped] if v.strip()]
    return _as_list(_column_value(spec, field_name, raw.values))


def _fields(
    raw: RawRow, spec: SourceSpec, taxonomy: Taxonomy
) -> tuple[dict[str, Any], bool, list[tuple[str, str, str]]]:
    """Asset field values for validation, whether the name is the fallback, and problems."""
    problems = list(raw.problems)
    data: dict[str, Any] = {
        name: _column_value(spec, name, raw.values)
        for name in spec.columns
        if name not in {"lon", "lat"}
    }
    for name in _LIST_FIELDS:
        combined = [
            *_as_list(spec.fixed.get(name)),
            *_list_column(spec, name, raw),
            *(sorted(raw.accessibility) if name == "accessibility" else []),
        ]
        data[name] = list(dict.fromkeys(combined))
    for name, value in spec.fixed.items():
        # A fixed value fills the field where the row (if mapped at all) leaves it empty.
        if name not in _LIST_FIELDS and not data.get(name):
            data[name] = value
    fallback = False
    if not clean_text(data.get("name")) and spec.name_fallback is not None:
        data["name"] = spec.name_fallback.resolve(raw.values)
        fallback = bool(data["name"])
    data["category"] = _resolve_category(raw.category, taxonomy)
    # An export's row keeps the source it came from, so its (source, source id) key is the
    # one it had; a row added to the file by hand is the file's own.
    exported_from = raw.values.get(spec.source_column, "") if spec.source_column else ""
    data["source"] = exported_from or spec.source
    # A licence column (as in the app's own exports) is each row's own; the manifest's is the
    # default.
    data["licence"] = data.get("licence") or spec.licence
    data["status"] = "published"
    data["footprint"] = raw.footprint
    postcode_text = clean_text(data.get("postcode"))
    if postcode_text:
        try:
            data["postcode"] = normalise_postcode(postcode_text)
        except ValidationError as err:
            problems.append(("postcode", f"bad postcode: {err.message}", postcode_text))
            data["postcode"] = ""
    return data, fallback, problems


def _read_date(
    data: dict[str, Any], problems: list[tuple[str, str, str]]
) -> tuple[str, str] | None:
    """Put ``last_verified`` in ISO form; (text, date) when it was read day first."""
    text = clean_text(data.get("last_verified"))
    if not text:
        return None
    try:
        day = spreadsheet_date(text)
    except ValidationError as err:
        problems.append(("last_verified", err.message, text))
        data["last_verified"] = None
        return None
    data["last_verified"] = day
    return None if text[:10] == day else (text, day)


def _read_phone(
    data: dict[str, Any], problems: list[tuple[str, str, str]], named: bool
) -> tuple[str, str] | None:
    """Give back a phone number the 0 a spreadsheet took off; (text, number) when it did.

    A number whose digits a spreadsheet lost, in a row that names a stored asset (``named``),
    is left to the import service to check against that asset's: data's ``phone_cell``.
    """
    text = clean_text(data.get("phone"))
    if named and phone_digits_lost(text):
        data["phone"], data["phone_cell"] = "", text
        return None
    lost = lost_phone_digits(text)
    if lost is not None:
        problems.append(("phone", lost.message, text))
        data["phone"] = ""  # reported once, here, not again as "not a phone number"
        return None
    restored = restored_phone(text)
    if restored is None:
        return None
    data["phone"] = restored
    return text, restored


def _raw_value(raw: RawRow, spec: SourceSpec, field_name: str, data: Mapping[str, Any]) -> str:
    """The source value behind a field, for the error report."""
    if field_name in {"lon", "lat"} and raw.lon is not None:
        return repr(raw.lon if field_name == "lon" else raw.lat)
    if field_name in {"lon", "lat"}:
        return _column_value(spec, field_name, raw.values)
    if field_name == "category":
        return raw.category
    value = data.get(field_name, "")
    return ", ".join(map(str, value)) if isinstance(value, list) else clean_text(value)


def build_records(
    rows: list[RawRow],
    spec: SourceSpec,
    *,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    progress: Callable[[Iterable[RawRow]], Iterable[RawRow]] | None = None,
    today: date | None = None,
) -> ParsedSource:
    """Validate raw rows into records and row errors; find duplicates within the file.

    Parameters
    ----------
    rows
        As read by the CSV or vector reader.
    spec
        How columns map onto assets.
    taxonomy
        Valid categories.
    postcodes
        Directory used to check postcodes and to place rows that have no coordinates.
    progress
        Optional wrapper around the row iterator (a progress bar).
    today
        The date a ``last_verified`` may not be after (default: today's local date, as the
        moderators' edit form uses).

    Returns
    -------
    ParsedSource
        Records in file order (duplicates removed), errors and duplicates.
    """
    parsed = ParsedSource(spec=spec, read=len(rows))
    kept = [r for r in rows if _keep(r, spec)]
    parsed.filtered = len(rows) - len(kept)
    for raw in kept:
        raw.category = spec.category.resolve(raw.values)
        if spec.accessibility is not None:
            raw.accessibility = spec.accessibility.features(raw.values)
    if spec.group is not None:
        groups: dict[str, list[RawRow]] = defaultdict(list)
        for raw in kept:
            groups[raw.values.get(spec.group.by, "") or f"row {raw.row}"].append(raw)
        merged = [_merge(rows, spec.group) for rows in groups.values()]
        parsed.merged = len(kept) - len(merged)
        kept = merged

    today = today or date.today()
    locator = _Locator(spec, postcodes)
    records: list[Record] = []
    day_first: list[tuple[int, str, str]] = []
    zero_back: list[tuple[int, str, str]] = []
    iterator: Iterable[RawRow] = progress(kept) if progress else kept
    for raw in iterator:
        data, fallback, problems = _fields(raw, spec, taxonomy)
        # A spreadsheet saves an exported ISO date in its own locale's form (30/06/2025).
        read_as = _read_date(data, problems)
        # And a phone number of digits only as a number, its leading 0 dropped.
        asset_id = raw.values.get(spec.id_column, "") if spec.id_column else ""
        restored = _read_phone(data, problems, bool(asset_id))
        data["lon"], data["lat"] = locator.locate(raw, data.get("postcode", ""), problems)
        asset: Asset | None = None
        errors: list[ValidationError] = []
        if data["lon"] is not None:
            asset, errors = validate_asset(data, taxonomy)
        else:
            # Validate anyway so every other bad field is reported in the same run.
            _, errors = validate_asset({**data, "lon": 0.0, "lat": 51.5}, taxonomy)
        future = future_verified_error(data.get("last_verified"), today)
        if future is not None:
            # A date to come would count the listing as freshly checked for years.
            errors.append(future)
            asset = None
        for fname, reason, value in problems:
            parsed.errors.append(RowError(raw.row, fname, reason, value, raw.line))
        for err in errors:
            fname = err.field or ""
            value = _raw_value(raw, spec, fname, data)
            parsed.errors.append(RowError(raw.row, fname, err.message, value, raw.line))
        if asset is None or problems:
            continue
        if not asset.source_id:
            asset = asset.with_changes(
                source_id=derived_source_id(asset.name, asset.postcode, asset.lon, asset.lat)
            )
        phone_cell = data.get("phone_cell", "")
        records.append(Record(raw.row, raw.line, asset, fallback, asset_id, phone_cell))
        # Noted for the rows imported only; the report's DD/MM/YYYY is a date with slashes
        # (30-Jun-25 names its month: nothing was guessed).
        if read_as is not None and "/" in read_as[0]:
            day_first.append((raw.row, *read_as))
        if restored is not None:
            zero_back.append((raw.row, *restored))
    parsed.geocoded = locator.geocoded
    if day_first:
        # Said in the report, so that a file of month-first dates that all happen to be days
        # (01/02/2025) is seen to have been read day first.
        row, text, day = day_first[0]
        parsed.notes.append(
            f"last_verified of {len(day_first)} row(s) read as a UK date, day first "
            f"(DD/MM/YYYY): row {row}'s '{text}' is {day}"
        )
    if zero_back:
        row, text, phone = zero_back[0]
        parsed.notes.append(
            f"phone of {len(zero_back)} row(s) had lost its leading 0, as a spreadsheet drops "
            f"it, and was read with it: row {row}'s {text} is {phone}"
        )
    parsed.records, parsed.duplicates = find_file_duplicates(records)
    return parsed


def find_file_duplicates(records: list[Record]) -> tuple[list[Record], list[DuplicateRow]]:
    """Split records into the ones to import and likely duplicates of an earlier row.

    A row is a duplicate when its source and source id repeat an earlier row's, or when its
    category and normalised name equal an earlier row's and the two points are within
    ``DUPLICATE_RADIUS_M`` metres (geodesic). Category is part of the match because a park and
    the sports ground inside it often share a name ("Seymour Park") yet are different assets.
    Rows named by the manifest's fallback are matched on source id only, and two rows of an
    export with different asset ids are not matched by name: they were two assets already.
    """
    kept: list[Record] = []
    dups: list[DuplicateRow] = []
    by_id: dict[tuple[str, str], Record] = {}
    by_name: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for rec in records:
        a = rec.asset
        first = by_id.get((a.source, a.source_id))
        if first is not None:
            dups.append(
                DuplicateRow(
                    rec.row,
                    f"same source id '{a.source_id}' as row {first.row}",
                    f"row {first.row}",
                    rec.line,
                )
            )
            continue
        norm = (a.category, normalise_name(a.name))
        near = None
        others = [o for o in by_name[norm] if not (rec.asset_id and o.asset_id)]
        if not rec.name_is_fallback and others:
            dist = distances_m(
                a.lon, a.lat, [o.asset.lon for o in others], [o.asset.lat for o in others]
            )
            i = int(dist.argmin())
            if dist[i] <= DUPLICATE_RADIUS_M:
                near = (others[i], float(dist[i]))
        if near is not None:
            other, d = near
            dups.append(
                DuplicateRow(
                    rec.row,
                    f"same name as row {other.row} ('{other.asset.name}'), {d:.0f} m away",
                    f"row {other.row}",
                    rec.line,
                )
            )
            continue
        by_id[(a.source, a.source_id)] = rec
        if not rec.name_is_fallback:
            by_name[norm].append(rec)
        kept.append(rec)
    return kept, dups
