"""The Asset: one community asset, and the validation that turns raw fields into one.

Coordinates are WGS84 longitude/latitude (EPSG:4326) in degrees. An optional ``footprint``
keeps a polygon source's outline (GeoJSON geometry, EPSG:4326) for display; the point is what
searches and distances use.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import msgspec

from assetmap.domain.errors import ValidationError
from assetmap.domain.opening_times import OpeningTimes, parse_opening_times
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.vocab import (
    ACCESSIBILITY,
    AUDIENCES,
    COSTS,
    CURRENCIES,
    PROVIDER_TYPES,
    STATUSES,
)

# A generous box around the UK and its islands; a point outside it is almost always a data error.
UK_BOUNDS = (-8.7, 49.8, 1.8, 60.9)  # min lon, min lat, max lon, max lat

MAX_LENGTHS = {
    "name": 200,
    "description": 5000,
    "address": 500,
    "postcode": 10,
    "phone": 40,
    "email": 254,
    "website": 2000,
    "source": 200,
    "source_id": 200,
    "licence": 500,
    "opening_times": 1000,
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{7,40}$")
# Control characters other than tab and newline have no place in a listing and can break CSV,
# terminals or HTML; they are removed rather than rejected so pasted text still imports. So
# are the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# invisible, they reorder whatever follows them on a page ("Library\u202e0161 912" shows the
# number reversed, and so would any words a page put after the name), and right-to-left
# scripts display in their own direction without them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Fields shown on one line: a line break or tab pasted into one (a quoted newline in a CSV
# cell, a JSON "\n") becomes a space. Descriptions and addresses keep their lines.
_ONE_LINE = frozenset({"name", "postcode", "licence"})
# Letters that draw nothing (Hangul fillers, the blank Braille pattern): with spaces and
# format characters such as the zero-width space, a name made only of these looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")

if TYPE_CHECKING:
    _Hours = OpeningTimes
else:
    # What msgspec decodes a state's hours into: the dict as stored, which Asset's
    # __post_init__ makes an OpeningTimes. Typed OpeningTimes, msgspec would decode the
    # dataclass field by field, and the stored form is to_dict's, not the fields'.
    _Hours = Any
# Hours not known, as most listings' are: the one instance from_stored shares (frozen).
_UNKNOWN_HOURS = OpeningTimes.from_stored({})


class Asset(msgspec.Struct, frozen=True, gc=False):
    """A community asset in its current state.

    ``id``, ``revision``, ``created_at`` and ``updated_at`` are set by the store; an asset that
    has not been stored yet has an empty id and revision 0.

    A msgspec Struct rather than a dataclass so that a store's JSON state decodes straight
    into one, in C (:meth:`from_stored_json`): a nearby search rebuilds every hit it returns,
    and its 50 hits on the million-asset benchmark took 0.25 ms through orjson's dicts, 0.15
    ms this way. ``gc=False``: an asset never refers back to anything holding it, so the
    collector need not track the thousands a search makes.
    """

    name: str
    category: str
    lon: float
    lat: float
    description: str = ""
    address: str = ""
    postcode: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    opening_times: _Hours = _UNKNOWN_HOURS
    cost: str | None = None
    currencies: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    provider_type: str | None = None
    source: str = ""
    source_id: str = ""
    licence: str = ""
    status: str = "published"
    last_verified: str | None = None  # ISO date
    footprint: dict[str, Any] | None = None
    id: str = ""
    revision: int = 0
    created_at: str = ""
    updated_at: str = ""

    def __post_init__(self) -> None:
        # Decoding leaves the stored hours as their dict (see _Hours); states from before
        # hours were kept hold None: unknown hours.
        hours: Any = self.opening_times
        if not isinstance(hours, OpeningTimes):
            msgspec.structs.force_setattr(
                self, "opening_times", OpeningTimes.from_stored(hours or {})
            )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every field (the revision's stored state)."""
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, OpeningTimes):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Asset:
        """Rebuild an asset from :meth:`to_dict` output; unknown keys are ignored."""
        kwargs = _known_fields(data)
        if "opening_times" in kwargs:
            kwargs["opening_times"] = OpeningTimes.from_dict(kwargs["opening_times"])
        return cls(**kwargs)

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Asset:
        """Rebuild an asset a store wrote, without re-checking its opening times.

        See :meth:`OpeningTimes.from_stored`: only for states read back from a store. A
        field since dropped is ignored, one added since takes its default; ``data`` itself
        is left as it was.
        """
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError:
            return cls._from_stored_unchecked(data)

    @classmethod
    def from_stored_json(cls, text: str | bytes) -> Asset:
        """:meth:`from_stored` for a state as the store keeps it, as JSON text."""
        try:
            return _DECODE_STORED(text)
        except msgspec.ValidationError:
            return cls._from_stored_unchecked(json.loads(text))
        except msgspec.DecodeError:
            # json.dumps can write NaN and Infinity, which strict JSON parsers refuse.
            return cls.from_stored(json.loads(text))

    @classmethod
    def _from_stored_unchecked(cls, data: Mapping[str, Any]) -> Asset:
        """A state holding a value not of its field's type, which this version never writes.

        Built field by field and not checked, as every state was read before Asset was a
        Struct: a listing edited by hand in the database still shows.
        """
        return cls(**_known_fields(data))  # __post_init__ makes the hours OpeningTimes

    def with_changes(self, **changes: Any) -> Asset:
        """Return a copy with some fields replaced (no validation)."""
        return msgspec.structs.replace(self, **changes)


