"""Text cells that a spreadsheet opens as text: the guard every CSV the app writes uses.

A cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip
before reading one of those) is run as a formula when the file is opened, so resident or
uploaded text could run commands on a commissioner's machine. Such a cell gets a leading
apostrophe, which spreadsheets hide; the CSV importer takes it off again, so an exported
file imports back unchanged.

Cells a spreadsheet changed without being asked, when a file the app wrote was opened and
saved again, are read back here too: dates in the locale's short form (``30/06/2025``) and
phone numbers it took for numbers (``1614133750``, its leading 0 dropped).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from assetmap.domain.errors import ValidationError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Apostrophes before a formula character: a guarded cell, and text that starts that way
# itself ("'+ve' group"). The guard is put before the latter too, so that taking one
# apostrophe off always gives the text back.
_GUARDED = re.compile(r"^'+[=+\-@\t\r]")


def safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show as text, never run as a formula.

    Text starting with one of ``FORMULA_START`` gets a leading apostrophe; numbers (and text
    that is only a number, such as "-2.35") are left alone so they stay numbers. So does text
    starting with apostrophes and then one of those ("'+ve"), which :func:`unguarded` would
    otherwise take its own apostrophe from.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    if _GUARDED.match(text):
        return "'" + text
    return text


def unguarded(cell: str) -> str:
    """A cell of a CSV without the apostrophe :func:`safe_cell` put before it, if it has one."""
    return cell[1:] if _GUARDED.match(cell) else cell


# Dates a spreadsheet rewrote. Excel opens an ISO date (2025-06-30) as a date and saves it in
# its locale's short form: 30/06/2025 in the UK, 30/06/2025 00:00 where the column is a date
# and time, 30-Jun-25 in some set-ups. This product's users are English councils, so a
# numbered date is read day first; a date that is no day read that way is refused, never
# guessed month first.
_DAY_FIRST = re.compile(
    r"^(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}|\d{2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp][Mm])?)?$"
)
_MONTH_NAMED = re.compile(
    r"^(?P<day>\d{1,2})[- ](?P<month>[A-Za-z]{3,9})\.?[- ](?P<year>\d{4}|\d{2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_WRITE_ISO = "write it as YYYY-MM-DD"


def _year(text: str) -> int:
    # A two-digit year (30-Jun-25) lost its century to the spreadsheet's format; a date a
    # listing was checked on is this century's.
    return 2000 + int(text) if len(text) == 2 else int(text)


def _month_number(name: str) -> int | None:
    folded = name.casefold()
    for number, month in enumerate(_MONTHS, start=1):
        # "Sept" is how some locales shorten September.
        if folded in {month, month[:3]} or (number == 9 and folded == "sept"):
            return number
    return None


def spreadsheet_date(text: str, field: str = "last_verified") -> str:
    """An ISO date (``YYYY-MM-DD``) from a cell holding one, as typed or as a spreadsheet saved it.

    Read are ISO dates (with or without a time after them, which is ignored), UK day-first
    dates ``dd/mm/yyyy`` (``30/06/2025``, also with a time, ``30/06/2025 00:00``, or a
    two-digit year) and a day, month name and year (``30-Jun-25``, ``30 June 2025``). A
    two-digit year is 2000 to 2099. ``01/02/2025`` is 1 February 2025.

    Parameters
    ----------
    text
        The cell, stripped.
    field
        The field named in an error.

    Returns
    -------
    str
        The date as ``YYYY-MM-DD``.

    Raises
    ------
    ValidationError
        For text that is not a date in one of those forms, naming the form to write. A
        month-first date (``06/30/2025``) is not read as one: it is refused, saying which
        date it would be, so that a date is never silently read the wrong way round.
    """
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    numbered = _DAY_FIRST.match(text)
    named = None if numbered else _MONTH_NAMED.match(text)
    found = numbered or named
    if found is None:
        raise ValidationError(
            f"{field} '{text}' is not a date: {_WRITE_ISO} (2025-06-30), or as DD/MM/YYYY "
            "(30/06/2025)",
            field=field,
        )
    day, year = int(found["day"]), _year(found["year"])
    month = int(found["month"]) if numbered else _month_number(found["month"])
    if month is None:
        raise ValidationError(
            f"{field} '{text}': '{found['month']}' is not the name of a month in English; "
            f"{_WRITE_ISO} (2025-06-30)",
            field=field,
        )
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        pass
    if numbered and 1 <= day <= 12:
        try:
            us = date(year, day, month)
        except ValueError:
            us = None
        if us is not None:
            raise ValidationError(
                f"{field} '{text}' is not a date read day first (DD/MM/YYYY, as in the UK): "
                f"there is no month {month}. If it means {us.day} {us:%B %Y} written month first, "
                f"{_WRITE_ISO} ({us.isoformat()})",
                field=field,
            )
    if not 1 <= month <= 12:
        reason = f"there is no month {month}"
    else:
        reason = f"{_MONTHS[month - 1].capitalize()} {year} has no day {day}"
    raise ValidationError(
        f"{field} '{text}' is not a date read day first (DD/MM/YYYY, as in the UK): {reason}; "
        f"{_WRITE_ISO} (2025-06-30)",
        field=field,
    )


# A phone number of digits only (01614133750) is opened as a number and saved without its
# leading 0 (1614133750). A UK number is 0 and 9 or 10 digits, and none starts 04 or 06; no
# one writes one without its 0 or +44, so digits that are such a number less its 0 are one.
_LOST_ZERO = re.compile(r"^[1235789]\d{8,9}$")
# A long number in a narrow column is saved as it is shown, in scientific notation.
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
# Where a phone number example is wanted: Ofcom keeps 0161 496 0000-0999 for drama.
_PHONE_EXAMPLE = "0161 496 0000"


def restored_phone(text: str) -> str | None:
    """A UK phone number a spreadsheet saved as a number, with its leading 0 back; else None.

    ``1614133750`` was ``01614133750``: digits only, 9 or 10 of them, starting as a UK
    number does after its 0 (1, 2, 3, 5, 7, 8 or 9).
    """
    return "0" + text if _LOST_ZERO.match(text) else None


def lost_phone_digits(text: str, field: str = "phone") -> ValidationError | None:
    """An error when a phone cell is a number a spreadsheet wrote in scientific notation.

    ``1.62E+09`` says only that the number had ten digits and began 162: the others are lost,
    so it is not a phone number to store. None for any other text.
    """
    if not _SCIENTIFIC.match(text):
        return None
    return ValidationError(
        f"{field} {text} is a number a spreadsheet wrote in scientific notation, which loses "
        f"its digits: type the number in full with its spaces ({_PHONE_EXAMPLE}, say), which "
        "a spreadsheet keeps as text",
        field=field,
    )


# Digits only and too few for a phone number: a number of all zeros (00000000000, a
# source's "no number") is saved as 0.
_SHORT_DIGITS = re.compile(r"^\d{1,6}$")


def phone_digits_lost(text: str) -> bool:
    """Whether a phone cell is a number a spreadsheet saved with digits that cannot be put back.

    True for scientific notation (``1.62E+09``) and for digits too few for a phone number
    (``0``, from ``00000000000``). Which number it was can only be checked against one it may
    have been: see :func:`saved_as_number`.
    """
    return bool(_SCIENTIFIC.match(text) or _SHORT_DIGITS.match(text))


def saved_as_number(cell: str, phone: str) -> bool:
    """Whether ``cell`` is what a spreadsheet saves for ``phone`` once it took it for a number.

    ``phone`` must be digits only (a spreadsheet keeps one with spaces as text). The cell is
    the number to the digits it shows, rounded as a spreadsheet rounds: ``1.62E+09`` and
    ``1619125920`` are both ``01619125920``, ``0`` is ``00000000000``.
    """
    if not phone.isdigit() or not (_SCIENTIFIC.match(cell) or cell.isdigit()):
        return False
    shown = Decimal(cell)
    whole = Decimal(int(phone))
    exponent = shown.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity, which the patterns exclude
        return False
    places = Decimal(1).scaleb(exponent)
    return whole.quantize(places, rounding=ROUND_HALF_UP) == shown
