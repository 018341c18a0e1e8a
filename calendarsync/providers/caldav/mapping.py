"""CalDAV calendar objects (iCalendar, RFC 5545) and the neutral event, both ways.

One resource holds a whole series: its master VEVENT (RRULE, EXDATE) and one VEVENT per changed
occurrence (RECURRENCE-ID), all with one UID (RFC 4791 4.1); a cancelled occurrence is an EXDATE, or an
override with STATUS:CANCELLED, and a cancelled master is no event at all (a deletion). Reading is
icalendar's; floating times are read in the calendar's zone, a TZID that is no IANA name by the resource's
own VTIMEZONE (see Zones), and a calendar with X-WR-TIMEZONE (Google's exports) is first made standard by
x_wr_timezone. Writing changes the resource the server holds in place, and only where the CRM's content
differs from it, so that what the CRM does not hold (alarms, attendees' answers, other applications' X-
properties, parameters, TZIDs and their VTIMEZONEs) stays as it was.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import x_wr_timezone
from icalendar import Calendar, Timezone
from icalendar import Event as VEvent
from icalendar.prop import vRecur
from icalendar.timezone import tzp

from calendarsync.core.event import GROUPS, Event
from calendarsync.core.normalize import normalized
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
        calendar = x_wr_timezone.to_standard(Calendar.from_ical(_without_tz_database_zones(data)))
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


VTIMEZONE = re.compile(rb"^BEGIN:VTIMEZONE\r?\n(?:TZID:([^\r\n]*)\r?\n)?.*?^END:VTIMEZONE\r?\n", re.S | re.M)


def _without_tz_database_zones(data: bytes) -> bytes:
    """The resource without the VTIMEZONEs of zones the tz database has, when reading: those times are read in
    the tz database's zone anyway (as Zones does), and parsing the definitions is a third of icalendar's work
    on a typical resource. One whose TZID line is not first, or is folded, or names another zone, is kept."""
    return VTIMEZONE.sub(lambda found: b"" if found[1] and _in_tz_database(found[1]) else found[0], data)


@cache
def _in_tz_database(name: bytes) -> bool:
    try:
        ZoneInfo(name.decode().strip())
    except (ValueError, OSError, ZoneInfoNotFoundError):  # a folder of zones ("America") is an OSError
        return False
    return True


def uid_of(data: bytes) -> str:
    """The UID of a resource's events ("" if it cannot be read or has none), whatever their status."""
    try:
        return next((str(component["UID"]) for component in Calendar.from_ical(data).walk("VEVENT")
                     if "UID" in component), "")
    except (ValueError, KeyError, TypeError):
        return ""


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


def write(events: list[Event], existing: bytes | None = None, zone: str = "UTC",
          moved: dict[str, str] | None = None, stamp: datetime | None = None) -> bytes:
    """The resource holding `events` (a single event, or a series and its changed occurrences), written over
    `existing` (the resource as the server holds it; `zone` places its floating times): only the components
    whose CRM content changed are touched, and in them only what changed, so that what the CRM does not hold
    stays as it was. `moved` gives the key a changed occurrence is held under when its series moved; `stamp`,
    the DTSTAMP and LAST-MODIFIED of what changed (now by default)."""
    calendar = _parse_kept(existing) if existing else None
    if calendar is None:
        calendar = Calendar()
        calendar.add("PRODID", PRODID)
        calendar.add("VERSION", "2.0")
    zones = Zones(calendar, zone)
    held, before = _held(calendar, zones)
    master, moved = events[0], moved or {}
    wanted = {moved.get(event.recurrence_id, event.recurrence_id) for event in events}
    kept_cancelled = {key for key, component in held.items()
                      if key and _cancelled(component) and key in master.exdates and key not in wanted}
    # an occurrence the CRM no longer changes goes, and a cancelled one it changes is written anew
    _remove(calendar, [component for key, component in held.items() if key not in wanted | kept_cancelled
                       or key in wanted and _cancelled(component)])
    now, series = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0), None
    for event in events:
        source = moved.get(event.recurrence_id, event.recurrence_id)
        component = held.get(source)
        if component is None or _cancelled(component):
            component = VEvent()
            component.add("UID", event.uid)
            component.add("SEQUENCE", 0)
            calendar.add_component(component)
            changes = _set(component, event, None, zones, series, kept_cancelled)
        else:
            changes = _set(component, event, before.get(source), zones, series, kept_cancelled,
                           rekeyed=source != event.recurrence_id)
            if changes & SCHEDULING:  # RFC 5546 2.1.4: what attendees would have to answer again
                component["SEQUENCE"] = int(component.get("SEQUENCE", 0)) + 1
        if series is None:
            series = component
        if changes:
            for name in ("DTSTAMP", "LAST-MODIFIED"):
                component.pop(name, None)
                component.add(name, now)
    _drop_unused_timezones(calendar)
    _add_missing_timezones(calendar, min(event.start.year for event in events))
    return calendar.to_ical()


