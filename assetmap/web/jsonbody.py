"""Strict JSON request bodies for the API.

Python's ``json`` module accepts ``NaN`` and ``Infinity``, turns ``1e400`` into infinity,
keeps the last of two equal keys, lets ``"\\ud800"`` (half of a UTF-16 surrogate pair, alone)
through as a string no UTF-8 writer can encode, and recurses as deep as the input goes. An API
body here must instead be one JSON object of finite numbers, distinct keys, text that is
Unicode and a few levels at most; anything else is a :class:`ValidationError` (HTTP 400) that
says what is wrong.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from typing import Any

from assetmap.analysis.nearby import field_name
from assetmap.domain.errors import ValidationError
from assetmap.services.submitting import ASSET_FIELDS, LIST_FIELDS, SUBMITTER_FIELDS

MAX_DEPTH = 10
_NUMBER_FIELDS = frozenset({"lon", "lat"})
SUBMISSION_FIELDS = (*ASSET_FIELDS, *SUBMITTER_FIELDS)
_ECHO = 40
# Lone surrogates: json.loads makes them from "\\ud800" escapes and, decoding bytes with
# "surrogatepass", from raw UTF-8 or UTF-16 bytes of one. A valid pair ("\\ud83d\\ude00") is
# joined into one character by the parser, so any surrogate left in a string is unpaired.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(text: str) -> str:
    return repr(text if len(text) <= _ECHO else text[: _ECHO - 1] + "…")


def _no_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not allowed in JSON: send finite numbers only")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValidationError(f"the number {_shown(text)} is too large: send finite numbers only")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        # Python refuses to convert integers of more digits than this (a guard against slow
        # conversions); its own message tells the reader to raise that limit in Python.
        digits = len(text.lstrip("-"))
        raise ValidationError(
            f"the body is not valid JSON: the number {_shown(text)} has {digits:,} digits,"
            f" more than the {sys.get_int_max_str_digits():,} this service reads"
        ) from None


def _distinct_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValidationError(
                f"the key {_shown(key)} appears more than once", field=_printable(field_name(key))
            )
        out[key] = value
    return out


def _depth(value: Any) -> int:
    """Nesting depth of a parsed value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _printable(text: str) -> str:
    """Text with lone surrogates written as ``\\udXXX`` escapes, so it can be sent back."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_unicode(body: dict[str, Any]) -> None:
    """Refuse a lone surrogate anywhere, naming the top-level field it is in.

    Checked here, before anything is validated or stored: such a string cannot be written as
    UTF-8, so a store, a page or a log would fail on it later (as a 500, after other checks).
    """
    for key, value in body.items():
        if _SURROGATE.search(key):
            raise ValidationError(
                f"the key {_shown(key)} contains an unpaired surrogate, which is not a"
                " character: send keys as valid Unicode text",
                field=_printable(field_name(key)),
            )
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str) and (found := _SURROGATE.search(item)):
                raise ValidationError(
                    f"{_printable(field_name(key))} contains an unpaired surrogate"
                    f" ({_printable(found.group())}), which is not a character: send text as"
                    " valid Unicode (UTF-8, or a \\uD800-\\uDBFF escape always followed by a"
                    " \\uDC00-\\uDFFF one)",
                    field=_printable(field_name(key)),
                )


def read_json_object(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse a request body that must be one JSON object.

    Parameters
    ----------
    raw
        The body as sent (UTF-8, -16 or -32, as RFC 8259 allows).
    max_depth
        Most levels of nested objects and arrays, the outer object included.

    Returns
    -------
    dict

    Raises
    ------
    ValidationError
        For an empty body, bytes that are not UTF-8 (or the UTF-16 or -32 it is read
        as), invalid JSON, NaN or Infinity, a number too large for a float,
        an integer of more digits than Python converts (4,300 by default), a repeated key,
        nesting deeper than ``max_depth``, anything but an object, or a string holding a
        lone surrogate (the error names the top-level field it is in).
    """
    if not raw.strip():
        raise ValidationError("the body is empty: send a JSON object")
    try:
        value = json.loads(
            raw,
            parse_constant=_no_constant,
            parse_float=_finite,
            parse_int=_integer,
            object_pairs_hook=_distinct_keys,
        )
    except RecursionError:
        raise ValidationError(
            f"the JSON is nested too deeply (at most {max_depth} levels)"
        ) from None
    except UnicodeDecodeError as err:
        # Python's own words ("'utf-8' codec can't decode byte 0xe9 in position 13") did not
        # say what to do: it is text in another encoding (Windows PowerShell 5.1 sends a
        # string body as Latin-1). A charset in the Content-Type is not read: JSON is UTF-8.
        encoding = "UTF-8" if err.encoding == "utf-8" else err.encoding.upper()
        raise ValidationError(
            f"the body is not valid JSON: it is not {encoding} text: the byte"
            f" 0x{err.object[err.start]:02X} (at offset {err.start:,}) is not part of any"
            " character (was it sent in another encoding?); send JSON as UTF-8"
        ) from None
    except ValueError as err:  # JSONDecodeError
        raise ValidationError(f"the body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a value")
        if value is None:
            kind = "null"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            kind = "a number"
        raise ValidationError(f"the body must be a JSON object, not {kind}")
    if _depth(value) > max_depth:
        raise ValidationError(f"the JSON is nested too deeply (at most {max_depth} levels)")
    _check_unicode(value)
    return value


def submission_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check the JSON types of a new-asset submission and return its fields.

    Text fields must be strings, ``currencies``/``accessibility``/``audience`` arrays of
    strings, and ``lon``/``lat`` numbers; null means "not given". Unknown keys are refused
    rather than ignored, so a misspelt field is not silently lost.

    Raises
    ------
    ValidationError
        Naming the first field that is unknown or of the wrong type.
    """
    fields: dict[str, Any] = {}
    for key, value in body.items():
        if key not in SUBMISSION_FIELDS:
            raise ValidationError(
                f"unknown field {_shown(key)}; the fields are: {', '.join(SUBMISSION_FIELDS)}",
                field=field_name(key),
            )
        if value is None:
            continue
        if key in _NUMBER_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"{key} must be a number (WGS84 degrees)", field=key)
            fields[key] = float(value) if isinstance(value, float) else value
        elif key in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError(f"{key} must be an array of strings", field=key)
            fields[key] = value
        elif isinstance(value, str):
            fields[key] = value
        else:
            raise ValidationError(f"{key} must be a string", field=key)
    return fields
