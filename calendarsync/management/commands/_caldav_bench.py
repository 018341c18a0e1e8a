"""What `benchmark_sync --provider caldav` runs beside the CRM: a Radicale server on loopback (a process in a
directory of its own, one htpasswd user), a calendar written into its storage before it starts, another
client's edits, and vdirsyncer syncing the same calendar to a folder, for comparison.

The calendar is what phones and desktop clients write: single events in a few zones (each resource with the
compact VTIMEZONE clients send), all-day ones, and weekly series, each with cancelled occurrences (EXDATE)
and changed ones (RECURRENCE-ID) in the same resource. A resource is named after its UID.
"""

import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from sandboxes.processes import free_port, serving

USER, PASSWORD, CALENDAR = "bench", "bench-app-password", "work"
ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
SERIES_EVERY = 10  # one resource in ten is a weekly series
ANSWER_LINE = re.compile(r"\] [A-Z]+ response status for .* in ([0-9.]+) seconds")

# Zones as clients write them: today's rule, not the whole history.
VTIMEZONES = {
    "Europe/Paris": ("+0100", "+0200", "CET", "CEST", "-1SU;BYMONTH=3", "-1SU;BYMONTH=10", "0200", "0300"),
    "America/New_York": ("-0500", "-0400", "EST", "EDT", "2SU;BYMONTH=3", "1SU;BYMONTH=11", "0200", "0200"),
    "Australia/Sydney": ("+1000", "+1100", "AEST", "AEDT", "1SU;BYMONTH=10", "1SU;BYMONTH=4", "0200", "0300"),
}


