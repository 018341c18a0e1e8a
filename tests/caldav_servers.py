"""Real CalDAV servers for the tests: Radicale and Xandikos (from PyPI) as processes on loopback, each in a
directory of its own, stopped by whoever started them.

Radicale checks passwords (an htpasswd file) and rights (per collection, read-only where asked); Xandikos
has no users of its own (it serves one principal, /user/, to anyone) and is run without authentication.
"""

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from icalendar import Calendar, Timezone

from sandboxes.processes import free_port, serving

USER, PASSWORD = "alice", "app-password-1"
STARTUP_SECONDS = 20


@dataclass(frozen=True)
class Server:
    kind: str  # "radicale" or "xandikos"
    url: str  # http://127.0.0.1:port/
    home: str  # the user's calendar home, as discovery finds it
    directory: Path

    def calendar_path(self, name: str) -> str:
        return f"{self.home}{name}/"


@contextmanager
def radicale(directory: Path, *, read_only=()):
    """Radicale with one user, and the calendars named in `read_only` in the user's home, which the user may
    only read (put in Radicale's storage as an administrator would: no one may create what they may only
    read), each with its name capitalized as display name."""
    port = free_port()
    for name in read_only:
        stored = directory / "collections" / "collection-root" / USER / name
        stored.mkdir(parents=True)
        (stored / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR", "D:displayname": name.title()}))
    (directory / "users").write_text(f"{USER}:{PASSWORD}\n")
    rules = [f"[read-only-{number}]\nuser: {USER}\ncollection: {USER}/{name}\npermissions: r\n"
             for number, name in enumerate(read_only)]
    rules += ["[root]\nuser: .+\ncollection:\npermissions: R\n",
              "[principal]\nuser: .+\ncollection: {user}\npermissions: RW\n",
              "[calendars]\nuser: .+\ncollection: {user}/[^/]+\npermissions: rw\n"]
    (directory / "rights").write_text("\n".join(rules))
    (directory / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {directory / 'users'}\nhtpasswd_encryption = plain\n"
        f"delay = 0\n"
        f"[rights]\ntype = from_file\nfile = {directory / 'rights'}\n"
        f"[storage]\nfilesystem_folder = {directory / 'collections'}\n"
        f"[logging]\nlevel = warning\n")
    with _running([sys.executable, "-m", "radicale", "--config", str(directory / "config")], port, directory):
        yield Server("radicale", f"http://127.0.0.1:{port}/", f"/{USER}/", directory)


@contextmanager
def xandikos(directory: Path):
    """Xandikos with its default calendar (/user/calendars/calendar/), open to anyone."""
    port = free_port()
    command = [sys.executable, "-m", "xandikos", "serve", "-d", str(directory / "data"), "--defaults",
               "-l", "127.0.0.1", "-p", str(port), "--no-detect-systemd", "--state-dir", str(directory / "state")]
    with _running(command, port, directory):
        yield Server("xandikos", f"http://127.0.0.1:{port}/", "/user/calendars/", directory)


def _running(command, port, directory: Path):
    return serving(command, port, directory / "server.log", startup=STARTUP_SECONDS)


def make_calendar(server: Server, name: str, *, display_name="", color="", components=("VEVENT",),
                  time_zone="") -> str:
    """MKCALENDAR a calendar in the user's home, as a client would; its path."""
    path = server.calendar_path(name)
    props = "".join([f"<d:displayname>{display_name}</d:displayname>" if display_name else "",
                     f"<ical:calendar-color>{color}</ical:calendar-color>" if color else "",
                     f"<c:calendar-timezone><![CDATA[{_vtimezone(time_zone)}]]></c:calendar-timezone>"
                     if time_zone else "",
                     "<c:supported-calendar-component-set>" + "".join(
                         f'<c:comp name="{component}"/>' for component in components)
                     + "</c:supported-calendar-component-set>"])
    body = ('<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:ical="http://apple.com/ns/ical/">'
            f"<d:set><d:prop>{props}</d:prop></d:set></c:mkcalendar>")
    response = requests.request("MKCALENDAR", server.url.rstrip("/") + path, data=body.encode(), timeout=10,
                                auth=(USER, PASSWORD), headers={"Content-Type": "application/xml"})
    assert response.status_code == 201, (response.status_code, response.text)
    return path


def _vtimezone(name: str) -> str:
    """A VCALENDAR holding the VTIMEZONE of an IANA zone, as clients send calendar-timezone."""
    calendar = Calendar()
    calendar.add("PRODID", "-//tests//EN")
    calendar.add("VERSION", "2.0")
    calendar.add_component(Timezone.from_tzinfo(ZoneInfo(name)))
    return calendar.to_ical().decode()
