"""The demo's CalDAV server: a real Radicale on loopback (no stand-in needed: it is the server software some
of our users run), with the demo's people and their calendars, so that a newcomer can add a CalDAV account.

Each person has the password "demo" there and a calendar of believable events (the Google sandbox's mix,
written as iCalendar the way phones write it); Marc also has a read-only "Public holidays". The storage
stays in its folder across restarts; it is filled only when new.
"""

import json
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from .google import seed
from .processes import serving

PEOPLE = [("marc", "Marc Dubois", "#4986e7"), ("alice", "Alice Martin", "#16a765"),
          ("dana", "Dana Smith", "#f691b2"), ("tom", "Tom Becker", "#ffad46")]
PASSWORD = "demo"
HOLIDAYS = [("New Year's Day", date(2027, 1, 1)), ("Easter Monday", date(2027, 3, 29)),
            ("Labour Day", date(2027, 5, 1)), ("Bastille Day", date(2027, 7, 14)),
            ("Christmas Day", date(2026, 12, 25))]


class Radicale:
    """The demo's Radicale, running from construction until stop()."""

    def __init__(self, directory: Path, host: str, port: int):
        self.directory, self.url = directory, f"http://{host}:{port}/"
        if not (directory / "collections" / ".filled").exists():  # filled once, whole
            shutil.rmtree(directory / "collections", ignore_errors=True)
            _fill(directory / "collections" / "collection-root")
            (directory / "collections" / ".filled").touch()
        _configure(directory, host, port)
        self._running = serving([sys.executable, "-m", "radicale", "--config", str(directory / "config")], port,
                                directory / "server.log", host=host)
        self._running.__enter__()  # a failed start stops the process there, and raises

    def stop(self):
        self._running.__exit__(None, None, None)


def _configure(directory: Path, host: str, port: int):
    (directory / "users").write_text("".join(f"{user}:{PASSWORD}\n" for user, _, _ in PEOPLE))
    (directory / "rights").write_text(
        "[holidays]\nuser: marc\ncollection: marc/holidays\npermissions: r\n\n"
        "[root]\nuser: .+\ncollection:\npermissions: R\n\n"
        "[principal]\nuser: .+\ncollection: {user}\npermissions: RW\n\n"
        "[calendars]\nuser: .+\ncollection: {user}/[^/]+\npermissions: rw\n")
    (directory / "config").write_text(
        f"[server]\nhosts = {host}:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {directory / 'users'}\nhtpasswd_encryption = plain\n"
        f"[rights]\ntype = from_file\nfile = {directory / 'rights'}\n"
        f"[storage]\nfilesystem_folder = {directory / 'collections'}\n"
        "[logging]\nlevel = warning\n")


def _fill(root: Path):
    for number, (user, name, color) in enumerate(PEOPLE):
        _collection(root / user / "calendar", f"{name.split()[0]}'s calendar", color,
                    _resources(seed.events(80, seed=300 + number)))
    _collection(root / "marc" / "holidays", "Public holidays", "#9a9cff",
                {f"holiday-{day.isoformat()}@demo.example": [_all_day(f"holiday-{day.isoformat()}@demo.example",
                                                                      summary, day)] for summary, day in HOLIDAYS})


def _collection(folder: Path, name: str, color: str, resources: dict[str, list[Event]]):
    folder.mkdir(parents=True)
    (folder / ".Radicale.props").write_text(json.dumps({
        "tag": "VCALENDAR", "D:displayname": name, "ICAL:calendar-color": color,
        "C:supported-calendar-component-set": "VEVENT"}))
    for uid, events in resources.items():
        calendar = Calendar()
        calendar.add("prodid", "-//Rendezvous CRM demo//EN")
        calendar.add("version", "2.0")
        for event in events:
            calendar.add_component(event)
        calendar.add_missing_timezones()
        (folder / f"{uid.split('@')[0]}.ics").write_bytes(calendar.to_ical())


def _resources(bodies: list[dict]) -> dict[str, list[Event]]:
    """The Google-shaped seed events as iCalendar: a series and its changed occurrence in one resource."""
    resources = {}
    for body in bodies:
        master = body.get("recurringEventId")
        uid = f"{master or body['id']}@demo.example"
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", datetime(2026, 11, 1, tzinfo=UTC))
        event.add("summary", body["summary"])
        if body.get("location"):
            event.add("location", body["location"])
        if "date" in body["start"]:
            event.add("dtstart", date.fromisoformat(body["start"]["date"]))
            event.add("dtend", date.fromisoformat(body["end"]["date"]))
        else:
            for name in ("start", "end"):
                event.add(f"dt{name}", _local(body[name]))
        if master:
            event.add("recurrence-id", _local(body["originalStartTime"]))
        for line in body.get("recurrence", []):
            kind, _, value = line.partition(":")
            if kind == "RRULE":
                event.add("rrule", vRecur.from_ical(value))
            else:  # EXDATE;TZID=zone:local
                zone = ZoneInfo(kind.partition("TZID=")[2])
                event.add("exdate", datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone))
        resources.setdefault(uid, []).append(event)
    return resources


def _local(when: dict) -> datetime:
    moment = datetime.fromisoformat(when["dateTime"])
    zone = ZoneInfo(when["timeZone"])
    return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)


def _all_day(uid: str, summary: str, day: date) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime(2026, 11, 1, tzinfo=UTC))
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("transp", "TRANSPARENT")
    return event
