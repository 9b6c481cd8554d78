"""The saved assessment config (TOML): what a JSAA run reads, and every weight it uses.

A config names its inputs by path (relative to the config file), so a run is repeatable from
the file alone; its SHA-256 goes into every output. :func:`load_config` checks it completely
before anything is read, and every error names the key to fix (``weights.need.imd_scor``).

See ``data/jsaa/trafford.toml`` for a worked example of every key.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from assetmap.analysis.needs import (
    BoundarySpec,
    CodeMapSpec,
    IndicatorSpec,
    SourceMeta,
    TableSpec,
    number_text,
)
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store.base import MAX_RADIUS_M

Scope = Literal["national", "local"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Output columns an indicator must not be named after (it would be overwritten).
RESERVED_COLUMNS = frozenset(
    {
        "area_code",
        "area_name",
        "geometry",
        "centroid_method",
        "centroid_postcodes",
        "centroid_lon",
        "centroid_lat",
        "need_score",
        "need_percentile",
        "access_score",
        "access_percentile",
        "gap_score",
        "priority",
        "priority_rank",
        "priority_reason",
    }
)
RESERVED_PREFIXES = ("count_", "per_1000_", "within_catchment_", "nearest_m_", "access_")
DEFAULT_CATCHMENT_M = 1600.0


class ConfigError(ValidationError):
    """The assessment config is wrong; ``field`` is the dotted key, e.g. ``weights.need``."""

    def __init__(self, path: Path, key: str, message: str) -> None:
        super().__init__(f"{path.name}: {key}: {message}", field=key)


@dataclass(frozen=True)
class PostcodeSpec:
    """Postcode centroids used as the population proxy (CSV, lon/lat columns, WGS84)."""

    path: Path
    lon_column: str = "long"
    lat_column: str = "lat"
    meta: SourceMeta = field(default_factory=SourceMeta)


@dataclass(frozen=True)
class JsaaConfig:
    """A validated assessment config. Paths are absolute; ``raw`` is the parsed TOML."""

    path: Path
    sha256: str
    text: str
    raw: Mapping[str, Any]
    title: str
    slug: str
    scope: Scope
    catchment_m: float
    areas: BoundarySpec
    tables: tuple[TableSpec, ...]
    population: str
    categories: tuple[str, ...]
    category_weights: Mapping[str, float]
    need_weights: Mapping[str, float]
    catchment_weight: float
    nearest_weight: float
    gap_need_weight: float
    gap_access_weight: float
    need_top: float
    access_bottom: float
    postcodes: PostcodeSpec | None = None
    decile_indicator: str | None = None
    description: str = ""
    # Expected SHA-256 of input files, where the config pins them (checked by the run).
    pins: Mapping[Path, str] = field(default_factory=dict)
    # Paths as written in the config (relative), for provenance that does not leak a home dir.
    written_paths: Mapping[Path, str] = field(default_factory=dict)

    @property
    def indicators(self) -> tuple[IndicatorSpec, ...]:
        """Every indicator of every table, in config order."""
        return tuple(i for t in self.tables for i in t.indicators)

    def indicator(self, name: str) -> IndicatorSpec:
        """The indicator with this name."""
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)

    def table_of(self, name: str) -> TableSpec:
        """The table an indicator comes from."""
        for table in self.tables:
            if any(i.name == name for i in table.indicators):
                return table
        raise KeyError(name)


class _Section:
    """Typed access to one TOML table, tracking which keys were read (the rest are typos)."""

    def __init__(self, cfg_path: Path, data: object, key: str) -> None:
        self.cfg_path = cfg_path
        self.key = key
        if not isinstance(data, dict):
            raise ConfigError(cfg_path, key, "must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def where(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.cfg_path, self.where(name), message)

    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise self.error(name, "is required" + self._misspelt(name))
            return default
        value = self.data[name]
        # bool is an int in Python; a weight of `true` is a mistake, not 1.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(name, f"must be {_kind_name(kind)}, not {value!r}")
        if not isinstance(value, kind):
            raise self.error(name, f"must be {_kind_name(kind)}, not {value!r}")
        return value

    def _misspelt(self, name: str) -> str:
        # A misspelt required key is both missing and unknown; saying only "is required"
        # sends the reader looking for a key that is there, one letter out.
        close = difflib.get_close_matches(name, [str(k) for k in self.data], n=1, cutoff=0.85)
        return f" (the key '{close[0]}' here looks like a misspelling of it)" if close else ""

    def text(self, name: str, default: Any = ...) -> Any:
        value = self.get(name, str, default)
        if isinstance(value, str) and not value.strip() and default is ...:
            raise self.error(name, "must not be empty")
        return value

    def number(
        self, name: str, default: Any = ..., *, low: float | None = None, high: float | None = None
    ) -> float:
        value = float(self.get(name, (int, float), default))
        # TOML has nan and inf, and nan passes every comparison: a catchment of nan m would
        # count nothing within reach and a threshold of nan would make no area a priority.
        if not math.isfinite(value):
            raise self.error(name, f"must be a finite number, not {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            lo = "" if low is None else number_text(low)
            hi = "" if high is None else number_text(high)
            limits = (
                f"between {lo} and {hi}"
                if lo and hi
                else f"at least {lo}"
                if lo
                else f"at most {hi}"
            )
            raise self.error(name, f"{number_text(value)} must be {limits}")
        return value

    def flag(self, name: str, default: Any = ...) -> bool:
        return bool(self.get(name, bool, default))

    def sub(self, name: str, default: Any = ...) -> _Section:
        return _Section(self.cfg_path, self.get(name, dict, default), self.where(name))

    def path(self, name: str) -> Path:
        written = str(self.text(name))
        resolved = (self.cfg_path.parent / written).resolve()
        if not resolved.is_file():
            raise self.error(name, f"file '{written}' not found (paths are relative to the config)")
        return resolved

    def meta(self, inherit: SourceMeta | None = None) -> SourceMeta:
        base = inherit or SourceMeta()
        return SourceMeta(
            source=self.text("source", base.source),
            licence=self.text("licence", base.licence),
            date=str(self.get("date", (str, int), base.date)),
        )

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise ConfigError(
                self.cfg_path,
                self.where(unknown[0]),
                f"unknown key (known keys here: {known})",
            )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a number", float: "a number", bool: "true or false"}
    names.update({dict: "a table", list: "a list"})
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _where(section: _Section) -> dict[str, tuple[str, ...]]:
    if not section.has("where"):
        section.used.add("where")
        return {}
    raw = section.get("where", dict)
    out: dict[str, tuple[str, ...]] = {}
    for column, values in raw.items():
        items = values if isinstance(values, list) else [values]
        if not items or not all(isinstance(v, str | int) for v in items):
            raise section.error(f"where.{column}", "must be a value or a list of values")
        out[str(column)] = tuple(str(v) for v in items)
    return out


def _weights(section: _Section, name: str, default: Mapping[str, float]) -> dict[str, float]:
    raw = section.get(name, dict, dict(default))
    out: dict[str, float] = {}
    for key, value in raw.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise section.error(
                f"{name}.{key}", f"weight must be a finite number ≥ 0, not {value!r}"
            )
        out[str(key)] = float(value)
    if out and sum(out.values()) <= 0:
        raise section.error(name, "at least one weight must be more than 0")
    return out


class _Loader:
    def __init__(self, path: Path, taxonomy: Taxonomy) -> None:
        self.path = path
        self.taxonomy = taxonomy
        self.pins: dict[Path, str] = {}
        self.written: dict[Path, str] = {}

    def file(self, section: _Section, name: str = "path") -> Path:
        resolved = section.path(name)
        self.written[resolved] = section.data[name]
        if section.has("sha256"):
            pin = section.text("sha256").lower()
            if not _SHA256.match(pin):
                raise section.error("sha256", "must be 64 hex digits")
            self.pins[resolved] = pin
        section.used.add("sha256")
        return resolved

    def areas(self, s: _Section) -> BoundarySpec:
        spec = BoundarySpec(
            path=self.file(s),
            code_column=s.text("code_column"),
            name_column=s.text("name_column", None),
            layer=s.text("layer", None),
            where=_where(s),
            meta=s.meta(),
            code_system=s.text("code_system", ""),
        )
        s.done()
        return spec

    def indicator(self, s: _Section, inherit: SourceMeta) -> IndicatorSpec:
        name = s.text("name")
        if not _NAME.match(name):
            raise s.error("name", f"'{name}' must be snake_case (a-z, 0-9, _)")
        if name in RESERVED_COLUMNS or name.startswith(RESERVED_PREFIXES):
            raise s.error("name", f"'{name}' is the name of an output column; choose another")
        column = s.text("column", None)
        numerator = s.text("numerator", None)
        denominator = s.text("denominator", None)
        if (column is None) == (numerator is None and denominator is None):
            raise s.error("column", "give either column, or numerator and denominator")
        if column is None and (numerator is None or denominator is None):
            raise s.error("denominator", "a ratio needs both numerator and denominator")
        spec = IndicatorSpec(
            name=name,
            label=s.text("label"),
            unit=s.text("unit", ""),
            higher_is_more_need=s.flag("higher_is_more_need"),
            column=column,
            numerator=numerator,
            denominator=denominator,
            scale=s.number("scale", 1.0),
            additive=s.flag("additive", False),
            description=s.text("description", ""),
            meta=s.meta(inherit),
        )
        s.done()
        return spec

    def table(self, s: _Section) -> TableSpec:
        table_id = s.text("id")
        if not _NAME.match(table_id):
            raise s.error("id", f"'{table_id}' must be snake_case")
        meta = s.meta()
        code_map = None
        if s.has("code_map"):
            m = s.sub("code_map")
            code_map = CodeMapSpec(
                path=self.file(m),
                from_column=m.text("from_column"),
                to_column=m.text("to_column"),
                meta=m.meta(),
            )
            m.done()
        raw_inds = s.get("indicator", list)
        if not raw_inds:
            raise s.error("indicator", "a table needs at least one [[table.indicator]]")
        indicators = tuple(
            self.indicator(_Section(self.path, item, f"{s.key}.indicator[{n}]"), meta)
            for n, item in enumerate(raw_inds, start=1)
        )
        spec = TableSpec(
            id=table_id,
            path=self.file(s),
            code_column=s.text("code_column"),
            indicators=indicators,
            where=_where(s),
            thousands=s.text("thousands", None),
            national=s.flag("national", False),
            allow_missing=s.flag("allow_missing", False),
            code_map=code_map,
            meta=meta,
        )
        s.done()
        return spec

    def postcodes(self, s: _Section) -> PostcodeSpec:
        spec = PostcodeSpec(
            path=self.file(s),
            lon_column=s.text("lon_column", "long"),
            lat_column=s.text("lat_column", "lat"),
            meta=s.meta(),
        )
        s.done()
        return spec


def load_config(path: Path, taxonomy: Taxonomy) -> JsaaConfig:
    """Read and check an assessment config.

    Parameters
    ----------
    path
        The TOML file. Input paths inside it are relative to its folder.
    taxonomy
        Category ids the config may name.

    Returns
    -------
    JsaaConfig
        Absolute input paths, indicator specs with metadata, weights and thresholds.

    Raises
    ------
    ConfigError
        On the first problem, naming the dotted key (``table[2].indicator[1].name``).
    """
    path = Path(path).resolve()
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(path, "path", f"cannot read the config: {err}") from err
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(path, "toml", f"not valid TOML: {err}") from err
    loader = _Loader(path, taxonomy)
    top = _Section(path, raw, "")

    a = top.sub("assessment")
    title = a.text("title")
    slug = a.text("slug")
    if not _SLUG.match(slug):
        raise a.error("slug", f"'{slug}' must be lower-case letters, digits and hyphens")
    scope = a.text("scope", "local")
    if scope not in ("national", "local"):
        raise a.error("scope", f"'{scope}' must be 'national' or 'local'")
    catchment_m = a.number("catchment_m", DEFAULT_CATCHMENT_M, low=1.0, high=MAX_RADIUS_M)
    description = a.text("description", "")
    a.done()

    areas = loader.areas(top.sub("areas"))
    raw_tables = top.get("table", list)
    if not raw_tables:
        raise top.error("table", "at least one [[table]] of indicators is required")
    tables = tuple(
        loader.table(_Section(path, item, f"table[{n}]")) for n, item in enumerate(raw_tables, 1)
    )
    names: dict[str, str] = {}
    for t in tables:
        for ind in t.indicators:
            if ind.name in names:
                raise top.error(
                    f"table.indicator {ind.name}",
                    f"indicator name used twice (tables {names[ind.name]} and {t.id})",
                )
            names[ind.name] = t.id
    # The report, maps and tables name indicators by label alone: two with one label (a count
    # and its percentage, told apart only by their units) cannot be told apart there.
    labels: dict[str, str] = {}
    for t_n, t in enumerate(tables, 1):
        for i_n, ind in enumerate(t.indicators, 1):
            folded = " ".join(ind.label.split()).casefold()
            if folded in labels:
                raise top.error(
                    f"table[{t_n}].indicator[{i_n}].label",
                    f"'{ind.label}' is also the label of {labels[folded]}: give each indicator "
                    "a label of its own, as the report and maps name indicators by label "
                    "(a count and its percentage need two, such as 'Residents aged 65+' and "
                    "'Share of residents aged 65+')",
                )
            labels[folded] = f"indicator {ind.name} (table {t.id})"
    ids = [t.id for t in tables]
    if len(set(ids)) != len(ids):
        raise top.error("table", "table ids must be unique")

    p = top.sub("population")
    population = p.text("indicator")
    if population not in names:
        raise p.error(
            "indicator", f"no indicator named '{population}'; indicators: {', '.join(names)}"
        )
    p.done()
    if "population" in names and population != "population":
        raise top.error(
            "population.indicator",
            "an indicator named 'population' must be the population indicator",
        )

    postcodes = loader.postcodes(top.sub("postcodes")) if top.has("postcodes") else None
    top.used.add("postcodes")

    c = top.sub("categories")
    categories = tuple(c.get("ids", list))
    if not categories:
        raise c.error("ids", "name at least one category")
    for cid in categories:
        if not isinstance(cid, str) or cid not in taxonomy:
            raise c.error("ids", f"unknown category {cid!r}; valid: {', '.join(taxonomy.ids)}")
    if len(set(categories)) != len(categories):
        raise c.error("ids", "a category is listed twice")
    cat_weights = _weights(c, "weights", {})
    for cid in cat_weights:
        if cid not in categories:
            raise c.error(f"weights.{cid}", "is not one of categories.ids")
    cat_weights = {cid: cat_weights.get(cid, 1.0) for cid in categories}
    if sum(cat_weights.values()) <= 0:
        raise c.error("weights", "at least one category weight must be more than 0")
    c.done()

    w = top.sub("weights")
    need = _weights(w, "need", {})
    if not need:
        raise w.error("need", "give at least one need indicator weight")
    for name in need:
        if name not in names:
            raise w.error(
                f"need.{name}", f"no indicator named '{name}'; indicators: {', '.join(names)}"
            )
        table = next(t for t in tables if t.id == names[name])
        if scope == "national" and need[name] > 0 and not table.national:
            raise w.error(
                f"need.{name}",
                f"scope is national but table '{table.id}' is not national = true: national "
                "ranks need England-wide values",
            )
    need = {k: v for k, v in need.items() if v > 0}
    access = _weights(w, "access", {"within_catchment": 0.5, "nearest": 0.5})
    gap = _weights(w, "gap", {"need": 0.5, "access": 0.5})
    for sub, keys in (("access", {"within_catchment", "nearest"}), ("gap", {"need", "access"})):
        given = access if sub == "access" else gap
        extra = set(given) - keys
        if extra:
            raise w.error(f"{sub}.{min(extra)}", f"unknown; use {' and '.join(sorted(keys))}")
    w.done()

    th = top.sub("thresholds", {})
    need_top = th.number("need_top", 0.2, low=0.0, high=1.0)
    access_bottom = th.number("access_bottom", 0.2, low=0.0, high=1.0)
    th.done()

    sm = top.sub("summary", {})
    decile = sm.text("decile_indicator", None)
    if decile is not None and decile not in names:
        raise sm.error("decile_indicator", f"no indicator named '{decile}'")
    if decile is not None:
        spec = next(i for t in tables for i in t.indicators if i.name == decile)
        # The charts read decile 1 as the most deprived tenth and compare deciles 1-2 with
        # 9-10: a decile that counts the other way would report provision backwards.
        if spec.higher_is_more_need:
            raise sm.error(
                "decile_indicator",
                f"'{decile}' has higher_is_more_need = true, but the charts read decile 1 as "
                "the most deprived: choose a decile where 1 means most need",
            )
    sm.done()
    top.done()

    return JsaaConfig(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        text=data.decode("utf-8"),
        raw=raw,
        title=title,
        slug=slug,
        scope=cast(Scope, scope),
        catchment_m=catchment_m,
        areas=areas,
        tables=tables,
        population=population,
        categories=categories,
        category_weights=cat_weights,
        need_weights=need,
        catchment_weight=access.get("within_catchment", 0.0),
        nearest_weight=access.get("nearest", 0.0),
        gap_need_weight=gap.get("need", 0.0),
        gap_access_weight=gap.get("access", 0.0),
        need_top=need_top,
        access_bottom=access_bottom,
        postcodes=postcodes,
        decile_indicator=decile,
        description=description,
        pins=loader.pins,
        written_paths=loader.written,
    )
