"""Recurring series, merges and conflicts between the CRM and the Google sandbox."""

from calendarsync.models import ConflictRecord, EventLink
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import sync


def test_a_crm_series_with_a_cancelled_and_a_moved_occurrence_reaches_google(alice, calendar, google):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=10")
    crm.occurrence_cancel(series=series, recurrence_id="20261208T080000Z")
    crm.action_move(action=series, recurrence_id="20261209T080000Z", start=factories.local("2026-12-09 11:00"))
    run = sync(calendar)
    assert run.error == "", run.report
    events = google.events()
    master = next(event for event in events if "recurrence" in event)
    assert master["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=10", "EXDATE:20261208T080000Z"]
    moved = next(event for event in events if event.get("recurringEventId"))
    assert moved["id"] == f"{master['id']}_20261209T080000Z"
    assert moved["start"]["dateTime"] == "2026-12-09T11:00:00+01:00"
    instances = google.events(singleEvents="true")
    assert len(instances) == 9
    assert EventLink.objects.filter(calendar=calendar).count() == 2


def test_a_google_series_with_exceptions_arrives_whole_and_its_later_cancellations_follow(alice, calendar, google):
    sync(calendar)
    master = google.weekly_series("Yoga", 6)
    google.change(f"{master['id']}_20261208T170000Z", summary="Yoga (long)",
                  end={"dateTime": "2026-12-08T19:30:00+01:00", "timeZone": "Europe/Paris"})
    google.delete(f"{master['id']}_20261215T170000Z")
    run = sync(calendar)
    assert run.error == "", run.report
    yoga = Action.objects.get(subject="Yoga")
    assert yoga.rrule == "FREQ=WEEKLY;COUNT=6"
    assert yoga.exdates == ["20261215T170000Z"]
    override = yoga.overrides.get()
    assert (override.recurrence_id, override.subject) == ("20261208T170000Z", "Yoga (long)")
    assert override.end == factories.local("2026-12-08 19:30")

    google.delete(f"{master['id']}_20261222T170000Z")  # later, on its own
    sync(calendar)
    yoga.refresh_from_db()
    assert yoga.exdates == ["20261215T170000Z", "20261222T170000Z"]
    sync(calendar)  # the two-way calendar's series gets it as an exception date too
    recurrence = google.event(master["id"])["recurrence"]
    assert "EXDATE:20261222T170000Z" in recurrence


def test_different_fields_edited_on_both_sides_are_merged(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    google.change(remote_id, location="Remote room")
    crm.action_update(action=meeting, description="Bring the figures")
    run = sync(calendar)
    assert (run.error, run.conflicts) == ("", 0)
    meeting.refresh_from_db()
    event = google.event(remote_id)
    assert (meeting.location, meeting.description) == ("Remote room", "Bring the figures")
    assert (event["location"], event["description"]) == ("Remote room", "Bring the figures")


def test_the_same_field_edited_on_both_sides_keeps_the_latest_and_records_the_other(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_update(action=meeting, subject="Review (CRM)")
    google.change(remote_id, summary="Review (Google)")  # the later change
    run = sync(calendar)
    assert run.conflicts == 1
    meeting.refresh_from_db()
    assert meeting.subject == google.event(remote_id)["summary"] == "Review (Google)"
    conflict = ConflictRecord.objects.get()
    assert (conflict.group, conflict.winner, conflict.action) == ("summary", "remote", meeting)
    assert conflict.local == {"summary": "Review (CRM)"}
    assert conflict.remote == {"summary": "Review (Google)"}
