"""Google and Microsoft at once, on the same appointments: one appointment, one link per calendar."""

from datetime import date

import pytest

from calendarsync import services
from calendarsync.models import EventLink, RemoteCalendar
from crm.models import Action
from tests import factories

from .conftest import GRACE, TIMED, Outlook, by_summary, connected, sync

pytestmark = pytest.mark.django_db
MEETING_UID = "kickoff-2026@partner.example"
OUTLOOK_TIMED = {"start": {"dateTime": "2026-12-04T10:00:00", "timeZone": "Romance Standard Time"},
                 "end": {"dateTime": "2026-12-04T11:00:00", "timeZone": "Romance Standard Time"}}


def test_an_appointment_exported_to_google_and_outlook_is_one_appointment_edited_from_either(
        calendar, outlook_calendar, google, outlook):
    factories.appointment(calendar.account.user, "2026-12-04 10:00", subject="Quarterly review")
    sync(calendar)
    sync(outlook_calendar)
    action = Action.objects.get()
    assert set(EventLink.objects.filter(action=action).values_list("calendar", flat=True)) == {
        calendar.pk, outlook_calendar.pk}
    [event] = outlook.events()
    outlook.change(event["id"], subject="Quarterly review, room 4")
    sync(outlook_calendar)
    sync(calendar)
    assert Action.objects.get().subject == "Quarterly review, room 4"
    assert list(by_summary(google.events())) == ["Quarterly review, room 4"]
    google.change(by_summary(google.events())["Quarterly review, room 4"]["id"], location="Lyon")
    sync(calendar)
    sync(outlook_calendar)
    assert outlook.event(event["id"])["location"]["displayName"] == "Lyon"
    assert Action.objects.count() == 1


def test_deleted_in_the_crm_while_edited_in_both_calendars_it_comes_back_once_with_both_edits(
        calendar, outlook_calendar, google, outlook):
    """The deletion gives way to the edits: the first calendar synced brings the appointment back, and the
    second's event follows that appointment (same UID) with its own edit merged, not imported twice."""
    from crm import services as crm

    factories.appointment(calendar.account.user, "2026-12-04 10:00", subject="Review")
    sync(calendar)
    sync(outlook_calendar)
    crm.action_delete(action=Action.objects.get())
    [event] = outlook.events()
    outlook.change(event["id"], subject="Review, moved to room 4")
    google.change(by_summary(google.events())["Review"]["id"], location="Lyon")
    sync(outlook_calendar)
    run = sync(calendar)
    assert run.report == []
    back = Action.objects.get()
    assert (back.subject, back.location) == ("Review, moved to room 4", "Lyon")
    assert set(EventLink.objects.filter(action=back).values_list("calendar", flat=True)) == {
        calendar.pk, outlook_calendar.pk}
    sync(outlook_calendar)
    assert outlook.event(event["id"])["location"]["displayName"] == "Lyon"
    assert [(item["summary"], item.get("location")) for item in google.events()] == [("Review, moved to room 4",
                                                                                     "Lyon")]


@pytest.fixture
def bobs_outlook(client, bob, sync_allowed, sandboxes, appointment_type):
    """Bob's default Outlook calendar (Grace's mailbox in the sandbox), two-way, synced since 2026-01-01."""
    account = connected(client, bob, sandboxes, "microsoft", GRACE)
    default = RemoteCalendar.objects.get(account=account, is_primary=True)
    services.calendar_configure(bob, default, selected=True, direction="both", is_destination=True,
                                first_sync="since", first_sync_since=date(2026, 1, 1))
    return default, Outlook(sandboxes, account, default.remote_id)


def test_the_same_meeting_through_google_for_one_user_and_outlook_for_another_is_one_appointment(
        calendar, google, bobs_outlook):
    bobs, outlook = bobs_outlook
    alice, bob = calendar.account.user, bobs.account.user
    guests = [{"email": bob.email}]  # Alice's meetings, Bob invited: his copies are the same meetings
    organizer = {"emailAddress": {"address": alice.email, "name": "Alice"}}
    google.insert({"summary": "Kick-off", "iCalUID": MEETING_UID, **TIMED, "attendees": guests})
    outlook.insert({"subject": "Kick-off", "uid": MEETING_UID, **OUTLOOK_TIMED, "organizer": organizer})
    sync(calendar)
    sync(bobs)  # a first sync: the full listing pairs by UID
    later = "follow-up-2026@partner.example"
    google.insert({"summary": "Follow-up", "iCalUID": later, **TIMED, "attendees": guests})
    outlook.insert({"subject": "Follow-up", "uid": later, **OUTLOOK_TIMED, "organizer": organizer})
    sync(bobs)  # now an incremental pull, which pairs by UID too, whichever side comes first
    sync(calendar)
    for uid in (MEETING_UID, later):
        action = Action.objects.get(uid=uid)
        assert set(EventLink.objects.filter(action=action).values_list("calendar", flat=True)) == {
            calendar.pk, bobs.pk}
    assert Action.objects.count() == 2
    assert Action.objects.get(uid=MEETING_UID).owner == alice  # whoever's calendar brought it first

    # Bob's copy is his: changed or deleted there, Alice's appointment stays as she has it, unlinked from his
    [kickoff] = [event for event in outlook.events() if event["subject"] == "Kick-off"]
    outlook.change(kickoff["id"], location={"displayName": "Room 2"})
    sync(bobs)
    assert Action.objects.get(uid=MEETING_UID).location == ""
    outlook.delete(kickoff["id"])
    sync(bobs)
    assert Action.objects.filter(uid=MEETING_UID).exists()
    assert not EventLink.objects.filter(calendar=bobs, action__uid=MEETING_UID).exists()
    sync(calendar)
    assert "Kick-off" in by_summary(google.events())


