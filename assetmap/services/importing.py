"""Import assets from files into a store, with a validation report for every file.

Rules, per file:

* All or nothing by default: a file with any bad row writes nothing (``written=False``).
  With ``skip_bad=True`` its good rows are written and the bad ones reported.
* A file's rows are written in one transaction (``store.import_batch``, and the corrections
  below), so an interrupted import leaves the store exactly as it was. Then the run is
  recorded.
* Re-running an import changes nothing: rows are keyed on (source, source id) and a row whose
  content is unchanged writes nothing. A stored asset keeps its status (an asset a moderator
  archived or rejected is not republished by the next import); new assets are published.
* Likely duplicates are reported and skipped: within the file (see
  :func:`assetmap.importers.records.find_file_duplicates`) and against stored assets from
  *other* sources of the same category: the same normalised name within 50 m, or, for a
  polygon, a stored asset whose point lies inside it (so list manifests' point sources before
  polygon sources of the same category). So is a row with the same category and normalised
  name within 50 m of a published asset of its *own* source whose source id no row of the
  file has now: the same place under a new key (in a file without an id column, a corrected
  postcode is a new key). The stored asset is left as it is; the report says to archive it.
* A file of the app's own export (columns ``id``, ``source`` and ``source_id``) corrects the
  stored assets its rows name by ``id``: a row that differs is saved as an edit of that asset
  (as a moderator's would be, so a later import of its own source keeps it), a row that does
  not writes nothing, and neither is a duplicate. Its other rows are new assets keyed on the
  source and source id they had where they were exported from. Such a row's phone that a
  spreadsheet saved with digits lost (``1.62E+09``) is the stored number if it is what the
  spreadsheet makes of it, and otherwise a row error.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from shapely.geometry import Point, shape

from assetmap.domain.asset import CONTENT_FIELDS, Asset, normalise_name
from assetmap.domain.geodesy import distances_m
from assetmap.domain.spreadsheet import lost_phone_digits, saved_as_number
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.importers import (
    DuplicateRow,
    ParsedSource,
    Record,
    SourceSpec,
    check_source,
    load_manifest,
    parse_source,
    spec_for_file,
)
from assetmap.importers.manifest import FORMATS
from assetmap.importers.records import DUPLICATE_RADIUS_M, RawRow, RowError, derived_source_id
from assetmap.settings import REPO_ROOT
from assetmap.store import Store

DEMO_MANIFEST = REPO_ROOT / "data" / "assets" / "trafford" / "manifest.toml"


@dataclass
class ImportReport:
    """What one file's import did, or would have done.

    Counts are rows: ``read`` from the file, ``filtered`` out by the manifest, ``merged`` into
    another row of the same group; ``geocoded`` rows were placed at their postcode centroid
    for want of coordinates; of the records, ``imported`` (new), ``updated``, ``unchanged``,
    ``duplicates`` (skipped); ``valid`` records could be stored; ``rejected`` rows had
    errors. ``errors`` are ``{row, line, field, reason, value}`` and ``duplicate_rows``
    ``{row, line, reason, existing}``, where ``row`` counts data rows (or features) from 1
    and ``line`` is the CSV file line. ``format`` is the file's (csv, geojson, gpkg, shp;
    empty: from the path's extension). ``written`` says whether anything was stored.
    ``kept_edits`` maps each stored asset whose staff corrections the import kept (the
    source had not changed those fields since its last import) to those fields. ``notes``
    are what the reader said about the file as a whole (an encoding other than the one
    expected, columns ignored).
    """

    source: str
    path: str
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicate_rows: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    filtered: int = 0
    merged: int = 0
    geocoded: int = 0
    valid: int = 0
    kept_edits: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    format: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (also what the store keeps as the run's audit record)."""
        return asdict(self)

    def _format(self) -> str:
        return self.format or FORMATS.get(Path(self.path).suffix.lower(), "")

    def _unit(self) -> str:
        return "row" if self._format() in {"csv", ""} else "feature"

    def _where(self, row: int, line: int | None) -> str:
        if line is not None:
            return f"row {row} (line {line} of the file)"
        return f"{self._unit()} {row}"

    def _numbering(self) -> str:
        """What the report's row numbers count in this kind of file."""
        # A vector file has no header line, and its features' fids need not run from 1.
        return {
            "csv": "rows count data rows from 1; the header is line 1",
            "geojson": "features count from 1 in the order of the file's features list",
            "gpkg": "features count from 1 in the layer's order, which is not its fid where "
            "features were deleted",
            "shp": "features count from 1 in the order of the file's records, so feature 1 is "
            "fid 0",
        }.get(self._format(), "rows count from 1")

    def to_text(self) -> str:
        """A human-readable summary and table of every rejected and duplicate row."""
        status = "written" if self.written else "NOT WRITTEN"
        name = Path(self.path).name
        title = self.source if self.source == name else f"{self.source} ({name})"
        lines = [f"{title}: {status}"]
        counts = (
            f"  read {self.read}, imported {self.imported}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}, duplicates {self.duplicates}"
        )
        notes = [
            f"{label} {n}"
            for label, n in (
                ("filtered out", self.filtered),
                ("merged", self.merged),
                ("placed by postcode", self.geocoded),
            )
            if n
        ]
        if notes:
            counts += f" ({', '.join(notes)})"
        lines.append(counts)
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.kept_edits:
            shown = [f"{i} ({', '.join(f)})" for i, f in list(self.kept_edits.items())[:10]]
            more = len(self.kept_edits) - len(shown)
            lines.append(
                f"  kept staff corrections the source has not changed since its last import: "
                f"{'; '.join(shown)}{f'; and {more} more' if more > 0 else ''}"
            )
        unit = self._unit()
        if not self.written:
            lines.append(
                f"  nothing was stored: {self.rejected} {unit}(s) have errors. Fix them, or use "
                f"--skip-bad to store the {self.valid} good {unit}(s)."
            )
        if self.errors:
            lines.append(f"  rejected {unit}s ({self._numbering()}):")
            table: list[tuple[str, ...]] = [
                (
                    self._where(e["row"], e.get("line")),
                    e["field"],
                    _short(repr(e["value"])),
                    e["reason"],
                )
                for e in self.errors
            ]
            lines.extend(_table(("where", "field", "value", "reason"), table))
        if self.duplicate_rows:
            # Said once: with the rejected rows when there are any.
            numbering = "" if self.errors else f"; {self._numbering()}"
            lines.append(f"  likely duplicates (not imported{numbering}):")
            table = [
                (self._where(d["row"], d.get("line")), str(d["existing"]), d["reason"])
                for d in self.duplicate_rows
            ]
            lines.extend(_table(("where", "existing", "reason"), table))
        return "\n".join(lines)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns; the last column is not padded (reasons can be long)."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    return [
        "    " + "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]])
        for r in [head, *rows]
    ]


