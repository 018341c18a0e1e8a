"""Series in Graph's terms: patternedRecurrence checked and expanded, occurrences derived from it.

Exchange stores a series as its master; occurrences are computed, and an occurrence that was
changed is kept as an exception. Occurrence ids here are opaque to clients but carry the master
id and the original start, so any occurrence can be found again without being stored.
"""

import base64
import binascii
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from dateutil import rrule

from . import times
from .errors import GraphError

PATTERNS = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "absoluteMonthly": rrule.MONTHLY,
            "relativeMonthly": rrule.MONTHLY, "absoluteYearly": rrule.YEARLY, "relativeYearly": rrule.YEARLY}
RANGES = ("endDate", "noEnd", "numbered")
WEEKDAYS = {"monday": rrule.MO, "tuesday": rrule.TU, "wednesday": rrule.WE, "thursday": rrule.TH,
            "friday": rrule.FR, "saturday": rrule.SA, "sunday": rrule.SU}
INDEXES = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
OCCURRENCE_MARK = "occ|"
GOID_CLASS = "040000008200E00074C5B7101A82E008"  # how Outlook's global object ids (iCalUId) begin
GOID_DATE = slice(32, 40)  # where Outlook's global object id keeps an occurrence's date


class Occurrence(NamedTuple):
    original_start: datetime  # UTC, the occurrence's place in the series
    start: datetime
    end: datetime
    local: datetime  # the naive wall-clock start in the series' zone


def _invalid(message):
    return GraphError(400, "ErrorPropertyValidationFailure", f"At least one property failed validation. {message}")


def _text(value, name, choices=None):
    if not isinstance(value, str) or (choices is not None and value not in choices):
        raise _invalid(f"'{value}' is not a valid {name}.")
    return value


def normalized(recurrence, default_zone: str) -> dict:
    """The recurrence as Graph echoes it, every field present; raise GraphError when it cannot be a series."""
    if not isinstance(recurrence, dict) or not isinstance(recurrence.get("pattern"), dict) \
            or not isinstance(recurrence.get("range"), dict):
        raise _invalid("A recurrence needs a pattern and a range.")
    pattern, span = recurrence["pattern"], recurrence["range"]
    kind = _text(pattern.get("type"), "recurrence pattern type", PATTERNS)
    days = pattern.get("daysOfWeek") or []
    if not isinstance(days, list) or any(not isinstance(day, str) or day not in WEEKDAYS for day in days):
        raise _invalid("daysOfWeek lists unknown days.")
    if kind in ("weekly", "relativeMonthly", "relativeYearly") and not days:
        raise _invalid(f"A {kind} pattern needs daysOfWeek.")
    interval, day_of_month, month = (pattern.get(name, 0) for name in ("interval", "dayOfMonth", "month"))
    if not all(isinstance(number, int) and not isinstance(number, bool) for number in (interval, day_of_month, month)):
        raise _invalid("interval, dayOfMonth and month are numbers.")
    if not 1 <= interval <= 999:
        raise _invalid("The recurrence interval must be between 1 and 999.")
    if kind in ("absoluteMonthly", "absoluteYearly") and not 1 <= day_of_month <= 31:
        raise _invalid(f"A {kind} pattern needs a dayOfMonth from 1 to 31.")
    if kind in ("absoluteYearly", "relativeYearly") and not 1 <= month <= 12:
        raise _invalid(f"A {kind} pattern needs a month from 1 to 12.")
    index = _text(pattern.get("index") or "first", "index", INDEXES)
    first_day = _text(pattern.get("firstDayOfWeek") or "sunday", "firstDayOfWeek", WEEKDAYS)
    range_type = _text(span.get("type"), "recurrence range type", RANGES)
    start_date = _date(span.get("startDate"), "startDate")
    end_date = _date(span.get("endDate"), "endDate") if range_type == "endDate" else None
    if end_date is not None and end_date < start_date:
        raise _invalid("The recurrence range ends before it starts.")
    count = span.get("numberOfOccurrences", 0)
    if range_type == "numbered" and not (isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 999):
        raise _invalid("A numbered range needs numberOfOccurrences from 1 to 999.")
    zone_name = span.get("recurrenceTimeZone") or default_zone
    times.zone_named(zone_name)
    return {"pattern": {"type": kind, "interval": interval, "month": month, "dayOfMonth": day_of_month,
                        "daysOfWeek": days, "firstDayOfWeek": first_day, "index": index},
            "range": {"type": range_type, "startDate": start_date.isoformat(),
                      "endDate": end_date.isoformat() if end_date else "0001-01-01",
                      "recurrenceTimeZone": zone_name,
                      "numberOfOccurrences": count if range_type == "numbered" else 0}}


def _date(text, name):
    try:
        found = date.fromisoformat(text if isinstance(text, str) else "")
    except ValueError as exc:
        raise _invalid(f"The recurrence range needs a {name} (YYYY-MM-DD).") from exc
    if not times.EARLIEST.date() < found < times.LATEST.date():
        raise _invalid(f"The recurrence {name} is out of range.")
    return found


