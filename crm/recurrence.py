"""Recurrence rules: validation, occurrence keys and expansion, with dateutil and icalendar.

Plain functions over plain values (no ORM), so the agenda, the API and the sync engine expand a
series the same way. A series starts at `start`, repeats by an RFC 5545 RRULE, and skips the
occurrences listed in `exdates`. Timed series are expanded in their own time zone, so that a
10:00 meeting stays at 10:00 across daylight-saving changes; all-day series are expanded on dates.

Occurrences are named by their *key*: the iCalendar RECURRENCE-ID of their original start, in UTC
for timed series ("20261121T090000Z") and as a date for all-day series ("20261121").
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rruleset, rrulestr
from icalendar.prop import vRecur

# The rules a CRM user can mean; faster ones would make one series expand into millions of rows.
SUPPORTED_FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")


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
            return datetime.strptime(key, "%Y%m%d").date()  # noqa: DTZ007 - a date, no zone
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError) as exc:
        expected = "YYYYMMDD" if all_day else "YYYYMMDDTHHMMSSZ"
        raise RecurrenceError(f"“{key}” is not an occurrence key ({expected}).") from exc


def normalize_rrule(text: str, *, start: date | datetime) -> str:
    """Return `text` as a canonical RRULE value for a series starting at `start`, or raise.

    Accepts an optional "RRULE:" prefix. UNTIL is rewritten the way RFC 5545 wants it: in UTC
    for timed series (a bare date means the end of that day in the series' zone) and as a date
    for all-day series. A rule that yields no occurrence at all is refused.
    """
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
    if frequency not in SUPPORTED_FREQUENCIES:
        raise RecurrenceError(f"FREQ must be one of {', '.join(SUPPORTED_FREQUENCIES)}, not {frequency}.")
    if "UNTIL" in rule and "COUNT" in rule:
        raise RecurrenceError("A rule may end with UNTIL or COUNT, not both.")
    if "UNTIL" in rule:
        rule["UNTIL"] = [_normalize_until(rule["UNTIL"][0], start)]
    canonical = rule.to_ical().decode()
    if next(iter(_rule_set(canonical, start, ())), None) is None:
        raise RecurrenceError("The rule produces no occurrence (does it end before it starts?).")
    return canonical


def occurrences_between(
    *, rrule: str, exdates: list[str], start: date | datetime, end: date | datetime,
    window_start: date | datetime, window_end: date | datetime,
) -> Iterator[tuple[date | datetime, date | datetime]]:
    """Yield (start, end) of each occurrence that overlaps [window_start, window_end).

    `start`/`end` are the first occurrence: aware datetimes in the series' own zone, or dates.
    The window is aware datetimes for timed series and dates for all-day series.
    """
    duration = end - start
    rules = _rule_set(rrule, start, exdates)
    lower, upper = _as_rule_time(window_start - duration), _as_rule_time(window_end)
    for occurrence in rules.between(lower, upper, inc=False):
        occurrence_start = _from_rule_time(occurrence, start)
        yield occurrence_start, occurrence_start + duration


def last_start(*, rrule: str, exdates: list[str], start: date | datetime) -> date | datetime | None:
    """Return the start of the last occurrence, or None when the series never ends."""
    rules = _rule_set(rrule, start, exdates)
    parsed = vRecur.from_ical(rrule)
    if "COUNT" not in parsed and "UNTIL" not in parsed:
        return None
    last = None
    for last in rules:  # noqa: B007 - a finite rule: walk it to its end
        pass
    return None if last is None else _from_rule_time(last, start)


def _rule_set(rrule: str, start: date | datetime, exdates) -> rruleset:
    dtstart = _as_rule_time(start)
    try:
        rules = rrulestr(rrule, dtstart=dtstart, forceset=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"“{rrule}” is not a valid RRULE: {exc}.") from exc
    all_day = not isinstance(start, datetime)
    for key in exdates:
        rules.exdate(_as_rule_time(parse_occurrence_key(key, all_day=all_day)))
    return rules


def _normalize_until(until: date | datetime, start: date | datetime) -> date | datetime:
    if not isinstance(start, datetime):  # all-day series end on a date
        if isinstance(until, datetime):
            return until.astimezone(UTC).date() if until.tzinfo else until.date()
        return until
    zone = start.tzinfo
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


def all_day_window(window_start: datetime, window_end: datetime, zone) -> tuple[date, date]:
    """Return the dates [first, last) that an instant window covers for a viewer in `zone`."""
    first = window_start.astimezone(zone).date()
    local_end = window_end.astimezone(zone)
    last = local_end.date() + (timedelta(days=1) if local_end.time() != time.min else timedelta())
    return first, last


def is_occurrence(*, rrule: str, exdates: list[str], start: date | datetime, key: str) -> bool:
    """Tell whether `key` names an occurrence the series really has (and has not cancelled)."""
    original = parse_occurrence_key(key, all_day=not isinstance(start, datetime))
    if isinstance(start, datetime):
        original = original.astimezone(start.tzinfo)
    rules = _rule_set(rrule, start, exdates)
    moment = _as_rule_time(original)
    return moment in rules.between(moment, moment, inc=True)


def shift_key(key: str, *, old_start: date | datetime, new_start: date | datetime) -> str:
    """Return the key an occurrence gets when its series moves from `old_start` to `new_start`.

    The shift is taken on wall-clock time, so every occurrence keeps its place in the series:
    moving a 10:00 series to 11:00 moves each occurrence to 11:00 local, either side of DST.
    """
    original = parse_occurrence_key(key, all_day=not isinstance(old_start, datetime))
    delta = _wall_clock(new_start, new_start) - _wall_clock(old_start, old_start)
    shifted = _wall_clock(original, old_start) + delta
    if isinstance(new_start, datetime):
        return occurrence_key(shifted.replace(tzinfo=new_start.tzinfo))
    return occurrence_key(shifted.date())


def _wall_clock(value: date | datetime, like: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(like.tzinfo).replace(tzinfo=None)
    return datetime.combine(value, time.min)


_DAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
              "SA": "Saturday", "SU": "Sunday"}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_UNITS = {"HOURLY": "hour", "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def describe(rrule: str) -> str:
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
    if "COUNT" in rule:
        text += f", {rule['COUNT'][0]} times"
    elif "UNTIL" in rule:
        until = rule["UNTIL"][0]
        text += f", until {until:%d %b %Y}"
    return text


def _describe_day(value):
    weekday = value[-2:]
    position = value[:-2]
    name = _DAY_NAMES.get(weekday, weekday)
    if position and position.lstrip("+-").isdigit():
        return f"the {_ORDINALS.get(int(position), position)} {name}"
    return name


def _join(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
