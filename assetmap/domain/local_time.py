"""Times as people in English councils read them: UK local time, in words.

Stored and published times are ISO 8601 strings in UTC (jobs, revisions, provenance). Pages
show them through :func:`when`, the one formatter used by staff pages and published reports
alike; machine-readable outputs keep the ISO text.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # no time zone database: show UTC and say so
        return UTC


_ZONE = _local_zone()


def when(iso: str) -> str:
    """An ISO time as UK local time in GOV.UK style: '23 November 2026 at 9:05am'.

    Europe/London (GMT or BST), as the people reading it are in English councils; on the
    hour, 12 is 'midday' or 'midnight'. A time without a zone is taken as UTC.

    Parameters
    ----------
    iso
        An ISO 8601 date and time, such as ``2026-11-23T21:22:48+00:00``.

    Returns
    -------
    str
        The time in words; text that is not a time is returned as it is ('' for None).
    """
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_ZONE)
    if local.minute == 0 and local.hour in (0, 12):
        clock = "midnight" if local.hour == 0 else "midday"
    else:
        clock = f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
    zone = " UTC" if _ZONE is UTC else ""
    return f"{local.day} {local:%B %Y} at {clock}{zone}"