def rule(master: dict, near: datetime | None = None) -> tuple[rrule.rrule, object, timedelta]:
    """The master's occurrences as a dateutil rule over naive wall-clock times, its zone and wall duration.

    An all-day series floats (no zone). With `near`, an endless daily or weekly rule starts a whole
    number of periods before that local time instead of at its first date, so expanding a window of
    an old series costs the same as a new one.
    """
    pattern, span = master["recurrence"]["pattern"], master["recurrence"]["range"]
    zone = UTC if master.get("isAllDay") else times.zone_named(span["recurrenceTimeZone"])
    wall_start, wall_end = _wall(master, zone)
    kind = pattern["type"]
    first = datetime.combine(date.fromisoformat(span["startDate"]), wall_start.time())
    options = {"interval": pattern["interval"], "wkst": WEEKDAYS[pattern["firstDayOfWeek"]], "dtstart": first}
    days = [WEEKDAYS[day] for day in pattern["daysOfWeek"]]
    if kind == "weekly":
        options["byweekday"] = days
    elif kind.startswith("absolute"):
        # Outlook puts a 29th, 30th or 31st on the last day of the months that lack it.
        options["bymonthday"] = tuple(range(28, pattern["dayOfMonth"] + 1)) if pattern["dayOfMonth"] > 28 \
            else pattern["dayOfMonth"]
        if pattern["dayOfMonth"] > 28:
            options["bysetpos"] = -1
    elif kind.startswith("relative"):
        options.update(byweekday=days, bysetpos=INDEXES[pattern["index"]])
    if kind.endswith("Yearly"):
        options["bymonth"] = pattern["month"]
    if span["type"] == "numbered":
        options["count"] = span["numberOfOccurrences"]
    elif span["type"] == "endDate":
        options["until"] = datetime.combine(date.fromisoformat(span["endDate"]), datetime.max.time())
    if near is not None and span["type"] != "numbered" and kind in ("daily", "weekly"):
        period = timedelta(days=pattern["interval"] * (7 if kind == "weekly" else 1))
        skipped = (near - first) // period - 1
        if skipped > 0:
            options["dtstart"] = first + skipped * period
    return rrule.rrule(PATTERNS[kind], **options), zone, wall_end - wall_start


def _wall(master, zone):
    """The series' start and end as wall-clock times: as they were given when given in the series' zone
    (a start in a DST gap keeps its 02:30), else converted from the stored instants."""
    wall = master.get("_wall")
    if wall and (master.get("isAllDay") or times.zone_named(wall["zone"]) is zone):
        return datetime.fromisoformat(wall["start"]), datetime.fromisoformat(wall["end"])
    return tuple(times.utc(master[name]).astimezone(zone).replace(tzinfo=None) for name in ("start", "end"))


def _placed(local, zone, wall_duration, real_duration):
    """An occurrence's instants; in a DST gap the wall-clock end may come first, so the real length counts."""
    begin = local.replace(tzinfo=zone).astimezone(UTC)
    finish = (local + wall_duration).replace(tzinfo=zone).astimezone(UTC)
    return begin, (finish if finish >= begin else begin + real_duration)


def expand(master: dict, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of the series that overlaps [start, end), cancelled and changed ones included."""
    low = start.astimezone(UTC if master.get("isAllDay") else times.zone_named(
        master["recurrence"]["range"]["recurrenceTimeZone"])).replace(tzinfo=None)
    series, zone, wall_duration = rule(master, near=low - timedelta(days=2))
    real_duration = times.utc(master["end"]) - times.utc(master["start"])
    low -= wall_duration + timedelta(days=1)
    high = min(end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1), times.LATEST.replace(tzinfo=None))
    found = []
    for local in series.between(low, high, inc=True):
        begin, finish = _placed(local, zone, wall_duration, real_duration)
        if times.overlaps(begin, finish, start, end):
            found.append(Occurrence(begin, begin, finish, local))
    return found


def first(master: dict) -> Occurrence | None:
    series, zone, wall_duration = rule(master)
    local = next(iter(series), None)
    if local is None:
        return None
    begin, finish = _placed(local, zone, wall_duration, times.utc(master["end"]) - times.utc(master["start"]))
    return Occurrence(begin, begin, finish, local)


def at(master: dict, original_start: datetime) -> Occurrence | None:
    """The occurrence that starts the series at `original_start`, if there is one."""
    if not times.EARLIEST < original_start < times.LATEST:
        return None
    return next((found for found in expand(master, original_start, original_start + timedelta(seconds=1))
                 if found.original_start == original_start), None)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def occurrence_id(master_id: str, original_start: datetime) -> str:
    text = f"{OCCURRENCE_MARK}{master_id}|{stamp(original_start)}"
    return "AAMkAE" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_occurrence_id(event_id: str) -> tuple[str, datetime] | None:
    """(master id, original start) for an occurrence id, None for any other id."""
    if not event_id.startswith("AAMkAE"):
        return None
    encoded = event_id[6:]
    try:
        text = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        master_id, moment = text.removeprefix(OCCURRENCE_MARK).rsplit("|", 1)
        original_start = datetime.strptime(moment, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return (master_id, original_start) if text.startswith(OCCURRENCE_MARK) else None


def occurrence(master: dict, found: Occurrence) -> dict:
    """An occurrence as Graph shows it: the master's content at its own time, with the master's change key."""
    event = {name: value for name, value in master.items() if name not in ("recurrence", "_cancelled", "_wall")}
    day, goid = found.local, master["iCalUId"]
    event.update({"id": occurrence_id(master["id"], found.original_start), "type": "occurrence",
                  "seriesMasterId": master["id"], "recurrence": None,
                  "originalStart": found.original_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "start": times.stored(found.start), "end": times.stored(found.end),
                  "iCalUId": f"{goid[:GOID_DATE.start]}{day.year:04X}{day.month:02X}{day.day:02X}"
                             f"{goid[GOID_DATE.stop:]}"})
    return event


def live_occurrences(events: dict, master: dict, start: datetime, end: datetime) -> list[dict]:
    """The occurrences a calendar view shows: neither cancelled nor replaced by an exception."""
    cancelled = set(master.get("_cancelled", ()))
    found = []
    for item in expand(master, start, end):
        if stamp(item.original_start) not in cancelled \
                and occurrence_id(master["id"], item.original_start) not in events:
            found.append(occurrence(master, item))
    return found
