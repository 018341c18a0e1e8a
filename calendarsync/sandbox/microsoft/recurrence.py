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


def _invalid(message):
    return GraphError(400, "ErrorPropertyValidationFailure", f"At least one property failed validation. {message}")


def normalized(recurrence, default_zone: str) -> dict:
    """The recurrence as Graph echoes it, every field present; raise GraphError when it cannot be a series."""
    if not isinstance(recurrence, dict) or not isinstance(recurrence.get("pattern"), dict) \
            or not isinstance(recurrence.get("range"), dict):
        raise _invalid("A recurrence needs a pattern and a range.")
    pattern, span = recurrence["pattern"], recurrence["range"]
    kind = pattern.get("type")
    if kind not in PATTERNS:
        raise _invalid(f"Recurrence pattern type '{kind}' is not supported.")
    days = pattern.get("daysOfWeek") or []
    if not isinstance(days, list) or any(day not in WEEKDAYS for day in days):
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
    index = pattern.get("index") or "first"
    first_day = pattern.get("firstDayOfWeek") or "sunday"
    if index not in INDEXES or first_day not in WEEKDAYS:
        raise _invalid("index or firstDayOfWeek is not valid.")
    range_type = span.get("type")
    if range_type not in RANGES:
        raise _invalid(f"Recurrence range type '{range_type}' is not supported.")
    start_date = _date(span.get("startDate"), "startDate")
    end_date = _date(span.get("endDate"), "endDate") if range_type == "endDate" else None
    if end_date is not None and end_date < start_date:
        raise _invalid("The recurrence range ends before it starts.")
    count = span.get("numberOfOccurrences", 0)
    if range_type == "numbered" and not (isinstance(count, int) and 0 < count <= 999):
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
        return date.fromisoformat(str(text))
    except ValueError as exc:
        raise _invalid(f"The recurrence range needs a {name} (YYYY-MM-DD).") from exc


def rule(master: dict) -> tuple[rrule.rrule, object, timedelta]:
    """The master's occurrences as a dateutil rule over naive local times, with their zone and duration."""
    pattern, span = master["recurrence"]["pattern"], master["recurrence"]["range"]
    zone = times.zone_named(span["recurrenceTimeZone"])
    local_start = times.utc(master["start"]).astimezone(zone).replace(tzinfo=None)
    duration = times.utc(master["end"]).astimezone(zone).replace(tzinfo=None) - local_start  # wall-clock
    kind = pattern["type"]
    options = {"interval": pattern["interval"], "wkst": WEEKDAYS[pattern["firstDayOfWeek"]],
               "dtstart": datetime.combine(date.fromisoformat(span["startDate"]), local_start.time())}
    days = [WEEKDAYS[day] for day in pattern["daysOfWeek"]]
    if kind == "weekly":
        options["byweekday"] = days
    elif kind.startswith("absolute"):
        options["bymonthday"] = pattern["dayOfMonth"]  # a 31st only where the month has one, as Outlook does
    elif kind.startswith("relative"):
        options.update(byweekday=days, bysetpos=INDEXES[pattern["index"]])
    if kind.endswith("Yearly"):
        options["bymonth"] = pattern["month"]
    if span["type"] == "numbered":
        options["count"] = span["numberOfOccurrences"]
    elif span["type"] == "endDate":
        options["until"] = datetime.combine(date.fromisoformat(span["endDate"]), datetime.max.time())
    return rrule.rrule(PATTERNS[kind], **options), zone, duration


def expand(master: dict, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of the series that overlaps [start, end), cancelled and changed ones included."""
    series, zone, duration = rule(master)
    low = start.astimezone(zone).replace(tzinfo=None) - duration - timedelta(days=1)
    high = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for local in series.between(low, high, inc=True):
        begin = local.replace(tzinfo=zone).astimezone(UTC)
        finish = (local + duration).replace(tzinfo=zone).astimezone(UTC)
        if begin < end and (finish > start or (finish == begin and begin >= start)):
            found.append(Occurrence(begin, begin, finish))
    return found


def first(master: dict) -> Occurrence | None:
    series, zone, duration = rule(master)
    local = next(iter(series), None)
    if local is None:
        return None
    begin = local.replace(tzinfo=zone).astimezone(UTC)
    return Occurrence(begin, begin, (local + duration).replace(tzinfo=zone).astimezone(UTC))


def at(master: dict, original_start: datetime) -> Occurrence | None:
    """The occurrence that starts the series at `original_start`, if there is one."""
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
    event = {name: value for name, value in master.items() if name not in ("recurrence", "_cancelled")}
    local_date = found.original_start.astimezone(times.zone_named(master["recurrence"]["range"]["recurrenceTimeZone"]))
    goid = master["iCalUId"]
    event.update({"id": occurrence_id(master["id"], found.original_start), "type": "occurrence",
                  "seriesMasterId": master["id"], "recurrence": None,
                  "originalStart": found.original_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "start": times.stored(found.start), "end": times.stored(found.end),
                  "iCalUId": goid[:GOID_DATE.start] + f"{local_date.year:04X}{local_date.month:02X}"
                                                      f"{local_date.day:02X}" + goid[GOID_DATE.stop:]})
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
