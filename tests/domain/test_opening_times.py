"""Opening times: parsing real council text, the schedule model and its round trips.

Real strings are from Trafford Council open data (leisure centres, community hubs and food
banks, data/assets/trafford/).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetmap.domain.errors import ValidationError
from assetmap.domain.opening_times import (
    WEEKDAYS,
    OpeningTimes,
    TimeRange,
    WeeklySchedule,
    parse_opening_times,
    schedule_from_days,
)

Days = dict[str, list[tuple[str, str]]]

WEEKDAY_SPLIT: Days = {
    "mon": [("06:30", "22:00")],
    "tue": [("06:30", "22:00")],
    "wed": [("06:30", "22:00")],
    "thu": [("06:30", "22:00")],
    "fri": [("06:30", "22:00")],
    "sat": [("08:00", "18:00")],
    "sun": [("08:00", "18:00")],
}
EVENINGS_AND_WEEKENDS: Days = {
    **{day: [("17:00", "22:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [("09:00", "17:00")],
    "sun": [("09:00", "17:00")],
}

REAL_STRINGS: list[tuple[str, Days, str]] = [
    ("Mon-Fri: 6:30am-10:00pm, Sat-Sun: 8:00am-6:00pm", WEEKDAY_SPLIT, ""),
    ("Mon-Fri: 6.30am-10:00pm, Sat-Sun: 8:00am-6:00pm", WEEKDAY_SPLIT, ""),
    ("Mon-Fri: 5:00pm-10:00pm, Sat-Sun 9:00am-5:00pm", EVENINGS_AND_WEEKENDS, ""),
    (
        "Pitch bookings only: Mon-Fri: 5:00pm-10:00pm, Sat-Sun: 9:00am-5:00pm",
        EVENINGS_AND_WEEKENDS,
        "Pitch bookings only",
    ),
    ("Mon-Fri 6:30am-10:00pm, Sat-Sun: 8:00am-6:00pm", WEEKDAY_SPLIT, ""),
    (
        "Tuesdays, Wednesdays and Fridays, 10am-2pm",
        {day: [("10:00", "14:00")] for day in ("tue", "wed", "fri")},
        "",
    ),
    (
        "Monday to Friday, 9.30am-4pm",
        {day: [("09:30", "16:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
        "",
    ),
    (
        "Mondays, Tuesdays and Thursdays, 9.30am-4pm; Wednesdays, 9.30am-6pm; Fridays, 9.30am-1pm",
        {
            "mon": [("09:30", "16:00")],
            "tue": [("09:30", "16:00")],
            "wed": [("09:30", "18:00")],
            "thu": [("09:30", "16:00")],
            "fri": [("09:30", "13:00")],
        },
        "",
    ),
    ("Thursday 10:30am - 12:30pm", {"thu": [("10:30", "12:30")]}, ""),
    (
        "Tues 11am - 2pm, Fri 11.30am -1.30pm",
        {"tue": [("11:00", "14:00")], "fri": [("11:30", "13:30")]},
        "",
    ),
    ("Monday 12noon - 2pm", {"mon": [("12:00", "14:00")]}, ""),
    ("Friday 10am - 12noon", {"fri": [("10:00", "12:00")]}, ""),
    ("Friday 2 - 4.30pm", {"fri": [("14:00", "16:30")]}, ""),
]


def expected(days: Days) -> dict[str, tuple[TimeRange, ...]]:
    """Every weekday, closed unless listed."""
    return {day: tuple(TimeRange(*pair) for pair in days.get(day, [])) for day in WEEKDAYS}


@pytest.mark.parametrize(("text", "days", "note"), REAL_STRINGS)
def test_parses_real_trafford_strings(text: str, days: Days, note: str) -> None:
    parsed = parse_opening_times(text)
    assert parsed.status == "structured"
    assert parsed.text == text
    assert parsed.schedule is not None
    assert parsed.schedule.days == expected(days)
    assert parsed.schedule.note == note


@pytest.mark.parametrize(
    "text",
    [
        "Evenings, Weekends and School Holidays",
        "Monday to Thursdays, 9-5pm for calls; 10am-2pm for food collections and deliveries",
        "By appointment",
        "Mon - Fri by appointment",
        "Not known",
        "Wednesday 7:30pm",
        "Tuesday from 11am",
        "Monday - Friday 8am - 4pm. Please ring.",
        "Tuesdays & Fridays 12pm - 3pm; 1st Saturday of month 10am - 12noon",
        "Weekdays and Saturdays 10am-4pm, except Thursdays 10am-12.30pm.",
        "Wednesday 2=3pm",
        "Closed",
        "9am-5pm",
    ],
)
def test_unsure_text_gives_no_schedule_but_keeps_text(text: str) -> None:
    parsed = parse_opening_times(text)
    assert parsed.schedule is None
    assert parsed.status == "unparsed"
    assert parsed.text == text


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("24 hours", {day: [("00:00", "24:00")] for day in WEEKDAYS}),
        ("Open 24/7", {day: [("00:00", "24:00")] for day in WEEKDAYS}),
        ("Mon-Sun 9am-5pm", {day: [("09:00", "17:00")] for day in WEEKDAYS}),
        ("Daily 9am-5pm", {day: [("09:00", "17:00")] for day in WEEKDAYS}),
        ("Weekdays 9-5pm", {day: [("09:00", "17:00")] for day in WEEKDAYS[:5]}),
        ("Weekends 10am\u201312 noon", {day: [("10:00", "12:00")] for day in ("sat", "sun")}),
        (
            "Mon-Sat 9am-5pm, Sun: closed",
            {day: [("09:00", "17:00")] for day in WEEKDAYS[:6]},
        ),
        ("Mon-Fri 09:00-17:30", {day: [("09:00", "17:30")] for day in WEEKDAYS[:5]}),
        ("Mon & Wed 9am\u2014midday", {"mon": [("09:00", "12:00")], "wed": [("09:00", "12:00")]}),
        ("Mon, Wed 6pm-midnight", {"mon": [("18:00", "24:00")], "wed": [("18:00", "24:00")]}),
        ("Tue-Thu 12:00-14:00", {day: [("12:00", "14:00")] for day in ("tue", "wed", "thu")}),
        ("Fri-Mon noon-4pm", {day: [("12:00", "16:00")] for day in ("fri", "sat", "sun", "mon")}),
        ("Monday 9am-12pm, 1pm-5pm", {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}),
        (
            "Tuesday 6pm - 8pm and Sunday 3pm - 5pm",
            {"tue": [("18:00", "20:00")], "sun": [("15:00", "17:00")]},
        ),
        (
            "Fri 4.30 - 5.30pm Sat 10 - 11am",
            {"fri": [("16:30", "17:30")], "sat": [("10:00", "11:00")]},
        ),
        (
            "Saturday & Sunday 7am - 9am.",
            {"sat": [("07:00", "09:00")], "sun": [("07:00", "09:00")]},
        ),
        ("Weds 12-2pm", {"wed": [("12:00", "14:00")]}),
        ("Thur 10.30-11.30pm", {"thu": [("22:30", "23:30")]}),
        ("Sat 10pm-12am", {"sat": [("22:00", "24:00")]}),
        ("Fri 10pm-2am", {"fri": [("22:00", "24:00")], "sat": [("00:00", "02:00")]}),
        ("Sun 22:00-01:30", {"sun": [("22:00", "24:00")], "mon": [("00:00", "01:30")]}),
        ("Opening hours: Mon 9 a.m. to 5 p.m.", {"mon": [("09:00", "17:00")]}),
    ],
)
def test_parses_other_common_forms(text: str, days: Days) -> None:
    parsed = parse_opening_times(text)
    assert parsed.schedule is not None, text
    assert parsed.schedule.days == expected(days)
    assert parsed.schedule.note == ""


def test_trailing_for_qualifier_becomes_the_note() -> None:
    parsed = parse_opening_times("Mon-Thu 9am-5pm for calls")
    assert parsed.schedule is not None
    assert parsed.schedule.note == "for calls"
    assert parsed.schedule.days == expected({d: [("09:00", "17:00")] for d in WEEKDAYS[:4]})


@pytest.mark.parametrize(
    "text",
    [
        "Mon 5pm-9am",  # backwards and not an evening-to-early-morning crossing
        "Mon 10:00-02:00",
        "Mon 9:00-5:00",  # bare times that are not clearly 24-hour
        "12.30-2.30",
        "Mon 10-12am",  # 12am as noon or midnight: cannot tell
        "Mon 13pm-2pm",
        "Mon 9am-5pm; Mon 4pm-6pm",  # overlaps itself
        "Fri 10pm-2am, Sat closed",  # contradicts itself
        "Mon-Mon 9am-5pm",
        "Weekdays-Sat 9am-5pm",
        "Mon 9.75am-5pm",
        "Mon 24:00-24:00",
    ],
)
def test_inconsistent_or_ambiguous_ranges_give_no_schedule(text: str) -> None:
    assert parse_opening_times(text).schedule is None


def test_status_for_empty_text_is_unknown() -> None:
    assert parse_opening_times("").status == "unknown"
    assert parse_opening_times("   ").status == "unknown"
    assert OpeningTimes(schedule=None, text="").status == "unknown"


def test_to_text_groups_consecutive_identical_days() -> None:
    schedule = schedule_from_days(WEEKDAY_SPLIT)
    assert schedule.to_text() == "Mon\u2013Fri 06:30\u201322:00; Sat\u2013Sun 08:00\u201318:00"


def test_to_text_leaves_closed_days_out_and_keeps_the_note() -> None:
    days: Days = {"mon": [("09:00", "12:00"), ("13:00", "17:00")], "wed": [("00:00", "24:00")]}
    schedule = schedule_from_days(days, note="Pitch bookings only")
    assert schedule.to_text() == (
        "Pitch bookings only: Mon 09:00\u201312:00, 13:00\u201317:00; Wed 24 hours"
    )
    assert parse_opening_times(schedule.to_text()).schedule == schedule
    assert schedule_from_days({}).to_text() == "Mon\u2013Sun closed"
    assert parse_opening_times("Mon\u2013Sun closed").schedule == schedule_from_days({})


@pytest.mark.parametrize(
    ("time", "is_open"),
    [
        ("09:29", False),
        ("09:30", True),
        ("15:59", True),
        ("16:00", False),
        ("00:00", False),
    ],
)
def test_is_open_includes_opening_and_excludes_closing(time: str, is_open: bool) -> None:
    schedule = schedule_from_days({"mon": [("09:30", "16:00")]})
    assert schedule.is_open("mon", time) is is_open
    assert schedule.is_open("tue", time) is False


def test_is_open_until_midnight_and_from_midnight() -> None:
    schedule = parse_opening_times("Fri 10pm-2am").schedule
    assert schedule is not None
    assert schedule.is_open("fri", "23:59")
    assert schedule.is_open("sat", "00:00")
    assert not schedule.is_open("sat", "02:00")


@pytest.mark.parametrize(
    ("weekday", "time"), [("monday", "09:00"), ("mon", "9:00"), ("mon", "24:00")]
)
def test_is_open_rejects_bad_arguments(weekday: str, time: str) -> None:
    with pytest.raises(ValidationError):
        schedule_from_days({}).is_open(weekday, time)


def test_schedule_dict_round_trip_is_json_safe() -> None:
    schedule = schedule_from_days(
        {"mon": [("09:30", "16:00")], "sat": [("13:00", "17:00"), ("08:00", "12:00")]},
        note="for calls",
    )
    data = schedule.to_dict()
    assert data["mon"] == [["09:30", "16:00"]]
    assert data["sat"] == [["08:00", "12:00"], ["13:00", "17:00"]]  # sorted
    assert data["sun"] == []
    assert data["note"] == "for calls"
    assert list(data) == [*WEEKDAYS, "note"]
    assert WeeklySchedule.from_dict(json.loads(json.dumps(data))) == schedule


def test_opening_times_dict_round_trip() -> None:
    for text in ["Friday 2 - 4.30pm", "By appointment", ""]:
        parsed = parse_opening_times(text)
        data = json.loads(json.dumps(parsed.to_dict()))
        assert data["status"] == parsed.status
        assert OpeningTimes.from_dict(data) == parsed


def test_stored_times_build_their_schedule_only_when_asked() -> None:
    parsed = parse_opening_times("Mon-Fri 9am-5pm; Sat 10:00-12:30")
    stored = json.loads(json.dumps(parsed.to_dict()))
    read = OpeningTimes.from_stored(stored)
    assert "schedule" not in vars(read)
    handed = read.to_dict()
    assert handed == parsed.to_dict()
    # What to_dict hands out is the caller's: changing it leaves the stored form alone.
    handed["schedule"]["mon"].append(["18:00", "19:00"])
    handed["schedule"]["tue"][0][1] = "23:00"
    handed["schedule"]["note"] = "changed"
    assert read.to_dict() == parsed.to_dict()
    assert "schedule" not in vars(read)
    assert read.schedule is not None and read.schedule.is_open("sat", "12:00")
    assert read == parsed and hash(read) == hash(parsed)
    assert read.to_dict() == parsed.to_dict()
    assert OpeningTimes.from_stored({"text": "", "schedule": None}).schedule is None
    with pytest.raises(AttributeError, match="shedule"):
        read.shedule  # noqa: B018 - a misspelt attribute still fails as usual


def test_stored_times_copy_and_pickle_as_equals() -> None:
    import copy
    import pickle

    parsed = parse_opening_times("Tue, Thu 10:00-12:00")
    # Our own object, round-tripped here: nothing untrusted is unpickled.
    for make in (copy.copy, copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))):  # noqa: S301
        read = OpeningTimes.from_stored(json.loads(json.dumps(parsed.to_dict())))
        assert make(read) == parsed


def test_schedules_are_hashable_and_compare_by_value() -> None:
    first = parse_opening_times("Mon-Fri 9am-5pm").schedule
    second = parse_opening_times("Monday to Friday, 09:00-17:00").schedule
    assert first == second
    assert hash(first) == hash(second)


@pytest.mark.parametrize(
    "days",
    [
        {"mon": [("9:00", "17:00")]},
        {"mon": [("09:00", "24:01")]},
        {"mon": [("24:00", "24:00")]},
        {"mon": [("17:00", "09:00")]},
        {"mon": [("09:00", "09:00")]},
        {"mon": [("09:00", "12:00"), ("11:00", "13:00")]},
        {"monday": [("09:00", "17:00")]},
        {"mon": "09:00-17:00"},
        {"mon": [("09:00",)]},
        {"mon": [(900, 1700)]},
    ],
)
def test_schedule_from_days_rejects_bad_values(days: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule_from_days(days)  # type: ignore[arg-type]
    assert caught.value.field == "opening_times"


def test_weekly_schedule_needs_every_weekday() -> None:
    with pytest.raises(ValidationError):
        WeeklySchedule(days={"mon": ()})


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        WeeklySchedule.from_dict({"mon": [], "holidays": []})


def test_touching_ranges_are_kept_apart() -> None:
    schedule = schedule_from_days({"mon": [("09:00", "12:00"), ("12:00", "17:00")]})
    assert parse_opening_times(schedule.to_text()).schedule == schedule
    assert schedule.is_open("mon", "12:00")


@st.composite
def schedules(draw: st.DrawFn) -> WeeklySchedule:
    """Schedules with up to three separate ranges a day, at minute resolution."""
    days: dict[str, list[tuple[str, str]]] = {}
    for day in WEEKDAYS:
        points = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
        points = points[: len(points) // 2 * 2]
        days[day] = [
            (f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}")
            for a, b in zip(points[::2], points[1::2], strict=True)
        ]
    return schedule_from_days(days)


@given(schedules())
def test_to_text_parses_back_to_the_same_schedule(schedule: WeeklySchedule) -> None:
    assert parse_opening_times(schedule.to_text()).schedule == schedule


@given(st.text())
def test_parser_never_raises_on_any_text(text: str) -> None:
    parsed = parse_opening_times(text)
    assert parsed.text == text


VOCABULARY = [
    "Mon",
    "tues",
    "Thursdays",
    "Sun",
    "daily",
    "weekdays",
    "weekend",
    "every day",
    "24 hours",
    "24/7",
    "closed",
    "open",
    "from",
    "to",
    "and",
    "&",
    ",",
    ";",
    ":",
    "-",
    "\u2013",
    ".",
    "9",
    "12",
    "2",
    "9am",
    "5pm",
    "12noon",
    "noon",
    "midnight",
    "9.30",
    "17:30",
    "00:00",
    "24:00",
    "10pm",
    "2am",
    "for calls",
    "Pitch bookings only:",
    "1st",
    "x",
]


@given(st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join))
def test_any_schedule_the_parser_finds_round_trips(text: str) -> None:
    parsed = parse_opening_times(text)
    if parsed.schedule is not None:
        assert parse_opening_times(parsed.schedule.to_text()).schedule == parsed.schedule