def _add_missing_timezones(calendar, first_year: int):
    """A VTIMEZONE for each TZID the resource uses and lacks, made as icalendar's add_missing_timezones makes
    them (from the tz database) and placed as it places them (after those it has), but from the year before
    the resource's first event (to 2038, icalendar's end), not from 1970: the zone's past would be most of
    what is written. Each is made once per zone and year: making one is most of the cost of writing a
    resource. The components are shared, and never changed once made (a resource is parsed anew to change)."""
    position = len(calendar.timezones)
    for tzid in sorted(calendar.get_missing_tzids()):
        timezone = _vtimezone(tzid, max(1970, min(first_year - 1, 2030)))
        if timezone is not None:
            calendar.subcomponents.insert(position, timezone)
            position += 1


@cache
def _vtimezone(tzid: str, first_year: int) -> Timezone | None:
    try:
        return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1))
    except ValueError:
        return None  # a zone the tz database does not know: the TZID alone, as icalendar leaves it


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

SCHEDULING = frozenset({"when", "recurrence", "recurrence-id"})


def _parse_kept(existing: bytes):
    try:
        return Calendar.from_ical(existing)
    except ValueError:
        return None  # what the server held cannot be read: written anew


def _held(calendar, zones: Zones):
    """The VEVENTs held, by occurrence key ("" for the series), and each as the CRM reads it (None where it cannot
    be read, so that all of it is written). Held data that makes no series (several masters, a cancelled one) is
    dropped: the CRM's events are written anew."""
    components = [component for component in calendar.subcomponents if component.name == "VEVENT"]
    masters = [component for component in components if component.get("RECURRENCE-ID") is None]
    try:
        if len(masters) != 1 or _cancelled(masters[0]):
            raise ValueError("no series to write over")
        series_zone = zones.series_zone(masters[0])
        held = {"": masters[0]}
        for component in components:
            if component is not masters[0]:
                held.setdefault(_key(zones.moment(component["RECURRENCE-ID"], series_zone)), component)
    except (ValueError, KeyError, TypeError, OverflowError, RecurrenceError):
        _remove(calendar, components)
        return {}, {}
    before = {}
    uid = str(masters[0].get("UID", ""))
    for key, component in held.items():
        try:
            before[key] = None if _cancelled(component) else _event(component, uid, zones, series_zone, key)
        except (ValueError, KeyError, TypeError, OverflowError, RecurrenceError):
            before[key] = None
    return held, before


def _set(component, event: Event, before: Event | None, zones: Zones, series, kept_cancelled,
         rekeyed=False) -> set[str]:
    """Write on a VEVENT the fields of the event that differ from `before` (all of them when None); return the
    groups that changed. `series` is the series' VEVENT, for a changed occurrence."""
    new, old = normalized(event), normalized(before) if before is not None else None
    compared = dict(GROUPS)
    if old is not None and not old.all_day and not old.time_zone:  # a zone the CRM cannot name: its stand-in
        compared["when"] = ("all_day", "start", "end")  # for it is no change of zone
    changed = {group for group, names in compared.items() if group != "color" and (
        old is None or any(getattr(new, name) != getattr(old, name) for name in names))}
    if "summary" in changed:
        _text(component, "SUMMARY", event.summary)
    if "description" in changed:
        _text(component, "DESCRIPTION", event.description)
        component.pop("X-ALT-DESC", None)  # the HTML version of the description it replaces
    if "location" in changed:
        _text(component, "LOCATION", event.location)
        component.pop("X-APPLE-STRUCTURED-LOCATION", None)  # the place on a map of the location it replaces
    if "when" in changed:
        _when(component, event, before, zones)
    if event.recurrence_id and (rekeyed or before is None):
        _moments(component, "RECURRENCE-ID", [event.recurrence_id], series or component, zones)
        changed.add("recurrence-id")
    if not event.recurrence_id and {"when", "recurrence"} & changed:
        component.pop("RRULE", None)
        if event.rrule:
            component.add("RRULE", _rule(event.rrule))
        # EXDATEs are written as the start is (a date, or a time in its zone); cancelled overrides stay as they are
        _moments(component, "EXDATE", sorted(set(event.exdates) - kept_cancelled) if event.rrule else [], component,
                 zones)
    if "busy" in changed:
        component.pop("TRANSP", None)
        component.add("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT")
    if "private" in changed:
        component.pop("CLASS", None)
        if event.private:
            component.add("CLASS", "PRIVATE")
    return changed


