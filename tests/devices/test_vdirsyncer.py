"""vdirsyncer 0.21 (a CalDAV-to-folder sync program, in its own process) against the CRM's server: the first
sync, an edit made in the CRM, one made in the folder (as on a device), a deletion each way."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from crm import services as crm
from crm.models import Action
from tests import factories


class Vdirsyncer:
    def __init__(self, directory: Path, url: str, username: str, password: str):
        self.folder, self.config = directory / "calendar", directory / "config"
        self.folder.mkdir()
        self.config.write_text(
            f'[general]\nstatus_path = "{directory / "status"}/"\n\n'
            '[pair crm]\na = "crm_server"\nb = "crm_folder"\ncollections = null\nconflict_resolution = "a wins"\n\n'
            f'[storage crm_server]\ntype = "caldav"\nurl = "{url}"\nusername = "{username}"\n'
            f'password = "{password}"\n\n'
            f'[storage crm_folder]\ntype = "filesystem"\npath = "{self.folder}/"\nfileext = ".ics"\n')

    def run(self, *arguments):
        done = subprocess.run([str(Path(sys.executable).with_name("vdirsyncer")), "--config", str(self.config),
                               *arguments], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr

    def files(self) -> dict[str, Path]:
        """The folder's files by the UID they hold (vdirsyncer names them its own way)."""
        return {re.search(r"^UID:(.*?)\r?$", path.read_text(), re.M)[1]: path for path in self.folder.glob("*.ics")}


@pytest.fixture
def vdirsyncer(tmp_path, live_server, alice, alice_device):
    synced = Vdirsyncer(tmp_path, f"{live_server.url}/dav/calendars/alice/agenda/", alice.username, alice_device)
    synced.run("discover")
    return synced


def test_both_ways_with_a_series(vdirsyncer, alice, appointment_type):
    single = factories.appointment(alice, "2026-12-03 10:00", subject="Kick-off")
    series = factories.appointment(alice, "2026-12-07 10:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    crm.occurrence_update(series=series, recurrence_id="20261214T090000Z", subject="Weekly (moved)",
                          start=series.start.replace(day=15), end=series.end.replace(day=15))
    vdirsyncer.run("sync")
    files = vdirsyncer.files()
    assert sorted(files) == sorted([single.uid, series.uid])
    assert "RECURRENCE-ID" in files[series.uid].read_text()
    assert "Weekly (moved)" in files[series.uid].read_text()

    crm.action_update(action=Action.objects.get(pk=single.pk), subject="Kick-off (renamed)")
    vdirsyncer.run("sync")
    assert "SUMMARY:Kick-off (renamed)" in vdirsyncer.files()[single.uid].read_text()

    path = vdirsyncer.files()[single.uid]
    path.write_text(path.read_text().replace("Kick-off (renamed)", "Edited on the device"), newline="")
    files[series.uid].unlink()
    new = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Device//EN\r\nBEGIN:VEVENT\r\nUID:made-offline@device\r\n"
           "DTSTAMP:20261201T080000Z\r\nDTSTART:20261210T140000Z\r\nDTEND:20261210T150000Z\r\n"
           "SUMMARY:Made offline\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    (vdirsyncer.folder / "made-offline.ics").write_text(new, newline="")
    vdirsyncer.run("sync")
    assert Action.objects.get(pk=single.pk).subject == "Edited on the device"
    assert not Action.objects.filter(uid=series.uid).exists()
    assert Action.objects.get(uid="made-offline@device").owner == alice

    crm.action_delete(action=Action.objects.get(uid="made-offline@device"))
    vdirsyncer.run("sync")
    assert sorted(vdirsyncer.files()) == [single.uid]
