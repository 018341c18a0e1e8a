"""CalDAV calendar objects (iCalendar, RFC 5545) and the neutral event, both ways.

One resource holds a whole series: its master VEVENT (RRULE, EXDATE) and one VEVENT per changed
occurrence (RECURRENCE-ID), all with one UID (RFC 4791 4.1); a cancelled occurrence is an EXDATE, or an
override with STATUS:CANCELLED. Reading is icalendar's; floating times are read in the calendar's zone,
and a calendar with X-WR-TIMEZONE (Google's exports) is first made standard by x_wr_timezone. Writing
changes the resource the server holds in place, so that what the CRM does not hold (alarms, attendees'
answers, other applications' X- properties) stays as it was.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import x_wr_timezone
from icalendar import Calendar
from icalendar import Event as VEvent
from icalendar.prop import vRecur

from calendarsync.core.event import Event
from crm.recurrence import RecurrenceError, occurrence_key, parse_occurrence_key

PRODID = "-//crm-calendarsync//CalDAV//EN"


class Unreadable(ValueError):
    """A calendar object this module cannot understand; it is skipped and reported, never guessed."""


class NotAnEvent(Unreadable):
    """A calendar object with no event in it (a to-do, a journal): skipped, with nothing to report."""


class Cancelled(NotAnEvent):
    """A resource whose event, or whole series, has STATUS:CANCELLED: no live event, read as a deletion (as
    Google and Graph report a cancelled event). A cancelled override is only its occurrence cancelled."""


@dataclass(frozen=True)
class CalendarObject:
    """What one resource holds: a single event, or a series (`events[0]`) and its changed occurrences."""

    uid: str
    events: list[Event]
    updated: dict[str, datetime]  # by recurrence_id ("" for the series or single event): LAST-MODIFIED or DTSTAMP


def read(data: bytes, zone: str = "UTC") -> CalendarObject:
    """The events of a resource; `zone`, the calendar's (calendar-timezone), places floating times."""
    try:
        calendar = x_wr_timezone.to_standard(Calendar.from_ical(data))
        components = calendar.walk("VEVENT")
    except (ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"it is not iCalendar that can be read ({exc})") from exc
    if not components:
        raise NotAnEvent("it holds no event")
    uids = {str(component.get("UID", "")) for component in components}
    if len(uids) != 1 or not next(iter(uids)):
        raise Unreadable("it holds several events, or one without a UID")
    uid = uids.pop()
    masters = [component for component in components if component.get("RECURRENCE-ID") is None]
    if len(masters) != 1:
        raise Unreadable("it holds changed occurrences of a series without the series itself"
                         if not masters else "it holds the same event twice")
    if _cancelled(masters[0]):
        raise Cancelled("it is cancelled")
    try:
        master = _event(masters[0], uid, ZoneInfo(zone))
        updated = {"": _updated(masters[0])}
        series_zone = ZoneInfo(master.time_zone) if master.time_zone else ZoneInfo(zone)
        overrides, cancelled = [], set()
        for component in components:
            if component is masters[0]:
                continue
            key = _key(component.decoded("RECURRENCE-ID"), series_zone)
            if _cancelled(component):
                cancelled.add(key)
            else:
                overrides.append(_event(component, uid, series_zone, recurrence_id=key))
                updated[key] = _updated(component)
    except Unreadable:
        raise
    except (ValueError, KeyError, TypeError, OverflowError, RecurrenceError) as exc:
        raise Unreadable(f"its dates cannot be read ({exc})") from exc
    if cancelled:
        master = replace(master, exdates=tuple(sorted(set(master.exdates) | cancelled)))
    return CalendarObject(uid, [master, *overrides], updated)


def write(events: list[Event], existing: bytes | None = None) -> bytes:
    """The resource holding `events` (a single event, or a series and its changed occurrences), written over
    `existing` (the resource as the server holds it) so that what the CRM does not hold is kept."""
    calendar = _parse_kept(existing) if existing else None
    if calendar is None:
        calendar = Calendar()
        calendar.add("PRODID", PRODID)
        calendar.add("VERSION", "2.0")
    master = events[0]
    keep = {event.recurrence_id for event in events}
    by_key = {}
    held = [component for component in calendar.subcomponents if component.name == "VEVENT"]
    if any(_cancelled(component) and component.get("RECURRENCE-ID") is None for component in held):
        keep = set()  # a cancelled event written again is a new one: nothing of the cancelled one is kept
    for component in held:
        recurrence = component.get("RECURRENCE-ID")
        key = _key(component.decoded("RECURRENCE-ID"), _zone_of(master)) if recurrence is not None else ""
        if key in keep and key not in by_key:
            by_key[key] = component
        else:  # an occurrence the CRM no longer changes (or cancelled: now an EXDATE)
            calendar.subcomponents.remove(component)
    for event in events:
        component = by_key.get(event.recurrence_id)
        if component is None:
            component = VEvent()
            calendar.add_component(component)
        _fill(component, event, master)
    calendar.add_missing_timezones()
    return calendar.to_ical()


