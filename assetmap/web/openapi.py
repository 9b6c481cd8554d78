"""The OpenAPI 3.1 document for ``/api/v1``, built as a Python dict.

Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect) and close every object with
``additionalProperties: false``, so a test that validates real responses against them fails
as soon as the API and this document drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assetmap.analysis.nearby import (
    COST_FILTERS,
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_M,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_Q_LENGTH,
    STALE_BAND_M,
    UNITS,
)
from assetmap.domain.asset import MAX_LENGTHS
from assetmap.domain.opening_times import WEEKDAYS
from assetmap.domain.submission import KINDS, STATES
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES, PROVIDER_TYPES
from assetmap.services.submitting import (
    DUPLICATE_RADIUS_M,
    MAX_EMAIL_LENGTH,
    MAX_SUBMITTER_NAME_LENGTH,
    MAX_WEBSITE_LENGTH,
    SAME_POSTCODE_RADIUS_M,
    SIMILAR_NAME_SCORE,
    SUBMITTER_DETAILS_KEPT_DAYS,
)
from assetmap.store.base import MAX_RADIUS_M
from assetmap.web.app import MAX_REQUEST_BYTES, size_in_mib

API_PREFIX = "/api/v1"
_HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HHMM_CLOSE = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
IDEMPOTENCY_KEY_PATTERN = "[\\x21-\\x7e]{16,200}"
MAX_SIMILAR_NAME_LENGTH = MAX_LENGTHS["name"]
_REFERENCE = "^AM-[0-9A-Z]{4}-[0-9A-Z]{4}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: Mapping[str, Any], description: str = "") -> dict[str, Any]:
    """A closed object schema whose every property is required."""
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": dict(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _vocab(ids: Sequence[str] | Mapping[str, str], what: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(ids), "description": what}


def _ids_param(ids: Sequence[str] | Mapping[str, str]) -> dict[str, Any]:
    """An array parameter whose every value is one id or a comma-separated list of them.

    The API reads ``category=library,park`` as ``category=library&category=park``; an enum
    alone would call the first form invalid.
    """
    one = "|".join(re.escape(i) for i in ids)
    return {
        "type": "array",
        "items": {
            "type": "string",
            "anyOf": [{"enum": list(ids)}, {"pattern": f"^(?:{one})(?:,(?:{one}))+$"}],
        },
    }


def _vocab_text(vocab: Mapping[str, str]) -> str:
    return "; ".join(f"`{key}`: {label}" for key, label in vocab.items())


def _schemas(category_ids: Sequence[str]) -> dict[str, Any]:
    day_ranges = {
        "type": "array",
        "items": _ref("TimeRange"),
        "description": "Opening ranges that day; empty when closed.",
    }
    asset = {
        "id": {"type": "string", "description": "Stable asset id."},
        "name": {"type": "string"},
        # Not an enum: assets keep their category when the taxonomy drops it (the taxonomy is
        # a setting, and stored assets are not rewritten), and answers still carry them.
        "category": {
            "type": "string",
            "description": "Category id: in the current taxonomy, one of"
            f" {', '.join(category_ids)} (see /api/v1/categories). An asset stored under a"
            " category the taxonomy no longer has keeps that id.",
        },
        "category_label": {
            "type": "string",
            "description": "The category's label; its id when the taxonomy no longer has it.",
        },
        "description": {"type": "string"},
        "address": {"type": "string"},
        "postcode": {"type": "string"},
        "phone": {"type": "string"},
        "email": {"type": "string"},
        "website": {"type": "string"},
        "opening_times": _ref("OpeningTimes"),
        "cost": {
            "type": ["string", "null"],
            "enum": [*COSTS, None],
            "description": f"{_vocab_text(COSTS)}; null when not known.",
        },
        "currencies": {
            "type": "array",
            "items": _vocab(CURRENCIES, _vocab_text(CURRENCIES)),
            "description": "Ways of paying the asset accepts.",
        },
        "accessibility": {
            "type": "array",
            "items": _vocab(ACCESSIBILITY, _vocab_text(ACCESSIBILITY)),
        },
        "audience": {
            "type": "array",
            "items": _vocab(AUDIENCES, _vocab_text(AUDIENCES)),
            "description": "Who it is for; empty when it does not say (read as everyone).",
        },
        "last_verified": {
            "type": ["string", "null"],
            "format": "date",
            "description": "When the listing was last checked (YYYY-MM-DD); null if never.",
        },
        "stale": {
            "type": "boolean",
            "description": "Never verified, or verified longer ago than the configured"
            " number of days (365 by default).",
        },
        "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84."},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84."},
        "source": {
            "type": "string",
            "description": "Where the listing comes from: the data set it was imported from"
            " (e.g. trafford-council-libraries), or 'resident' for a place a resident told"
            " us about.",
        },
        "licence": {
            "type": "string",
            "description": "The licence of the listing's data and the attribution it asks for,"
            " as its source states them (e.g. 'Open Government Licence v3.0. Trafford Council"
            " ...'): credit it wherever the data is shown or passed on. As recorded; empty"
            " when none is (as for places residents tell us about).",
        },
    }
    distance = {
        "distance_m": {
            "type": "number",
            "minimum": 0,
            "description": "Geodesic (WGS84) distance from the origin in metres, to 0.1 m.",
        },
        "distance_miles": {"type": "number", "minimum": 0, "description": "To 0.01 mile."},
        "walking_minutes": {
            "type": "integer",
            "minimum": 0,
            "description": "Straight-line walking time at 4.8 km/h, rounded up; real routes"
            " are longer.",
        },
        "walking_label": {
            "type": "string",
            "description": "Walking time for display, e.g. '3 min walk (straight line at"
            " 4.8 km/h)'; 'less than 1 min walk (...)' when walking_minutes is 0.",
        },
    }
    head = ("id", "name", "category", "category_label")
    nearby_asset = {
        **{key: asset[key] for key in head},
        **distance,
        **{key: value for key, value in asset.items() if key not in head},
    }
    query_echo = {
        "postcode": {"type": ["string", "null"], "description": "Normalised postcode."},
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "lon": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "radius_m": {
            "type": "number",
            "minimum": 0.001,
            "maximum": MAX_RADIUS_M,
            "description": "Radius in metres, however given, rounded to the millimetre (0.001 m)"
            " as the search used it: radius=31&unit=mi is 49889.664.",
        },
        "radius": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "unit": {"type": ["string", "null"], "enum": [*UNITS, None]},
        # The ids as the search used them: lower case, each once, in the order given.
        "category": {"type": "array", "items": {"enum": list(category_ids)}, "uniqueItems": True},
        "q": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_Q_LENGTH},
        "cost": {"type": "array", "items": {"enum": list(COST_FILTERS)}, "uniqueItems": True},
        "access": {"type": "array", "items": {"enum": list(ACCESSIBILITY)}, "uniqueItems": True},
        "audience": {"type": ["string", "null"], "enum": [*AUDIENCES, None]},
        "open_on": {
            "type": ["string", "null"],
            "pattern": f"^({'|'.join(WEEKDAYS)}) {_HHMM[1:]}",
            "description": "Canonical form, 'mon 14:00'.",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    }
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "field": {
                            "type": ["string", "null"],
                            "description": "The parameter to fix, when one is to blame.",
                        },
                        "message": {"type": "string", "description": "What is wrong."},
                    }
                )
            },
            "Every 4xx and 503 answer of the API.",
        ),
        "TimeRange": {
            "type": "array",
            "prefixItems": [
                {"type": "string", "pattern": _HHMM},
                {"type": "string", "pattern": _HHMM_CLOSE},
            ],
            "minItems": 2,
            "maxItems": 2,
            "description": "[opens, closes], local 24-hour time; closes may be 24:00.",
        },
        "WeeklySchedule": _obj(
            {
                **dict.fromkeys(WEEKDAYS, day_ranges),
                "note": {"type": "string", "description": "Qualifies the whole schedule."},
            }
        ),
        "OpeningTimes": _obj(
            {
                "text": {"type": "string", "description": "As published."},
                "status": {
                    "type": "string",
                    "enum": ["structured", "unknown", "unparsed"],
                    "description": "structured: schedule read; unknown: no text; unparsed:"
                    " text that could not be read with confidence.",
                },
                "schedule": {"oneOf": [_ref("WeeklySchedule"), {"type": "null"}]},
            }
        ),
        "Asset": _obj(asset, "A published community asset."),
        "NearbyAsset": _obj(nearby_asset, "An asset with its distance from the origin."),
        "Origin": _obj(
            {
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "label": {
                    "type": "string",
                    "description": "The origin as a person reads it: a unit postcode, a sector"
                    " or district after those words, or 'lat, lon' to 5 decimal places.",
                    "examples": [
                        "M32 0TH",
                        "postcode sector M33 7",
                        "postcode district M33",
                        "53.45901, -2.28748",
                    ],
                },
                "kind": {"type": "string", "enum": ["unit", "sector", "district", "point"]},
            },
            "Where the search was measured from (WGS84 degrees).",
        ),
        "NearbyQuery": _obj(query_echo, "The query as understood, every parameter present."),
        "NearbyResponse": _obj(
            {
                "results": {"type": "array", "items": _ref("NearbyAsset")},
                "total": {"type": "integer", "minimum": 0, "description": "Before paging."},
                "origin": _ref("Origin"),
                "hours_unknown": {
                    "type": "array",
                    "items": _ref("NearbyAsset"),
                    "description": "With open_on: assets passing every other filter whose"
                    " opening hours are unknown or unreadable (paged like results).",
                },
                "hours_unknown_total": {"type": "integer", "minimum": 0},
                "query": _ref("NearbyQuery"),
            }
        ),
        "Category": _obj(
            {
                "id": {"type": "string"},
                "label": {"type": "string"},
                "description": {"type": "string"},
                "colour": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
            }
        ),
        "CategoryList": _obj({"categories": {"type": "array", "items": _ref("Category")}}),
    }


def _param(name: str, schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "schema": dict(schema),
        "description": description,
    }
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _nearby_parameters(category_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [
        _param(
            "postcode",
            {"type": "string", "examples": ["M32 0TH", "M33 7", "M33"]},
            "Search from a unit postcode, a postcode sector or a district. Give this or"
            " lat and lon, not both.",
        ),
        _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "WGS84 latitude (UK)."),
        _param(
            "lon",
            {"type": "number", "minimum": -180, "maximum": 180},
            "WGS84 longitude (UK).",
        ),
        _param(
            "radius_m",
            {"type": "number", "minimum": 0.001, "maximum": MAX_RADIUS_M},
            f"Radius in metres (default {DEFAULT_RADIUS_M} = 1 mile, at most 50 km), used to"
            " the millimetre. Give this or radius with unit.",
        ),
        _param(
            "radius",
            {"type": "number", "exclusiveMinimum": 0},
            "Radius in `unit` (e.g. radius=1&unit=mi); at most 50 km, at least 1 mm. Used in"
            " metres rounded to the millimetre.",
        ),
        _param(
            "unit",
            {"type": "string", "enum": list(UNITS)},
            "Unit of `radius`: m, km or mi (required with radius).",
        ),
        _param(
            "category",
            _ids_param(category_ids),
            "Category ids; repeat or comma-separate. Assets in any of them.",
        ),
        _param(
            "q",
            {"type": "string", "maxLength": MAX_Q_LENGTH},
            "Words that must each start a word of the name or description; case and"
            " accents ignored. Like every parameter, UTF-8 percent-encoded: bytes that are not"
            " UTF-8 (caf%E9, Latin-1) are a 400 naming the parameter.",
        ),
        _param(
            "cost",
            _ids_param(COST_FILTERS),
            f"Any of (repeat or comma-separate): {_vocab_text(COST_FILTERS)}. Unknown cost"
            " never matches.",
        ),
        _param(
            "access",
            _ids_param(ACCESSIBILITY),
            "Accessibility features (repeat or comma-separate); every one must be present.",
        ),
        _param(
            "audience",
            {"type": "string", "enum": list(AUDIENCES)},
            "Assets for this audience, for everyone, or that name no audience.",
        ),
        _param(
            "open_on",
            {"type": "string", "examples": ["mon 14:00", "sat@09:30"]},
            "Open at this weekday and local time. Assets whose hours are unknown are listed"
            " in hours_unknown instead.",
        ),
        _param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "Page size.",
        ),
        _param(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "Results to skip.",
        ),
    ]


def _text(max_length: int, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"], "maxLength": max_length}
    if description:
        schema["description"] = description
    return schema


def _choice_list(vocab: Mapping[str, str]) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": _vocab(vocab, _vocab_text(vocab))}


def _submission_schemas(category_ids: Sequence[str]) -> dict[str, Any]:
    """Schemas of the submission endpoints and the duplicate check."""
    request = {
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTHS["name"]},
        "category": _vocab(category_ids, "Category id (see /api/v1/categories)."),
        "description": _text(MAX_LENGTHS["description"]),
        "postcode": _text(
            MAX_LENGTHS["postcode"],
            "A full postcode. Without lon and lat the asset is placed at its centroid, so"
            " it must be in the postcode directory.",
        ),
        "address": _text(MAX_LENGTHS["address"]),
        "lon": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "opening_times": _text(
            MAX_LENGTHS["opening_times"], "Free text, e.g. 'Mon-Fri 9am-5pm'; read cautiously."
        ),
        "cost": {"type": ["string", "null"], "enum": [*COSTS, None]},
        "currencies": _choice_list(CURRENCIES),
        "accessibility": _choice_list(ACCESSIBILITY),
        "audience": _choice_list(AUDIENCES),
        "provider_type": {"type": ["string", "null"], "enum": [*PROVIDER_TYPES, None]},
        "phone": _text(40, "The asset's own phone number."),
        "email": _text(MAX_EMAIL_LENGTH, "The asset's own email address."),
        "website": _text(
            MAX_WEBSITE_LENGTH,
            (
                "An http:// or https:// address, without spaces, quotation marks, angle brackets or"
                " other characters a web address cannot have."
            ),
        ),
        "submitter_name": _text(
            MAX_SUBMITTER_NAME_LENGTH, "Who is sending it (optional; only moderators see it)."
        ),
        "submitter_email": _text(
            MAX_EMAIL_LENGTH,
            "For questions about this submission (optional; only moderators see it). Deleted"
            f" {SUBMITTER_DETAILS_KEPT_DAYS} days after the decision.",
        ),
    }
    similar = {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "category": {"type": "string"},
        "category_label": {"type": "string"},
        "address": {"type": "string"},
        "postcode": {"type": "string"},
        "distance_m": {"type": "number", "minimum": 0, "description": "To 0.1 m."},
        "score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Name similarity, 1 for the same name.",
        },
        "url": {
            "type": "string",
            "pattern": "/assets/[^/]+$",
            "description": "The path of the asset's page on this site.",
        },
    }
    return {
        "SubmissionRequest": {
            "type": "object",
            "required": ["name", "category"],
            "properties": request,
            "additionalProperties": False,
            "description": "A new asset. Give lon and lat (WGS84 degrees, in the UK), or a"
            " postcode. null means not given; unknown fields are refused.",
        },
        "SubmissionReceipt": _obj(
            {
                "reference": {"type": "string", "pattern": _REFERENCE},
                "kind": {"type": "string", "enum": list(KINDS)},
                "status": {"type": "string", "enum": list(STATES)},
                "submitted_at": {"type": "string", "format": "date-time"},
                "decided_at": {"type": ["string", "null"], "format": "date-time"},
                "status_url": {
                    "type": "string",
                    "pattern": f"{API_PREFIX}/submissions/{_REFERENCE[1:]}",
                    "description": "Its path on this site (after any prefix it is served under).",
                },
            },
            "What anyone holding the reference may know: never the content or the sender.",
        ),
        "SimilarAsset": _obj(similar, "A published asset that may be the same place."),
        "SimilarResponse": _obj(
            {
                "results": {"type": "array", "items": _ref("SimilarAsset")},
                "origin": _ref("Origin"),
                "radius_m": {"type": "number", "const": DUPLICATE_RADIUS_M},
                "min_score": {"type": "number", "const": SIMILAR_NAME_SCORE},
            }
        ),
    }


def _limits_text(per_client_per_hour: int, per_email_per_day: int) -> str:
    """This instance's submission limits in words (0 is no limit)."""
    client = (
        f"{per_client_per_hour} submission{'s' if per_client_per_hour != 1 else ''} an hour"
        " per client address"
        if per_client_per_hour
        else "none per client address"
    )
    email = (
        f"{per_email_per_day} a day per submitter email"
        if per_email_per_day
        else "none per submitter email"
    )
    return f"Limits: {client}, {email}."