def vtimezone(zone: str) -> str:
    if zone == "Asia/Tokyo":
        return ("BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
                "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
    standard, daylight, standard_name, daylight_name, to_daylight, to_standard, at_daylight, at_standard = \
        VTIMEZONES[zone]
    return (f"BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n"
            f"BEGIN:DAYLIGHT\r\nDTSTART:19700101T{at_daylight}00\r\nRRULE:FREQ=YEARLY;BYDAY={to_daylight}\r\n"
            f"TZOFFSETFROM:{standard}\r\nTZOFFSETTO:{daylight}\r\nTZNAME:{daylight_name}\r\nEND:DAYLIGHT\r\n"
            f"BEGIN:STANDARD\r\nDTSTART:19700101T{at_standard}00\r\nRRULE:FREQ=YEARLY;BYDAY={to_standard}\r\n"
            f"TZOFFSETFROM:{daylight}\r\nTZOFFSETTO:{standard}\r\nTZNAME:{standard_name}\r\nEND:STANDARD\r\n"
            "END:VTIMEZONE\r\n")


@dataclass(frozen=True)
class Seeded:
    names: list[str]  # resource names, in the calendar's folder
    singles: list[str]  # the names of timed single events, which the remote edits change
    series: list[str]


def calendar_objects(count: int, first_day: date) -> dict[str, str]:
    """`count` resources by name: one in SERIES_EVERY a weekly series of 12 with two occurrences cancelled
    and two changed, one single event in eight all-day, the others timed in each zone in turn."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    found = {}
    for number in range(count):
        uid = f"bench-{number:05}@crm.example"
        day = first_day + timedelta(days=(number * 7) % 280)
        series = number % SERIES_EVERY == 0
        variant = number // SERIES_EVERY if series else number  # series, too, in every zone and at every hour
        hour, zone = 8 + variant % 10, ZONES[variant % len(ZONES)]
        if series:
            found[f"{uid}.ics"] = _resource(_series(uid, day, hour, zone, stamp, number), zone)
        elif number % 8 == 1:
            found[f"{uid}.ics"] = _resource(_event(uid, stamp, f"Day off {number}", _day(day), _day(day + timedelta(
                days=1 + number % 3)), location="", description=""), "")
        else:
            found[f"{uid}.ics"] = _resource(_event(uid, stamp, f"Appointment {number}", _at(day, hour, zone),
                                                   _at(day, hour, zone, minutes=45)), zone)
    return found


def _series(uid, day, hour, zone, stamp, number) -> str:
    weeks = [day + timedelta(weeks=week) for week in range(12)]
    master = _event(uid, stamp, f"Weekly {number}", _at(day, hour, zone), _at(day, hour, zone, minutes=60),
                    extra=f"RRULE:FREQ=WEEKLY;COUNT=12\r\n{_property('EXDATE', weeks[3], hour, zone)}"
                          f"{_property('EXDATE', weeks[7], hour, zone)}")
    overrides = [_event(uid, stamp, f"Weekly {number} (moved)", _at(weeks[week], hour + 1, zone),
                        _at(weeks[week], hour + 1, zone, minutes=60),
                        extra=_property("RECURRENCE-ID", weeks[week], hour, zone)) for week in (2, 5)]
    return master + "".join(overrides)


def _event(uid, stamp, summary, start, end, *, location="Room 2", description="Agenda to follow", extra=""):
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nLAST-MODIFIED:{stamp}\r\nSUMMARY:{summary}\r\n"
            + (f"LOCATION:{location}\r\n" if location else "") + (f"DESCRIPTION:{description}\r\n"
                                                                  if description else "")
            + f"DTSTART{start}\r\nDTEND{end}\r\n{extra}SEQUENCE:0\r\nEND:VEVENT\r\n")


def _resource(events: str, zone: str) -> str:
    zones = vtimezone(zone) if zone and zone != "UTC" else ""
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//Phone 1.0//EN\r\n{zones}{events}END:VCALENDAR\r\n"


def _at(day, hour, zone, minutes=0) -> str:
    """`;TZID=...:` or `:...Z` and the moment, as a DTSTART or DTEND is written."""
    moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, minutes=minutes)
    if zone == "UTC":
        return f":{moment:%Y%m%dT%H%M%S}Z"
    return f";TZID={zone}:{moment:%Y%m%dT%H%M%S}"


def _day(day) -> str:
    return f";VALUE=DATE:{day:%Y%m%d}"


def _property(name, day, hour, zone) -> str:
    return f"{name}{_at(day, hour, zone)}\r\n"


def seed(directory: Path, count: int, first_day: date) -> Seeded:
    """Write the calendar into Radicale's storage (before it starts), as its own files would be."""
    folder = directory / "collections" / "collection-root" / USER / CALENDAR
    folder.mkdir(parents=True)
    (folder / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR", "D:displayname": "Work"}))
    objects = calendar_objects(count, first_day)
    for name, text in objects.items():
        (folder / name).write_text(text, newline="")
    names = sorted(objects)
    series = [name for name in names if "RRULE:FREQ=WEEKLY" in objects[name]]
    singles = [name for name in names if "RRULE:FREQ=WEEKLY" not in objects[name] and "VALUE=DATE" not in
               objects[name]]
    return Seeded(names, singles, series)


class Radicale:
    """Radicale on a free loopback port, one user (htpasswd), each user's own calendars theirs alone."""

    def __init__(self, directory: Path):
        self.directory, self.port = directory, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.home = f"/{USER}/"
        self.calendar = f"/{USER}/{CALENDAR}/"
        self.log = directory / "radicale.log"
        self.http = requests.Session()
        self.http.auth, self.http.trust_env = (USER, PASSWORD), False

    @contextmanager
    def running(self):
        directory = self.directory
        (directory / "users").write_text(f"{USER}:{PASSWORD}\n")
        (directory / "config").write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {directory / 'users'}\nhtpasswd_encryption = plain\n"
            f"[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {directory / 'collections'}\n"
            # Each request is logged (one line in, one out with its time): both clients' requests are counted there.
            f"[logging]\nlevel = info\n")
        self.log.write_text("")
        with serving([sys.executable, "-m", "radicale", "--config", str(directory / "config")], self.port,
                     self.log):
            yield self

    def warm(self):
        """Bring the server, untimed, to the state uploads through its API would have left: its cache of each
        item (built on first reading) and each item's history, which sync-collection reads (built by a PUT, or
        by the first sync-collection)."""
        calendar = self.url.rstrip("/") + self.calendar
        for method, body, depth in (
                ("PROPFIND", '<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>', "1"),
                ("REPORT", '<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/>'
                           "</prop></sync-collection>", None)):
            response = self.http.request(method, calendar, data=body.encode(), timeout=300,
                                         headers={"Depth": depth} if depth else {})
            assert response.status_code == 207, (method, response.status_code)

    def mark(self) -> int:
        """Where the server's log is now, to count its answers from."""
        return self.log.stat().st_size

    def answered(self, mark: int) -> dict:
        """The requests the server answered since `mark`, and the seconds it says it took over them."""
        with self.log.open() as log:
            log.seek(mark)
            took = [float(found.group(1)) for found in map(ANSWER_LINE.search, log) if found]
        return {"requests": len(took), "server_seconds": round(sum(took), 3)}

    def change(self, seeded: Seeded, round_number: int) -> list[str]:
        """Ten edits as another client makes them: seven timed events and one series renamed, one event
        deleted, one created. Returns what was done."""
        base = self.url.rstrip("/") + self.calendar
        offset = round_number * 7
        done = []
        for name in seeded.singles[offset:offset + 7] + seeded.series[round_number:round_number + 1]:
            current = self.http.get(base + name, timeout=30)
            body = re.sub(r"SUMMARY:([^\r\n]*)", r"SUMMARY:\1 (changed)", current.text, count=1)
            self._ok(self.http.put(base + name, data=body.encode(), timeout=30, headers={
                "If-Match": current.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}))
            done.append(f"renamed {name}")
        gone = seeded.singles[-1 - round_number]
        self._ok(self.http.delete(base + gone, timeout=30))
        done.append(f"deleted {gone}")
        uid = f"bench-new-{round_number}@crm.example"
        when = datetime.now(UTC).date() + timedelta(days=3)
        body = _resource(_event(uid, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"), "Created remotely",
                                _at(when, 10, "Europe/Paris"), _at(when, 11, "Europe/Paris")), "Europe/Paris")
        self._ok(self.http.put(f"{base}{uid}.ics", data=body.encode(), timeout=30, headers={
            "If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}))
        done.append(f"created {uid}.ics")
        return done

    @staticmethod
    def _ok(response):
        assert response.status_code in (200, 201, 204), (response.status_code, response.text[:300])


class Vdirsyncer:
    """vdirsyncer (from this virtual environment) syncing the calendar to a folder of its own: a caldav
    storage at the calendar's URL and a filesystem one, no prompt (the folder is created as the pair says)."""

    def __init__(self, directory: Path, server: Radicale):
        directory.mkdir(parents=True)
        self.directory, self.server = directory, server
        self.program = str(Path(sys.executable).with_name("vdirsyncer"))
        self.config = directory / "config"
        self.folder = directory / "calendar"
        self.config.write_text(
            f'[general]\nstatus_path = "{directory / "status"}/"\n\n'
            '[pair bench]\na = "bench_server"\nb = "bench_folder"\ncollections = null\n'
            'conflict_resolution = "a wins"\n\n'
            f'[storage bench_server]\ntype = "caldav"\nurl = "{server.url.rstrip("/")}{server.calendar}"\n'
            f'username = "{USER}"\npassword = "{PASSWORD}"\n\n'
            f'[storage bench_folder]\ntype = "filesystem"\npath = "{self.folder}/"\nfileext = ".ics"\n')
        self.folder.mkdir()

    def run(self, *arguments) -> dict:
        """One vdirsyncer command: its seconds (the process's whole life, as a user or cron waits for it),
        the requests the server received, the process's peak memory."""
        mark = self.server.mark()
        output = self.directory / "output.log"
        began = time.perf_counter()
        with output.open("wb") as log:
            process = subprocess.Popen([self.program, "--config", str(self.config), *arguments],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "LC_ALL": "C.UTF-8"})
            peak = _peak_of(process.pid)
            process.wait()
        wall = time.perf_counter() - began
        if process.returncode:
            raise RuntimeError(f"vdirsyncer {' '.join(arguments)} failed: {output.read_text()[-2000:]}")
        return {**self.server.answered(mark), "seconds": round(wall, 3), "peak_rss_mb": round(peak / 1024, 1),
                "files": len(list(self.folder.glob("*.ics")))}


def _peak_of(pid: int) -> int:
    """A running process's peak resident memory in kB (VmHWM, read until it exits). Not the child's rusage:
    that also counts the pages of this process, which it was forked from."""
    status, peak = Path(f"/proc/{pid}/status"), 0
    while True:
        try:
            found = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        except OSError:
            return peak
        if found is None:  # exited, not yet reaped
            return peak
        peak = max(peak, int(found.group(1)))
        time.sleep(0.005)


def process_start_seconds() -> float:
    """How long the vdirsyncer program takes to start and do nothing (`--version`): part of its figures."""
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("vdirsyncer")), "--version"], check=True,
                   capture_output=True)
    return round(time.perf_counter() - began, 3)

