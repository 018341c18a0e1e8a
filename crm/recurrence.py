"""Recurrence rules: validation, occurrence keys and expansion, with dateutil and icalendar.

Plain functions over plain values (no ORM), so the agenda, the API and the sync engine expand a
series the same way. A series starts at `start`, repeats by an RFC 5545 RRULE, and skips the
occurrences listed in `exdates`. Timed series are expanded in their own time zone, so that a
10:00 meeting stays at 10:00 across daylight-saving changes; all-day series are expanded on dates.

Occurrences are named by their *key*: the iCalendar RECURRENCE-ID of their original start, in UTC
for timed series ("20261121T090000Z") and as a date for all-day series ("20261121"). Occurrences
are compared by key, never by wall-clock time, so that a time skipped by a DST change still works.

Rules are limited to what calendar apps (Google, Outlook, CalDAV clients) let people express, so
that a series means the same everywhere and expanding one stays cheap.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from dateutil.rrule import rruleset, rrulestr
from icalendar.prop import vRecur

# Dates an agenda can mean; zone and recurrence arithmetic cannot overflow inside them.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST")
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RecurrenceError(ValueError):
    """A rule, key or exception date that cannot be used; the message says why, for the user."""


def occurrence_key(value: date | datetime) -> str:
    """Return the key (RECURRENCE-ID) of an occurrence that originally started at `value`."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise RecurrenceError("A timed occurrence needs an aware datetime.")
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def parse_occurrence_key(key: str, *, all_day: bool) -> date | datetime:
    """Return the original start named by an occurrence key."""
    try:
        if all_day:
            value = datetime.strptime(key, "%Y%m%d").date()  # noqa: DTZ007 - a date, no zone
        else:
            value = datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError) as exc:
        expected = "YYYYMMDD" if all_day else "YYYYMMDDTHHMMSSZ"
        raise RecurrenceError(f"“{key}” is not an occurrence key ({expected}).") from exc
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise RecurrenceError(f"“{key}” is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}.")
    return value


def normalize_rrule(text: str, *, start: date | datetime, zone) -> str:
    """Return `text` as a canonical RRULE value for a series starting at `start`, or raise.

    Accepts an optional "RRULE:" prefix. UNTIL is rewritten the way RFC 5545 wants it: in UTC
    for timed series (a bare date means the end of that day in the series' `zone`) and as a date
    in that zone for all-day series. A rule that can never produce an occurrence is refused.
    """
    return _normalized_rrule(text, start, getattr(start, "tzinfo", None), zone)


# A sync compares each series several times, and checking a rule expands it. The start's zone is part of the
# key: the same instant in two zones is one datetime to ==, not to a weekly rule.
@lru_cache(maxsize=4096)
def _normalized_rrule(text: str, start: date | datetime, _start_zone, zone) -> str:
    rule = _parse(text)
    if "UNTIL" in rule:
        rule["UNTIL"] = [_normalize_until(rule["UNTIL"][0], start, zone)]
    _check_possible(rule, start)
    canonical = rule.to_ical().decode()
    try:
        if next(iter(_rule_set(canonical, start, ())), None) is None:
            raise RecurrenceError("The rule produces no occurrence (does it end before it starts?).")
        last = last_start_bound(rrule=canonical, start=start)
    except (IndexError, OverflowError) as exc:
        raise RecurrenceError(f"“{canonical}” cannot be expanded.") from exc
    if last is not None and last.year > LATEST_YEAR:
        raise RecurrenceError(f"The series would run past the year {LATEST_YEAR}; end it sooner.")
    return canonical


def occurrences_between(
    *, rrule: str, exdates: list[str], start: date | datetime, end: date | datetime,
    window_start: date | datetime, window_end: date | datetime,
) -> Iterator[tuple[date | datetime, date | datetime]]:
    """Yield (start, end) of each occurrence that overlaps [window_start, window_end).

    `start`/`end` are the first occurrence: aware datetimes in the series' own zone, or dates.
    The window is aware datetimes for timed series and dates for all-day series. An occurrence
    of no length shows where it starts.
    """
    duration = end - start
    earliest = window_start - duration
    rules = _rule_set(rrule, _rebased(rrule, start, earliest), exdates)
    for occurrence in rules.between(_as_rule_time(earliest), _as_rule_time(window_end), inc=True):
        occurrence_start = _from_rule_time(occurrence, start)
        occurrence_end = occurrence_start + duration
        if occurrence_start < window_end and (occurrence_end > window_start or (
                duration == timedelta() and occurrence_start >= window_start)):
            yield occurrence_start, occurrence_end


