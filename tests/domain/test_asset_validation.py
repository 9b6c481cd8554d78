"""Asset field checks beyond validate_asset's types: dates to come."""

from __future__ import annotations

from datetime import date

import pytest

from assetmap.domain.asset import future_verified_error

TODAY = date(2026, 3, 14)


@pytest.mark.parametrize("text", ["2026-03-14", "2026-03-13", "2019-01-01", "2026-03-14T23:59"])
def test_a_date_last_checked_up_to_today_is_fine(text: str) -> None:
    assert future_verified_error(text, TODAY) is None


def test_a_date_last_checked_after_today_is_refused_without_grace() -> None:
    err = future_verified_error("2026-03-15", TODAY)
    assert err is not None
    assert err.field == "last_verified"
    assert err.message == (
        "last_verified 2026-03-15 is in the future (today is 2026-03-14): it must be the date"
        " the details were last checked, today or earlier"
    )
    assert future_verified_error(" 2099-01-01T00:00:00Z ", TODAY) is not None


@pytest.mark.parametrize("text", ["", None, "next week", "2026-13-01"])
def test_text_that_is_no_date_is_left_to_validate_asset(text: str | None) -> None:
    assert future_verified_error(text, TODAY) is None