# Reading


def _event(component, uid: str, zone: ZoneInfo, recurrence_id="") -> Event:
    start, end = component.start, component.end
    all_day = not isinstance(start, datetime)
    if all_day:
        end = end if isinstance(end, date) and not isinstance(end, datetime) and end > start else \
            start + timedelta(days=1)
        time_zone = ""
    else:
        start, end = _aware(start, zone), _aware(end if isinstance(end, datetime) else start, zone)
        time_zone = _zone_name(start.tzinfo)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    rrules = component.rrules
    if len(rrules) > 1:
        raise ValueError("it has several RRULEs")
    if component.rdates:  # recurring-ical-events could expand them, but a CRM series has no place for them
        raise Unreadable("it repeats on dates listed one by one (RDATE), which a CRM series cannot hold (it has "
                         "a rule and its cancelled dates only): it stays in the calendar, not synced")
    rrule = rrules[0].to_ical().decode() if rrules and not recurrence_id else ""
    own_zone = ZoneInfo(time_zone) if time_zone else zone
    exdates = tuple(sorted({_key(moment, own_zone) for moment in component.exdates})) if rrule else ()
    return Event(
        uid=uid, summary=str(component.get("SUMMARY", "")), description=str(component.get("DESCRIPTION", "")),
        location=str(component.get("LOCATION", "")), all_day=all_day, start=start, end=end, time_zone=time_zone,
        rrule=rrule, exdates=exdates, recurrence_id=recurrence_id,
        busy=str(component.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT",
        private=str(component.get("CLASS", "PUBLIC")).upper() in ("PRIVATE", "CONFIDENTIAL"),
        attendees=tuple(_attendee(attendee) for attendee in component.attendees),
    )


def _cancelled(component) -> bool:
    return str(component.get("STATUS", "")).upper() == "CANCELLED"


def _updated(component) -> datetime | None:
    for name in ("LAST-MODIFIED", "DTSTAMP"):
        if component.get(name) is not None:
            moment = component.decoded(name)
            if isinstance(moment, datetime):
                return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _key(moment, zone: ZoneInfo) -> str:
    """The occurrence key of a RECURRENCE-ID or EXDATE (floating ones in `zone`)."""
    if isinstance(moment, datetime):
        return occurrence_key(_aware(moment, zone))
    return occurrence_key(moment)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _zone_name(tzinfo) -> str:
    """The IANA name of a zone icalendar gives (zoneinfo for known TZIDs); UTC for a zone with none."""
    if tzinfo is UTC or getattr(tzinfo, "key", "") in ("UTC", "Etc/UTC"):
        return "UTC"
    return getattr(tzinfo, "key", "") or getattr(tzinfo, "zone", "") or "UTC"


def _attendee(attendee) -> tuple[str, str]:
    email = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:").lower()
    return email, str(attendee.params.get("CN", ""))


# Writing


def _parse_kept(existing: bytes):
    try:
        return Calendar.from_ical(existing)
    except ValueError:
        return None  # what the server held cannot be read: written anew


def _zone_of(master: Event) -> ZoneInfo:
    return ZoneInfo(master.time_zone) if master.time_zone and not master.all_day else ZoneInfo("UTC")


def _fill(component, event: Event, master: Event):
    """Set what the CRM holds on a VEVENT, leaving the rest of it (alarms, attendees, X- properties) alone."""
    zone = ZoneInfo(event.time_zone or "UTC")  # never the host's own zone
    for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "SUMMARY", "DESCRIPTION", "LOCATION",
                 "RRULE", "EXDATE", "RDATE", "RECURRENCE-ID", "TRANSP", "CLASS"):
        component.pop(name, None)
    component.add("UID", event.uid)
    component.add("DTSTAMP", datetime.now(UTC))
    if event.all_day:
        component.add("DTSTART", event.start)
        component.add("DTEND", event.end)
    else:
        component.add("DTSTART", event.start.astimezone(zone))
        component.add("DTEND", event.end.astimezone(zone))
    for name, value in (("SUMMARY", event.summary), ("DESCRIPTION", event.description),
                        ("LOCATION", event.location)):
        if value:
            component.add(name, value)
    if event.recurrence_id:
        component.add("RECURRENCE-ID", _moment_of(event.recurrence_id, master))
    elif event.rrule:
        component.add("RRULE", _rule(event.rrule))
        if event.exdates:
            component.add("EXDATE", [_moment_of(key, master) for key in sorted(event.exdates)])
    component.add("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.private:
        component.add("CLASS", "PRIVATE")
    component["SEQUENCE"] = int(component.get("SEQUENCE", 0)) + 1


def _moment_of(key: str, master: Event):
    """An occurrence key as the series' DTSTART has its moments: a date, or a time in the series' zone."""
    moment = parse_occurrence_key(key, all_day=master.all_day)
    return moment if master.all_day else moment.astimezone(_zone_of(master))


def _rule(text: str):
    return vRecur.from_ical(text.removeprefix("RRULE:"))