def _by_name(assets: list[Asset]) -> dict[tuple[str, str], list[Asset]]:
    found: dict[tuple[str, str], list[Asset]] = defaultdict(list)
    for a in assets:
        found[(a.category, normalise_name(a.name))].append(a)
    return found


def _nearest_same_name(
    by_name: dict[tuple[str, str], list[Asset]], asset: Asset
) -> tuple[Asset, float] | None:
    candidates = by_name.get((asset.category, normalise_name(asset.name)), [])
    if not candidates:
        return None
    dist = distances_m(
        asset.lon, asset.lat, [c.lon for c in candidates], [c.lat for c in candidates]
    )
    i = int(dist.argmin())
    return (candidates[i], float(dist[i])) if dist[i] <= DUPLICATE_RADIUS_M else None


class _StoredIndex:
    """Stored assets of some categories a file's rows may repeat, by name and by position.

    Other sources' assets, and the source's own published assets that no row of the file
    keys any more (``keys`` are the file's source ids). One ``list_assets`` read per file
    instead of a radius query per row: a radius query loads every asset near the point, and
    real postcode centroids can hold hundreds of assets (950 Trafford postcodes share a
    single centroid), which made re-imports quadratic.
    """

    def __init__(self, store: Store, source: str, categories: list[str], keys: set[str]) -> None:
        stored = store.list_assets(status=None, categories=categories)
        others = [a for a in stored if a.source != source and a.status != "rejected"]
        # Archived or rejected, an old listing has already been withdrawn by staff (archiving
        # it is what the report asks for), so only a published one can hold a row back.
        self.left_behind = _by_name(
            [
                a
                for a in stored
                if a.source == source and a.status == "published" and a.source_id not in keys
            ]
        )
        self.by_name = _by_name(others)
        self.by_category: dict[str, tuple[list[Asset], np.ndarray, np.ndarray]] = {}
        for cat in categories:
            of_cat = [a for a in others if a.category == cat]
            lons = np.array([a.lon for a in of_cat], dtype=np.float64)
            lats = np.array([a.lat for a in of_cat], dtype=np.float64)
            self.by_category[cat] = (of_cat, lons, lats)

    def same_name_near(self, asset: Asset) -> tuple[Asset, float] | None:
        """Another source's nearest same-category, same-name asset within the radius."""
        return _nearest_same_name(self.by_name, asset)

    def rekeyed(self, asset: Asset) -> tuple[Asset, float] | None:
        """The nearest same-category, same-name own asset within the radius, keyed no more."""
        return _nearest_same_name(self.left_behind, asset)

    def inside(self, asset: Asset) -> Asset | None:
        """A same-category asset whose point lies inside the asset's footprint."""
        if asset.footprint is None:
            return None
        of_cat, lons, lats = self.by_category.get(asset.category, ([], np.empty(0), np.empty(0)))
        outline = shape(asset.footprint)
        min_lon, min_lat, max_lon, max_lat = outline.bounds
        in_box = (lons >= min_lon) & (lons <= max_lon) & (lats >= min_lat) & (lats <= max_lat)
        for i in np.flatnonzero(in_box):
            if outline.covers(Point(lons[i], lats[i])):
                return of_cat[int(i)]
        return None


