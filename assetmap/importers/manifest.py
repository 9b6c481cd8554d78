"""Import manifests: a TOML file describing how each source file maps onto assets.

A manifest holds one ``[[source]]`` table per file. Paths are relative to the manifest. A file
imported without a manifest gets :func:`plain_spec`: its columns are matched to asset fields by
name (``name``, ``category``, ``lat``, ``lon`` …) and the source is the file name.

See ``data/assets/trafford/manifest.toml`` for a worked example of every option.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES, PROVIDER_TYPES

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
}

# Asset fields a column (or template) can fill. Category has its own setting.
COLUMN_FIELDS = (
    "name",
    "description",
    "address",
    "postcode",
    "phone",
    "email",
    "website",
    "opening_times",
    "lon",
    "lat",
    "source_id",
    "cost",
    "currencies",
    "accessibility",
    "audience",
    "provider_type",
    "last_verified",
    "licence",
)

# Fields that may be fixed for every row of a source, with the vocabulary each must come from.
FIXED_FIELDS: dict[str, Mapping[str, str] | None] = {
    "cost": COSTS,
    "currencies": CURRENCIES,
    "accessibility": ACCESSIBILITY,
    "audience": AUDIENCES,
    "provider_type": PROVIDER_TYPES,
    "last_verified": None,
}

_SINGLE_FIXED = {"cost", "provider_type", "last_verified"}

# Header names a plain file may use for each field, first match wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude"),
    "lat": ("lat", "latitude"),
    "source_id": ("source_id", "id"),
    "postcode": ("postcode", "post_code"),
    "phone": ("phone", "telephone", "tel"),
    "website": ("website", "url", "web"),
    "opening_times": ("opening_times", "opening_hours", "hours"),
}

DEFAULT_NA = ("", "NA", "N/A", "n/a", "null", "NULL", "None")
DEFAULT_YES = ("yes", "y", "true", "1")

_TEMPLATE_REF = re.compile(r"\{([^{}]+)\}")
_HEADER_GAPS = re.compile(r"[\s_-]+")

_SOURCE_KEYS = {
    "source",
    "file",
    "format",
    "layer",
    "encoding",
    "crs",
    "category",
    "columns",
    "fixed",
    "licence",
    "attribution",
    "include",
    "exclude",
    "name_fallback",
    "group",
    "accessibility",
    "na_values",
    "description",
}


@dataclass(frozen=True)
class ValueRule:
    """A value that is either fixed or read from a column through a value map.

    With ``column`` set, a row's value is ``mapping[value]``; a value missing from the map is
    kept as it is (so validation can name it), unless ``default`` is given.
    """

    fixed: str | None = None
    column: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def resolve(self, values: Mapping[str, str]) -> str:
        """The rule's value for one row (raw column values, NA already blanked)."""
        if self.column is None:
            return self.fixed or ""
        raw = values.get(self.column, "")
        if raw in self.mapping:
            return self.mapping[raw]
        return self.default if self.default is not None else raw

    @property
    def columns(self) -> tuple[str, ...]:
        """Source columns the rule reads."""
        return (self.column,) if self.column else ()


