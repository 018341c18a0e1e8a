"""End to end: the CRM and a real CalDAV server (Radicale, Xandikos), through the engine, an account added on
the settings page, and another client's edits on the server."""

from calendarsync.models import EventLink, OutboxEntry
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import sync

DENTIST = """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Phone//EN
BEGIN:VEVENT
UID:dentist-1@phone.example
DTSTAMP:20261201T080000Z
DTSTART;TZID=Europe/Paris:20261203T090000
DTEND;TZID=Europe/Paris:20261203T093000
SUMMARY:Dentist
LOCATION:Main street
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:Dentist
END:VALARM
END:VEVENT
END:VCALENDAR
"""


def test_an_appointment_made_edited_and_deleted_in_the_crm_follows_on_the_server(alice, caldav_calendar,
                                                                                 caldav_server):
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off", location="Room 1")
    run = sync(caldav_calendar)
    assert run.created == 1
    assert caldav_server.names() == [f"{meeting.uid}.ics"]  # a UID-named resource
    event = caldav_server.events()[meeting.uid, ""]
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Kick-off", "Room 1")
    assert event.decoded("DTSTART") == factories.local("2026-12-01 10:00")
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
    assert not OutboxEntry.objects.filter(calendar=caldav_calendar).exists()

    crm.action_update(action=meeting, subject="Kick-off (moved)")
    crm.action_move(action=meeting, start=factories.local("2026-12-02 15:00"))
    assert sync(caldav_calendar).updated == 1
    event = caldav_server.events()[meeting.uid, ""]
    assert str(event["SUMMARY"]) == "Kick-off (moved)"
    assert event.decoded("DTSTART") == factories.local("2026-12-02 15:00")

    crm.action_delete(action=meeting)
    assert sync(caldav_calendar).deleted == 1
    assert caldav_server.names() == []
    assert not EventLink.objects.filter(calendar=caldav_calendar).exists()


def test_events_made_edited_and_deleted_by_another_client_follow_in_the_crm(alice, caldav_calendar, caldav_server):
    sync(caldav_calendar)
    etag = caldav_server.put("dentist.ics", DENTIST)
    run = sync(caldav_calendar)
    assert run.created == 1, run.report
    dentist = Action.objects.get(subject="Dentist")
    assert (dentist.owner, dentist.location, dentist.uid) == (alice, "Main street", "dentist-1@phone.example")
    assert dentist.start == factories.local("2026-12-03 09:00")

    caldav_server.put("dentist.ics", DENTIST.replace("SUMMARY:Dentist", "SUMMARY:Dentist (again)"), etag)
    assert sync(caldav_calendar).updated == 1
    dentist.refresh_from_db()
    assert dentist.subject == "Dentist (again)"

    crm.action_update(action=dentist, location="High street")  # the phone's alarm survives the CRM's edit
    sync(caldav_calendar)
    event = caldav_server.get("dentist.ics").walk("VEVENT")[0]
    assert (str(event["LOCATION"]), len(event.walk("VALARM"))) == ("High street", 1)

    caldav_server.delete("dentist.ics")
    assert sync(caldav_calendar).deleted == 1
    assert not Action.objects.filter(subject__startswith="Dentist").exists()
