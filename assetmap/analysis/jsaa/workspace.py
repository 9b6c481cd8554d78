"""A commissioner's workspace: input files by SHA-256, their columns, and composed configs.

The web pages build an assessment config from a form instead of a file, but the run must be
as reproducible as one from the command line. So every input (uploaded, or shipped with
Assetmap and listed in ``data/jsaa/catalogue.toml``) is stored once in a *files folder*
under its SHA-256 (``<sha256>.<suffix>``), and the composed config is written beside them,
naming each input by that file name and pinning its hash. The config and the folder are
then all a run needs: :func:`~assetmap.analysis.jsaa.config.load_config` reads it like any
other.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tomllib
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pyproj import CRS

from assetmap.analysis.needs import (
    cell_numbers,
    data_row_lines,
    longer_row_problem,
    lonlat_problem,
    semicolon_problem,
    utf8_problem,
)
from assetmap.domain.errors import ValidationError
from assetmap.importers.vector import gdal_reason

# Upload suffixes and what they hold.
BOUNDARY_SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
}
TABLE_SUFFIXES = {".csv": "CSV"}
# A zipped Shapefile may not unpack to more than this (a zip bomb is refused before GDAL).
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
_POLYGONAL = {"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "Unknown"}
_SHA_NAME = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9]+){1,2}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# Keys of catalogue.toml that only the pages read; they are removed before a config is built.
CATALOGUE_ONLY = ("role", "authorities", "default_need_weight")


@dataclass(frozen=True)
class StoredFile:
    """A file in the files folder, named by its SHA-256."""

    sha256: str
    name: str
    path: Path
    original_name: str = ""


@dataclass(frozen=True)
class BoundaryInfo:
    """What an uploaded boundary layer holds (read without loading every feature)."""

    columns: tuple[str, ...]
    features: int
    geometry_type: str
    crs: str
    kind: str


@dataclass(frozen=True)
class NotNumeric:
    """A column that is numbers but for some cells, with the first cell that is not one.

    ``row`` is the 1-based data row (header excluded), as the needs-layer checks number rows,
    and ``line`` the line of the file it starts on (the header is line 1), when known.
    ``value`` is that cell's text: a word, a number that is not finite ("inf"), or "" for an
    empty cell, shown only when the column has no other slip. ``cells`` counts every cell
    of the column that the run would refuse, ``empty`` those of them that are empty.
    """

    column: str
    row: int
    value: str
    cells: int
    line: int | None = None
    empty: int = 0


@dataclass(frozen=True)
class TableInfo:
    """What an uploaded indicator table holds: its columns and which are numeric.

    ``not_numeric`` lists the columns left out of ``numeric`` because a few of their cells are
    not numbers (a note, "n/a", a thousands separator), so the user can mend the file.
    """

    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    rows: int
    not_numeric: tuple[NotNumeric, ...] = ()


@dataclass(frozen=True)
class Authority:
    """An area that can be chosen from the shipped boundaries: a filter on one column."""

    code: str
    name: str
    column: str


@dataclass(frozen=True)
class Catalogue:
    """The shipped needs layers (``data/jsaa/catalogue.toml``), with absolute paths."""

    path: Path
    areas: Mapping[str, Any]
    authorities: tuple[Authority, ...]
    tables: tuple[Mapping[str, Any], ...]
    postcodes: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def authority(self, code: str) -> Authority:
        """The authority with this code (ValidationError when none)."""
        for a in self.authorities:
            if a.code == code:
                return a
        raise ValidationError(f"'{code}' is not one of the shipped areas", field="authority")

    def table(self, table_id: str) -> Mapping[str, Any]:
        """The shipped table with this id (ValidationError when none)."""
        for t in self.tables:
            if t["id"] == table_id:
                return t
        raise ValidationError(f"no shipped table '{table_id}'", field="table")

    def population_tables(self, authority: str | None) -> list[Mapping[str, Any]]:
        """Population tables usable for an authority (None: for uploaded areas)."""
        out = []
        for t in self.tables:
            if t.get("role") != "population":
                continue
            covers = t.get("authorities")
            if covers is None or (authority is not None and authority in covers):
                out.append(t)
        return out

    def need_tables(self) -> list[Mapping[str, Any]]:
        """Tables of indicators (not population)."""
        return [t for t in self.tables if t.get("role") != "population"]


def _absolute(base: Path, section: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(section)
    if "path" in out:
        out["path"] = str((base / str(out["path"])).resolve())
    if isinstance(out.get("code_map"), Mapping):
        out["code_map"] = _absolute(base, out["code_map"])
    return out


def load_catalogue(path: Path) -> Catalogue:
    """Read ``catalogue.toml``.

    Returns
    -------
    Catalogue
        Areas, authorities, tables and postcodes, each path made absolute.
    """
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    base = path.parent
    return Catalogue(
        path=path,
        areas=_absolute(base, raw["areas"]),
        authorities=tuple(
            Authority(str(a["code"]), str(a["name"]), str(a["column"]))
            for a in raw.get("authority", [])
        ),
        tables=tuple(_absolute(base, t) for t in raw.get("table", [])),
        postcodes=_absolute(base, raw["postcodes"]) if "postcodes" in raw else None,
        raw=raw,
    )


def sha256_bytes(data: bytes) -> str:
    """SHA-256 (hex) of some bytes."""
    return hashlib.sha256(data).hexdigest()


def _suffix(name: str) -> str:
    lower = name.lower()
    for double in (".geojson.gz", ".csv.gz"):
        if lower.endswith(double):
            return double
    return Path(lower).suffix


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        os.link(source, tmp)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def store_copy(source: Path, folder: Path, *, reuse: Path | None = None) -> StoredFile:
    """Put a file (a shipped input) in ``folder`` under its SHA-256.

    When ``reuse`` (the files folder) already holds it, it is linked from there.
    """
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    name = f"{digest.hexdigest()}{_suffix(source.name)}"
    path = folder / name
    if not path.exists():
        known = reuse / name if reuse is not None else None
        _link_or_copy(known if known is not None and known.is_file() else source, path)
    return StoredFile(digest.hexdigest(), name, path, original_name=source.name)


def stored_file(files_dir: Path, name: str) -> StoredFile:
    """A file already in the folder, by its name (checked: a SHA-256 name that exists)."""
    if not _SHA_NAME.match(name) or not (files_dir / name).is_file():
        raise ValidationError(
            "the uploaded file is no longer available; upload it again", field="file"
        )
    return StoredFile(name[:64], name, files_dir / name)


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as err:
        raise ValidationError("the .zip file is not a readable zip archive", field="file") from err
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise ValidationError("the .zip file unpacks to more than 1 GB", field="file")
    names = [m.filename.lower() for m in members if not m.is_dir()]
    shapefiles = [n for n in names if n.endswith(".shp")]
    if len(shapefiles) != 1:
        raise ValidationError(
            f"a zipped Shapefile must hold exactly one .shp file; this one holds {len(shapefiles)}",
            field="file",
        )
    stem = shapefiles[0][:-4]
    missing = [s for s in (".shx", ".dbf", ".prj") if stem + s not in names]
    if missing:
        raise ValidationError(
            f"the zipped Shapefile has no {', '.join(missing)} file beside "
            f"{shapefiles[0]} (the .prj says which coordinate system it uses)",
            field="file",
        )


def inspect_boundaries(path: Path) -> BoundaryInfo:
    """Check an uploaded boundary layer and list its columns.

    Raises
    ------
    ValidationError
        Unknown file type, unreadable, no CRS, coordinates outside the longitude/latitude
        range of a geographic CRS (British National Grid metres in a GeoJSON file with no
        ``crs`` member), not polygons, no features or no columns.
    """
    suffix = _suffix(path.name)
    if suffix not in BOUNDARY_SUFFIXES:
        raise ValidationError(
            "the boundary layer must be a GeoJSON (.geojson or .json), GeoPackage (.gpkg) or "
            "zipped Shapefile (.zip) file",
            field="file",
        )
    if suffix == ".zip":
        _check_zip(path)
    import pyogrio  # local: only the upload check needs the raw reader

    try:
        layers = pyogrio.list_layers(str(path))
        if len(layers) > 1:
            names = ", ".join(str(n) for n in layers[:, 0][:5])
            raise ValidationError(
                f"the file holds {len(layers)} layers ({names}); upload one with only the "
                "area boundaries",
                field="file",
            )
        info = pyogrio.read_info(str(path), force_total_bounds=True)
    except ValidationError:
        raise
    except Exception as err:  # GDAL reports unreadable files with several error types
        raise ValidationError(
            f"the boundary layer could not be read as {BOUNDARY_SUFFIXES[suffix]}: "
            f"{gdal_reason(err, path, 'in that format')}",
            field="file",
        ) from err
    if info.get("crs") is None:
        raise ValidationError(
            "the boundary layer does not say which coordinate system it uses (no CRS)",
            field="file",
        )
    bounds = info.get("total_bounds")
    if bounds is not None and CRS.from_user_input(info["crs"]).is_geographic:
        problem = lonlat_problem(
            bounds, "the boundary layer", str(info["crs"]), geojson=suffix in (".geojson", ".json")
        )
        if problem is not None:
            raise ValidationError(problem, field="file")
    geometry = str(info.get("geometry_type") or "")
    if geometry not in _POLYGONAL:
        raise ValidationError(
            f"the boundary layer holds {geometry or 'no'} geometries; areas must be polygons",
            field="file",
        )
    columns = tuple(str(c) for c in info.get("fields", ()))
    if not columns:
        raise ValidationError(
            "the boundary layer has no attribute columns (no area codes)", field="file"
        )
    features = int(info.get("features") or 0)
    if features <= 0:
        raise ValidationError("the boundary layer has no features", field="file")
    return BoundaryInfo(columns, features, geometry, str(info["crs"]), BOUNDARY_SUFFIXES[suffix])


def inspect_table(path: Path) -> TableInfo:
    """Check an uploaded indicator table (CSV, UTF-8) and list its numeric columns.

    A column is numeric when every value is a finite number, as the run reads them
    (:func:`~assetmap.analysis.needs.cell_numbers`; thousands separators are not accepted
    here; a shipped table can declare one). A column where most filled cells are numbers
    but some cells are not, or are empty, is not offered as an indicator, since the run
    would refuse it, and is listed in ``not_numeric`` with its first such cell, so the
    page can say why before the run does.

    Raises
    ------
    ValidationError
        Not CSV, not UTF-8, separated by semicolons, no header, duplicate or empty column
        names, fewer than two columns or no rows.
    """
    if _suffix(path.name) not in TABLE_SUFFIXES:
        raise ValidationError("the indicator table must be a .csv file", field="file")
    try:
        with open(path, encoding="utf-8-sig") as f:
            header = f.readline()
        problem = semicolon_problem(path) or longer_row_problem(path)
        if problem is not None:
            raise ValidationError(problem, field="file")
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", index_col=False
        )
    except UnicodeDecodeError as err:
        raise ValidationError(
            f"the indicator table is not UTF-8 text: {utf8_problem(path) or err}; save it as "
            "UTF-8 (in Excel, 'CSV UTF-8') and upload it again",
            field="file",
        ) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValidationError(
            f"the indicator table is not readable CSV: {err}", field="file"
        ) from err
    names = [n.strip() for n in next(csv.reader([header]), [])]
    if any(not n for n in names):
        raise ValidationError("a column of the indicator table has no name", field="file")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValidationError(f"column name(s) used twice: {', '.join(dup)}", field="file")
    if len(names) < 2:
        raise ValidationError(
            "the indicator table needs a code column and at least one indicator column",
            field="file",
        )
    if frame.empty:
        raise ValidationError("the indicator table has no rows", field="file")
    numeric = []
    not_numeric = []
    lines = data_row_lines(path)
    if lines is not None and len(lines) != len(frame):
        lines = None  # counted differently from pandas: give rows alone rather than guess
    for column in frame.columns:
        text = frame[column].str.strip()
        # Read as the run reads it (cell_numbers), which refuses an empty cell, "inf" and
        # "NaN" in any column it uses: such a column is not offered, and its cell is named.
        empty = text.eq("").to_numpy()
        bad = cell_numbers(text).isna().to_numpy() & ~empty
        filled = int((~empty).sum())
        if filled and not bad.any() and not empty.any():
            numeric.append(str(column))
        elif filled and bad.sum() < filled / 2:
            # Mostly numbers: slips in the file, not a column of names or codes. The first
            # that is not a number is shown, as the likelier to puzzle; else the first gap.
            first = int(np.flatnonzero(bad if bad.any() else empty)[0])
            row = first + 1
            not_numeric.append(
                NotNumeric(
                    column=str(column),
                    row=row,
                    value=str(text.iat[first]),
                    cells=int(bad.sum() + empty.sum()),
                    line=lines[row - 1] if lines is not None else None,
                    empty=int(empty.sum()),
                )
            )
    return TableInfo(
        tuple(str(c) for c in frame.columns), tuple(numeric), len(frame), tuple(not_numeric)
    )


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value == value:  # NaN has no TOML form here
            raise ValueError("NaN cannot be written to a config")
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string once DEL, which JSON leaves bare, is
        # escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _inline(value: Any) -> bool:
    """Written as ``key = value``: a plain value, a list of them, or a small flat table."""
    if isinstance(value, Mapping):
        return len(value) <= 6 and all(
            not isinstance(v, Mapping) and not _is_table_array(v) for v in value.values()
        )
    return not _is_table_array(value)


def _section(lines: list[str], name: str, data: Mapping[str, Any]) -> None:
    # At the top level every table is a section, however small.
    inline = [
        k for k, v in data.items() if _inline(v) and not (not name and isinstance(v, Mapping))
    ]
    for key in inline:
        lines.append(f"{_toml_key(str(key))} = {_toml_value(data[key])}")
    for key, value in data.items():
        if key in inline:
            continue
        sub = f"{name}.{_toml_key(str(key))}" if name else _toml_key(str(key))
        if isinstance(value, Mapping):
            lines.extend(["", f"[{sub}]"])
            _section(lines, sub, value)
        else:
            for item in value:
                lines.extend(["", f"[[{sub}]]"])
                _section(lines, sub, item)


def dumps_toml(data: Mapping[str, Any], *, header: str = "") -> str:
    """Write a config (nested dicts and lists of plain values) as TOML text.

    Small flat tables (at most six plain values, such as ``where`` and weights) are written
    inline; other tables and lists of tables as sections. ``header`` becomes comment lines.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _section(lines, "", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def new_draft(files_dir: Path) -> Path:
    """A hidden folder beside the files folder where a config and its inputs are checked.

    :func:`compose_config` fills it, :func:`write_config_draft` adds the config, and
    :func:`keep_draft` moves it all into the files folder once every check has passed; a
    draft that fails is deleted whole (:func:`discard_draft`), so nothing half-made is kept.
    """
    draft = files_dir.parent / f".draft-{uuid.uuid4().hex}"
    draft.mkdir(parents=True)
    return draft


def write_config_draft(text: str, draft: Path) -> Path:
    """Write a composed config into a draft folder, beside its inputs."""
    path = draft / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def keep_draft(draft: Path, files_dir: Path) -> StoredFile:
    """Move a checked draft into the files folder; the config becomes ``<sha256>.toml``."""
    files_dir.mkdir(parents=True, exist_ok=True)
    config = draft / "config.toml"
    for path in sorted(draft.iterdir()):
        if path != config and not (files_dir / path.name).exists():
            os.replace(path, files_dir / path.name)
    digest = sha256_bytes(config.read_bytes())
    target = files_dir / f"{digest}.toml"
    if not target.exists():
        os.replace(config, target)
    shutil.rmtree(draft)
    return StoredFile(digest, target.name, target)


def discard_draft(draft: Path) -> None:
    """Delete a draft folder and everything in it."""
    shutil.rmtree(draft, ignore_errors=True)


@dataclass(frozen=True)
class IndicatorChoice:
    """An indicator chosen from an uploaded table, with the metadata the user gave."""

    column: str
    label: str
    unit: str = ""
    higher_is_more_need: bool = True
    need_weight: float = 0.0


@dataclass(frozen=True)
class UploadedTable:
    """An uploaded indicator table and what to take from it."""

    file: StoredFile
    code_column: str
    indicators: tuple[IndicatorChoice, ...] = ()
    population_column: str | None = None
    national: bool = False
    source: str = ""
    licence: str = ""
    date: str = ""


@dataclass(frozen=True)
class UploadedAreas:
    """An uploaded boundary layer and its code and name columns."""

    file: StoredFile
    code_column: str
    name_column: str
    source: str = ""
    licence: str = ""
    date: str = ""


@dataclass(frozen=True)
class Choices:
    """Everything the commissioner chose for a web run.

    Exactly one of ``authority`` (a shipped area) and ``areas`` (an upload) is set.
    ``shipped`` maps each chosen catalogue indicator to its need weight (0: shown, not part
    of need). ``population_table`` names a catalogue population table, or is None when the
    population comes from the upload's ``population_column``.
    """

    title: str
    categories: tuple[str, ...]
    authority: str | None = None
    areas: UploadedAreas | None = None
    shipped: Mapping[str, float] = field(default_factory=dict)
    population_table: str | None = None
    table: UploadedTable | None = None
    scope: str = "local"
    catchment_m: float = 1600.0
    description: str = ""


def slugify(text: str, *, fallback: str = "assessment") -> str:
    """Lower-case letters, digits and single hyphens, at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or fallback


def indicator_name(column: str, taken: set[str]) -> str:
    """A snake_case indicator name for an uploaded column, unused and not an output column."""
    from assetmap.analysis.jsaa.config import RESERVED_COLUMNS, RESERVED_PREFIXES

    base = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") or "indicator"
    if not base[0].isalpha():
        base = f"x_{base}"
    if base in RESERVED_COLUMNS or base.startswith(RESERVED_PREFIXES) or base == "population":
        base = f"u_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _pinned(section: Mapping[str, Any], folder: Path, files_dir: Path) -> dict[str, Any]:
    """A catalogue section with its file (and code map's) put in ``folder`` and pinned."""
    out = {k: v for k, v in section.items() if k not in CATALOGUE_ONLY}
    stored = store_copy(Path(str(section["path"])), folder, reuse=files_dir)
    out["path"], out["sha256"] = stored.name, stored.sha256
    if isinstance(section.get("code_map"), Mapping):
        out["code_map"] = _pinned(section["code_map"], folder, files_dir)
    if "indicator" in out:
        out["indicator"] = [
            {k: v for k, v in i.items() if k not in CATALOGUE_ONLY} for i in out["indicator"]
        ]
    return out


def _upload_in(stored: StoredFile, folder: Path) -> StoredFile:
    """An uploaded file (in the files folder) linked into the draft folder."""
    target = folder / stored.name
    if not target.exists():
        _link_or_copy(stored.path, target)
    return StoredFile(stored.sha256, stored.name, target, stored.original_name)


def compose_config(
    choices: Choices, catalogue: Catalogue, files_dir: Path, draft: Path
) -> dict[str, Any]:
    """Build an assessment config (as a dict for :func:`dumps_toml`) from a web form's choices.

    Every input (shipped or uploaded) is put in the ``draft`` folder under its SHA-256, and the
    config names it by that file name and pins it with ``sha256``: the config written into the
    draft reads its inputs from beside it, as it will once the draft is kept.

    Parameters
    ----------
    choices
        What the commissioner chose.
    catalogue
        The shipped needs layers.
    files_dir
        The files folder (uploads are there; shipped inputs already there are linked).
    draft
        The draft folder (:func:`new_draft`).

    Returns
    -------
    dict
        The config; :func:`~assetmap.analysis.jsaa.config.load_config` checks it.
    """
    if (choices.authority is None) == (choices.areas is None):
        raise ValidationError("choose a shipped area or upload a boundary layer", field="areas")
    if choices.authority is not None:
        authority = catalogue.authority(choices.authority)
        areas = _pinned(catalogue.areas, draft, files_dir)
        areas["where"] = {authority.column: authority.code}
    else:
        assert choices.areas is not None  # noqa: S101 - checked just above
        up = choices.areas
        _upload_in(up.file, draft)
        areas = {
            "path": up.file.name,
            "sha256": up.file.sha256,
            "code_column": up.code_column,
            "name_column": up.name_column,
            "source": up.source,
            "licence": up.licence,
            "date": up.date,
        }
    tables: list[dict[str, Any]] = []
    need: dict[str, float] = {}
    for table in catalogue.need_tables():
        chosen = [i for i in table["indicator"] if i["name"] in choices.shipped]
        if chosen:
            section = _pinned({**table, "indicator": chosen}, draft, files_dir)
            tables.append(section)
            for i in chosen:
                if choices.shipped[i["name"]] > 0:
                    need[i["name"]] = float(choices.shipped[i["name"]])
    if choices.population_table is not None:
        pop = catalogue.table(choices.population_table)
        if pop not in catalogue.population_tables(choices.authority):
            raise ValidationError(
                f"the population table '{pop['id']}' does not cover the chosen area",
                field="population",
            )
        tables.append(_pinned(pop, draft, files_dir))
    if choices.table is not None:
        up_table = choices.table
        _upload_in(up_table.file, draft)
        taken = {i for t in tables for i in (x["name"] for x in t["indicator"])}
        indicators: list[dict[str, Any]] = []
        if up_table.population_column is not None:
            indicators.append(
                {
                    "name": "population",
                    "column": up_table.population_column,
                    "label": f"Residents ({up_table.population_column})",
                    "unit": "people",
                    "higher_is_more_need": True,
                    "additive": True,
                }
            )
            taken.add("population")
        for choice in up_table.indicators:
            name = indicator_name(choice.column, taken)
            indicators.append(
                {
                    "name": name,
                    "column": choice.column,
                    "label": choice.label or choice.column,
                    "unit": choice.unit,
                    "higher_is_more_need": choice.higher_is_more_need,
                }
            )
            if choice.need_weight > 0:
                need[name] = float(choice.need_weight)
        if indicators:
            tables.append(
                {
                    "id": "uploaded",
                    "path": up_table.file.name,
                    "sha256": up_table.file.sha256,
                    "code_column": up_table.code_column,
                    "national": up_table.national,
                    "source": up_table.source,
                    "licence": up_table.licence,
                    "date": up_table.date,
                    "indicator": indicators,
                }
            )
    config: dict[str, Any] = {
        "assessment": {
            "title": choices.title,
            "slug": slugify(choices.title),
            "description": choices.description,
            "scope": choices.scope,
            "catchment_m": float(choices.catchment_m),
        },
        "areas": areas,
        "population": {"indicator": "population"},
    }
    if catalogue.postcodes is not None:
        config["postcodes"] = _pinned(catalogue.postcodes, draft, files_dir)
    config["table"] = tables
    config["categories"] = {"ids": list(choices.categories)}
    config["weights"] = {"need": need}
    names = {i["name"] for t in tables for i in t["indicator"]}
    if "imd_decile" in names:
        config["summary"] = {"decile_indicator": "imd_decile"}
    return config


def stage_path(files_dir: Path, filename: str) -> Path:
    """A temporary, hidden path in the files folder for an upload being checked."""
    files_dir.mkdir(parents=True, exist_ok=True)
    return files_dir / f".upload-{uuid.uuid4().hex}{_suffix(filename)}"


def adopt_file(staged: Path, files_dir: Path, *, original_name: str = "") -> StoredFile:
    """Move a checked upload to its content-addressed name, ``<sha256><suffix>``."""
    digest = hashlib.sha256()
    with open(staged, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    name = f"{digest.hexdigest()}{_suffix(staged.name)}"
    target = files_dir / name
    if target.exists():
        staged.unlink()
    else:
        os.replace(staged, target)
    return StoredFile(digest.hexdigest(), name, target, original_name=original_name)