@dataclass(frozen=True)
class GroupRule:
    """Merge several rows into one asset: rows sharing ``by`` become one record.

    The first row gives every value except: ``join`` columns, whose distinct values are joined
    with "; "; accessibility, which is true when any row says so; and category, where the first
    of ``category_order`` that any row maps to wins.
    """

    by: str
    join: tuple[str, ...] = ()
    category_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessibilityRule:
    """How source columns become accessibility features.

    ``columns`` maps a column to a feature id that applies when the row's value is one of
    ``yes`` (compared case-insensitively). ``keywords`` maps a column to ``{phrase: feature}``
    for free text: the feature applies when the phrase appears (case-insensitive).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    yes: tuple[str, ...] = DEFAULT_YES
    keywords: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def features(self, values: Mapping[str, str]) -> set[str]:
        """Feature ids one row provides."""
        yes = {v.casefold() for v in self.yes}
        found = {
            feat for col, feat in self.columns.items() if values.get(col, "").casefold() in yes
        }
        for col, phrases in self.keywords.items():
            text = values.get(col, "").casefold()
            found.update(feat for phrase, feat in phrases.items() if phrase.casefold() in text)
        return found


@dataclass(frozen=True)
class SourceSpec:
    """Everything needed to read one source file into assets.

    ``columns`` maps an asset field to a column name, or to a template such as
    ``"{community_hub} Community Response Hub"`` (a list of templates is joined with spaces;
    a template whose columns are all empty is dropped). ``from_header`` is true for a file
    imported without a manifest, whose columns were matched to fields by name.
    ``id_column`` and ``source_column`` are set for a file with the columns of the app's own
    export (``id``, ``source`` and ``source_id``): the asset id each row had in the store it
    was exported from, and the source it was imported from there.
    """

    source: str
    path: Path
    format: str
    category: ValueRule
    columns: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    licence: str = ""
    layer: str | None = None
    encoding: str = "utf-8-sig"
    crs: str | None = None
    include: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    name_fallback: ValueRule | None = None
    group: GroupRule | None = None
    accessibility: AccessibilityRule | None = None
    na_values: tuple[str, ...] = DEFAULT_NA
    from_header: bool = False
    id_column: str | None = None
    source_column: str | None = None

    def used_columns(self) -> set[str]:
        """Every source column the spec reads (to check against the file's header)."""
        used: set[str] = {c for c in (self.id_column, self.source_column) if c}
        for value in self.columns.values():
            for template in (value,) if isinstance(value, str) else value:
                used.update(template_columns(template))
        used.update(self.category.columns)
        if self.name_fallback:
            used.update(self.name_fallback.columns)
        used.update(self.include)
        used.update(self.exclude)
        if self.group:
            used.add(self.group.by)
            used.update(self.group.join)
        if self.accessibility:
            used.update(self.accessibility.columns)
            used.update(self.accessibility.keywords)
        return used


def template_columns(template: str) -> list[str]:
    """Column names a column mapping reads: ``"{a} and {b}"`` -> [a, b]; a plain name -> [it]."""
    refs = _TEMPLATE_REF.findall(template)
    return refs if refs else [template]


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Fill one column mapping for a row; '' when every column it names is empty."""
    refs = _TEMPLATE_REF.findall(template)
    if not refs:
        return values.get(template, "")
    if not any(values.get(ref, "") for ref in refs):
        return ""
    return _TEMPLATE_REF.sub(lambda m: values.get(m.group(1), ""), template).strip()


def detect_format(path: Path) -> str:
    """The format a file name implies (csv, geojson, gpkg or shp).

    Raises
    ------
    ValidationError
        For any other extension.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(
            f"{path.name}: cannot tell the format from '{path.suffix}'; use one of "
            f"{', '.join(sorted(FORMATS))} or a .toml manifest",
            field="format",
        )
    return fmt


def match_columns(header: Sequence[str]) -> tuple[dict[str, str], list[list[str]]]:
    """Asset fields (and ``category``) matched to columns by name, as for a plain file.

    Each field is read from the column of the same name or a common alias (``latitude``,
    ``lng``, ``telephone`` …), ignoring case and treating spaces, hyphens and underscores
    alike ("Opening Times" is ``opening_times``).

    Returns
    -------
    matched, clashes
        Field -> column name (the first of its aliases the header has), and groups of columns
        that fold to the same field or alias name (such as "Name" and "name").
    """
    by_key: dict[str, list[str]] = {}
    for h in header:
        by_key.setdefault(header_key(h), []).append(h)
    aliases = {"category": ("category",)} | {f: _ALIASES.get(f, (f,)) for f in COLUMN_FIELDS}
    matched: dict[str, str] = {}
    for name, names in aliases.items():
        found = next((a for a in names if a in by_key), None)
        if found is not None:
            matched[name] = by_key[found][0]
    wanted = {a for names in aliases.values() for a in names}
    clashes = [cols for key, cols in by_key.items() if key in wanted and len(cols) > 1]
    return matched, clashes


def plain_spec(path: Path, header: Sequence[str]) -> SourceSpec:
    """The spec for a file imported without a manifest.

    Parameters
    ----------
    path
        The file; its name becomes the source.
    header
        Its column names, matched to fields by :func:`match_columns`; ``category`` must hold
        category ids or labels.

    Returns
    -------
    SourceSpec

    Raises
    ------
    ValidationError
        When two columns match the same name ("Name" and "name").
    """
    matched, clashes = match_columns(header)
    if clashes:
        raise ValidationError(
            f"{path.name}: "
            + "; ".join(f"columns {' and '.join(map(repr, c))} have the same name" for c in clashes)
            + " (names are matched ignoring case and spacing); rename or remove one",
            field="columns",
        )
    category = matched.pop("category", "")
    columns: dict[str, str | tuple[str, ...]] = dict(matched)
    by_key = {header_key(h): h for h in header}
    # The app's own export: each row says which stored asset it is and where that came from,
    # so a corrected export updates those assets instead of listing every place again.
    exported = {"id", "source", "source_id"} <= set(by_key) and matched.get("source_id") == (
        by_key["source_id"]
    )
    return SourceSpec(
        source=path.name,
        path=path,
        format=detect_format(path),
        category=ValueRule(column=category) if category else ValueRule(),
        columns=columns,
        from_header=True,
        id_column=by_key["id"] if exported else None,
        source_column=by_key["source"] if exported else None,
    )


def header_key(name: str) -> str:
    """A column name as plain files match it: "Opening Times " -> "opening_times"."""
    return _HEADER_GAPS.sub("_", name.strip().casefold()).strip("_")


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValidationError(f"{where} must be a {names}, got {value!r}", field="manifest")
    return value


def _table(
    value: Any,
    where: str,
    *,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
) -> dict[str, Any]:
    """A TOML table with only the keys it may have, and those it must."""
    table: dict[str, Any] = _expect(value, dict, where)
    must, known = set(required), {*required, *optional}
    unknown, missing = set(table) - known, must - set(table)
    if unknown or missing:
        wanted = ", ".join(sorted(known))
        problem = (
            f"unknown key(s) {', '.join(sorted(unknown))}"
            if unknown
            else f"'{sorted(missing)[0]}' is required"
        )
        raise ValidationError(f"{where}: {problem}; its keys are {wanted}", field="manifest")
    return table


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else _expect(value, list, where)
    return tuple(str(_expect(v, (str, int), where)) for v in items)


def _crs(raw: Any, where: str) -> str | None:
    """The manifest's CRS, checked now: an unknown one would stop the import half-way."""
    if not raw:
        return None
    text = str(raw)
    try:
        CRS.from_user_input(text)
    except CRSError:
        raise ValidationError(
            f"{where}.crs: '{text}' is not a coordinate reference system; give an EPSG code "
            'such as "EPSG:27700" (British National Grid) or "EPSG:4326" (longitude/latitude)',
            field="manifest",
        ) from None
    return text


def _value_rule(raw: Any, where: str) -> ValueRule:
    if isinstance(raw, str):
        return ValueRule(fixed=raw)
    table = _expect(raw, dict, where)
    unknown = set(table) - {"column", "map", "default"}
    if unknown or "column" not in table:
        raise ValidationError(
            f"{where} must be a string or {{column, map, default}}; got keys {sorted(table)}",
            field="manifest",
        )
    mapping = _expect(table.get("map", {}), dict, f"{where}.map")
    default = table.get("default")
    return ValueRule(
        column=str(table["column"]),
        mapping={str(k): str(v) for k, v in mapping.items()},
        default=None if default is None else str(default),
    )


def _check_fixed(fixed: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fixed.items():
        if key not in FIXED_FIELDS:
            raise ValidationError(
                f"{where}.fixed.{key}: only {', '.join(FIXED_FIELDS)} can be fixed",
                field="manifest",
            )
        # A mistake here would otherwise be reported again on every row of the file.
        if key in _SINGLE_FIXED and not isinstance(value, str | date):
            raise ValidationError(
                f"{where}.fixed.{key} takes one value, got {value!r}", field="manifest"
            )
        if key == "last_verified" and not isinstance(value, date):
            try:
                date.fromisoformat(str(value)[:10])
            except ValueError:
                raise ValidationError(
                    f"{where}.fixed.last_verified: '{value}' is not a date (YYYY-MM-DD)",
                    field="manifest",
                ) from None
        vocab = FIXED_FIELDS[key]
        if vocab is not None:
            for item in _strings(value, f"{where}.fixed.{key}"):
                if item not in vocab:
                    raise ValidationError(
                        f"{where}.fixed.{key}: '{item}' is not one of: {', '.join(vocab)}",
                        field="manifest",
                    )
        out[key] = list(value) if isinstance(value, list) else value
    return out


def _source_spec(
    raw: Mapping[str, Any], base: Path, index: int, taxonomy: Taxonomy | None
) -> SourceSpec:
    where = f"source {index}"
    unknown = set(raw) - _SOURCE_KEYS
    if unknown:
        raise ValidationError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known keys are {', '.join(sorted(_SOURCE_KEYS))}",
            field="manifest",
        )
    for key in ("source", "file", "category"):
        if key not in raw:
            raise ValidationError(f"{where}: '{key}' is required", field="manifest")
    # With the source id, the source is each asset's import key and its provenance: a blank
    # one would say nothing, and two blank sources would take each other's assets for theirs.
    source = str(raw["source"]).strip()
    if not source:
        raise ValidationError(
            f"{where}: 'source' is blank; give the source a name", field="manifest"
        )
    where = f"source '{source}'"
    path = (base / str(raw["file"])).resolve()
    fmt = str(raw.get("format") or detect_format(path))
    if fmt not in set(FORMATS.values()):
        raise ValidationError(f"{where}: unknown format '{fmt}'", field="manifest")

    columns: dict[str, str | tuple[str, ...]] = {}
    for key, value in _expect(raw.get("columns", {}), dict, f"{where}.columns").items():
        if key not in COLUMN_FIELDS:
            raise ValidationError(
                f"{where}.columns.{key}: not an asset field; use one of {', '.join(COLUMN_FIELDS)}",
                field="manifest",
            )
        columns[key] = value if isinstance(value, str) else _strings(value, f"{where}.{key}")

    category = _value_rule(raw["category"], f"{where}.category")
    if taxonomy is not None:
        for cat in [category.fixed, *category.mapping.values(), category.default]:
            if cat:
                taxonomy.get(cat)  # raises, listing the valid ids

    group = None
    if "group" in raw:
        g = _table(
            raw["group"], f"{where}.group", required={"by"}, optional={"join", "category_order"}
        )
        group = GroupRule(
            by=str(_expect(g["by"], str, f"{where}.group.by")),
            join=_strings(g.get("join", []), f"{where}.group.join"),
            category_order=_strings(g.get("category_order", []), f"{where}.group.category_order"),
        )

    access = None
    if "accessibility" in raw:
        a = _table(
            raw["accessibility"], f"{where}.accessibility", optional={"columns", "yes", "keywords"}
        )
        columns_table = _expect(a.get("columns", {}), dict, f"{where}.accessibility.columns")
        cols = {
            str(k): _expect(v, str, f"{where}.accessibility.columns.{k}")
            for k, v in columns_table.items()
        }
        keywords_table = _expect(a.get("keywords", {}), dict, f"{where}.accessibility.keywords")
        keywords = {
            str(col): {
                str(p): _expect(f, str, f"{where}.accessibility.keywords.{col}.{p}")
                for p, f in _expect(phrases, dict, f"{where}.accessibility.keywords.{col}").items()
            }
            for col, phrases in keywords_table.items()
        }
        for feat in [*cols.values(), *(f for p in keywords.values() for f in p.values())]:
            if feat not in ACCESSIBILITY:
                raise ValidationError(
                    f"{where}.accessibility: '{feat}' is not one of: {', '.join(ACCESSIBILITY)}",
                    field="manifest",
                )
        access = AccessibilityRule(
            columns=cols,
            yes=_strings(a.get("yes", list(DEFAULT_YES)), f"{where}.accessibility.yes"),
            keywords=keywords,
        )

    licence = str(raw.get("licence", ""))
    if raw.get("attribution"):
        licence = f"{licence}. {raw['attribution']}" if licence else str(raw["attribution"])

    return SourceSpec(
        source=source,
        path=path,
        format=fmt,
        category=category,
        columns=columns,
        fixed=_check_fixed(_expect(raw.get("fixed", {}), dict, f"{where}.fixed"), where),
        licence=licence,
        layer=str(raw["layer"]) if raw.get("layer") else None,
        encoding=str(raw.get("encoding", "utf-8-sig")),
        crs=_crs(raw.get("crs"), where),
        include={
            str(k): _strings(v, f"{where}.include.{k}")
            for k, v in _expect(raw.get("include", {}), dict, f"{where}.include").items()
        },
        exclude={
            str(k): _strings(v, f"{where}.exclude.{k}")
            for k, v in _expect(raw.get("exclude", {}), dict, f"{where}.exclude").items()
        },
        name_fallback=(
            _value_rule(raw["name_fallback"], f"{where}.name_fallback")
            if "name_fallback" in raw
            else None
        ),
        group=group,
        accessibility=access,
        na_values=_strings(raw.get("na_values", list(DEFAULT_NA)), f"{where}.na_values"),
    )


def load_manifest(path: str | Path, *, taxonomy: Taxonomy | None = None) -> list[SourceSpec]:
    """Read an import manifest.

    Parameters
    ----------
    path
        The TOML file. Each ``[[source]]`` needs ``source`` (the name recorded on every asset,
        and half of its import key), ``file`` (relative to the manifest) and ``category``.
    taxonomy
        When given, fixed and mapped categories are checked against it up front.

    Returns
    -------
    list of SourceSpec
        In file order, which is the import order.

    Raises
    ------
    ValidationError
        For a file that is not UTF-8, malformed TOML, unknown keys, unknown fields or
        vocabulary values, or two sources with the same name.
    """
    path = Path(path)
    data = path.read_bytes()
    # Windows Notepad saves UTF-8 with a byte-order mark, which tomllib takes for text.
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ValidationError(
            f"{path.name} is not UTF-8: byte 0x{data[err.start]:02X} on line {line} is not "
            "valid in it; save the manifest as UTF-8",
            field="manifest",
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValidationError(f"{path.name} is not valid TOML: {err}", field="manifest") from None
    sources = _expect(raw.get("source", []), list, "[[source]]")
    if not sources:
        raise ValidationError(f"{path.name} has no [[source]] tables", field="manifest")
    specs = [
        _source_spec(_expect(s, dict, f"source {i}"), path.parent, i, taxonomy)
        for i, s in enumerate(sources, start=1)
    ]
    names = [s.source for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(
            f"{path.name}: source names must be unique; repeated: {', '.join(repeated)}",
            field="manifest",
        )
    return specs