def test_an_appointment_of_someone_else_is_not_taken_by_its_uid_alone(calendar, google, bobs_outlook):
    """Knowing an appointment's UID gives no hold on it: only its owner's and its participants' calendars
    pair with it."""
    bobs, outlook = bobs_outlook
    google.insert({"summary": "Board meeting", "iCalUID": MEETING_UID, **TIMED})
    sync(calendar)
    outlook.insert({"subject": "Board meeting (copied)", "uid": MEETING_UID, **OUTLOOK_TIMED})
    sync(bobs)
    sync(bobs)
    alices = Action.objects.get(owner=calendar.account.user)
    assert alices.subject == "Board meeting"
    assert list(EventLink.objects.filter(action=alices).values_list("calendar", flat=True)) == [calendar.pk]


def test_a_deletion_synced_from_google_does_not_reach_an_import_only_outlook_later(
        calendar, outlook_calendar, google, outlook):
    alice = calendar.account.user
    services.calendar_configure(alice, outlook_calendar, direction="import")
    created = google.insert({"summary": "Kick-off", "iCalUID": MEETING_UID, **TIMED})
    outlook.insert({"subject": "Kick-off", "uid": MEETING_UID, **OUTLOOK_TIMED})
    sync(calendar)
    sync(outlook_calendar)
    assert EventLink.objects.filter(action__uid=MEETING_UID).count() == 2
    google.delete(created["id"])
    sync(calendar)  # the appointment goes to the trash, and Outlook's import-only link with it
    assert not EventLink.objects.filter(calendar=outlook_calendar).exists()
    services.calendar_configure(alice, outlook_calendar, direction="both")
    outlook.control("expire-delta-tokens")
    sync(outlook_calendar)
    assert [event["subject"] for event in outlook.events()] == ["Kick-off"]  # not deleted there


CALDAV_KICKOFF = f"""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//iOS 18//EN
BEGIN:VEVENT
UID:{MEETING_UID}
DTSTAMP:20261201T080000Z
DTSTART;TZID=Europe/Paris:20261204T100000
DTEND;TZID=Europe/Paris:20261204T110000
SUMMARY:Kick-off
END:VEVENT
END:VCALENDAR
"""


def test_the_same_meeting_through_google_and_through_caldav_is_one_appointment(calendar, google, caldav_calendar,
                                                                              caldav_server):
    """Alice's invitation reached her Google calendar and her CalDAV one (iCloud, say): one appointment, linked
    to both, and an edit on her phone reaches Google."""
    google.insert({"summary": "Kick-off", "iCalUID": MEETING_UID, **TIMED})
    caldav_server.put("kickoff.ics", CALDAV_KICKOFF)
    sync(calendar)
    sync(caldav_calendar)
    action = Action.objects.get()
    assert action.uid == MEETING_UID
    assert set(EventLink.objects.filter(action=action).values_list("calendar", flat=True)) == {
        calendar.pk, caldav_calendar.pk}
    assert caldav_server.names() == ["kickoff.ics"]  # found, not written again under another name

    caldav_server.put("kickoff.ics", CALDAV_KICKOFF.replace("SUMMARY:Kick-off", "SUMMARY:Kick-off\nLOCATION:Lyon"))
    sync(caldav_calendar)
    sync(calendar)
    assert by_summary(google.events())["Kick-off"]["location"] == "Lyon"
    assert Action.objects.count() == 1


def test_an_appointment_exported_to_google_and_caldav_is_one_appointment_edited_from_either(
        calendar, google, caldav_calendar, caldav_server):
    meeting = factories.appointment(calendar.account.user, "2026-12-04 10:00", subject="Quarterly review")
    sync(calendar)
    sync(caldav_calendar)
    assert caldav_server.names() == [f"{meeting.uid}.ics"]
    google.change(by_summary(google.events())["Quarterly review"]["id"], summary="Quarterly review, room 4")
    sync(calendar)
    sync(caldav_calendar)
    assert str(caldav_server.events()[meeting.uid, ""]["SUMMARY"]) == "Quarterly review, room 4"
    assert Action.objects.count() == 1
    assert EventLink.objects.filter(action=meeting).count() == 2
