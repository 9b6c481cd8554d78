"""UK postcode syntax: normalising postcodes and classifying search queries. No I/O.

A full ("unit") postcode is an outward code and an inward code, e.g. ``M33 7XX``:
the outward code is the postcode *district* (``M33``); the district plus the first
digit of the inward code is the postcode *sector* (``M33 7``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assetmap.domain.errors import ValidationError

PostcodeKind = Literal["unit", "sector", "district"]

# Letter restrictions follow the published Royal Mail / ONS format rules: they rule out
# look-alike typos (O for 0, I for 1) that a plain [A-Z] pattern would wave through.
# The letter ending a London district (W1T, EC1A) is left open on purpose: the postcode
# directory still lists terminated codes such as W1N 0BS outside today's letter list.
_FIRST = "[A-PR-UWYZ]"  # never Q, V, X
_SECOND = "[A-HK-Y]"  # never I, J, Z
OUTWARD_PATTERN = (
    "(?:"
    f"{_FIRST}[0-9][0-9]?"  # A9, A99
    f"|{_FIRST}{_SECOND}[0-9][0-9]?"  # AA9, AA99
    f"|{_FIRST}[0-9][A-Z]"  # A9A (central London, e.g. W1T)
    f"|{_FIRST}{_SECOND}[0-9][A-Z]"  # AA9A (central London, e.g. EC1A, WC2H)
    ")"
)
INWARD_PATTERN = "[0-9][ABD-HJLNP-UW-Z]{2}"  # never C, I, K, M, O, V
# GIR 0AA (Girobank) is the one postcode outside the general pattern.
UNIT_PATTERN = f"(?:{OUTWARD_PATTERN} ?{INWARD_PATTERN}|GIR ?0AA)"

_UNIT = re.compile(UNIT_PATTERN)
_OUTWARD = re.compile(OUTWARD_PATTERN)
_SECTOR_DIGIT = re.compile("[0-9]")

_EXPECTED = "a UK postcode (M33 7XX), postcode district (M33) or sector (M33 7)"
_MAX_ECHO = 40  # keep error messages readable if someone pastes a paragraph


@dataclass(frozen=True, slots=True)
class PostcodeQuery:
    """A syntactically valid postcode search term.

    Attributes
    ----------
    kind : {"unit", "sector", "district"}
        Granularity of the query.
    value : str
        Canonical upper-case form: ``"M33 7XX"``, ``"M33 7"`` or ``"M33"``.
    """

    kind: PostcodeKind
    value: str


def _echo(text: str) -> str:
    shown = text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 1] + "…"
    return repr(shown)


def _split_unit(compact: str) -> str:
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_postcode(text: str) -> str:
    """Return a full UK postcode in canonical form.

    Case and whitespace are ignored, so ``"m320th"``, ``" M32  0th "`` and
    ``"M3 20TH"`` all give ``"M32 0TH"``.

    Parameters
    ----------
    text : str
        A full (unit) postcode as typed by a person or found in a data file.

    Returns
    -------
    str
        Upper case, with exactly one space before the three-character inward code.

    Raises
    ------
    ValidationError
        With ``field="postcode"`` if `text` is not a full UK postcode. Districts and
        sectors are rejected here; use :func:`parse_postcode_query` for those.
    """
    if not isinstance(text, str):
        raise ValidationError(f"{text!r} is not text", field="postcode")
    compact = "".join(text.split()).upper()
    if not _UNIT.fullmatch(compact):
        raise ValidationError(
            f"{_echo(text)} is not a full UK postcode (like M33 7XX)", field="postcode"
        )
    return _split_unit(compact)


def parse_postcode_query(text: str) -> PostcodeQuery:
    """Classify a postcode search term as a unit postcode, sector or district.

    Parameters
    ----------
    text : str
        What the user typed, e.g. ``"m33 7xx"``, ``"M337XX"``, ``"M33 7"`` or ``"m33"``.
        A sector needs its space (``"M33 7"``): without it ``"M17"`` could be the
        district M17 or the sector M1 7, so a single token is read as a unit
        postcode if it is one and otherwise as a district.

    Returns
    -------
    PostcodeQuery
        `kind` and the canonical `value`.

    Raises
    ------
    ValidationError
        With ``field="postcode"`` and a message quoting `text` if it is empty or
        is not a postcode, district or sector.
    """
    if not isinstance(text, str):
        raise ValidationError(f"{text!r} is not text; expected {_EXPECTED}", field="postcode")
    parts = text.upper().split()
    if not parts:
        raise ValidationError(f"{_echo(text)} is empty; expected {_EXPECTED}", field="postcode")
    compact = "".join(parts)
    if _UNIT.fullmatch(compact):
        # Tolerates a misplaced space ("M3 20TH"): the inward code is always the
        # last three characters, so the intended postcode is unambiguous.
        return PostcodeQuery("unit", _split_unit(compact))
    if len(parts) == 1 and _OUTWARD.fullmatch(compact):
        return PostcodeQuery("district", compact)
    if len(parts) == 2:
        outward, inward = parts
        if _OUTWARD.fullmatch(outward) and _SECTOR_DIGIT.fullmatch(inward):
            return PostcodeQuery("sector", f"{outward} {inward}")
    if len(parts) > 2:
        why = f"it has {len(parts)} space-separated parts; a postcode has at most 2"
        raise ValidationError(f"{_echo(text)} is not {_EXPECTED}: {why}", field="postcode")
    raise ValidationError(f"{_echo(text)} is not {_EXPECTED}", field="postcode")
