"""Reads for the devices page: the user's calendars with their addresses and sizes, their passwords."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from devices.calendars import Calendar, calendar_of, calendars_of
from devices.models import DevicePassword


def large_calendar() -> int:
    """Above this many entries a calendar on devices, or one being imported, is flagged: clients struggle
    beyond (BlueMind's B3). DEVICES_LARGE_CALENDAR, read when used."""
    return getattr(settings, "DEVICES_LARGE_CALENDAR", 9000)


@dataclass(frozen=True)
class Shown:
    calendar: Calendar
    entries: int  # single actions and series: what a device holds one resource for
    dav_url: str
    feed_url: str  # "" until the calendar goes to devices
    busy_feed_url: str

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
                           address("devices:feed", choice.busy_feed_secret if choice else "")))
    return shown


def calendar(user, key) -> Calendar | None:
    return calendar_of(user, key)


def passwords_of(user):
    return DevicePassword.objects.filter(user=user)
