"""Cells a spreadsheet rewrote when it saved a file the app wrote, read back."""

from __future__ import annotations

import pytest

from assetmap.domain.errors import ValidationError
from assetmap.domain.spreadsheet import (
    lost_phone_digits,
    phone_digits_lost,
    restored_phone,
    saved_as_number,
    spreadsheet_date,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-30", "2025-06-30"),
        ("2025-06-30T10:15:00+01:00", "2025-06-30"),
        # Excel's UK short date, with a time where the column is a date and time.
        ("30/06/2025", "2025-06-30"),
        ("30/06/2025 00:00", "2025-06-30"),
        ("30/06/2025 00:00:00", "2025-06-30"),
        ("30/06/25", "2025-06-30"),
        ("30-Jun-25", "2025-06-30"),
        ("30-jun-2025", "2025-06-30"),
        ("30 June 2025", "2025-06-30"),
        ("1-Sept-24", "2024-09-01"),
        # Day first, as in the UK: 1 February, never 2 January.
        ("01/02/2025", "2025-02-01"),
        ("1/2/2025", "2025-02-01"),
    ],
)
def test_a_date_is_read_iso_or_uk_day_first(text: str, expected: str) -> None:
    assert spreadsheet_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "06/30/2025",
            "last_verified '06/30/2025' is not a date read day first (DD/MM/YYYY, as in the UK):"
            " there is no month 30. If it means 30 June 2025 written month first, write it as"
            " YYYY-MM-DD (2025-06-30)",
        ),
        (
            "31/06/2025",
            "last_verified '31/06/2025' is not a date read day first (DD/MM/YYYY, as in the UK):"
            " June 2025 has no day 31; write it as YYYY-MM-DD (2025-06-30)",
        ),
        (
            "13/13/2025",
            "last_verified '13/13/2025' is not a date read day first (DD/MM/YYYY, as in the UK):"
            " there is no month 13; write it as YYYY-MM-DD (2025-06-30)",
        ),
        (
            "30-Juin-25",
            "last_verified '30-Juin-25': 'Juin' is not the name of a month in English; write it"
            " as YYYY-MM-DD (2025-06-30)",
        ),
        (
            "last summer",
            "last_verified 'last summer' is not a date: write it as YYYY-MM-DD (2025-06-30), or"
            " as DD/MM/YYYY (30/06/2025)",
        ),
        (
            "2025-02-30",
            "last_verified '2025-02-30' is not a date: write it as YYYY-MM-DD (2025-06-30), or"
            " as DD/MM/YYYY (30/06/2025)",
        ),
    ],
)
def test_a_date_that_is_no_day_read_day_first_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        spreadsheet_date(text)
    assert (caught.value.field, caught.value.message) == ("last_verified", reason)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1614133750", "01614133750"),  # Manchester, as Excel saves 01614133750
        ("7782172694", "07782172694"),  # a mobile
        ("800123456", "0800123456"),  # a freephone number of 10 digits
        ("3330035865", "03330035865"),
        # Not a UK number less its 0: no UK number starts 04 or 06, or has 12 digits.
        ("6175550123", None),
        ("4161749257", None),
        ("441617492570", None),
        ("01614133750", None),  # still has its 0
        ("0161 413 3750", None),
        ("12345678", None),
    ],
)
def test_a_uk_phone_number_gets_back_the_0_a_spreadsheet_dropped(
    text: str, expected: str | None
) -> None:
    assert restored_phone(text) == expected


def test_a_phone_number_in_scientific_notation_has_lost_digits() -> None:
    error = lost_phone_digits("1.62E+09")
    assert error is not None
    assert (error.field, error.message) == (
        "phone",
        "phone 1.62E+09 is a number a spreadsheet wrote in scientific notation, which loses its"
        " digits: type the number in full with its spaces (0161 496 0000, say), which a"
        " spreadsheet keeps as text",
    )
    assert lost_phone_digits("0161 413 3750") is None
    assert lost_phone_digits("+44 161 413 3750") is None


@pytest.mark.parametrize(
    ("cell", "phone", "expected"),
    [
        ("1.62E+09", "01619125920", True),
        ("1.6E+9", "01619125920", True),
        ("1619125920", "01619125920", True),
        ("0", "00000000000", True),
        ("1.61E+09", "01619125920", False),  # another number
        ("1.62E+09", "0161 912 5920", False),  # with spaces a spreadsheet keeps it as text
        ("1E+99", "01619125920", False),
    ],
)
def test_a_cell_is_checked_against_the_number_a_spreadsheet_saved_it_from(
    cell: str, phone: str, expected: bool
) -> None:
    assert saved_as_number(cell, phone) is expected
    assert phone_digits_lost(cell) is (cell != "1619125920")
