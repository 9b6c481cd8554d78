"""Cells a spreadsheet rewrote when it saved a file the app wrote, read back."""

from __future__ import annotations

import pytest

from assetmap.domain.errors import ValidationError
from assetmap.domain.spreadsheet import spreadsheet_date


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