def _rekeyed_reason(asset: Asset, old: Asset, dist_m: float) -> str:
    """Why a row is held back as its own source's asset under another key, and what to do."""
    said = (
        f"same name as '{old.name}' from this source, {dist_m:.0f} m away, stored under the key "
        f"'{old.source_id}', which no row of the file has now (this row's is "
        f"'{asset.source_id}')"
    )
    if asset.source_id == derived_source_id(asset.name, asset.postcode, asset.lon, asset.lat):
        said += (
            ". The file has no id column, so a row is keyed on its name and postcode (or its "
            "point, without a postcode) and correcting either makes a new listing"
        )
    return (
        f"{said}. If it is the same place, archive {old.id} (assetmap set-status {old.id}"
        " archived --reason ...) and import again"
    )


def find_stored_duplicates(
    store: Store, records: list[Record]
) -> tuple[list[Record], list[DuplicateRow]]:
    """Split records into ones to store and likely duplicates of stored assets.

    Records are checked by their own source (an export's rows keep theirs, so one file may
    hold several), as :func:`find_source_duplicates` says. Both lists are in file order.
    """
    by_source: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        by_source[rec.asset.source].append(rec)
    kept: list[Record] = []
    dups: list[DuplicateRow] = []
    for of_source in by_source.values():
        some_kept, some_dups = find_source_duplicates(store, of_source)
        kept.extend(some_kept)
        dups.extend(some_dups)
    return sorted(kept, key=lambda r: r.row), sorted(dups, key=lambda d: d.row)


