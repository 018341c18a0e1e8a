"""End to end: the CRM and the Google sandbox, through the engine and google-api-python-client."""

from calendarsync.models import EventLink, OutboxEntry, TrashedAction
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import by_summary, sync


def test_an_appointment_made_edited_moved_and_deleted_in_the_crm_follows_in_google(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off", location="Room 1",
                                    color="#dc2127")
    assert OutboxEntry.objects.filter(calendar=calendar, action_id=meeting.pk).exists()
    run = sync(calendar)
    assert run.error == ""
    assert run.created == 1
    event = by_summary(google.events())["Kick-off"]
    assert event["location"] == "Room 1"
    assert event["start"] == {"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Paris"}
    assert event["colorId"] == "11"
    assert event["extendedProperties"]["private"] == {"calendarsync": "1"}
    assert event["iCalUID"] == meeting.uid
    assert not OutboxEntry.objects.filter(calendar=calendar).exists()

    crm.action_update(action=meeting, subject="Kick-off (moved)", location="Room 2")
    crm.action_move(action=meeting, start=factories.local("2026-12-02 15:00"))
    run = sync(calendar)
    assert run.updated == 1
    event = google.event(event["id"])
    assert (event["summary"], event["location"]) == ("Kick-off (moved)", "Room 2")
    assert event["start"]["dateTime"] == "2026-12-02T15:00:00+01:00"

    crm.action_delete(action=meeting)
    run = sync(calendar)
    assert run.deleted == 1
    assert google.event(event["id"])["status"] == "cancelled"
    assert not EventLink.objects.filter(calendar=calendar).exists()
    writes = google.writes()
    assert [write["method"] for write in writes] == ["insert", "patch", "delete"]
    assert {write["sendUpdates"] for write in writes} == {"none"}  # nobody e-mailed by sync (Z5)


def test_events_made_edited_and_deleted_in_google_follow_in_the_crm(alice, calendar, google):
    sync(calendar)
    created = google.insert({"summary": "Dentist", "location": "Main street", "colorId": "5",
                             "start": {"dateTime": "2026-12-03T09:00:00+01:00", "timeZone": "Europe/Paris"},
                             "end": {"dateTime": "2026-12-03T09:30:00+01:00", "timeZone": "Europe/Paris"}})
    run = sync(calendar)
    assert run.created == 1, run.report
    dentist = Action.objects.get(subject="Dentist")
    assert (dentist.owner, dentist.location, dentist.color) == (alice, "Main street", "#fbd75b")
    assert dentist.start == factories.local("2026-12-03 09:00")
    assert dentist.uid == created["iCalUID"]

    google.change(created["id"], summary="Dentist (again)", transparency="transparent")
    assert sync(calendar).updated == 1
    dentist.refresh_from_db()
    assert (dentist.subject, dentist.availability) == ("Dentist (again)", "free")

    google.delete(created["id"])
    assert sync(calendar).deleted == 1
    assert not Action.objects.filter(subject__startswith="Dentist").exists()
    trashed = TrashedAction.objects.get()
    assert (trashed.subject, trashed.owner, trashed.calendar) == ("Dentist (again)", alice, calendar)
