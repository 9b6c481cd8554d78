"""Nearby search for local area coordinators: "what is near you that could help?".

One query shape serves the JSON API, the coordinator page and the CLI. They all pass the
raw request parameters to :func:`parse_nearby_query`, which either returns a validated
:class:`NearbyQuery` or raises a :class:`ValidationError` naming the parameter to fix.
:func:`search_nearby` then runs it against a store.

Parameters (as strings; every one is optional apart from a location):

``postcode``
    A unit postcode (``M32 0TH``), a postcode sector (``M33 7``) or district (``M33``);
    sectors and districts search from the mean of their postcode centroids.
``lat``, ``lon``
    A WGS84 point in decimal degrees, instead of a postcode. Both are needed, and the point
    must lie in the UK.
``radius_m``, or ``radius`` with ``unit``
    The search radius: ``radius_m=1600`` in metres, or ``radius=1&unit=mi`` with ``unit`` one
    of ``m``, ``km`` or ``mi``. The default is 1 mile (1,609.344 m); the most is 50 km.
    Either way the radius in metres is rounded to the millimetre (31 miles is 49,889.664 m).
``category``
    Category ids from the taxonomy; repeat it or separate ids with commas. Any of them.
``q``
    Words that must all start a word of the name or description (``lib`` finds
    "Library"); case and accents are ignored (``cafe`` finds "Café").
``cost``
    ``free`` (cost is free), ``personal_budget`` or ``time_credits`` (accepted as
    payment). Repeatable; an asset matching any of them is kept. Unknown cost never matches.
``access``
    Accessibility feature ids; repeatable, and every one must be listed for the asset.
``audience``
    One audience id. An asset matches when it lists that audience, lists ``everyone``, or
    lists no audience at all (nothing says it is restricted). ``audience=everyone`` keeps
    only assets that are open to all in that sense.
``open_on``
    A weekday and 24-hour local time, ``mon 14:00`` (``mon@14:00`` and full day names are
    accepted too). Assets whose structured hours say they are open are kept; assets whose
    hours are blank or could not be read go to a separate ``hours_unknown`` list.
``limit``, ``offset``
    Paging: at most ``limit`` results (default 50, at most 500) after skipping ``offset``.
    ``hours_unknown`` is paged with the same numbers.

Only published assets are ever returned. Results are sorted by distance, then name, except
that stale listings (never verified, or last verified more than ``stale_after_days`` ago,
365 by default) go after fresh ones within each 400 m distance band (about five minutes'
walk): a fresh asset 390 m away comes before a stale one 20 m away, but a stale asset 390 m
away still comes before a fresh one 410 m away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, partial
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from assetmap.domain.asset import (
    DEFAULT_STALE_AFTER_DAYS,
    Asset,
    check_point,
    day_number,
    verified_day,
)
from assetmap.domain.errors import ValidationError
from assetmap.domain.opening_times import WEEKDAYS, WeeklySchedule
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.text import fold_text, matches_words, search_text
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES
from assetmap.gazetteer.postcodes import PostcodeIndex, UnknownPostcode
from assetmap.store import NearbyHit, Store
from assetmap.store.base import (
    MAX_RADIUS_M,
    NearbySet,
    StoredRow,
    searched_again_if_rekeyed,
)

METRES_PER_MILE = 1609.344
DEFAULT_RADIUS_M = METRES_PER_MILE
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 100_000
MAX_Q_LENGTH = 200
WALKING_SPEED_KMH = 4.8
WALKING_LABEL = "straight line at 4.8 km/h"
STALE_BAND_M = 400.0

# (400 m band, stale, distance_m, folded name, id): see rank_key.
RankKey: TypeAlias = tuple[int, bool, float, str, str]

# Metres per unit of the ``unit`` parameter, and the spellings accepted for each.
UNITS: Mapping[str, float] = MappingProxyType({"m": 1.0, "km": 1000.0, "mi": METRES_PER_MILE})
_UNIT_SPELLINGS = {
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), "m"),
    **dict.fromkeys(("km", "kilometre", "kilometres", "kilometer", "kilometers"), "km"),
    **dict.fromkeys(("mi", "mile", "miles"), "mi"),
}

COST_FILTERS: Mapping[str, str] = MappingProxyType(
    {
        "free": "Free",
        "personal_budget": "Accepts personal budget or direct payment",
        "time_credits": "Accepts time credits",
    }
)

PARAMETERS = (
    "postcode",
    "lat",
    "lon",
    "radius_m",
    "radius",
    "unit",
    "category",
    "q",
    "cost",
    "access",
    "audience",
    "open_on",
    "limit",
    "offset",
)
# Parameters that may repeat; each value may also hold several ids separated by commas.
REPEATABLE = frozenset({"category", "cost", "access"})

_DAY_SPELLINGS = {
    **dict.fromkeys(("mon", "monday"), "mon"),
    **dict.fromkeys(("tue", "tues", "tuesday"), "tue"),
    **dict.fromkeys(("wed", "weds", "wednesday"), "wed"),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), "thu"),
    **dict.fromkeys(("fri", "friday"), "fri"),
    **dict.fromkeys(("sat", "saturday"), "sat"),
    **dict.fromkeys(("sun", "sunday"), "sun"),
}
_OPEN_ON = re.compile(r"([a-z]+)\s*(?:@|\s)\s*([0-9]{1,2}):([0-9]{2})")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"\+?[0-9]{1,9}")
_MAX_ECHO = 40
# An error's field names the parameter to fix; a name someone made up is echoed there, but
# only this much of it, so a 5,000-character name does not come back whole.
MAX_FIELD_CHARS = 100
# Werkzeug reads a query string's bytes that are not UTF-8 as their percent-escapes, "%E9"
# (always upper case, always a byte of 0x80 or more); Python reads such bytes on a command line
# as lone surrogates. Either way the text was not valid UTF-8.
_NOT_UTF8 = re.compile(r"%[89A-F][0-9A-F]|[\ud800-\udfff]")
# Radii are used and echoed to the millimetre: 31 miles is 49889.664 m, not 49889.664000000004.
RADIUS_PLACES = 3


def _cut(text: str) -> str:
    """User text for an error message, cut short if someone pasted a paragraph."""
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 1] + "…"


def _shown(text: str) -> str:
    """Quote user text for an error message, cut short (:func:`_cut`)."""
    return repr(_cut(text))


def field_name(name: str) -> str:
    """A parameter name as an error's ``field`` gives it: at most ``MAX_FIELD_CHARS``.

    For a name the caller made up (an unknown parameter, a submission body's key): every
    API refusal that names one cuts it here.
    """
    return name[:MAX_FIELD_CHARS]


@dataclass(frozen=True)
class Wording:
    """How :func:`parse_nearby_query`'s messages speak of the parameters, in the caller's terms.

    The checks are shared, but a person fixes a URL's ``open_on=`` and a command's
    ``--open-on`` in different places, so each caller says how to name them.
    :data:`PARAMETER_WORDING`, the default, is the API's. Whatever the wording, an error's
    ``field`` is the parameter's name.

    Attributes
    ----------
    names : Mapping
        Parameter -> how messages name it (``open_on`` -> ``--open-on``); a parameter not in
        it is named as it is.
    kind : str
        What the caller calls its parameters: ``"parameter"``, ``"option"``.
    byte : str
        Format for a byte that is not UTF-8, given its value: ``"%{:02X}"`` shows ``%E9``.
    location_both, location_missing : str
        A postcode given with lat or lon; none of the three given.
    point_half : str
        Only one of lat and lon given; ``{missing}`` is the other's name.
    radius_both : str
        ``radius_m`` given with ``radius``.
    unit_alone : str
        ``unit`` given without ``radius``.
    radius_alone : str
        ``radius`` given without ``unit``; ``{radius}`` is the radius as given, quoted.
    postcode_refused : str
        A postcode the directory refuses: ``{message}`` is the directory's message, which
        names no parameter, and ``{name}`` the postcode's.
    plural : frozenset of str
        Parameters whose name is plural (``q`` named "search words"), so that messages say
        "search words are ..." where they say "q is ...". Empty by default.
    """

    names: Mapping[str, str]
    kind: str
    byte: str
    location_both: str
    location_missing: str
    point_half: str
    radius_both: str
    unit_alone: str
    radius_alone: str
    postcode_refused: str
    plural: frozenset[str] = frozenset()

    def name(self, parameter: str) -> str:
        """How messages name ``parameter``."""
        return self.names.get(parameter, parameter)

    def name_is(self, parameter: str) -> str:
        """The parameter's name and the verb that agrees with it: "q is", "search words are"."""
        return f"{self.name(parameter)} {'are' if parameter in self.plural else 'is'}"


PARAMETER_WORDING = Wording(
    names=MappingProxyType({}),
    kind="parameter",
    byte="%{:02X}",
    location_both="give either a postcode or lat and lon, not both",
    location_missing=(
        "say where to search: give a postcode (like M32 0TH), a postcode district (M32)"
        " or sector (M32 0), or lat and lon"
    ),
    point_half="{missing} is missing: give both lat and lon, or a postcode",
    radius_both="give radius_m (metres) or radius with a unit, not both",
    unit_alone="unit needs a radius: give radius=1&unit=mi, or radius_m in metres",
    radius_alone=(
        "radius {radius} needs a unit: add unit=mi, km or m (or give radius_m in metres)"
    ),
    postcode_refused="{message}",
)


@dataclass(frozen=True)
class NearbyQuery:
    """A validated nearby search; build it with :func:`parse_nearby_query`.

    Attributes
    ----------
    lon, lat : float
        Search origin, WGS84 degrees (the postcode's centroid when a postcode was given).
    origin_label : str
        How to name the origin to a person: the postcode, or ``"53.45901, -2.28748"``.
    origin_kind : {"unit", "sector", "district", "point"}
        What the origin is.
    postcode : str or None
        The normalised postcode, sector or district, when the search started from one.
    radius_m : float
        Search radius in metres (geodesic), rounded to the millimetre.
    radius, unit : float or None, str or None
        The radius as given with ``radius`` and ``unit``; None when ``radius_m`` (or the
        default) was used.
    categories, cost, access : tuple of str
        Category ids (any), cost filters (any) and accessibility ids (all).
    q : str
        Free-text search as typed (stripped); empty for none.
    audience : str or None
        Audience id.
    open_on : tuple of (str, str) or None
        Weekday (``"mon"``..``"sun"``) and ``"HH:MM"`` local time.
    limit, offset : int
        Paging.
    """

    lon: float
    lat: float
    origin_label: str
    origin_kind: str
    postcode: str | None = None
    radius_m: float = DEFAULT_RADIUS_M
    radius: float | None = None
    unit: str | None = None
    categories: tuple[str, ...] = ()
    q: str = ""
    cost: tuple[str, ...] = ()
    access: tuple[str, ...] = ()
    audience: str | None = None
    open_on: tuple[str, str] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @cached_property
    def q_terms(self) -> tuple[str, ...]:
        """Folded words of ``q`` (see :func:`fold_text`); every one must match."""
        return tuple(fold_text(self.q).split())

    @property
    def open_on_text(self) -> str | None:
        """``open_on`` in its canonical form, ``"mon 14:00"``, or None."""
        return None if self.open_on is None else f"{self.open_on[0]} {self.open_on[1]}"

    def origin(self) -> dict[str, Any]:
        """The search origin as JSON: ``{"lon", "lat", "label", "kind"}`` (WGS84 degrees)."""
        return {
            "lon": self.lon,
            "lat": self.lat,
            "label": self.origin_label,
            "kind": self.origin_kind,
        }

    def to_dict(self) -> dict[str, Any]:
        """Echo the query as understood, JSON-safe, with every parameter present.

        Returns
        -------
        dict
            Parameter name -> value; unset single values are None and unset repeatable
            ones are empty lists. ``lat``/``lon`` are None when a postcode was given (the
            origin holds its point); ``radius_m`` is always the radius in metres.
        """
        from_point = self.postcode is None
        return {
            "postcode": self.postcode,
            "lat": self.lat if from_point else None,
            "lon": self.lon if from_point else None,
            "radius_m": self.radius_m,
            "radius": self.radius,
            "unit": self.unit,
            "category": list(self.categories),
            "q": self.q or None,
            "cost": list(self.cost),
            "access": list(self.access),
            "audience": self.audience,
            "open_on": self.open_on_text,
            "limit": self.limit,
            "offset": self.offset,
        }

    def to_params(self) -> dict[str, str | list[str]]:
        """The shortest parameters that :func:`parse_nearby_query` reads back as this query.

        Use it to build a bookmarkable URL; defaults are left out.

        Returns
        -------
        dict
            Parameter name -> string, or list of strings for repeatable parameters.
        """
        params: dict[str, str | list[str]] = {}
        if self.postcode is not None:
            params["postcode"] = self.postcode
        else:
            params["lat"] = repr(self.lat)
            params["lon"] = repr(self.lon)
        if self.radius is not None and self.unit is not None:
            params["radius"] = repr(self.radius)
            params["unit"] = self.unit
        elif self.radius_m != DEFAULT_RADIUS_M:
            params["radius_m"] = repr(self.radius_m)
        repeated = {"category": self.categories, "cost": self.cost, "access": self.access}
        params.update({name: list(values) for name, values in repeated.items() if values})
        if self.q:
            params["q"] = self.q
        if self.audience is not None:
            params["audience"] = self.audience
        if self.open_on_text is not None:
            params["open_on"] = self.open_on_text
        if self.limit != DEFAULT_LIMIT:
            params["limit"] = str(self.limit)
        if self.offset:
            params["offset"] = str(self.offset)
        return params


# --- parsing ------------------------------------------------------------------------------


def refuse_not_utf8(value: str, name: str, w: Wording = PARAMETER_WORDING) -> None:
    """Refuse a parameter's value that holds a byte of no UTF-8 character (see ``_NOT_UTF8``).

    Raises
    ------
    ValidationError
        Naming the parameter (as ``w`` names it) and the byte, on field ``name``.
    """
    bad = _NOT_UTF8.search(value)
    if bad is not None:
        byte = int(bad[0][1:], 16) if bad[0].startswith("%") else ord(bad[0]) & 0xFF
        raise ValidationError(
            f"{w.name_is(name)} not valid UTF-8 text: it holds the byte"
            f" {w.byte.format(byte)}, which is not part"
            " of any character (was it sent in another encoding?); enter it again",
            field=name,
        )


def _values(params: Mapping[str, str | Sequence[str]], name: str, w: Wording) -> list[str]:
    """Non-blank values of a parameter; blank form fields count as not given."""
    raw = params.get(name)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(f"{w.name(name)} must be text, not {item!r}", field=name)
        refuse_not_utf8(item, name, w)
        if name in REPEATABLE:
            out.extend(part.strip() for part in item.split(",") if part.strip())
        elif item.strip():
            out.append(item.strip())
    return out


def _single(params: Mapping[str, str | Sequence[str]], name: str, w: Wording) -> str | None:
    values = _values(params, name, w)
    if len(values) > 1:
        raise ValidationError(f"give {w.name(name)} once, not {len(values)} times", field=name)
    return values[0] if values else None


def _number(text: str, name: str, w: Wording) -> float:
    said = w.name(name)
    if not _NUMBER.fullmatch(text):
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise ValidationError(f"{said} must be a finite number, not {_shown(text)}", field=name)
        raise ValidationError(f"{said} {_shown(text)} is not a number", field=name)
    value = float(text)
    if not math.isfinite(value):
        raise ValidationError(f"{said} {_shown(text)} is too large to be a number", field=name)
    return value


def _whole(text: str | None, name: str, default: int, low: int, high: int, w: Wording) -> int:
    if text is None:
        return default
    value = int(text) if _WHOLE.fullmatch(text) else None
    if value is None or not low <= value <= high:
        raise ValidationError(
            f"{w.name(name)} must be a whole number from {low} to {high}, not {_shown(text)}",
            field=name,
        )
    return value


def _location(
    params: Mapping[str, str | Sequence[str]], postcodes: PostcodeIndex, w: Wording
) -> tuple[float, float, str, str, str | None]:
    """Origin as (lon, lat, label, kind, postcode) from ``postcode`` or ``lat``/``lon``."""
    postcode = _single(params, "postcode", w)
    lat_text = _single(params, "lat", w)
    lon_text = _single(params, "lon", w)
    if postcode is not None and (lat_text is not None or lon_text is not None):
        raise ValidationError(w.location_both, field="postcode")
    if postcode is not None:
        try:
            point = postcodes.lookup(postcode)
        except (ValidationError, UnknownPostcode) as err:
            # Malformed or not in the directory: the message names no parameter (and
            # UnknownPostcode carries no field), but the person fixes it in the postcode box.
            message = w.postcode_refused.format(name=w.name("postcode"), message=err.message)
            raise ValidationError(message, field="postcode") from None
        label = {"unit": "", "sector": "postcode sector ", "district": "postcode district "}
        return point.lon, point.lat, label[point.kind] + point.query, point.kind, point.query
    if lat_text is None and lon_text is None:
        raise ValidationError(w.location_missing, field="postcode")
    if lat_text is None or lon_text is None:
        missing = "lat" if lat_text is None else "lon"
        raise ValidationError(w.point_half.format(missing=w.name(missing)), field=missing)
    lat = _number(lat_text, "lat", w)
    lon = _number(lon_text, "lon", w)
    said_lat, said_lon = w.name("lat"), w.name("lon")
    if not -90 <= lat <= 90:
        raise ValidationError(f"{said_lat} {_cut(lat_text)} is outside -90..90", field="lat")
    if not -180 <= lon <= 180:
        raise ValidationError(f"{said_lon} {_cut(lon_text)} is outside -180..180", field="lon")
    # check_point words its problems with the API's names, so they are said here again in
    # the caller's: a point in the UK once swapped (check_point finds nothing wrong with it
    # then), or one outside it.
    if check_point(lon, lat):
        if not check_point(lat, lon):
            raise ValidationError(
                f"{said_lon} {lon}, {said_lat} {lat} look swapped:"
                f" as {said_lat} {lon}, {said_lon} {lat} the point is in the UK",
                field="lat",
            )
        raise ValidationError(
            f"point ({said_lon} {lon}, {said_lat} {lat}) is outside the UK", field="lon"
        )
    return lon, lat, f"{lat:.5f}, {lon:.5f}", "point", None


def _radius(
    params: Mapping[str, str | Sequence[str]], w: Wording
) -> tuple[float, float | None, str | None]:
    """Radius as (metres, radius as given, unit) from ``radius_m`` or ``radius`` + ``unit``."""
    radius_m_text = _single(params, "radius_m", w)
    radius_text = _single(params, "radius", w)
    unit_text = _single(params, "unit", w)
    if radius_m_text is not None and radius_text is not None:
        raise ValidationError(w.radius_both, field="radius")
    if radius_text is None:
        if unit_text is not None:
            raise ValidationError(w.unit_alone, field="unit")
        if radius_m_text is None:
            return DEFAULT_RADIUS_M, None, None
        radius_m = _number(radius_m_text, "radius_m", w)
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise ValidationError(
                f"{w.name('radius_m')} must be more than 0 and at most {MAX_RADIUS_M:.0f}"
                f" (50 km), not {_cut(radius_m_text)}",
                field="radius_m",
            )
        return _to_the_millimetre(radius_m, radius_m_text, "radius_m", w), None, None
    if unit_text is None:
        raise ValidationError(w.radius_alone.format(radius=_shown(radius_text)), field="unit")
    unit = _UNIT_SPELLINGS.get(unit_text.lower())
    if unit is None:
        raise ValidationError(
            f"{w.name('unit')} {_shown(unit_text)} is not one of: {', '.join(UNITS)}",
            field="unit",
        )
    radius = _number(radius_text, "radius", w)
    radius_m = radius * UNITS[unit]
    if not 0 < radius_m <= MAX_RADIUS_M:
        # Rounded down: a limit shown rounded up (31.07 mi) would itself be refused.
        most = f"{math.floor(MAX_RADIUS_M / UNITS[unit] * 100) / 100:.2f}".rstrip("0").rstrip(".")
        raise ValidationError(
            f"{w.name('radius')} must be more than 0 and at most {most} {unit} (50 km),"
            f" not {_cut(radius_text)} {unit}",
            field="radius",
        )
    return _to_the_millimetre(radius_m, f"{radius_text} {unit}", "radius", w), radius, unit


def _to_the_millimetre(radius_m: float, text: str, name: str, w: Wording) -> float:
    """A radius in metres rounded to the millimetre; a radius that rounds to 0 is refused."""
    rounded = round(radius_m, RADIUS_PLACES)
    if rounded <= 0:
        raise ValidationError(
            f"{w.name(name)} {_shown(text)} is less than 1 mm (0.001 m), the smallest radius",
            field=name,
        )
    return rounded


def _ids(
    params: Mapping[str, str | Sequence[str]], name: str, vocab: Mapping[str, str], w: Wording
) -> tuple[str, ...]:
    out: list[str] = []
    for value in _values(params, name, w):
        key = value.lower()
        if key not in vocab:
            raise ValidationError(
                f"{w.name(name)} {_shown(value)} is not one of: {', '.join(vocab)}", field=name
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def _categories(
    params: Mapping[str, str | Sequence[str]], taxonomy: Taxonomy, w: Wording
) -> tuple[str, ...]:
    out: list[str] = []
    for value in _values(params, "category", w):
        key = value.lower()
        if key not in taxonomy:
            raise ValidationError(
                f"unknown {w.name('category')} {_shown(value)}; valid categories are:"
                f" {', '.join(taxonomy.ids)}",
                field="category",
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def _open_on(text: str | None, w: Wording) -> tuple[str, str] | None:
    if text is None:
        return None
    match = _OPEN_ON.fullmatch(text.lower())
    day = _DAY_SPELLINGS.get(match[1]) if match else None
    if match is None or day is None or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValidationError(
            f"{w.name('open_on')} {_shown(text)} is not a day and 24-hour time like"
            f" 'mon 14:00' (days: {', '.join(WEEKDAYS)})",
            field="open_on",
        )
    return day, f"{int(match[2]):02d}:{match[3]}"


def parse_nearby_query(
    params: Mapping[str, str | Sequence[str]],
    *,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    wording: Wording = PARAMETER_WORDING,
) -> NearbyQuery:
    """Validate raw nearby-search parameters (the module docstring lists them).

    Parameters
    ----------
    params : Mapping
        Parameter name -> a string or a list of strings, e.g. a request's query
        arguments (``request.args.to_dict(flat=False)``). Blank values count as not given.
    taxonomy : Taxonomy
        Categories ``category`` may name.
    postcodes : PostcodeIndex
        Geocoder for ``postcode``.
    wording : Wording, optional
        How error messages name the parameters: by default as the API takes them; the CLI
        names its options instead, and the coordinator page its form's fields.

    Returns
    -------
    NearbyQuery

    Raises
    ------
    ValidationError
        For the first problem found, with ``field`` naming the parameter to fix (whatever
        the wording): an unknown parameter, a malformed or unknown postcode, a missing or
        out-of-range lat/lon (WGS84 degrees, inside the UK), a postcode together with
        lat/lon, a radius outside (0, 50 km], an unknown category (the message lists the
        valid ones), cost, access or audience id, a malformed ``open_on``,
        ``limit``/``offset`` out of range, or a value that is not valid UTF-8 (a query
        string's bytes that are not, which Werkzeug passes on as their escapes such as
        ``%E9``, or lone surrogates).
    """
    w = wording
    unknown = sorted(name for name in params if name not in PARAMETERS)
    if unknown:
        # Two parameters may share a name in the caller's terms (radius_m and radius).
        known = dict.fromkeys(w.name(name) for name in PARAMETERS)
        raise ValidationError(
            f"unknown {w.kind} {_shown(unknown[0])}; known {w.kind}s are: {', '.join(known)}",
            field=field_name(unknown[0]),
        )
    lon, lat, label, kind, postcode = _location(params, postcodes, w)
    radius_m, radius, unit = _radius(params, w)
    q = _single(params, "q", w) or ""
    if len(q) > MAX_Q_LENGTH:
        raise ValidationError(
            f"{w.name_is('q')} {len(q)} characters; at most {MAX_Q_LENGTH}", field="q"
        )
    if q and not fold_text(q):
        has = "have" if "q" in w.plural else "has"
        raise ValidationError(
            f"{w.name('q')} {_shown(q)} {has} no letters or digits to search for", field="q"
        )
    audience = _single(params, "audience", w)
    if audience is not None:
        (audience,) = _ids({"audience": audience}, "audience", AUDIENCES, w)
    return NearbyQuery(
        lon=lon,
        lat=lat,
        origin_label=label,
        origin_kind=kind,
        postcode=postcode,
        radius_m=radius_m,
        radius=radius,
        unit=unit,
        categories=_categories(params, taxonomy, w),
        q=q,
        cost=_ids(params, "cost", COST_FILTERS, w),
        access=_ids(params, "access", ACCESSIBILITY, w),
        audience=audience,
        open_on=_open_on(_single(params, "open_on", w), w),
        limit=_whole(_single(params, "limit", w), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, w),
        offset=_whole(_single(params, "offset", w), "offset", 0, 0, MAX_OFFSET, w),
    )


# --- searching ----------------------------------------------------------------------------


def is_stale(last_verified: str | None, *, today: date, stale_after_days: int) -> bool:
    """Whether a listing is stale: never verified, or verified too long ago.

    Parameters
    ----------
    last_verified : str or None
        ISO date (``YYYY-MM-DD``) the listing was last checked; None or unreadable means
        never, which counts as stale: nobody has vouched for it.
    today : date
        The date to measure from.
    stale_after_days : int
        A listing verified exactly this many days ago is still fresh; one day more is stale.

    Returns
    -------
    bool
    """
    day = verified_day(last_verified)
    return day is None or day_number(today) - day > stale_after_days


def stale_days(
    days: NDArray[np.float64], *, today: date, stale_after_days: int
) -> NDArray[np.bool_]:
    """:func:`is_stale` for many listings at once, from their stored day numbers.

    Parameters
    ----------
    days : array of float
        Each listing's ``last_verified`` as :func:`~assetmap.domain.asset.verified_day`
        gives it, NaN for never verified (see :attr:`NearbySet.verified_days`).
    today, stale_after_days
        As for :func:`is_stale`.

    Returns
    -------
    array of bool
    """
    # NaN compares False, so never-verified listings are stale through isnan alone.
    return np.asarray(np.isnan(days) | (day_number(today) - days > stale_after_days))


def describe_asset(
    asset: Asset,
    *,
    taxonomy: Taxonomy,
    today: date,
    stale_after_days: int,
    distance_m: float | None = None,
) -> dict[str, Any]:
    """The JSON form of an asset shown to coordinators (API, page, CLI and handout).

    Parameters
    ----------
    asset : Asset
        A stored asset.
    taxonomy : Taxonomy
        For ``category_label`` (the id itself if the taxonomy no longer has it).
    today : date
        For ``stale``.
    stale_after_days : int
        See :func:`is_stale`.
    distance_m : float, optional
        Distance from a search's origin: adds :func:`distance_fields` after the category.

    Returns
    -------
    dict
        ``id, name, category, category_label``, the distance fields if given, then
        ``description, address, postcode, phone, email, website, opening_times``
        (``{"text", "status", "schedule"}``), ``cost, currencies, accessibility, audience,
        last_verified, stale, lon, lat`` (WGS84), ``source, licence`` (as stored: a
        resident's submission has source "resident" and whatever licence the store records,
        none so far).
    """
    label = taxonomy.get(asset.category).label if asset.category in taxonomy else asset.category
    record: dict[str, Any] = {
        "id": asset.id,
        "name": asset.name,
        "category": asset.category,
        "category_label": label,
    }
    # Distance reads best straight after the name and category.
    if distance_m is not None:
        record.update(distance_fields(distance_m))
    record.update(
        {
            "description": asset.description,
            "address": asset.address,
            "postcode": asset.postcode,
            "phone": asset.phone,
            "email": asset.email,
            "website": asset.website,
            "opening_times": asset.opening_times.to_dict(),
            "cost": asset.cost,
            "currencies": list(asset.currencies),
            "accessibility": list(asset.accessibility),
            "audience": list(asset.audience),
            "last_verified": asset.last_verified,
            "stale": is_stale(asset.last_verified, today=today, stale_after_days=stale_after_days),
            "lon": asset.lon,
            "lat": asset.lat,
            # The licences ask for credit wherever the data is passed on, as exports do.
            "source": asset.source,
            "licence": asset.licence,
        }
    )
    return record


def walking_minutes(distance_m: float) -> int:
    """Minutes to walk a straight line at 4.8 km/h, rounded up.

    Parameters
    ----------
    distance_m : float
        Straight-line (geodesic) distance in metres. Real routes are longer.

    Returns
    -------
    int
    """
    return math.ceil(distance_m / (WALKING_SPEED_KMH * 1000 / 60))


def distance_fields(distance_m: float) -> dict[str, Any]:
    """A result's distance fields: metres (0.1 m), miles (0.01 mi) and straight-line walk.

    ``walking_label`` reads "less than 1 min walk (...)" where ``walking_minutes`` is 0.
    """
    minutes = walking_minutes(distance_m)
    # Only a place at the search point itself is 0 minutes away.
    walk = f"{minutes} min walk" if minutes else "less than 1 min walk"
    return {
        "distance_m": round(distance_m, 1),
        "distance_miles": round(distance_m / METRES_PER_MILE, 2),
        "walking_minutes": minutes,
        "walking_label": f"{walk} ({WALKING_LABEL})",
    }


def describe_hit(
    hit: NearbyHit, *, taxonomy: Taxonomy, today: date, stale_after_days: int
) -> dict[str, Any]:
    """One search result as JSON: :func:`describe_asset` plus its distance from the origin.

    Parameters
    ----------
    hit : NearbyHit
        An asset and its geodesic distance from the search origin, metres.
    taxonomy, today, stale_after_days
        As for :func:`describe_asset`.

    Returns
    -------
    dict
        ``id, name, category, category_label``, then ``distance_m`` (0.1 m),
        ``distance_miles`` (0.01 mi), ``walking_minutes`` and ``walking_label``, then the
        rest of :func:`describe_asset`.
    """
    return describe_asset(
        hit.asset,
        taxonomy=taxonomy,
        today=today,
        stale_after_days=stale_after_days,
        distance_m=hit.distance_m,
    )


def matches_filters(state: Mapping[str, Any], query: NearbyQuery) -> bool:
    """Whether an asset passes the query's text, cost, access and audience filters.

    Location, category, status and ``open_on`` are not checked here.

    Parameters
    ----------
    state : Mapping
        The asset as stored (``Asset.to_dict`` form): a filtered search reads every asset in
        the radius, and decoding each into an Asset would cost several times more.
    query : NearbyQuery

    Returns
    -------
    bool
    """
    name, description = state["name"], state.get("description", "")
    cost, currencies = state.get("cost"), state.get("currencies", ())
    accessibility, audience = state.get("accessibility", ()), state.get("audience", ())
    terms = query.q_terms
    if terms and not matches_words(search_text(name, description), terms):
        return False
    if query.cost:
        accepted = {"free"} if cost == "free" else set()
        accepted.update(currencies)
        if accepted.isdisjoint(query.cost):
            return False
    if query.access and not set(query.access) <= set(accessibility):
        return False
    if query.audience is not None:
        open_to_all = not audience or "everyone" in audience
        if not (open_to_all or query.audience in audience):
            return False
    return True


@dataclass(frozen=True)
class NearbyResult:
    """One page of a nearby search.

    Attributes
    ----------
    query : dict
        :meth:`NearbyQuery.to_dict` (JSON-safe echo).
    origin : dict
        ``{"lon", "lat", "label", "kind"}``, WGS84 degrees.
    total : int
        Results matching, before paging.
    results : list of dict
        This page: :func:`describe_asset` plus ``distance_m`` (0.1 m), ``distance_miles``
        (0.01 mi), ``walking_minutes`` and ``walking_label``.
    hours_unknown : list of dict
        With ``open_on``: this page of the assets that pass every other filter but whose
        opening hours are blank or unreadable. Empty without ``open_on``.
    hours_unknown_total : int
        Their number before paging.
    """

    query: dict[str, Any]
    origin: dict[str, Any]
    total: int
    results: list[dict[str, Any]]
    hours_unknown: list[dict[str, Any]]
    hours_unknown_total: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as the API returns it."""
        return {
            "results": self.results,
            "total": self.total,
            "origin": self.origin,
            "hours_unknown": self.hours_unknown,
            "hours_unknown_total": self.hours_unknown_total,
            "query": self.query,
        }


def rank_key(distance_m: float, stale: bool, name_norm: str, asset_id: str) -> RankKey:
    """Sort key for results: 400 m band, fresh before stale, distance, name, id.

    Parameters
    ----------
    distance_m : float
        Geodesic distance from the origin, metres.
    stale : bool
        From :func:`is_stale`.
    name_norm : str
        ``normalise_name(asset.name)`` (stores keep it beside each asset).
    asset_id : str

    Returns
    -------
    tuple
    """
    return int(distance_m // STALE_BAND_M), stale, distance_m, name_norm, asset_id


def search_nearby(
    store: Store,
    query: NearbyQuery,
    *,
    taxonomy: Taxonomy,
    today: date,
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS,
) -> NearbyResult:
    """Run a nearby search: published assets within the radius that pass every filter.

    Parameters
    ----------
    store : Store
        Where the assets are.
    query : NearbyQuery
        From :func:`parse_nearby_query`.
    taxonomy : Taxonomy
        For category labels.
    today : date
        The date staleness is measured from.
    stale_after_days : int, optional
        Days after ``last_verified`` that a listing becomes stale (365).

    Returns
    -------
    NearbyResult
        Sorted by :func:`rank_key`: within each 400 m band fresh listings first, then by
        geodesic (WGS84) distance, name and id; paged by ``offset`` and ``limit``.
    """
    if stale_after_days < 0:
        raise ValidationError(
            f"stale_after_days must be 0 or more, not {stale_after_days}",
            field="stale_after_days",
        )
    # The store may be clustered while the set's assets are read: then search again.
    return searched_again_if_rekeyed(
        partial(_search, store, query, taxonomy, today, stale_after_days)
    )


def _search(
    store: Store, query: NearbyQuery, taxonomy: Taxonomy, today: date, stale_after_days: int
) -> NearbyResult:
    """One try at :func:`search_nearby`; AssetsRekeyed if the store was clustered meanwhile."""
    # Category and status are applied by the store's index-backed query; assets are read
    # only where they are needed (a 50 km radius in a city holds tens of thousands).
    found = store.nearby_set(
        query.lon,
        query.lat,
        query.radius_m,
        categories=query.categories or None,
        status="published",
        words=query.q_terms,
    )

    def key(row: StoredRow) -> RankKey:
        state = row.state
        stale = is_stale(state.get("last_verified"), today=today, stale_after_days=stale_after_days)
        distance = float(found.distances_m[row.position])
        return rank_key(distance, stale, row.name_norm, state["id"])

    def describe(hits: list[NearbyHit]) -> list[dict[str, Any]]:
        return [
            describe_hit(hit, taxonomy=taxonomy, today=today, stale_after_days=stale_after_days)
            for hit in hits
        ]

    def stale(days: NDArray[np.float64]) -> NDArray[np.bool_]:
        return stale_days(days, today=today, stale_after_days=stale_after_days)

    if not _needs_every_asset(query):
        hits = _page_by_band(found, query.offset, query.limit, key, stale)
        return NearbyResult(
            query=query.to_dict(),
            origin=query.origin(),
            total=len(found),
            results=describe(hits),
            hours_unknown=[],
            hours_unknown_total=0,
        )
    # Filters read every asset in the radius, undecoded (see NearbySet.states); keep only
    # keys and positions, so memory stays small, and read the shown page again at the end.
    kept: list[tuple[RankKey, int]] = []
    unknown: list[tuple[RankKey, int]] = []
    for start in range(0, len(found), _FILTER_BATCH):
        for row in found.states(range(start, min(start + _FILTER_BATCH, len(found)))):
            if not matches_filters(row.state, query):
                continue
            if query.open_on is not None:
                schedule = (row.state.get("opening_times") or {}).get("schedule")
                if schedule is None:
                    unknown.append((key(row), row.position))
                    continue
                if not WeeklySchedule.from_dict(schedule).is_open(*query.open_on):
                    continue
            kept.append((key(row), row.position))

    def page(ranked: list[tuple[RankKey, int]]) -> list[dict[str, Any]]:
        ranked.sort(key=lambda pair: pair[0])
        shown = ranked[query.offset : query.offset + query.limit]
        return describe(found.hits(position for _, position in shown))

    return NearbyResult(
        query=query.to_dict(),
        origin=query.origin(),
        total=len(kept),
        results=page(kept),
        hours_unknown=page(unknown),
        hours_unknown_total=len(unknown),
    )


# Assets read per batch when a filter must look at every asset in the radius.
_FILTER_BATCH = 2_000


def _needs_every_asset(query: NearbyQuery) -> bool:
    """Whether a filter must read each asset; without one, counts come from distances alone."""
    return bool(query.q_terms or query.cost or query.access or query.audience or query.open_on)


def _page_by_band(
    found: NearbySet,
    offset: int,
    limit: int,
    key: Callable[[StoredRow], RankKey],
    stale: Callable[[NDArray[np.float64]], NDArray[np.bool_]],
) -> list[NearbyHit]:
    """One page in :func:`rank_key` order, reading only the 400 m bands it falls in.

    Staleness reorders hits only inside a band, and bands follow distance, so each band
    holds the same positions in distance order as in the final order. Where the store keeps
    each asset's verified day, only the page itself is read (see :func:`_page_by_day`).
    """
    end = min(offset + limit, len(found))
    if offset >= end:
        return []
    bands = np.floor_divide(found.distances_m, STALE_BAND_M)
    first = int(np.searchsorted(bands, bands[offset], side="left"))
    last = int(np.searchsorted(bands, bands[end - 1], side="right"))
    if found.verified_days is not None:
        days = found.verified_days[first:last]
        hits = _page_by_day(found, days, bands[first:last], first, offset, end, key, stale)
        if hits is not None:
            return hits
    rows = found.states(range(first, last))
    rows.sort(key=key)
    return [found.hit(row) for row in rows[offset - first : end - first]]


def _page_by_day(
    found: NearbySet,
    days: NDArray[np.float64],
    bands: NDArray[np.float64],
    first: int,
    offset: int,
    end: int,
    key: Callable[[StoredRow], RankKey],
    stale: Callable[[NDArray[np.float64]], NDArray[np.bool_]],
) -> list[NearbyHit] | None:
    """Positions ``offset:end`` in :func:`rank_key` order, reading just those assets.

    ``days`` and ``bands`` cover positions ``first:last``, the whole bands they fall in. The
    stored verified days give each position's staleness, so with its band and distance the
    key's first three parts are known; only name and id, which part exact ties, need the
    asset. So the page is cut by those three, widened at either end to take in every
    position tied with its first or last, and only that is read and sorted by the full key.
    None if an asset left the status searched since the search: the caller then reads the
    whole bands, as it would without the days.
    """
    dist = found.distances_m[first : first + len(days)]
    stale_at = stale(days)
    # Band, then fresh before stale, then distance: rank_key's first three parts.
    order = np.lexsort((dist, stale_at, bands))
    ranked_stale, ranked_dist = stale_at[order], dist[order]
    tied = (ranked_stale[1:] == ranked_stale[:-1]) & (ranked_dist[1:] == ranked_dist[:-1])
    start, stop = offset - first, end - first
    while start > 0 and tied[start - 1]:
        start -= 1
    while stop < len(order) and tied[stop - 1]:
        stop += 1
    chosen = order[start:stop] + first
    rows = found.states(chosen)
    if len(rows) < len(chosen):
        return None
    rows.sort(key=key)
    skip = offset - first - start
    return [found.hit(row) for row in rows[skip : skip + end - offset]]