def find_source_duplicates(
    store: Store, records: list[Record]
) -> tuple[list[Record], list[DuplicateRow]]:
    """Split records into ones to store and likely duplicates of stored assets.

    Parameters
    ----------
    store
        Where existing assets are looked up (any status except rejected).
    records
        Valid records, all of one source.

    Returns
    -------
    kept, duplicates
        A record is a duplicate when a stored asset from another source has the same category
        and normalised name within ``DUPLICATE_RADIUS_M`` metres (geodesic), or, for a record
        with a polygon footprint, has the same category and a point inside the polygon. It is
        one too when a published asset of its own source has the same category and normalised
        name within that radius and a source id that none of ``records`` has: the same place
        under a new key, which would otherwise be listed twice. Records named by a manifest
        fallback are matched by footprint only.
    """
    if not records:
        return [], []
    categories = sorted({r.asset.category for r in records})
    keys = {r.asset.source_id for r in records}
    index = _StoredIndex(store, records[0].asset.source, categories, keys)
    kept: list[Record] = []
    dups: list[DuplicateRow] = []
    for rec in records:
        a = rec.asset
        near = None if rec.name_is_fallback else index.same_name_near(a)
        if near is not None:
            other, dist = near
            why = f"same name as stored '{other.name}' from {other.source}, {dist:.0f} m away"
            dups.append(DuplicateRow(rec.row, why, other.id, rec.line))
            continue
        left = None if rec.name_is_fallback else index.rekeyed(a)
        if left is not None:
            old, dist = left
            dups.append(DuplicateRow(rec.row, _rekeyed_reason(a, old, dist), old.id, rec.line))
            continue
        container = index.inside(a)
        if container is not None:
            why = (
                f"its outline contains stored {a.category} '{container.name}' "
                f"from {container.source}"
            )
            dups.append(DuplicateRow(rec.row, why, container.id, rec.line))
            continue
        kept.append(rec)
    return kept, dups


# An export's point read back differing by less than this (about 1 cm) has been rounded on
# the way, as a spreadsheet keeps 15 significant digits; it has not been moved.
_SAME_POINT_DEG = 1e-7
# What a row of an export may correct in the asset it names. Its source, source id and status
# stay as stored, and the export has the point but not the outline.
_CORRECTABLE = tuple(
    f for f in CONTENT_FIELDS if f not in {"source", "source_id", "status", "footprint"}
)


