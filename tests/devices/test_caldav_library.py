"""The `caldav` library (the Python client most tools stand on) against the CRM's server over HTTP:
discovery, the first sync, changes both ways, a series with a changed occurrence, sync tokens."""

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import caldav
import pytest

from crm import services as crm
from crm.models import Action
from devices.models import DeviceObject
from tests import factories


@pytest.fixture
def client(live_server, alice, alice_device):
    client = caldav.DAVClient(url=f"{live_server.url}/dav/", username=alice.username, password=alice_device)
    yield client
    client.close()  # its kept-alive connections end while the test's database may still be shared


def agenda(client):
    calendars = client.principal().calendars()
    assert [calendar.get_display_name() for calendar in calendars] == ["Alice's agenda"]
    return calendars[0]


PHONE_EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Phone//Calendar 1.0//EN\r\nBEGIN:VEVENT\r\n"
    "UID:phone-1@example.com\r\nDTSTAMP:20261201T080000Z\r\nDTSTART:20261204T090000Z\r\n"
    "DTEND:20261204T100000Z\r\nSUMMARY:From the phone\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
    "DESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_discovery_finds_the_agenda_and_its_events(client, alice, appointment_type):
    factories.appointment(alice, "2026-12-03 10:00", subject="Kick-off")
    calendar = agenda(client)
    events = calendar.search(start=datetime(2026, 12, 1, tzinfo=UTC), end=datetime(2026, 12, 31, tzinfo=UTC),
                             event=True)
    assert [event.icalendar_component["SUMMARY"] for event in events] == ["Kick-off"]


def test_an_event_made_on_the_device_is_an_appointment_and_an_edit_in_the_crm_reaches_it(client, alice,
                                                                                         appointment_type):
    calendar = agenda(client)
    calendar.save_event(PHONE_EVENT)
    action = Action.objects.get(uid="phone-1@example.com")
    assert (action.subject, action.owner, action.start) == ("From the phone", alice,
                                                            datetime(2026, 12, 4, 9, tzinfo=UTC))
    synced = calendar.objects_by_sync_token(load_objects=True)
    sent = bytes(DeviceObject.objects.get(uid="phone-1@example.com").body)  # as the library wrote it
    served = [client.request(str(item.url)).raw.encode() for item in synced]  # the library ends lines with LF
    assert served == [sent.replace(b"\r\n", b"\n")]  # served as it was sent
    crm.action_update(action=action, subject="Renamed in the CRM")
    later = calendar.objects_by_sync_token(sync_token=synced.sync_token, load_objects=True)
    [renamed] = later.objects
    assert renamed.icalendar_component["SUMMARY"] == "Renamed in the CRM"
    assert renamed.icalendar_component.walk("VALARM")  # the phone's alarm is still there


def test_an_edit_on_the_device_reaches_the_crm_and_a_deletion_in_the_crm_reaches_the_device(client, alice,
                                                                                            appointment_type):
    meeting = factories.appointment(alice, "2026-12-03 10:00", subject="Review")
    calendar = agenda(client)
    synced = calendar.objects_by_sync_token(load_objects=True)
    [event] = synced.objects
    event.icalendar_component["SUMMARY"] = "Review (edited on the phone)"
    event.save()
    assert Action.objects.get(pk=meeting.pk).subject == "Review (edited on the phone)"
    crm.action_delete(action=Action.objects.get(pk=meeting.pk))
    later = calendar.objects_by_sync_token(sync_token=synced.sync_token, load_objects=True)
    assert calendar.events() == []
    assert [unquote(str(item.url)).rsplit("/", 1)[1] for item in later.objects] == [f"{meeting.uid}.ics"]  # gone


def test_a_deletion_on_the_device_deletes_the_appointment(client, alice, appointment_type):
    factories.appointment(alice, "2026-12-03 10:00", subject="Cancelled")
    calendar = agenda(client)
    [event] = calendar.events()
    event.delete()
    assert not Action.objects.exists()


def test_a_series_with_a_changed_occurrence_is_one_resource(client, alice, appointment_type):
    series = factories.appointment(alice, "2026-12-07 10:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    key = crm.occurrence_update(series=series, recurrence_id="20261214T090000Z",
                                start=series.start + timedelta(days=7, hours=2),
                                end=series.end + timedelta(days=7, hours=2)).recurrence_id
    [event] = agenda(client).events()
    components = list(event.icalendar_instance.walk("VEVENT"))
    assert len(components) == 2
    assert str(components[1]["RECURRENCE-ID"].dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")) == key