def _submission_paths(limits: str) -> dict[str, Any]:
    """Paths of the submission endpoints and the duplicate check; ``limits`` in words."""
    limited = _json("Error", "Too many submissions from this client or email address.")
    limited["headers"] = {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
            "description": "Seconds to wait.",
        }
    }
    receipt = _json("SubmissionReceipt", "Stored as pending (201).")
    unsupported = _json(
        "Error",
        "The body is not sent as application/json, or is compressed (a Content-Encoding other"
        " than identity, which this service does not decode): send it as uncompressed JSON."
        " The error's field names the header to fix: Content-Type or Content-Encoding.",
    )
    for_type = "Sent when the body was refused for its Content-Type."
    unsupported["headers"] = {
        "Accept": {
            "schema": {"type": "string", "const": "application/json"},
            "description": for_type,
        },
        "Accept-Post": {
            "schema": {"type": "string", "const": "application/json"},
            "description": for_type,
        },
        "Accept-Encoding": {
            "schema": {"type": "string", "const": "identity"},
            "description": "Sent when the body was refused for its Content-Encoding.",
        },
    }
    rekeyed = _json("Error", _REKEYED)
    receipt["headers"] = {
        "Location": {
            "schema": {"type": "string"},
            "required": True,
            "description": "The status URL.",
        }
    }
    where = [
        _param("postcode", {"type": "string"}, "A postcode, sector or district."),
        _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "WGS84 latitude."),
        _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "WGS84 longitude."),
    ]
    return {
        f"{API_PREFIX}/submissions": {
            "post": {
                "operationId": "createSubmission",
                "description": "The body must be a JSON object sent as application/json (other"
                " types get 415, which also keeps cross-site HTML forms out) and uncompressed"
                " (a Content-Encoding other than identity gets 415 too). NaN, Infinity,"
                " repeated keys, deep nesting and strings holding an unpaired surrogate (such as"
                " \\ud800 alone, which is not text) are refused. Retrying with the same"
                " Idempotency-Key returns the first submission with 200; the same key with a"
                " different body gets 422. The same body sent again by the same sender (client"
                " address, name and email) while the first is pending, within 24 hours, also"
                " returns the first submission with 200, with or without a key, and does not"
                f" count against the limits; any field that differs is a new submission. {limits}",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_PATTERN}$"},
                        "description": "A random UUID: a retry with the same key stores"
                        " nothing new.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SubmissionRequest")}},
                },
                "responses": {
                    "201": receipt,
                    "200": _json(
                        "SubmissionReceipt",
                        "A retry, or the same body resent while pending: the first submission.",
                    ),
                    "400": _json("Error", "A field is missing, malformed or out of range."),
                    "413": _json(
                        "Error", f"The body is larger than {size_in_mib(MAX_REQUEST_BYTES)}."
                    ),
                    "415": unsupported,
                    "422": _json("Error", "The Idempotency-Key was used for another body."),
                    "429": limited,
                    "503": _unavailable(),
                },
            }
        },
        f"{API_PREFIX}/submissions/{{ref}}": {
            "get": {
                "operationId": "getSubmission",
                "parameters": [
                    {
                        "name": "ref",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "examples": ["AM-7K3Q-9XPD"]},
                    }
                ],
                "responses": {
                    "200": _json("SubmissionReceipt", "The submission's status."),
                    "404": _json("Error", "No submission has this reference."),
                    "503": _unavailable(),
                },
            }
        },
        f"{API_PREFIX}/assets/similar": {
            "get": {
                "operationId": "similarAssets",
                "description": f"Published assets within {DUPLICATE_RADIUS_M:.0f} m whose"
                f" name scores at least {SIMILAR_NAME_SCORE} (difflib ratio or shared words),"
                f" or within {SAME_POSTCODE_RADIUS_M:.0f} m when they have the full postcode"
                " given (a postcode's point is its middle), best first. Give a postcode, or lat"
                " and lon. An unknown parameter, or one"
                " given more than once, is a 400 naming it, as is a name whose bytes are not"
                " UTF-8. Every answer is sent with Cache-Control: no-store.",
                "parameters": [
                    {
                        **_param(
                            "name",
                            {"type": "string", "maxLength": MAX_SIMILAR_NAME_LENGTH},
                            "The name to compare.",
                        ),
                        "required": True,
                    },
                    *where,
                ],
                "responses": {
                    "200": _json("SimilarResponse", "Likely duplicates, best first."),
                    "400": _json("Error", "A parameter is missing, malformed or out of range."),
                    "409": rekeyed,
                    "503": _unavailable(),
                },
            }
        },
    }