# Every field name, looked up once.
_ASSET_FIELDS = frozenset(Asset.__struct_fields__)
_DECODE_STORED = msgspec.json.Decoder(Asset).decode


def _known_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data``'s Asset fields (any other key is dropped), the list fields as tuples."""
    kwargs = {k: v for k, v in data.items() if k in _ASSET_FIELDS}
    for name in ("currencies", "accessibility", "audience"):
        if name in kwargs:
            kwargs[name] = tuple(kwargs[name] or ())  # null in a hand-edited state: none
    return kwargs


# Fields that describe the asset itself, as opposed to bookkeeping the store maintains.
CONTENT_FIELDS = tuple(
    name
    for name in Asset.__struct_fields__
    if name not in {"id", "revision", "created_at", "updated_at"}
)


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of content fields whose values differ between two ``to_dict`` states."""
    return [name for name in CONTENT_FIELDS if old.get(name) != new.get(name)]


def is_email_address(text: str) -> bool:
    """Whether ``text`` has the form of an email address, as an asset's ``email`` must."""
    return _EMAIL.fullmatch(text) is not None


def normalise_name(name: str) -> str:
    """Fold a name for duplicate matching: accents, case, punctuation and spacing removed."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


# A listing last verified more than this many days ago is stale: 12 months, unless a
# deployment sets otherwise (Settings.stale_after_days).
DEFAULT_STALE_AFTER_DAYS = 365
# Day numbers count from 1970-01-01: a store keeps last_verified as one, so a search can
# rank by staleness from its index without reading each listing.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """Days from 1970-01-01 to ``day`` (negative before it)."""
    return day.toordinal() - _EPOCH_ORDINAL


def verified_day(last_verified: str | None) -> int | None:
    """An asset's ``last_verified`` as a :func:`day_number`.

    None when it is blank or does not start with an ISO date (``YYYY-MM-DD``): the listing
    counts as never verified.
    """
    if not last_verified:
        return None
    try:
        return day_number(date.fromisoformat(last_verified[:10]))
    except ValueError:
        return None


def clean_text(value: object) -> str:
    """Coerce a raw value to stripped text; None and NaN become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _CONTROL.sub("", str(value)).strip()


