"""Opening times: a weekly schedule read cautiously from free text.

The original text is always kept. A structured `WeeklySchedule` is attached only when the
parser is confident of every part of the text; anything it does not understand leaves the
schedule empty rather than half-read. Times are "HH:MM" on the 24-hour clock, local time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from assetmap.domain.errors import ValidationError

Weekday: TypeAlias = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Status: TypeAlias = Literal["structured", "unknown", "unparsed"]

_FIELD = "opening_times"
_DAY_MINUTES = 24 * 60
_NOON = 12 * 60
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _minutes(hhmm: object, *, closing: bool = False, field: str = _FIELD) -> int:
    """Minutes after midnight for "HH:MM"; "24:00" is allowed only as a closing time."""
    if closing and hhmm == "24:00":
        return _DAY_MINUTES
    match = _HHMM.fullmatch(hhmm) if isinstance(hhmm, str) else None
    if match is None:
        allowed = "00:00 to 24:00" if closing else "00:00 to 23:59"
        raise ValidationError(f"time {hhmm!r} is not HH:MM ({allowed})", field=field)
    return int(match[1]) * 60 + int(match[2])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class TimeRange:
    """One opening period within a day: `opens` inclusive, `closes` exclusive.

    Both are "HH:MM" on the 24-hour clock; `closes` may be "24:00" and must be later than
    `opens`. A period crossing midnight is stored as two ranges on consecutive days.
    """

    opens: str
    closes: str
    # Minutes after midnight, worked out once: every stored asset's schedule is rebuilt on
    # each read, and sorting, overlap checks and "open on" filters all compare minutes.
    opens_minute: int = field(init=False, repr=False, compare=False)
    closes_minute: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Reject malformed times and empty or backwards ranges."""
        opens, closes = _minutes(self.opens), _minutes(self.closes, closing=True)
        if closes <= opens:
            raise ValidationError(
                f"range {self.opens}-{self.closes} closes before it opens", field=_FIELD
            )
        object.__setattr__(self, "opens_minute", opens)
        object.__setattr__(self, "closes_minute", closes)