# Only if `assetmap cluster` renumbers the assets three times while one search runs.
_REKEYED = (
    "The assets were renumbered (assetmap cluster) over and over while this search ran;"
    " search again."
)


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _unavailable() -> dict[str, Any]:
    """The 503 of every operation that reads or writes the store."""
    response = _json("Error", "The database cannot be reached just now: try again later.")
    response["headers"] = {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
            "description": "Seconds to wait.",
        }
    }
    return response


# Operations whose answers caches may keep, if they ask again each time (Cache-Control:
# no-cache, with an ETag); every other answer is no-store. api.py sends the same.
_REVALIDATED = frozenset({"getAsset", "listCategories", "openapi"})


def _header(value: str, description: str) -> dict[str, Any]:
    return {
        "schema": {"type": "string", "const": value},
        "required": True,
        "description": description,
    }


def _with_http_headers(paths: Mapping[str, Any]) -> None:
    """Declare the caching and CORS headers of every response, and 304 where an ETag is sent."""
    etag = {
        "schema": {"type": "string"},
        "required": True,
        "description": "Send it as If-None-Match to revalidate.",
    }
    for item in paths.values():
        for method, operation in item.items():
            revalidated = operation["operationId"] in _REVALIDATED
            responses = operation["responses"]
            if revalidated:
                responses["304"] = {
                    "description": "Not modified: the If-None-Match ETag is still the answer's."
                }
            for status, response in list(responses.items()):
                headers = dict(response.get("headers", {}))
                headers["Cache-Control"] = (
                    _header("no-cache", "Caches may keep it, but must revalidate.")
                    if revalidated
                    else _header("no-store", "No cache may keep it.")
                )
                if revalidated and status in {"200", "304"}:
                    headers["ETag"] = etag
                if method == "get":
                    headers["Access-Control-Allow-Origin"] = _header(
                        "*", "Any site's pages may read it (CORS)."
                    )
                responses[status] = {**response, "headers": headers}