def last_start_bound(*, rrule: str, start: date | datetime) -> date | datetime | None:
    """Return a bound no earlier than the last occurrence's start; None when the series never ends."""
    rule = vRecur.from_ical(rrule)
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if isinstance(start, datetime):
            return until.astimezone(start.tzinfo)
        return until
    if "COUNT" not in rule:
        return None
    last = None
    for last in _rule_set(rrule, start, ()):  # noqa: B007 - at most MAX_COUNT steps
        pass
    return start if last is None else _from_rule_time(last, start)


def is_occurrence(*, rrule: str, exdates: list[str], start: date | datetime, key: str) -> bool:
    """Tell whether `key` names an occurrence the series really has (and has not cancelled)."""
    parse_occurrence_key(key, all_day=not isinstance(start, datetime))  # a malformed key is an error
    return key in keys_among([key], rrule=rrule, exdates=exdates, start=start)


def shift_key(key: str, *, old_start: date | datetime, new_start: date | datetime, keep_date=False) -> str:
    """Return the key an occurrence gets when its series moves from `old_start` to `new_start`.

    The shift is taken on the occurrence's wall-clock time in each start's own zone, so moving a
    10:00 series to 11:00 moves each occurrence to 11:00 local on either side of DST, and moving
    it to another zone keeps each on its day. With `keep_date`, only the time of day changes: the
    right mapping when the rule, not the start, decides the days (BYDAY, BYMONTHDAY).
    """
    nominal = _nominal_wall_clock(key, old_start)
    if keep_date:
        shifted = datetime.combine(nominal.date(), _wall_clock(new_start, new_start).time())
    else:
        shifted = nominal + (_wall_clock(new_start, new_start) - _wall_clock(old_start, old_start))
    if isinstance(new_start, datetime):
        return occurrence_key(shifted.replace(tzinfo=new_start.tzinfo))
    return occurrence_key(shifted.date())


def keys_among(keys, *, rrule: str, exdates: list[str], start: date | datetime) -> set[str]:
    """Return those of `keys` that name occurrences of the series (one expansion for them all)."""
    all_day = not isinstance(start, datetime)
    moments = [parse_occurrence_key(key, all_day=all_day) for key in keys
               if _is_key_of(key, all_day)]
    if not moments:
        return set()
    if not all_day:
        moments = [moment.astimezone(start.tzinfo) for moment in moments]
    day = timedelta(days=1)
    found = occurrences_between(rrule=rrule, exdates=exdates, start=start, end=start,
                                window_start=min(moments) - day, window_end=max(moments) + day)
    return {occurrence_key(moment) for moment, _ in found} & set(keys)


def _is_key_of(key, all_day):
    try:
        parse_occurrence_key(key, all_day=all_day)
    except RecurrenceError:
        return False
    return True


def _nominal_wall_clock(key: str, start: date | datetime) -> datetime:
    """The wall-clock time the rule gave an occurrence: its day, at the series' time of day.

    Not the key's instant read back in the zone, which differs for an occurrence in a DST gap
    (02:30 on a spring-forward day happens at 03:30).
    """
    original = parse_occurrence_key(key, all_day=not isinstance(start, datetime))
    if not isinstance(start, datetime):
        return datetime.combine(original, time.min)
    return datetime.combine(original.astimezone(start.tzinfo).date(), _wall_clock(start, start).time())


def same_start(first: date | datetime, second: date | datetime) -> bool:
    """Tell whether two series starts are the same wall-clock moment in the same zone."""
    if type(first) is not type(second):
        return False
    if isinstance(first, datetime):
        return first.replace(tzinfo=None) == second.replace(tzinfo=None) and str(first.tzinfo) == str(
            second.tzinfo)
    return first == second


def all_day_window(window_start: datetime, window_end: datetime, zone) -> tuple[date, date]:
    """Return the dates [first, last) that an instant window covers for a viewer in `zone`."""
    first = window_start.astimezone(zone).date()
    local_end = window_end.astimezone(zone)
    last = local_end.date() + (timedelta(days=1) if local_end.time() != time.min else timedelta())
    return first, last


