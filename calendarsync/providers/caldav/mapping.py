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
from icalendar.timezone import tzp

from calendarsync.core.event import Event
from calendarsync.providers.microsoft.zones import UnknownZone, iana
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
        zones = Zones(calendar, zone)
        series_zone = zones.series_zone(masters[0])
        master = _event(masters[0], uid, zones, series_zone)
        updated = {"": _updated(masters[0])}
        overrides, cancelled = [], set()
        for component in components:
            if component is masters[0]:
                continue
            key = _key(zones.moment(component["RECURRENCE-ID"], series_zone))
            if _cancelled(component):
                cancelled.add(key)
            else:
                overrides.append(_event(component, uid, zones, series_zone, recurrence_id=key))
                updated[key] = _updated(component)
    except Unreadable:
        raise
    except (ValueError, KeyError, TypeError, OverflowError, RecurrenceError) as exc:
        raise Unreadable(f"its dates cannot be read ({exc})") from exc
    if cancelled:
        master = replace(master, exdates=tuple(sorted(set(master.exdates) | cancelled)))
    return CalendarObject(uid, [master, *overrides], updated)


class Zones:
    """The zones the times of one resource name. An IANA TZID is the tz database's zone. Another TZID (Outlook's
    "W. Europe Standard Time", a client's own) is read by the resource's VTIMEZONE for it, not by icalendar's
    lookup, which keeps the first VTIMEZONE it meets for a TZID for the whole process; it is named by the Windows
    table, X-LIC-LOCATION or a globally unique TZID's Olson tail where one of them knows it, else it has no
    name (""). Floating times are in `floating`, the calendar's zone."""

    def __init__(self, calendar, floating: str = "UTC"):
        self.floating = ZoneInfo(floating or "UTC")
        self.own = {}  # TZID -> (its rules, its IANA name or "")
        for vtimezone in calendar.walk("VTIMEZONE"):
            tzid = str(vtimezone.get("TZID", ""))
            if tzid and not _known(tzid):
                names = [str(vtimezone.get("X-LIC-LOCATION", "")), *_olson_tails(tzid)]
                self.own[tzid] = (vtimezone.to_tz(tzp, lookup_tzid=False),
                                  next((found for name in names if name and (found := _known(name))), ""))

    def moment(self, prop, floating=None) -> date | datetime:
        """A DTSTART, DTEND or RECURRENCE-ID: a date, or an aware datetime."""
        return self.at(prop.dt, prop.params.get("TZID"), floating)

    def at(self, value, tzid, floating=None):
        if not isinstance(value, datetime):
            return value
        if tzid:
            return value.replace(tzinfo=self.zone(tzid, value.tzinfo)[0])
        return value if value.tzinfo is not None else value.replace(tzinfo=floating or self.floating)

    def zone(self, tzid: str, decoded=None) -> tuple:
        """The rules and IANA name ("" if none) of a TZID."""
        if tzid in self.own:
            return self.own[tzid]
        if name := _known(tzid):
            return ZoneInfo(name), name
        if isinstance(decoded, ZoneInfo):  # icalendar's reading of a vendor's globally unique TZID
            return decoded, decoded.key
        return self.floating, self.floating.key  # defined nowhere (RFC 5545 requires a VTIMEZONE): floating

    def name(self, prop, floating=None) -> str:
        """The IANA name of the zone of a timed DTSTART ("" for a zone with none)."""
        tzid = prop.params.get("TZID")
        if tzid:
            return self.zone(tzid, prop.dt.tzinfo)[1]
        if prop.dt.tzinfo is not None:
            return _zone_name(prop.dt.tzinfo)
        return getattr(floating or self.floating, "key", "")

    def exdates(self, component, floating) -> list:
        found = component.get("EXDATE", [])
        return [self.at(item.dt, dates.params.get("TZID"), floating)
                for dates in (found if isinstance(found, list) else [found]) for item in dates.dts]

    def series_zone(self, master):
        """Where a series' floating RECURRENCE-IDs and EXDATEs are: the zone of its start."""
        start = self.moment(master["DTSTART"])
        return start.tzinfo if isinstance(start, datetime) else self.floating


def _known(name: str) -> str:
    """The IANA name of an IANA or Windows zone name, "UTC" for UTC's aliases; "" when neither knows it."""
    try:
        return iana(name)
    except UnknownZone:
        return ""


def _olson_tails(tzid: str) -> list[str]:
    """The Olson names a globally unique TZID may end with (RFC 5545 3.2.19: "/vendor/.../Europe/Paris")."""
    parts = tzid.strip("/").split("/") if tzid.startswith("/") else []
    return ["/".join(parts[start:]) for start in range(1, len(parts))]


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
    zones = Zones(calendar, _zone_of(master).key)
    if any(_cancelled(component) and component.get("RECURRENCE-ID") is None for component in held):
        keep = set()  # a cancelled event written again is a new one: nothing of the cancelled one is kept
    for component in held:
        recurrence = component.get("RECURRENCE-ID")
        key = _key(zones.moment(recurrence)) if recurrence is not None else ""
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


def _event(component, uid: str, zones: Zones, series_zone, recurrence_id="") -> Event:
    start = zones.moment(component["DTSTART"], series_zone if recurrence_id else None)
    if component.get("DTEND") is not None:
        end = zones.moment(component["DTEND"], start.tzinfo if isinstance(start, datetime) else None)
    elif component.get("DURATION") is not None:
        end = start + component["DURATION"].dt
    else:
        end = None
    all_day = not isinstance(start, datetime)
    if all_day:
        end = end if isinstance(end, date) and not isinstance(end, datetime) and end > start else \
            start + timedelta(days=1)
        time_zone = ""
    else:
        end = end if isinstance(end, datetime) else start
        time_zone = zones.name(component["DTSTART"], series_zone if recurrence_id else None)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    rrules = component.rrules
    if len(rrules) > 1:
        raise ValueError("it has several RRULEs")
    if component.rdates:  # recurring-ical-events could expand them, but a CRM series has no place for them
        raise Unreadable("it repeats on dates listed one by one (RDATE), which a CRM series cannot hold (it has "
                         "a rule and its cancelled dates only): it stays in the calendar, not synced")
    rrule = rrules[0].to_ical().decode() if rrules and not recurrence_id else ""
    if rrule and not all_day and not time_zone:
        tzid = component["DTSTART"].params.get("TZID")
        raise Unreadable(f"its series is in a time zone (“{tzid}”) with no IANA or Windows name: the CRM repeats a "
                         f"series in a named zone, and could only guess which")
    exdates = tuple(sorted({_key(moment) for moment in zones.exdates(component, series_zone)})) if rrule else ()
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


def _key(moment) -> str:
    """The occurrence key of a RECURRENCE-ID or EXDATE, as Zones gives it (a date, or an aware datetime)."""
    return occurrence_key(moment)


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
