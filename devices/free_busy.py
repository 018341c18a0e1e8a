"""Free/busy of a user's calendar for other systems (RFC 5545 VFREEBUSY): the CalDAV server's free-busy-query
and the secret .vfb address, busy times only."""

import uuid
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from icalendar import Calendar as ICalendar
from icalendar import FreeBusy, vPeriod

from crm.availability import selectors as availability

PRODID = "-//crm-calendarsync//Free-busy//EN"
FEED_PAST, FEED_AHEAD = timedelta(days=7), timedelta(days=62)  # what the .vfb address covers, from today


def vfreebusy(actions, start: datetime, end: datetime, user, *, published=False) -> bytes:
    """One VCALENDAR with one VFREEBUSY for [start, end): the busy times of these actions, merged. `published`:
    as a free/busy address publishes it (METHOD:PUBLISH, RFC 5546 4.3.1)."""
    periods = availability.busy_of(actions, start, end, availability.zone_of(user))
    calendar = ICalendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    if published:
        calendar.add("METHOD", "PUBLISH")
    component = FreeBusy()
    component.add("UID", f"{uuid.uuid4()}@crm")  # RFC 5545 3.6.4: every VFREEBUSY has one
    component.add("DTSTAMP", timezone.now().astimezone(UTC).replace(microsecond=0))
    component.add("DTSTART", start.astimezone(UTC))
    component.add("DTEND", end.astimezone(UTC))
    if user.email:
        component.add("ORGANIZER", f"mailto:{user.email}")
    for begin, stop in periods:
        component.add("FREEBUSY", vPeriod((begin.astimezone(UTC), stop.astimezone(UTC))), parameters={"FBTYPE": "BUSY"})
    calendar.add_component(component)
    return calendar.to_ical()


def feed_window() -> tuple[datetime, datetime]:
    today = datetime.combine(timezone.localdate(), datetime.min.time(), UTC)
    return today - FEED_PAST, today + FEED_AHEAD