def has_visible_text(text: str) -> bool:
    """Whether ``text`` has a character a reader would see.

    Spaces (category Z), control, format and unassigned characters (Cc, Cf, Cs, Cn: the
    zero-width space, joiners, a byte-order mark) and blank letters draw nothing.
    """
    return any(
        unicodedata.category(ch) not in {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Cn"}
        and ch not in _BLANK_LETTERS
        for ch in text
    )


def _float(value: object, name: str, errors: list[ValidationError]) -> float | None:
    text = clean_text(value)
    if text == "":
        errors.append(ValidationError(f"{name} is missing", field=name))
        return None
    try:
        # float() also reads "5_3.4" and digits of other scripts ("５３.４"), which no
        # spreadsheet writes as a number: a coordinate must be plain ASCII.
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        number = float(text)
    except ValueError:
        errors.append(ValidationError(f"{name} '{text}' is not a number", field=name))
        return None
    if not math.isfinite(number):
        errors.append(ValidationError(f"{name} is {text}, not a finite number", field=name))
        return None
    return number


def check_point(lon: float, lat: float) -> list[ValidationError]:
    """Range and UK checks for a WGS84 point; empty when it is fine."""
    if not -180 <= lon <= 180:
        return [ValidationError(f"longitude {lon} is outside -180..180", field="lon")]
    if not -90 <= lat <= 90:
        return [ValidationError(f"latitude {lat} is outside -90..90", field="lat")]
    min_lon, min_lat, max_lon, max_lat = UK_BOUNDS
    if min_lon <= lon <= max_lon and min_lat <= lat <= max_lat:
        return []
    if min_lon <= lat <= max_lon and min_lat <= lon <= max_lat:
        return [
            ValidationError(
                f"lon {lon}, lat {lat} look swapped: "
                f"as lat {lon}, lon {lat} the point is in the UK",
                field="lat",
            )
        ]
    return [ValidationError(f"point (lon {lon}, lat {lat}) is outside the UK", field="lon")]


def _choices(
    raw: object, vocab: Mapping[str, str], name: str, errors: list[ValidationError]
) -> tuple[str, ...]:
    if raw is None:
        return ()
    items: Iterable[object] = (
        raw.replace(";", ",").split(",") if isinstance(raw, str) else raw  # type: ignore[assignment]
    )
    out: list[str] = []
    for item in items:
        key = clean_text(item)
        if not key:
            continue
        if key not in vocab:
            errors.append(
                ValidationError(
                    f"'{key}' is not one of: {', '.join(vocab)}",
                    field=name,
                )
            )
        elif key not in out:
            out.append(key)
    return tuple(out)


def _choice(
    raw: object, vocab: Mapping[str, str], name: str, errors: list[ValidationError]
) -> str | None:
    key = clean_text(raw)
    if not key:
        return None
    if key not in vocab:
        errors.append(ValidationError(f"'{key}' is not one of: {', '.join(vocab)}", field=name))
        return None
    return key


# What a web address may hold as it is: RFC 3986's unreserved and reserved characters and
# the "%" of an escape, less the apostrophe, which is in that set but in a website field is
# all but always a quoting mistake (a real one is written %27). Letters, marks and digits of
# other scripts are allowed too: internationalised domain names and paths (RFC 3987), which
# browsers open as typed.
_URL_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&()*+,;=%"
)
_QUOTES = frozenset('"\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a')
# The end of the message for a character no web address may hold; callers that reword it for
# residents look for it (see services.submitting).
URL_CHARACTER_PROBLEM = "which cannot be in a web address"


def _url_character(text: str) -> str | None:
    """The first character of ``text`` a web address cannot hold, described; else None."""
    for ch in text:
        if ch in _URL_ASCII or (not ch.isascii() and unicodedata.category(ch)[0] in "LMN"):
            continue
        if ch == "'":
            return "an apostrophe or quotation mark (')"
        if ch in _QUOTES or unicodedata.category(ch) in {"Pi", "Pf"}:
            return f"a quotation mark ({ch})"
        if ch in "<>":
            return f"an angle bracket ({ch})"
        if ch.isprintable():
            return f"the character {ch}"
        return f"an invisible character (U+{ord(ch):04X})"
    return None


def _url(raw: object, errors: list[ValidationError]) -> str:
    text = clean_text(raw)
    if not text or text.upper() in {"NA", "N/A"}:
        return ""
    if any(ch.isspace() for ch in text):
        # urlparse takes "https://exa mple.com" as a host name; no browser can open it.
        errors.append(
            ValidationError(
                f"website '{text}' has a space in it; a web address has none", field="website"
            )
        )
        return ""
    # Quotes and angle brackets come from a source that quoted or bracketed the address
    # ("https://…", <https://…>); a link made from them goes nowhere.
    what = _url_character(text)
    if what is not None:
        errors.append(
            ValidationError(
                f"website '{text}' has {what}, {URL_CHARACTER_PROBLEM}", field="website"
            )
        )
        return ""
    try:
        parsed = urlparse(text)
    except ValueError:
        # urlparse refuses a "[" or "]" that does not enclose an IPv6 host.
        what = "a square bracket ([ or ]) outside an IPv6 address"
        errors.append(
            ValidationError(
                f"website '{text}' has {what}, {URL_CHARACTER_PROBLEM}", field="website"
            )
        )
        return ""
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        errors.append(
            ValidationError(
                f"website '{text}' must be a full http:// or https:// address", field="website"
            )
        )
        return ""
    return text


def _optional_pattern(
    raw: object, pattern: re.Pattern[str], name: str, what: str, errors: list[ValidationError]
) -> str:
    text = clean_text(raw)
    if not text or text.upper() in {"NA", "N/A"}:
        return ""
    if not pattern.match(text):
        errors.append(ValidationError(f"'{text}' is not {what}", field=name))
        return ""
    return text


def _date(raw: object, errors: list[ValidationError]) -> str | None:
    text = clean_text(raw)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        errors.append(
            ValidationError(f"'{text}' is not a date (YYYY-MM-DD)", field="last_verified")
        )
        return None


