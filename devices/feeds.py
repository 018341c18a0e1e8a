"""ICS feeds: a calendar as one iCalendar file at a secret address, for "subscribe by URL" in Google,
Outlook and Apple calendars, which poll it. The busy variant shows times only. Answers carry an ETag and
Last-Modified, and a poll that finds nothing new gets 304."""

import hashlib
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime

from django.db.models import Q
from django.http import Http404, HttpResponse
from icalendar import Calendar as ICalendar
from icalendar import Event as VEvent

from devices import free_busy
from devices.calendars import calendar_of
from devices.dav import store
from devices.models import DeviceCalendar

PRODID = "-//crm-calendarsync//Feeds//EN"


def feed(request, secret):
    calendar, choice = _calendar_at(secret)
    busy = secret == choice.busy_feed_secret
    listed = store.entries(calendar)
    latest = store.latest_change(calendar)  # deletions and switches count: not only the entries left
    etag = '"{}"'.format(hashlib.sha256(f"{busy}|{'|'.join(sorted(e.etag for e in listed.values()))}".encode())
                         .hexdigest()[:32])
    if request.headers.get("If-None-Match") == etag or _not_modified_since(request, latest):
        return HttpResponse(status=304, headers={"ETag": etag})
    body = _merged(store.bodies(calendar, list(listed)), calendar.name, busy=busy)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    if latest is not None:
        response["Last-Modified"] = format_datetime(latest.astimezone(UTC), usegmt=True)
    response["Content-Disposition"] = f'inline; filename="{calendar.key}.ics"'
    return response


def free_busy_feed(request, secret):
    """The calendar's busy times as one VFREEBUSY (a week back, two months ahead), at either of its feed
    addresses: what Outlook's *Internet free/busy* and other systems read."""
    calendar, _choice = _calendar_at(secret)
    body = free_busy.vfreebusy(calendar.actions(), *free_busy.feed_window(), calendar.subject, published=True)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{calendar.key}.vfb"'
    return response


def _calendar_at(secret):
    """The calendar a feed's secret address names, with the choice that holds the secret; else a 404."""
    choice = DeviceCalendar.objects.select_related("user").filter(
        Q(feed_secret=secret) | Q(busy_feed_secret=secret), synced=True).first() if secret else None
    calendar = calendar_of(choice.user, choice.key) if choice is not None and choice.user.is_active else None
    if calendar is None:
        raise Http404("No such feed (its address may have been renewed).")
    return calendar, choice


def _not_modified_since(request, latest) -> bool:
    since = request.headers.get("If-Modified-Since")
    if not since or latest is None or request.headers.get("If-None-Match"):
        return False
    try:
        return latest.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


BUSY_KEPT = ("UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
             "TRANSP", "STATUS")


def _merged(found, name, *, busy: bool) -> bytes:
    """Every resource's components in one calendar, each time zone once; `busy`, each event with its times
    and recurrence only, titled *Busy* (free time left out)."""
    merged, zones = _calendar(name), set()
    for _entry, body in found.values():
        for component in ICalendar.from_ical(body).subcomponents:
            if component.name == "VTIMEZONE":
                if str(component.get("TZID")) not in zones:
                    zones.add(str(component.get("TZID")))
                    merged.add_component(component)
            elif not busy:
                merged.add_component(component)
            elif component.name == "VEVENT" and str(component.get("TRANSP", "")).upper() != "TRANSPARENT":
                merged.add_component(_busy(component))
    return merged.to_ical()


def _busy(component) -> VEvent:
    event = VEvent()
    for property_name in BUSY_KEPT:
        if property_name in component:
            event[property_name] = component[property_name]
    event["SUMMARY"] = "Busy"
    event["CLASS"] = "PRIVATE"
    return event


def _calendar(name) -> ICalendar:
    calendar = ICalendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("X-WR-CALNAME", name)
    return calendar