def _as_ranges(value: object, day: str) -> tuple[TimeRange, ...]:
    """Read one day's ranges from TimeRange objects or ("HH:MM", "HH:MM") pairs."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(f"{day}: expected a list of ranges, got {value!r}", field=_FIELD)
    ranges: list[TimeRange] = []
    for item in value:
        if isinstance(item, TimeRange):
            ranges.append(item)
        elif (
            isinstance(item, list | tuple)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
        ):
            ranges.append(TimeRange(item[0], item[1]))
        else:
            raise ValidationError(
                f"{day}: expected an [opens, closes] pair, got {item!r}", field=_FIELD
            )
    return tuple(ranges)


@dataclass(frozen=True)
class WeeklySchedule:
    """Opening ranges for each day of a typical week.

    `days` has every key of `WEEKDAYS`; an empty tuple means closed that day. Ranges are
    sorted by opening time on construction and may touch but not overlap. `note` qualifies
    the whole schedule, such as "Pitch bookings only". Treat `days` as read-only.
    """

    days: dict[str, tuple[TimeRange, ...]]
    note: str = ""

    def __post_init__(self) -> None:
        """Check keys, types and overlaps; store days in weekday order with sorted ranges."""
        if not isinstance(self.days, Mapping):
            raise ValidationError("days must be a mapping of weekday to ranges", field=_FIELD)
        if set(self.days) != set(WEEKDAYS):
            missing = [day for day in WEEKDAYS if day not in self.days]
            unknown = sorted(repr(key) for key in self.days if key not in WEEKDAYS)
            raise ValidationError(
                f"days must have exactly the keys {', '.join(WEEKDAYS)}"
                f" (missing: {missing or 'none'}; unknown: {unknown or 'none'})",
                field=_FIELD,
            )
        if not isinstance(self.note, str):
            raise ValidationError(f"note must be text, got {self.note!r}", field=_FIELD)
        days: dict[str, tuple[TimeRange, ...]] = {}
        for day in WEEKDAYS:
            ranges = sorted(
                _as_ranges(self.days[day], day),
                key=lambda r: (r.opens_minute, r.closes_minute),
            )
            for earlier, later in pairwise(ranges):
                if later.opens_minute < earlier.closes_minute:
                    raise ValidationError(
                        f"{day}: {earlier.opens}-{earlier.closes} overlaps "
                        f"{later.opens}-{later.closes}",
                        field=_FIELD,
                    )
            days[day] = tuple(ranges)
        object.__setattr__(self, "days", days)

    def __hash__(self) -> int:
        """Hash the frozen content; `days` is copied on construction and never mutated."""
        return hash((tuple(self.days.items()), self.note))

    def is_open(self, weekday: str, hhmm: str) -> bool:
        """Whether the schedule is open at a time on a day.

        Parameters
        ----------
        weekday : str
            One of `WEEKDAYS` ("mon".."sun").
        hhmm : str
            Local time "HH:MM", 00:00 to 23:59.

        Returns
        -------
        bool
            True when a range has ``opens <= hhmm < closes``.

        Raises
        ------
        ValidationError
            On an unknown weekday or a malformed time.
        """
        if weekday not in WEEKDAYS:
            raise ValidationError(
                f"unknown weekday {weekday!r}; expected one of {', '.join(WEEKDAYS)}",
                field="weekday",
            )
        minute = _minutes(hhmm, field="time")
        return any(r.opens_minute <= minute < r.closes_minute for r in self.days[weekday])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Returns
        -------
        dict
            ``{"mon": [["09:30", "16:00"]], ..., "sun": [], "note": ""}``.
        """
        out: dict[str, Any] = {
            day: [[r.opens, r.closes] for r in self.days[day]] for day in WEEKDAYS
        }
        out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeeklySchedule:
        """Rebuild a schedule from `to_dict` output.

        Parameters
        ----------
        data : Mapping
            Weekday keys holding ``[opens, closes]`` pairs, and optionally "note". A missing
            weekday is read as closed.

        Returns
        -------
        WeeklySchedule

        Raises
        ------
        ValidationError
            On unknown keys, malformed times or overlapping ranges.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(f"expected a mapping, got {data!r}", field=_FIELD)
        note = data.get("note", "")
        days = {key: value for key, value in data.items() if key != "note"}
        return schedule_from_days(days, note=note)

    def to_text(self) -> str:
        """Plain English summary, readable by `parse_opening_times`.

        Consecutive days with identical ranges are grouped, for example
        "Mon-Fri 06:30-22:00; Sat-Sun 08:00-18:00" (with en dashes). Days left out are
        closed ("Mon-Sun closed" when all are); whole days read "24 hours". A note comes
        first, followed by a colon.

        Returns
        -------
        str
        """
        groups: list[tuple[int, int]] = []
        for index, day in enumerate(WEEKDAYS):
            if groups and self.days[WEEKDAYS[groups[-1][0]]] == self.days[day]:
                groups[-1] = (groups[-1][0], index)
            else:
                groups.append((index, index))
        parts = []
        for first, last in groups:
            if not self.days[WEEKDAYS[first]] and len(groups) > 1:
                continue
            label = _DAY_LABELS[first]
            if last != first:
                label += _EN_DASH + _DAY_LABELS[last]
            parts.append(f"{label} {_ranges_text(self.days[WEEKDAYS[first]])}")
        summary = "; ".join(parts)
        return f"{self.note}: {summary}" if self.note else summary


_EN_DASH = "\u2013"
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _ranges_text(ranges: tuple[TimeRange, ...]) -> str:
    if not ranges:
        return "closed"
    if ranges == (TimeRange("00:00", "24:00"),):
        return "24 hours"
    return ", ".join(f"{r.opens}{_EN_DASH}{r.closes}" for r in ranges)


def schedule_from_days(
    mapping: Mapping[str, Iterable[TimeRange | tuple[str, str] | list[str]]],
    *,
    note: str = "",
) -> WeeklySchedule:
    """Build a schedule from a weekday mapping, validating every value.

    Parameters
    ----------
    mapping : Mapping
        Keys from `WEEKDAYS`; values are iterables of `TimeRange` or ("HH:MM", "HH:MM")
        pairs, 24-hour clock, closes may be "24:00". Weekdays left out are closed.
    note : str, optional
        Qualifier for the whole schedule, such as "Pitch bookings only".

    Returns
    -------
    WeeklySchedule

    Raises
    ------
    ValidationError
        With ``field="opening_times"`` for an unknown weekday, a malformed time, a range
        that does not close after it opens, or overlapping ranges.

    Examples
    --------
    >>> schedule_from_days({"mon": [("09:00", "17:00")]}).is_open("mon", "16:59")
    True
    """
    if not isinstance(mapping, Mapping):
        raise ValidationError(f"expected a mapping of weekdays, got {mapping!r}", field=_FIELD)
    unknown = sorted(repr(key) for key in mapping if key not in WEEKDAYS)
    if unknown:
        raise ValidationError(
            f"unknown weekday {', '.join(unknown)}; expected {', '.join(WEEKDAYS)}",
            field=_FIELD,
        )
    days: dict[str, tuple[TimeRange, ...]] = {
        day: _as_ranges(mapping.get(day, ()), day) for day in WEEKDAYS
    }
    return WeeklySchedule(days=days, note=note)


@dataclass(frozen=True)
class OpeningTimes:
    """Opening times as published (`text`, always kept) plus a schedule when one was read."""

    schedule: WeeklySchedule | None
    text: str

    @property
    def status(self) -> Status:
        """Return "structured" with a schedule, "unknown" for blank text, else "unparsed"."""
        if self.schedule is not None:
            return "structured"
        if not self.text.strip():
            return "unknown"
        return "unparsed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Returns
        -------
        dict
            ``{"text": str, "status": str, "schedule": dict | None}``; "status" is derived
            and ignored by `from_dict`.
        """
        stored = self.__dict__.get("_stored")
        if stored is not None and "schedule" not in self.__dict__:
            # Never built (see from_stored): the stored form is already to_dict's output.
            # Copied down to the pairs: the caller may change what it is handed.
            schedule = {
                key: [list(pair) for pair in value] if isinstance(value, list) else value
                for key, value in stored.items()
            }
            return {"text": self.text, "status": "structured", "schedule": schedule}
        return {
            "text": self.text,
            "status": self.status,
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpeningTimes:
        """Rebuild from `to_dict` output.

        Parameters
        ----------
        data : Mapping
            "text" (str, default "") and "schedule" (`WeeklySchedule.to_dict` form or None).

        Returns
        -------
        OpeningTimes

        Raises
        ------
        ValidationError
            When "text" is not a string or the schedule is invalid.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(f"expected a mapping, got {data!r}", field=_FIELD)
        text = data.get("text", "")
        if not isinstance(text, str):
            raise ValidationError(f"text must be a string, got {text!r}", field=_FIELD)
        raw = data.get("schedule")
        schedule = None if raw is None else WeeklySchedule.from_dict(raw)
        return cls(schedule=schedule, text=text)

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> OpeningTimes:
        """Rebuild from `to_dict` output that a store wrote, without checking it again.

        Only for states a store kept: every one passed `from_dict`'s checks when written
        (revisions are append-only), and re-checking each range on every read was most of
        the cost of a nearby search. Anything else must use `from_dict`.
        """
        raw = data.get("schedule")
        text = data.get("text", "")
        if raw is None and not text and cls is OpeningTimes:
            return _UNKNOWN  # most listings: one shared instance (frozen, so it is safe)
        made = object.__new__(cls)
        if raw is None:
            made.__dict__.update(schedule=None, text=text)
        else:
            # The schedule is built on first use (__getattr__): a search describes most
            # assets it reads without ever asking whether they are open at some hour.
            made.__dict__.update(_stored=raw, text=text)
        return made

    if not TYPE_CHECKING:  # so that type checkers still catch misspelt attributes

        def __getattr__(self, name: str) -> Any:
            """Build a stored schedule the first time it is asked for (see from_stored).

            Python calls this only when ``name`` is not in the instance dict, which is true
            of ``schedule`` alone, and only for an instance from_stored left unbuilt.
            """
            stored = self.__dict__.get("_stored") if name == "schedule" else None
            if stored is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            schedule = _stored_schedule(stored)
            self.__dict__["schedule"] = schedule
            return schedule


# Hours not known: what from_stored gives for most stored listings.
_UNKNOWN = OpeningTimes(schedule=None, text="")


def _stored_range(pair: Sequence[str]) -> TimeRange:
    """A TimeRange from a stored, already checked ["HH:MM", "HH:MM"] pair."""
    opens, closes = pair
    made = object.__new__(TimeRange)
    # Frozen: fill the instance dict directly, as dataclasses' own __init__ would.
    made.__dict__.update(
        opens=opens,
        closes=closes,
        opens_minute=int(opens[:2]) * 60 + int(opens[3:]),
        closes_minute=int(closes[:2]) * 60 + int(closes[3:]),
    )
    return made


def _stored_schedule(data: Mapping[str, Any]) -> WeeklySchedule:
    """A WeeklySchedule from stored `to_dict` output (sorted, checked when written)."""
    made = object.__new__(WeeklySchedule)
    made.__dict__.update(
        days={day: tuple(_stored_range(p) for p in data.get(day, ())) for day in WEEKDAYS},
        note=data.get("note", ""),
    )
    return made


# --- Parsing free text --------------------------------------------------------------------


class _NoParse(Exception):
    """The text is not confidently a schedule; internal to the parser."""


@dataclass(frozen=True)
class _Time:
    hour: int | None
    minute: int | None
    suffix: str | None  # "am", "pm", "noon" or "midnight"
    two_digit: bool


@dataclass(frozen=True)
class _Token:
    kind: Literal["day", "dash", "sep", "time", "closed", "allday", "other"]
    text: str = ""
    days: tuple[int, ...] = ()
    time: _Time | None = None


_ALL_DAYS = tuple(range(7))
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<always>24\s*[/x]\s*7)(?![a-z0-9])
    | (?P<allday>24\s*(?:hours|hour|hrs|hr|h))(?![a-z0-9])
    | (?P<everyday>every\s*day|7\s*days(?:\s+a\s+week)?)(?![a-z0-9])
    | (?P<time>(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?
        (?:\s*(?P<suffix>[ap]\.?m\.?|noon|midday|midnight))?)(?![a-z0-9])
    | (?P<word>[a-z]+)\.?
    | (?P<dash>-)
    | (?P<sep>[,;&/:+])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DAY_WORDS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("mon", "monday", "mondays"), (0,)),
    **dict.fromkeys(("tue", "tues", "tuesday", "tuesdays"), (1,)),
    **dict.fromkeys(("wed", "weds", "wednesday", "wednesdays"), (2,)),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday", "thursdays"), (3,)),
    **dict.fromkeys(("fri", "friday", "fridays"), (4,)),
    **dict.fromkeys(("sat", "saturday", "saturdays"), (5,)),
    **dict.fromkeys(("sun", "sunday", "sundays"), (6,)),
    **dict.fromkeys(("daily", "everyday"), _ALL_DAYS),
    **dict.fromkeys(("weekday", "weekdays"), (0, 1, 2, 3, 4)),
    **dict.fromkeys(("weekend", "weekends"), (5, 6)),
}
_RANGE_WORDS = frozenset({"to", "till", "til", "until", "thru", "through"})
_TIME_WORDS = {"noon": "noon", "midday": "noon", "midnight": "midnight"}
# Words that add nothing to a schedule ("Open Mon-Fri from 9am to 5pm").
_FILLER_WORDS = frozenset({"open", "from", "on", "every"})
_LABELS = frozenset({"hours", "open", "opening hours", "opening times", "times"})
_DAY_LIST_SEPS = frozenset({",", "&", "and", "/", "+"})
_RANGE_LIST_SEPS = frozenset({",", "&", "and"})
_CLAUSE_SEPS = frozenset({",", ";", "&", "and"})
_PREFIX_NOTE = re.compile(r"\s*([^:]*?)\s*:\s*(.*)", re.DOTALL)
_SUFFIX_NOTE = re.compile(r"(.*?\S)\s+(for\s+[^0-9:;,&]*?)[\s.]*", re.DOTALL | re.IGNORECASE)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", None):
            continue
        if kind == "always":
            tokens += [_Token("day", days=_ALL_DAYS), _Token("allday")]
        elif kind == "allday":
            tokens.append(_Token("allday"))
        elif kind == "everyday":
            tokens.append(_Token("day", days=_ALL_DAYS))
        elif kind == "time":
            suffix = match["suffix"]
            if suffix is not None:
                suffix = _TIME_WORDS.get(suffix, suffix.replace(".", ""))
            time = _Time(
                hour=int(match["hour"]),
                minute=None if match["minute"] is None else int(match["minute"]),
                suffix=suffix,
                two_digit=len(match["hour"]) == 2,
            )
            tokens.append(_Token("time", time=time))
        elif kind == "word":
            tokens.extend(_word_token(match["word"]))
        elif kind == "dash":
            tokens.append(_Token("dash", text=match[0]))
        elif kind == "sep":
            tokens.append(_Token("sep", text=match[0]))
        else:
            tokens.append(_Token("other", text=match[0]))
    return tokens


def _word_token(word: str) -> list[_Token]:
    if word in _DAY_WORDS:
        return [_Token("day", text=word, days=_DAY_WORDS[word])]
    if word in _RANGE_WORDS:
        return [_Token("dash", text=word)]
    if word == "and":
        return [_Token("sep", text=word)]
    if word == "closed":
        return [_Token("closed", text=word)]
    if word in _TIME_WORDS:
        return [_Token("time", text=word, time=_Time(None, None, _TIME_WORDS[word], False))]
    if word in _FILLER_WORDS:
        return []
    return [_Token("other", text=word)]


def _with_suffix(time: _Time, suffix: str, *, closing: bool) -> int:
    """Minutes after midnight for a 12-hour time, or noon or midnight."""
    minute = time.minute or 0
    if suffix in ("noon", "midnight"):
        if time.hour not in (None, 12) or minute:
            raise _NoParse
        if suffix == "noon":
            return _NOON
        return _DAY_MINUTES if closing else 0
    if time.hour is None or not 1 <= time.hour <= 12 or minute > 59:
        raise _NoParse
    value = (time.hour % 12 + (12 if suffix == "pm" else 0)) * 60 + minute
    # "12am" closes at the end of the day, not its start.
    return _DAY_MINUTES if closing and value == 0 else value


def _twenty_four_hour(time: _Time, *, closing: bool) -> int:
    if time.hour is None or time.minute is None or time.minute > 59:
        raise _NoParse
    if closing and time.hour == 24 and time.minute == 0:
        return _DAY_MINUTES
    if time.hour > 23:
        raise _NoParse
    value = time.hour * 60 + time.minute
    return _DAY_MINUTES if closing and value == 0 else value


def _clearly_24_hour(time: _Time) -> bool:
    """Tell whether a bare time is written 24-hour style, like "09:00" or "17:30"."""
    return (
        time.suffix is None
        and time.hour is not None
        and time.minute is not None
        and (time.two_digit or time.hour >= 13)
    )


def _borrow_suffix(start: _Time, suffix: str, close: int) -> int:
    """Read a bare start as in "2 - 4.30pm": it takes the closing time's am/pm."""
    if start.hour is None or not 1 <= start.hour <= 12:
        raise _NoParse
    if suffix == "noon":
        if start.hour == 12:
            raise _NoParse
        return _with_suffix(start, "am", closing=False)
    if suffix == "midnight":
        if start.hour == 12:
            raise _NoParse
        return _with_suffix(start, "pm", closing=False)
    if close == _DAY_MINUTES:
        # "10-12am" is as often meant as noon as midnight.
        raise _NoParse
    opens = _with_suffix(start, suffix, closing=False)
    if opens >= close and suffix == "pm":
        # "9-5pm" means 9am to 5pm; 9pm to 5pm is not a range.
        opens = _with_suffix(start, "am", closing=False)
    return opens


def _resolve(start: _Time, end: _Time) -> tuple[int, int]:
    """Return opening and closing minutes; closing < opening only across midnight."""
    if end.suffix is None:
        if not _clearly_24_hour(end):
            raise _NoParse
        close = _twenty_four_hour(end, closing=True)
        if start.suffix is None:
            opens = _twenty_four_hour(start, closing=False)
        else:
            opens = _with_suffix(start, start.suffix, closing=False)
    else:
        close = _with_suffix(end, end.suffix, closing=True)
        if start.suffix is None:
            opens = _borrow_suffix(start, end.suffix, close)
        else:
            opens = _with_suffix(start, start.suffix, closing=False)
    if close > opens:
        return opens, close
    # Only an evening start and an early-morning end is read as crossing midnight.
    if opens >= _NOON and close <= 6 * 60:
        return opens, close
    raise _NoParse


_Clause: TypeAlias = tuple[tuple[int, ...], list[tuple[int, int]]]


class _Parser:
    """Recursive descent over tokens: clause (sep? clause)*, clause = days sep? spec."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _at(self, index: int) -> _Token | None:
        return self.tokens[index] if index < len(self.tokens) else None

    def _take(self, kind: str) -> _Token:
        token = self._at(self.pos)
        if token is None or token.kind != kind:
            raise _NoParse
        self.pos += 1
        return token

    def _skip_seps(self, allowed: frozenset[str], then: str) -> bool:
        """Step over separators if the token after them is of kind `then`."""
        index = self.pos
        while (token := self._at(index)) is not None and token.kind == "sep":
            if token.text not in allowed:
                return False
            index += 1
        following = self._at(index)
        if following is None or following.kind != then:
            return False
        self.pos = index
        return True

    def clauses(self) -> list[_Clause]:
        found = [self._clause()]
        while self.pos < len(self.tokens):
            # Clauses may also follow each other with no separator: "Fri 4-5pm Sat 10-11am".
            if not self._skip_seps(_CLAUSE_SEPS, then="day"):
                raise _NoParse
            found.append(self._clause())
        return found

    def _clause(self) -> _Clause:
        days = self._days()
        token = self._at(self.pos)
        if token is not None and token.kind == "sep" and token.text in (",", ":"):
            self.pos += 1
        return days, self._spec()

    def _days(self) -> tuple[int, ...]:
        days = list(self._day_item())
        while self._skip_seps(_DAY_LIST_SEPS, then="day"):
            days += self._day_item()
        return tuple(days)

    def _day_item(self) -> tuple[int, ...]:
        first = self._take("day")
        dash, last = self._at(self.pos), self._at(self.pos + 1)
        if dash is None or dash.kind != "dash" or last is None or last.kind != "day":
            return first.days
        if len(first.days) != 1 or len(last.days) != 1 or first.days == last.days:
            raise _NoParse
        self.pos += 2
        # "Fri-Mon" wraps around the weekend.
        span = (last.days[0] - first.days[0]) % 7
        return tuple((first.days[0] + step) % 7 for step in range(span + 1))

    def _spec(self) -> list[tuple[int, int]]:
        token = self._at(self.pos)
        if token is not None and token.kind == "closed":
            self.pos += 1
            return []
        if token is not None and token.kind == "allday":
            self.pos += 1
            return [(0, _DAY_MINUTES)]
        ranges = [self._range()]
        while self._skip_seps(_RANGE_LIST_SEPS, then="time"):
            ranges.append(self._range())
        return ranges

    def _range(self) -> tuple[int, int]:
        start = self._take("time").time
        self._take("dash")
        end = self._take("time").time
        if start is None or end is None:
            raise _NoParse
        return _resolve(start, end)


def _has_schedule_words(text: str) -> bool:
    return any(t.kind in ("day", "time", "closed", "allday") for t in _tokenize(text.lower()))


def _split_note(text: str) -> tuple[str, str]:
    """Separate a qualifier ("Pitch bookings only: ...", "... for calls") from the times."""
    body, note = text, ""
    prefix = _PREFIX_NOTE.fullmatch(text)
    if prefix is not None:
        candidate = prefix[1]
        if (
            re.search("[A-Za-z]", candidate)
            and not re.search("[0-9]", candidate)
            and not _has_schedule_words(candidate)
        ):
            body = prefix[2]
            note = "" if candidate.lower() in _LABELS else candidate
    suffix = _SUFFIX_NOTE.fullmatch(body)
    if suffix is not None and not _has_schedule_words(suffix[2]):
        if note:
            raise _NoParse
        body, note = suffix[1], suffix[2].strip()
    return body, note


def _parse_schedule(text: str) -> WeeklySchedule:
    body, note = _split_note(text)
    body = _DASHES.sub("-", body).lower().strip().rstrip(".").strip()
    tokens = _tokenize(body)
    if not tokens:
        raise _NoParse
    if [token.kind for token in tokens] == ["allday"]:
        clauses: list[_Clause] = [(_ALL_DAYS, [(0, _DAY_MINUTES)])]
    else:
        clauses = _Parser(tokens).clauses()
    ranges: list[list[tuple[int, int]]] = [[] for _ in _ALL_DAYS]
    closed: set[int] = set()
    for days, spans in clauses:
        if not spans:
            closed.update(days)
        for day in days:
            for opens, close in spans:
                if close > opens:
                    ranges[day].append((opens, close))
                else:
                    ranges[day].append((opens, _DAY_MINUTES))
                    ranges[(day + 1) % 7].append((0, close))
    if any(ranges[day] for day in closed):
        raise _NoParse
    days_map: dict[str, tuple[TimeRange, ...]] = {
        WEEKDAYS[day]: tuple(TimeRange(_hhmm(o), _hhmm(c)) for o, c in ranges[day])
        for day in _ALL_DAYS
    }
    try:
        return WeeklySchedule(days=days_map, note=note)
    except ValidationError as exc:
        # Overlapping ranges: the text contradicts itself, so no schedule.
        raise _NoParse from exc


def parse_opening_times(text: str) -> OpeningTimes:
    """Read opening times from free text, keeping the text whatever happens.

    Understands day names and abbreviations ("Mon", "Tues", "Thursdays"), day ranges and
    lists ("Mon-Fri", "Monday to Friday", "Mon & Wed", "Tue, Thu"), "Daily", "Weekdays",
    "Weekends", "24 hours", "closed", 12-hour ("6.30am", "12noon") and 24-hour ("17:30")
    times, and a qualifier before a colon or after "for". A bare start takes the closing
    time's am/pm ("2 - 4.30pm" is 14:00-16:30). Unmentioned days are closed.

    Parameters
    ----------
    text : str
        Opening times as published, in any form.

    Returns
    -------
    OpeningTimes
        With a schedule only when every part of the text was understood and consistent;
        otherwise ``schedule=None``. Never raises on any string.

    Examples
    --------
    >>> parse_opening_times("Friday 2 - 4.30pm").schedule.days["fri"]
    (TimeRange(opens='14:00', closes='16:30'),)
    >>> parse_opening_times("By appointment").status
    'unparsed'
    """
    try:
        schedule: WeeklySchedule | None = _parse_schedule(text)
    except _NoParse:
        schedule = None
    return OpeningTimes(schedule=schedule, text=text)
