"""Expanding Google recurring events into instances, as `singleEvents=true` and `instances` do."""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rruleset, rrulestr

from .events import parse_moment

# Unbounded rules are cut here when no timeMax is given.
MAX_INSTANCES = 730


def instance_stamp(original: date | datetime) -> str:
    if isinstance(original, datetime):
        return original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return original.strftime("%Y%m%d")


def original_start_of(stamp: str, master: dict) -> dict:
    """The EventDateTime of an instance's original start, in the master's kind and zone."""
    if "T" not in stamp:
        return {"date": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"}
    moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    zone_name = master["start"].get("timeZone") or "UTC"
    return {"dateTime": moment.astimezone(zoneinfo.ZoneInfo(zone_name)).isoformat(), "timeZone": zone_name}


def instance(master: dict, stamp: str, start: dict | None = None, end: dict | None = None) -> dict:
    """An unchanged instance of a recurring event, as Google shows it (its start and end computed when
    not given). A shallow copy: writers deep-copy what they change."""
    original = original_start_of(stamp, master)
    if start is None:
        begin, first, last = (parse_moment(original, "start"), parse_moment(master["start"], "start"),
                              parse_moment(master["end"], "end"))
        finish = begin + (last - first)  # the master's duration
        start, end = original, ({"date": finish.isoformat()} if "date" in original else
                                {"dateTime": finish.isoformat(), "timeZone": master["start"].get("timeZone")})
    event = {name: value for name, value in master.items() if name != "recurrence"}
    event.update(id=f"{master['id']}_{stamp}", recurringEventId=master["id"], originalStartTime=original,
                 start=start, end=end)
    return event


def instances(master: dict, time_min: datetime | None, time_max: datetime | None) -> list[tuple[str, dict, dict]]:
    """Return (stamp, start, end) EventDateTimes of the master's instances overlapping the window."""
    start = parse_moment(master["start"], "start")
    end = parse_moment(master["end"], "end")
    duration = end - start
    zone_name = master["start"].get("timeZone")
    rules = _rule_set(master.get("recurrence") or [], start, zone_name)
    found = []
    for occurrence in rules:
        occurrence_start = occurrence.date() if isinstance(start, date) and not isinstance(start, datetime) else (
            occurrence)
        occurrence_end = occurrence_start + duration
        if time_max is not None and instant(occurrence_start) >= time_max:
            break
        if time_min is not None and instant(occurrence_end) <= time_min:
            continue
        found.append((instance_stamp(occurrence_start), _event_time(occurrence_start, zone_name),
                      _event_time(occurrence_end, zone_name)))
        if time_max is None and len(found) >= MAX_INSTANCES:
            break
    return found


def is_instance(master: dict, stamp: str) -> bool:
    """Tell whether the master's rule has an instance that originally starts at `stamp`."""
    wanted = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ" if "T" in stamp else "%Y%m%d").replace(tzinfo=UTC)
    window = timedelta(days=1)
    return stamp in [found for found, _, _ in instances(master, wanted - window, wanted + window)]


def _rule_set(lines, start, zone_name) -> rruleset:
    all_day = not isinstance(start, datetime)
    dtstart = datetime.combine(start, time.min) if all_day else start.astimezone(zoneinfo.ZoneInfo(zone_name))
    rules = rruleset()
    for line in lines:
        name, _, value = line.partition(":")
        kind = name.split(";")[0].upper()
        if kind == "RRULE":
            rules.rrule(rrulestr(value, dtstart=dtstart))
        elif kind in ("EXDATE", "RDATE"):
            zone = _tzid(name) or (None if all_day else dtstart.tzinfo)
            for text in value.split(","):
                moment = _parse_ical_time(text.strip(), zone, all_day)
                (rules.exdate if kind == "EXDATE" else rules.rdate)(moment)
    if not lines:
        rules.rdate(dtstart)
    return rules


def _tzid(name):
    for parameter in name.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.upper() == "TZID":
            return zoneinfo.ZoneInfo(value)
    return None


def _parse_ical_time(text, zone, all_day):
    if len(text) == 8:
        return datetime.strptime(text, "%Y%m%d")  # noqa: DTZ007 - a date, as dateutil wants it
    moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")  # noqa: DTZ007 - zone added below
    if text.endswith("Z"):
        moment = moment.replace(tzinfo=UTC)
    elif zone is not None:
        moment = moment.replace(tzinfo=zone)
    if all_day:
        return datetime.combine(moment.date(), time.min)
    return moment


def instant(value):
    """Return an aware instant for a date (its UTC midnight) or a datetime."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, UTC)


def _event_time(value, zone_name):
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat(), "timeZone": zone_name}
    return {"date": value.isoformat()}