@dataclass
class _Corrections:
    """An export's rows that name stored assets: changes by asset id, and what is left."""

    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    unchanged: int = 0
    matched: int = 0
    others: list[Record] = field(default_factory=list)
    repeated: list[DuplicateRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    phones_kept: list[tuple[int, str]] = field(default_factory=list)


def _changes(current: Asset, incoming: Asset) -> dict[str, Any]:
    """The fields a row of an export changes in the stored asset it names."""
    changes = {}
    for name in _CORRECTABLE:
        new, old = getattr(incoming, name), getattr(current, name)
        if name == "opening_times":
            # The text is what the export wrote; its schedule is read from it again.
            new, old = new.text, old.text
        if new != old:
            changes[name] = getattr(incoming, name)
    moved = max(abs(incoming.lon - current.lon), abs(incoming.lat - current.lat))
    if moved <= _SAME_POINT_DEG:
        changes.pop("lon", None)
        changes.pop("lat", None)
    elif "lon" in changes or "lat" in changes:
        changes.update(lon=incoming.lon, lat=incoming.lat)
    return changes


def _lost_phone_error(rec: Record) -> RowError:
    """The error for a phone whose digits a spreadsheet lost, not the stored asset's number."""
    lost = lost_phone_digits(rec.phone_cell)
    reason = (
        lost.message
        if lost is not None
        else f"'{rec.phone_cell}' is not a phone number: a spreadsheet may have taken it for a "
        "number and dropped its leading zeros; type it in full with its spaces"
    )
    return RowError(rec.row, "phone", reason, rec.phone_cell, rec.line)


def _split_corrections(store: Store, records: list[Record]) -> _Corrections:
    """Records that name a stored asset by id (an export's rows), apart from the others.

    A row whose phone a spreadsheet saved with digits lost (``Record.phone_cell``) keeps the
    asset's stored number when that is the number it was saved from; otherwise it is an error.
    """
    out = _Corrections()
    named = [r for r in records if r.asset_id]
    if not named:
        out.others = records
        return out
    # One read for the file, as for duplicates, of every category: a row may correct its own.
    stored = {a.id: a for a in store.list_assets(status=None)}
    first_row: dict[str, int] = {}
    for rec in records:
        current = stored.get(rec.asset_id) if rec.asset_id else None
        if rec.phone_cell:
            if current is None or not saved_as_number(rec.phone_cell, current.phone):
                out.errors.append(_lost_phone_error(rec))
                continue
            # Excel's 1.62E+09 of the stored 01619125920: the number as stored, not a change.
            rec = replace(rec, asset=rec.asset.with_changes(phone=current.phone))
            out.phones_kept.append((rec.row, rec.phone_cell))
        if current is None:
            out.others.append(rec)
            continue
        if rec.asset_id in first_row:
            out.repeated.append(
                DuplicateRow(
                    rec.row,
                    f"same id '{rec.asset_id}' as row {first_row[rec.asset_id]}",
                    f"row {first_row[rec.asset_id]}",
                    rec.line,
                )
            )
            continue
        first_row[rec.asset_id] = rec.row
        out.matched += 1
        changes = _changes(current, rec.asset)
        if changes:
            out.changes[current.id] = changes
        else:
            out.unchanged += 1
    return out


def _keep_status(store: Store, records: list[Record]) -> list[Record]:
    out = []
    for rec in records:
        existing = store.find_by_source(rec.asset.source, rec.asset.source_id)
        if existing is not None and existing.status != rec.asset.status:
            rec = Record(
                rec.row,
                rec.line,
                rec.asset.with_changes(status=existing.status),
                rec.name_is_fallback,
            )
        out.append(rec)
    return out


def _progress_bar(label: str, enabled: bool) -> Callable[[Iterable[RawRow]], Iterable[RawRow]]:
    def wrap(rows: Iterable[RawRow]) -> Iterable[RawRow]:
        # disable=None lets tqdm switch itself off when stderr is not a terminal.
        bar: Iterable[RawRow] = tqdm(
            rows,
            desc=label,
            unit="row",
            file=sys.stderr,
            disable=None if enabled else True,
            leave=False,
        )
        return bar

    return wrap


def import_source(
    store: Store,
    spec: SourceSpec,
    *,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    skip_bad: bool = False,
    author: str = "import",
    progress: bool = True,
) -> ImportReport:
    """Import one source file (see the module docstring for the rules).

    Parameters
    ----------
    store
        Destination.
    spec
        The source, from a manifest or :func:`assetmap.importers.spec_for_file`.
    taxonomy, postcodes
        Valid categories; postcode directory for checking and geocoding.
    skip_bad
        Store the good rows of a file that has bad ones.
    author
        Recorded on every revision and on the import run.
    progress
        Show a progress bar on stderr (only when it is a terminal).

    Returns
    -------
    ImportReport
    """
    parsed: ParsedSource = parse_source(
        spec, taxonomy=taxonomy, postcodes=postcodes, progress=_progress_bar(spec.source, progress)
    )
    corrections = _split_corrections(store, parsed.records)
    # Rows refused only once compared with the store are rejected rows as the reader's are.
    parsed.errors = sorted([*parsed.errors, *corrections.errors], key=lambda e: e.row)
    records, stored_dups = find_stored_duplicates(store, corrections.others)
    duplicates = sorted(
        [*parsed.duplicates, *corrections.repeated, *stored_dups], key=lambda d: d.row
    )
    report = ImportReport(
        source=spec.source,
        path=str(spec.path),
        read=parsed.read,
        filtered=parsed.filtered,
        merged=parsed.merged,
        geocoded=parsed.geocoded,
        rejected=parsed.rejected,
        duplicates=len(duplicates),
        valid=len(records) + corrections.matched,
        errors=[e.to_dict() for e in parsed.errors],
        duplicate_rows=[d.to_dict() for d in duplicates],
        notes=list(parsed.notes),
        format=spec.format,
    )
    if corrections.matched:
        report.notes.append(
            f"{corrections.matched} row(s) name a stored asset by their id (a file exported "
            "from this store): a changed one is saved as a correction of that asset, as a "
            "moderator's edit is, so imports of its own source keep it"
        )
    if corrections.phones_kept:
        row, cell = corrections.phones_kept[0]
        report.notes.append(
            f"phone of {len(corrections.phones_kept)} row(s) was saved by a spreadsheet as a "
            f"number with digits lost (row {row}'s {cell}); each is what it makes of the number "
            "stored for its asset, which is kept"
        )
    if not parsed.errors or skip_bad:
        records = _keep_status(store, records)
        reason = f"import from {spec.path.name}"
        if progress and records and sys.stderr.isatty():
            # The write is one transaction with no natural steps to show; say it has started.
            print(f"{spec.source}: writing {len(records)} assets…", file=sys.stderr)
        # New rows and corrections together, or neither.
        with store.transaction():
            outcome = store.import_batch([r.asset for r in records], author=author, reason=reason)
            for asset_id, changes in corrections.changes.items():
                store.update_asset(asset_id, changes, author=author, reason=reason)
        report.imported = len(outcome.created)
        report.updated = len(outcome.updated) + len(corrections.changes)
        report.unchanged = outcome.unchanged + corrections.unchanged
        report.kept_edits = outcome.kept_edits
        report.written = True
    store.record_import_run(spec.source, author, report.to_dict())
    return report


def run_import(
    store: Store,
    path: str | Path,
    *,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    skip_bad: bool = False,
    author: str = "import",
    progress: bool = True,
) -> list[ImportReport]:
    """Import a manifest's sources, or one file, into the store.

    Parameters
    ----------
    store
        Destination.
    path
        A ``.toml`` manifest (several sources, imported in manifest order) or one CSV,
        GeoJSON, GeoPackage or Shapefile imported with column names as field names and the
        file name as source.
    taxonomy
        Valid categories.
    postcodes
        Postcode directory: checks postcodes and places rows that have none of lon/lat.
    skip_bad
        Store the good rows of files with bad rows (default: such a file stores nothing).
    author
        Recorded on every revision and import run.
    progress
        Show a progress bar on stderr when it is a terminal.

    Returns
    -------
    list of ImportReport
        One per file, in order.

    Raises
    ------
    ValidationError
        For a bad manifest, a missing file or a missing column; raised before any file is
        imported.
    """
    path = Path(path)
    if path.suffix.lower() == ".toml":
        specs = load_manifest(path, taxonomy=taxonomy)
    else:
        specs = [spec_for_file(path)]
    for spec in specs:
        check_source(spec)
    return [
        import_source(
            store,
            spec,
            taxonomy=taxonomy,
            postcodes=postcodes,
            skip_bad=skip_bad,
            author=author,
            progress=progress,
        )
        for spec in specs
    ]


def load_demo(
    store: Store, *, taxonomy: Taxonomy, postcodes: PostcodeIndex, progress: bool = True
) -> list[ImportReport]:
    """Import the Trafford demo bundle (``data/assets/trafford/manifest.toml``).

    Idempotent: a second run reports every row unchanged and writes nothing.

    Returns
    -------
    list of ImportReport
        One per source in the manifest.
    """
    return run_import(
        store,
        DEMO_MANIFEST,
        taxonomy=taxonomy,
        postcodes=postcodes,
        author="demo",
        progress=progress,
    )