def future_verified_error(raw: object, today: date) -> ValidationError | None:
    """An error when a date last checked (``last_verified``) is after ``today``, else None.

    Nobody can have checked a listing on a day that has not come yet; such a date (a typo, or
    a source's next review date) would count the listing as fresh until long after it is
    stale. Not part of :func:`validate_asset`, which also checks values already stored (a
    moderator's edit is validated with the asset's other fields, and a date stored before
    this rule must not block it): the callers that take a new date (imports, the moderators'
    edit form) check it with this one rule.

    Parameters
    ----------
    raw
        The date as given (``YYYY-MM-DD``, or an ISO date and time); text that is not a date
        is left to :func:`validate_asset`, which reports it.
    today
        The caller's date today. There is no day's grace: a date after it is refused.

    Returns
    -------
    ValidationError or None
        With field ``last_verified``.
    """
    try:
        day = date.fromisoformat(clean_text(raw)[:10])
    except ValueError:
        return None
    if day <= today:
        return None
    return ValidationError(
        f"last_verified {day.isoformat()} is in the future (today is {today.isoformat()}):"
        " it must be the date the details were last checked, today or earlier",
        field="last_verified",
    )


def validate_asset(
    data: Mapping[str, Any], taxonomy: Taxonomy
) -> tuple[Asset | None, list[ValidationError]]:
    """Validate raw field values (strings or typed) into an Asset, collecting every error.

    Parameters
    ----------
    data
        Field name -> raw value. ``lon``/``lat`` are WGS84 degrees. List fields (currencies,
        accessibility, audience) accept a list or a comma-separated string of vocabulary ids.
        ``opening_times`` accepts free text (parsed) or an :class:`OpeningTimes`.
    taxonomy
        Categories the ``category`` field must come from.

    Returns
    -------
    tuple
        ``(asset, [])`` when valid, else ``(None, errors)`` with one error per bad field.
    """
    errors: list[ValidationError] = []
    text: dict[str, str] = {}
    for name, limit in MAX_LENGTHS.items():
        if name in {"website", "email", "phone", "opening_times"}:
            continue
        value = clean_text(data.get(name))
        if name in _ONE_LINE:
            value = " ".join(value.split())
        if len(value) > limit:
            errors.append(
                ValidationError(f"{name} is {len(value)} characters; at most {limit}", field=name)
            )
        text[name] = value
    if not text["name"]:
        errors.append(ValidationError("name is missing", field="name"))
    elif not has_visible_text(text["name"]):
        errors.append(
            ValidationError(
                "name is missing: it has only spaces or invisible characters", field="name"
            )
        )
    category = clean_text(data.get("category"))
    if not category:
        errors.append(ValidationError("category is missing", field="category"))
    elif category not in taxonomy:
        errors.append(
            ValidationError(
                f"unknown category '{category}'; valid categories are: {', '.join(taxonomy.ids)}",
                field="category",
            )
        )
    lon = _float(data.get("lon"), "lon", errors)
    lat = _float(data.get("lat"), "lat", errors)
    if lon is not None and lat is not None:
        errors.extend(check_point(lon, lat))
    raw_times = data.get("opening_times")
    if isinstance(raw_times, OpeningTimes):
        opening = raw_times
    else:
        times_text = clean_text(raw_times)[: MAX_LENGTHS["opening_times"]]
        opening = parse_opening_times(times_text)
    status = _choice(data.get("status") or "published", STATUSES, "status", errors)
    asset_kwargs: dict[str, Any] = dict(  # noqa: C408 - keyword form mirrors Asset's fields
        name=text["name"],
        category=category,
        description=text["description"],
        address=text["address"],
        postcode=text["postcode"].upper(),
        phone=_optional_pattern(data.get("phone"), _PHONE, "phone", "a phone number", errors),
        email=_optional_pattern(data.get("email"), _EMAIL, "email", "an email address", errors),
        website=_url(data.get("website"), errors),
        opening_times=opening,
        cost=_choice(data.get("cost"), COSTS, "cost", errors),
        currencies=_choices(data.get("currencies"), CURRENCIES, "currencies", errors),
        accessibility=_choices(data.get("accessibility"), ACCESSIBILITY, "accessibility", errors),
        audience=_choices(data.get("audience"), AUDIENCES, "audience", errors),
        provider_type=_choice(data.get("provider_type"), PROVIDER_TYPES, "provider_type", errors),
        source=text["source"],
        source_id=text["source_id"],
        licence=text["licence"],
        status=status or "published",
        last_verified=_date(data.get("last_verified"), errors),
        footprint=data.get("footprint"),
    )
    if errors or lon is None or lat is None:
        return None, errors
    return Asset(lon=lon, lat=lat, **asset_kwargs), []


def build_asset(data: Mapping[str, Any], taxonomy: Taxonomy, *, row: int | None = None) -> Asset:
    """Validate like :func:`validate_asset` but raise the first error (with ``row`` set)."""
    asset, errors = validate_asset(data, taxonomy)
    if errors or asset is None:
        first = errors[0]
        raise ValidationError(first.message, field=first.field, row=row)
    return asset