def until_date(rrule: str, zone) -> date | None:
    """Return the last day of a rule's UNTIL, as the series' zone sees it."""
    until = (vRecur.from_ical(rrule).get("UNTIL") or [None])[0]
    if isinstance(until, datetime):
        return until.astimezone(zone).date() if until.tzinfo else until.date()
    return until


def _parse(text: str) -> vRecur:
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:"):]
    if not value:
        raise RecurrenceError("The recurrence rule is empty.")
    if "\n" in value or ":" in value:
        raise RecurrenceError("Give one RRULE only (exceptions go in the excluded dates).")
    try:
        rule = vRecur.from_ical(value)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"“{value}” is not a valid RRULE.") from exc
    frequency = (rule.get("FREQ") or [""])[0]
    if not frequency:
        raise RecurrenceError(f"“{value}” has no FREQ; write for example FREQ=WEEKLY;BYDAY=MO.")
    if frequency not in FREQUENCIES:
        raise RecurrenceError(f"FREQ must be one of {', '.join(FREQUENCIES)}, not {frequency}.")
    unknown = sorted(set(rule) - set(PARTS))
    if unknown:
        raise RecurrenceError(f"{', '.join(unknown)} cannot be used; a rule takes {', '.join(PARTS)}.")
    if "UNTIL" in rule and "COUNT" in rule:
        raise RecurrenceError("A rule may end with UNTIL or COUNT, not both.")
    _check_number(rule, "INTERVAL", 1, MAX_INTERVAL)
    _check_number(rule, "COUNT", 1, MAX_COUNT)
    _check_number(rule, "BYMONTH", 1, 12)
    _check_number(rule, "BYMONTHDAY", 1, 31, signed=True)
    frequency = rule["FREQ"][0]
    # BYSETPOS picks within one period's candidates: beyond their number it never matches.
    candidates = {"DAILY": 1, "WEEKLY": max(1, len(rule.get("BYDAY", []))), "MONTHLY": 31, "YEARLY": 366}
    _check_number(rule, "BYSETPOS", 1, candidates[frequency], signed=True)
    for day in rule.get("BYDAY", []):
        position = str(day)[:-2].lstrip("+")
        if position and frequency in ("DAILY", "WEEKLY"):
            raise RecurrenceError(f"BYDAY={day}: a position before the day fits monthly and yearly rules only.")
        limit = 5 if frequency == "MONTHLY" else 53
        if position and not (position.lstrip("-").isdigit() and 1 <= abs(int(position)) <= limit):
            raise RecurrenceError(f"BYDAY={day}: the position must be from ±1 to ±{limit}.")
    until = (rule.get("UNTIL") or [None])[0]
    if until is not None and not EARLIEST_YEAR <= until.year <= LATEST_YEAR:
        raise RecurrenceError(f"UNTIL must fall within the years {EARLIEST_YEAR}–{LATEST_YEAR}.")
    return rule


def _check_number(rule, part, lowest, highest, signed=False):
    for value in rule.get(part, []):
        size = abs(value) if signed and isinstance(value, int) else value
        if not isinstance(value, int) or not lowest <= size <= highest:
            span = f"±{lowest} to ±{highest}" if signed else f"{lowest} to {highest}"
            raise RecurrenceError(f"{part} must be a whole number from {span}.")


def _check_possible(rule, start):
    """Refuse the combinations that never occur, before dateutil searches until the year 9999."""
    months = [int(month) for month in rule.get("BYMONTH", [])] or list(_MONTH_DAYS)
    days = [int(day) for day in rule.get("BYMONTHDAY", [])]
    if days and not any(abs(day) <= _MONTH_DAYS.get(month, 0) for day in days for month in months):
        raise RecurrenceError("No chosen month has that day: the rule never occurs.")
    interval = int((rule.get("INTERVAL") or [1])[0])
    weekdays = {str(day)[-2:] for day in rule.get("BYDAY", [])}
    if rule["FREQ"][0] == "DAILY" and interval % 7 == 0 and weekdays:
        start_day = _WEEKDAYS[start.weekday()]
        if start_day not in weekdays:
            raise RecurrenceError(f"Every {interval} days from a {start_day} never falls on {', '.join(weekdays)}.")