def _text(component, name: str, value: str):
    """Replace a text property, keeping its parameters (LANGUAGE) but an ALTREP, which names other content."""
    old = component.get(name)
    parameters = {key: item for key, item in old.params.items() if key.upper() != "ALTREP"} if old is not None \
        else {}
    component.pop(name, None)
    if value:
        component.add(name, value, parameters=parameters or None)


def _when(component, event: Event, before: Event | None, zones: Zones):
    """DTSTART and DTEND (or DURATION, if that is how the event had it). A time zone the CRM left as it was keeps
    the TZID the event had, and so its VTIMEZONE (Outlook's Windows names, a client's own zone)."""
    same_zone = before is not None and not before.all_day and not event.all_day and \
        before.time_zone in (event.time_zone, "")
    duration = component.get("DURATION") is not None and component.get("DTEND") is None
    for name, moment in (("DTSTART", event.start), ("DTEND", event.end)):
        held = component.get(name) if same_zone else None
        form = _form(held, zones) if held is not None and isinstance(held.dt, datetime) else _zone_form(event)
        if name == "DTEND" and same_zone and held is None:
            form = _form(component["DTSTART"], zones)  # an end given as a duration: in the start's zone
        component.pop(name, None)
        if name == "DTEND" and duration:
            component.pop("DURATION", None)
            component.add("DURATION", event.end - event.start)
        else:
            _add(component, name, [moment], form)


def _moments(component, name: str, keys: list[str], master, zones: Zones):
    """RECURRENCE-ID or EXDATE, each key written as the series' start is (RFC 5545: the same value type)."""
    component.pop(name, None)
    if not keys:
        return
    start = master["DTSTART"]
    all_day = not isinstance(start.dt, datetime)
    form = None if all_day else _form(start, zones)
    moments = [parse_occurrence_key(key, all_day=all_day) for key in keys]
    _add(component, name, moments, form, single=name == "RECURRENCE-ID")


def _form(prop, zones: Zones):
    """How a held date-time is written: (its zone's rules, its TZID), (UTC, None), or (the floating zone, None)."""
    tzid = prop.params.get("TZID")
    if tzid:
        return zones.zone(tzid, prop.dt.tzinfo)[0], str(tzid)
    return (UTC, None) if prop.dt.tzinfo is not None else (zones.floating, None)


def _zone_form(event: Event):
    """How the CRM's event is written: dates, or times in its zone (UTC without one, never the host's zone)."""
    if event.all_day:
        return None
    if event.time_zone in ("", "UTC"):
        return UTC, None
    return ZoneInfo(event.time_zone), event.time_zone


def _add(component, name: str, moments: list, form, single=True):
    if form is None:
        values = [moment if not isinstance(moment, datetime) else moment.date() for moment in moments]
        component.add(name, values[0] if single else values)
        return
    zone, tzid = form
    values = [moment.astimezone(zone) if zone is UTC and tzid is None else
              moment.astimezone(zone).replace(tzinfo=None) for moment in moments]
    component.add(name, values[0] if single else values, parameters={"TZID": tzid} if tzid else None)


def _remove(calendar, components):
    """Take components out of the calendar by identity (icalendar compares components by content)."""
    gone = {id(component) for component in components}
    calendar.subcomponents[:] = [item for item in calendar.subcomponents if id(item) not in gone]


def _drop_unused_timezones(calendar):
    used = {tzid for component in calendar.subcomponents if component.name != "VTIMEZONE"
            for tzid in _tzids(component)}
    _remove(calendar, [item for item in calendar.subcomponents
                       if item.name == "VTIMEZONE" and str(item.get("TZID", "")) not in used])


def _tzids(component) -> set[str]:
    found = set()
    for values in component.values():
        for value in values if isinstance(values, list) else [values]:
            tzid = getattr(value, "params", {}).get("TZID")
            if tzid:
                found.add(str(tzid))
    for child in component.subcomponents:
        found |= _tzids(child)
    return found


def _rule(text: str):
    return vRecur.from_ical(text.removeprefix("RRULE:"))
