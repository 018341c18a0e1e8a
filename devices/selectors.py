"""Reads for the devices page: the user's calendars with their addresses and sizes, their passwords."""

from dataclasses import dataclass

from django.urls import reverse

from calendarsync.selectors import large_calendar
from devices.calendars import Calendar, calendars_of
from devices.models import DevicePassword


@dataclass(frozen=True)
class Shown:
    calendar: Calendar
    entries: int  # single actions and series: what a device holds one resource for
    dav_url: str
    feed_url: str  # "" until the calendar goes to devices
    busy_feed_url: str
    free_busy_url: str  # the same calendar as one VFREEBUSY, for other systems' free/busy lookups

    @property
    def large(self) -> bool:
        return self.entries > large_calendar()


def calendars_shown(user, site: str) -> list[Shown]:
    """The user's calendars with their sizes (a count each) and, once synced, their addresses."""
    site = site.rstrip("/")

    def address(name, argument):
        return f"{site}{reverse(name, args=[argument])}" if argument else ""

    shown = []
    for calendar in calendars_of(user):
        choice = calendar.choice if calendar.synced else None
        shown.append(Shown(calendar, calendar.actions().count(),
                           address("devices:dav", f"calendars/{user.username}/{calendar.key}/"),
                           address("devices:feed", choice.feed_secret if choice else ""),
                           address("devices:feed", choice.busy_feed_secret if choice else ""),
                           address("devices:free-busy-feed", choice.busy_feed_secret if choice else "")))
    return shown


def passwords_of(user):
    return DevicePassword.objects.filter(user=user)