def _rule_set(rrule: str, start: date | datetime, exdates) -> rruleset:
    dtstart = _as_rule_time(start)
    try:
        rules = rrulestr(rrule, dtstart=dtstart, forceset=True)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise RecurrenceError(f"“{rrule}” is not a valid RRULE: {exc}.") from exc
    all_day = not isinstance(start, datetime)
    for key in exdates:
        rules.exdate(_as_rule_time(parse_occurrence_key(key, all_day=all_day)))
    return rules


def _rebased(rrule: str, start: date | datetime, earliest: date | datetime) -> date | datetime:
    """Move the start of an endless daily or weekly rule forward by whole periods, next to `earliest`.

    Expanding a window then costs the same however long ago the series began. Whole periods keep
    every occurrence where it was; COUNT counts from the real start, so those rules stay as they are.
    """
    rule = vRecur.from_ical(rrule)
    if "COUNT" in rule or rule["FREQ"][0] not in ("DAILY", "WEEKLY"):
        return start
    period = int((rule.get("INTERVAL") or [1])[0]) * (7 if rule["FREQ"][0] == "WEEKLY" else 1)
    first = _wall_clock(start, start)
    target = _wall_clock(earliest, start) - timedelta(days=period)
    periods = (target - first).days // period
    if periods <= 0:
        return start
    moved = first + timedelta(days=periods * period)
    return moved.replace(tzinfo=start.tzinfo) if isinstance(start, datetime) else moved.date()


def _normalize_until(until: date | datetime, start: date | datetime, zone) -> date | datetime:
    if not isinstance(start, datetime):  # all-day series end on a date, as the series' zone sees it
        if isinstance(until, datetime):
            return until.astimezone(zone).date() if until.tzinfo else until.date()
        return until
    if not isinstance(until, datetime):
        until = datetime.combine(until, time(23, 59, 59), zone)
    elif until.tzinfo is None:
        until = until.replace(tzinfo=zone)
    return until.astimezone(UTC)


def _as_rule_time(value: date | datetime) -> datetime:
    """dateutil works on datetimes: dates become naive midnights."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)


def _from_rule_time(value: datetime, like: date | datetime) -> date | datetime:
    if isinstance(like, datetime):
        return value
    return value.date()


def _wall_clock(value: date | datetime, like: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(like.tzinfo).replace(tzinfo=None) if isinstance(like, datetime) else (
            value.replace(tzinfo=None))
    return datetime.combine(value, time.min)


_DAY_NAMES = dict(zip(_WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                      strict=True))
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def describe(rrule: str, zone=UTC) -> str:
    """Return an English sentence for a rule: "Every 2 weeks on Monday and Friday, 10 times"."""
    rule = vRecur.from_ical(rrule)
    unit = _UNITS.get(rule["FREQ"][0], rule["FREQ"][0].lower())
    interval = int((rule.get("INTERVAL") or [1])[0])
    text = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    weekdays = sorted(str(day) for day in rule.get("BYDAY", []))
    if unit in ("day", "week") and interval == 1 and weekdays == ["FR", "MO", "TH", "TU", "WE"]:
        text = "Every weekday"
    elif rule.get("BYDAY"):
        text += " on " + _join([_describe_day(str(day)) for day in rule["BYDAY"]])
    if rule.get("BYMONTHDAY"):
        text += " on day " + _join([str(day) for day in rule["BYMONTHDAY"]])
    if rule.get("BYSETPOS"):
        positions = [_ORDINALS.get(int(position), f"#{position}") for position in rule["BYSETPOS"]]
        text += f" ({_join(positions)} of them)"
    if rule.get("BYMONTH"):
        text += " in " + _join([date(2000, int(month), 1).strftime("%B") for month in rule["BYMONTH"]])
    if "COUNT" in rule:
        text += f", {rule['COUNT'][0]} times"
    elif "UNTIL" in rule:
        text += f", until {until_date(rrule, zone):%d %b %Y}"
    return text


def _describe_day(value):
    weekday, position = value[-2:], value[:-2]
    name = _DAY_NAMES.get(weekday, weekday)
    if position and position.lstrip("+-").isdigit():
        return f"the {_ORDINALS.get(int(position), position)} {name}"
    return name


def _join(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