def openapi_document(
    *,
    category_ids: Sequence[str],
    summaries: Mapping[str, str],
    submissions_per_client_per_hour: int,
    submissions_per_email_per_day: int,
    licences_url: str,
    server_url: str = "/",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document.

    Parameters
    ----------
    category_ids
        The taxonomy's ids: the enum of ``category`` where a request gives one, and listed
        in the description of the ``category`` of assets in answers.
    summaries
        Path (as in the document, e.g. ``/api/v1/categories``) -> the view's one-line
        docstring, used as the operation summary.
    submissions_per_client_per_hour, submissions_per_email_per_day
        This instance's submission limits (0 for none), as the settings give them.
    licences_url
        Absolute URL of the site's data sources and licences page (``info.license.url``).
    server_url
        Where the app is mounted, which the paths follow: ``/``, or its prefix behind a
        proxy (``/assetmap``).
    """
    bad_input = _json("Error", "A parameter is missing, malformed or out of range.")
    rekeyed = _json("Error", _REKEYED)
    paths: dict[str, Any] = {
        f"{API_PREFIX}/assets/nearby": {
            "get": {
                "operationId": "nearbyAssets",
                "parameters": _nearby_parameters(category_ids),
                "description": "Only published assets. Sorted by distance then name, except"
                f" that stale listings follow fresh ones within each {STALE_BAND_M:.0f} m"
                " band. An unknown parameter, or one given more than once (except category,"
                " cost and access, which add up), is a 400 naming it; an empty value"
                " (limit=) is as if the parameter were not given. Every answer is sent"
                " with Cache-Control: no-store, as the URL says where someone lives.",
                "responses": {
                    "200": _json("NearbyResponse", "One page of results."),
                    "400": bad_input,
                    "409": rekeyed,
                    "503": _unavailable(),
                },
            }
        },
        f"{API_PREFIX}/assets/{{asset_id}}": {
            "get": {
                "operationId": "getAsset",
                "parameters": [
                    {
                        "name": "asset_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _json("Asset", "The asset."),
                    "404": _json("Error", "No published asset has this id."),
                    "503": _unavailable(),
                },
            }
        },
        f"{API_PREFIX}/categories": {
            "get": {
                "operationId": "listCategories",
                "responses": {"200": _json("CategoryList", "Categories in taxonomy order.")},
            }
        },
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "This document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    paths.update(
        _submission_paths(
            _limits_text(submissions_per_client_per_hour, submissions_per_email_per_day)
        )
    )
    for path, item in paths.items():
        if path in summaries:
            for operation in item.values():
                operation["summary"] = summaries[path]
    _with_http_headers(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Assetmap API",
            "version": "1.0.0",
            "description": "Community assets for adult social care: nearby search for local"
            " area coordinators. Coordinates are WGS84 degrees; distances are metres.\n\n"
            "Answers are JSON in UTF-8 (Content-Type: application/json; charset=utf-8); every"
            " error is an Error object, wrong methods (405, with Allow) and unknown paths (404)"
            " included. Every GET may be read by pages on any site (CORS:"
            " Access-Control-Allow-Origin: *, and preflights are answered); POST is not open"
            " to other sites' pages. Searches and submissions are sent with Cache-Control:"
            " no-store; an asset, the categories and this document with Cache-Control:"
            " no-cache and an ETag, so a client may keep them and revalidate with"
            " If-None-Match (304 when unchanged).\n\n"
            "The assets come from several publishers, each under its own licence (most under"
            " the Open Government Licence v3.0, OpenStreetMap-derived ones also under the Open"
            " Database Licence 1.0): every asset's source and licence say which, and the page"
            " at info.license.url gives the attribution each licence asks for. Search origins"
            " come from the ONS National Statistics Postcode Lookup (Open Government Licence"
            " v3.0): Contains OS data © Crown copyright and database right. Contains Royal Mail"
            " data © Royal Mail copyright and database right. Contains National Statistics data"
            " © Crown copyright and database right.",
            # No one licence covers the data, so no SPDX identifier: the name says so and the
            # URL is the page that lists each data set's licence and statement.
            "license": {
                "name": "Mixed: mostly Open Government Licence v3.0; each asset's licence"
                " field says which applies",
                "url": licences_url,
            },
        },
        # The paths start /api/v1 on the app's own root: without this, under a prefix
        # (/assetmap behind a proxy) clients called the site's root, another site's paths.
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": {**_schemas(category_ids), **_submission_schemas(category_ids)}},
    }
