"""Live free/busy of calendars the CRM does not import, from each provider, through crm.availability: one
request per account, cached, never waited on by a page, and a provider down said as such, never as *free*."""

from datetime import UTC, datetime

import pytest

from calendarsync import freebusy, services
from calendarsync.models import RemoteCalendar
from crm.availability import selectors
from crm.availability.sources import MISSING, OK, PENDING
from tests.calendarsync.sync.conftest import PRIMARY, sync
from tests.factories import appointment, local

pytestmark = pytest.mark.django_db
WEEK = (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
PARIS = {"timeZone": "Europe/Paris"}


def answer_of(user, start=WEEK[0], end=WEEK[1]):
    [person] = selectors.availability(viewer=user, people=[user], start=start, end=end)
    return person


def live(person):
    return [answer for answer in person.sources if answer.name != "CRM"]


def test_google_busy_times_come_from_one_freebusy_query_and_are_then_cached(alice, google, eager_tasks):
    google.insert({"summary": "Dentist", "start": {"dateTime": "2026-12-02T10:00:00+01:00", **PARIS},
                   "end": {"dateTime": "2026-12-02T11:00:00+01:00", **PARIS}})
    google.insert({"summary": "Lunch maybe", "transparency": "transparent",
                   "start": {"dateTime": "2026-12-02T12:00:00+01:00", **PARIS},
                   "end": {"dateTime": "2026-12-02T13:00:00+01:00", **PARIS}})
    before = google.counters().get("freebusy", 0)
    person = answer_of(alice)
    [answer] = live(person)
    assert (answer.name, answer.state, answer.requests) == ("Google Calendar: ada@example.com", OK, 1)
    assert [(item.start, item.end, item.subject, item.source) for item in person.busy] == [
        (local("2026-12-02 10:00"), local("2026-12-02 11:00"), "", "Google Calendar: ada@example.com")]
    assert google.counters()["freebusy"] - before == 1
    assert answer_of(alice).busy == person.busy  # from the cache: Google is not asked again
    assert google.counters()["freebusy"] - before == 1


def test_a_calendar_the_crm_imports_is_not_asked_its_appointments_count(alice, google, calendar, eager_tasks):
    google.insert({"summary": "Imported", "start": {"dateTime": "2026-12-02T10:00:00+01:00", **PARIS},
                   "end": {"dateTime": "2026-12-02T11:00:00+01:00", **PARIS}})
    sync(calendar)
    before = google.counters().get("freebusy", 0)
    person = answer_of(alice)
    assert live(person) == []
    assert google.counters().get("freebusy", 0) == before
    assert [(item.subject, item.source) for item in person.busy] == [("Imported", "CRM")]


def test_a_shared_calendar_counts_only_once_its_owner_says_so(alice, google_account, google, eager_tasks):
    shared = RemoteCalendar.objects.filter(account=google_account, is_primary=False).first()
    assert shared is not None, "the sandbox's account lists calendars shared with it"
    assert not shared.counts_for_availability  # a colleague's or a subscribed calendar is not one's own time
    services.calendar_configure(alice, shared, counts_busy=True)
    assert {answer.name for answer in live(answer_of(alice))} == {
        f"Google Calendar: {shared.name}", "Google Calendar: ada@example.com"}


def test_google_down_is_said_and_never_taken_for_free(alice, google, eager_tasks):
    google.fault(status=503, retry_after=0, times=6, path="/freeBusy")
    person = answer_of(alice)
    [answer] = live(person)
    assert answer.state == MISSING
    assert "could not be asked" in answer.reason
    [slot, *_rest] = selectors.slots(viewer=alice, people=[alice], duration=local("2026-12-01 10:00") - local(
        "2026-12-01 09:00"), start=local("2026-12-01 09:00"), end=local("2026-12-01 17:00"))[0]
    assert slot.unsure == [alice.pk]
    assert not slot.suits_everyone
    found = selectors.overlaps(viewer=alice, people=[alice], start=local("2026-12-01 10:00"),
                               end=local("2026-12-01 11:00"))
    assert [overlap.text(UTC) for overlap in found] == [
        f"Alice: Google Calendar: ada@example.com could not be checked ({answer.reason})."]


def test_without_a_worker_the_answer_is_pending_and_one_fetch_is_queued(alice, google, jobs):
    [answer] = live(answer_of(alice))
    [again] = live(answer_of(alice))
    assert (answer.state, again.state) == (PENDING, PENDING)
    assert jobs.names() == ["fetch_free_busy"]  # asked once while it is being fetched
    jobs.run()
    assert live(answer_of(alice))[0].state == OK


def test_outlook_busy_times_come_from_one_batch_with_its_own_statuses(alice, outlook, eager_tasks):
    for subject, show_as, hour in (("Review", "busy", 9), ("Maybe", "tentative", 11), ("Gym", "free", 13),
                                   ("Away", "workingElsewhere", 15)):
        outlook.insert({"subject": subject, "showAs": show_as,
                        "start": {"dateTime": f"2026-12-03T{hour:02}:00:00", "timeZone": "Romance Standard Time"},
                        "end": {"dateTime": f"2026-12-03T{hour + 1:02}:00:00", "timeZone": "Romance Standard Time"}})
    outlook.insert({"subject": "Holiday", "showAs": "oof", "isAllDay": True,
                    "start": {"dateTime": "2026-12-04T00:00:00", "timeZone": "Romance Standard Time"},
                    "end": {"dateTime": "2026-12-05T00:00:00", "timeZone": "Romance Standard Time"}})
    person = answer_of(alice)
    [answer] = [item for item in live(person) if item.name.endswith("Calendar")] or live(person)[:1]
    assert answer.state == OK
    assert answer.requests == 1
    assert [(item.start, item.end) for item in person.busy] == [
        (local("2026-12-03 09:00"), local("2026-12-03 10:00")), (local("2026-12-03 11:00"), local("2026-12-03 12:00")),
        (local("2026-12-04 00:00"), local("2026-12-05 00:00"))]


def test_a_caldav_calendar_answers_by_free_busy_query(alice, caldav_account, caldav_server, eager_tasks):
    caldav_server.put("standup.ics", """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:standup@test
DTSTAMP:20261101T000000Z
DTSTART:20261130T080000Z
DTEND:20261130T083000Z
RRULE:FREQ=DAILY;COUNT=3
EXDATE:20261201T080000Z
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup@test
DTSTAMP:20261101T000000Z
RECURRENCE-ID:20261202T080000Z
DTSTART:20261202T150000Z
DTEND:20261202T153000Z
SUMMARY:Standup, later
END:VEVENT
END:VCALENDAR""")
    caldav_server.put("free.ics", """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:free@test
DTSTAMP:20261101T000000Z
DTSTART:20261201T120000Z
DTEND:20261201T130000Z
TRANSP:TRANSPARENT
SUMMARY:Free
END:VEVENT
END:VCALENDAR""")
    person = answer_of(alice)
    [answer] = [item for item in live(person) if item.name.endswith(": Work")]
    assert answer.state == OK
    assert answer.requests == len(live(person))
    assert [(item.start, item.end) for item in person.busy] == [
        (datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 8, 30, tzinfo=UTC)),
        (datetime(2026, 12, 2, 15, tzinfo=UTC), datetime(2026, 12, 2, 15, 30, tzinfo=UTC))]


def test_a_time_the_crm_holds_too_is_shown_once_with_its_details(alice, google, eager_tasks):
    appointment(alice, "2026-12-02 10:00", "2026-12-02 11:00", subject="Dentist")
    google.insert({"summary": "Dentist", "start": {"dateTime": "2026-12-02T10:00:00+01:00", **PARIS},
                   "end": {"dateTime": "2026-12-02T11:00:00+01:00", **PARIS}})
    assert [(item.subject, item.source) for item in answer_of(alice).busy] == [("Dentist", "CRM")]


def test_an_account_to_reconnect_is_missing_with_what_to_do(alice, google_account, google, eager_tasks):
    services.account_lost(google_account, "revoked")
    [answer] = live(answer_of(alice))
    assert answer.state == MISSING
    assert "Reconnect" in answer.reason
    assert freebusy.fetch(google_account.pk, *WEEK) is None  # nothing is asked of an account in that state


def test_the_primary_google_calendar_is_the_one_asked(google_account):
    assert [calendar.remote_id for calendar in freebusy.live_calendars([google_account.user])[
        google_account.user_id]] == [PRIMARY]


def test_a_calendar_the_crm_writes_to_is_asked_again_once_the_push_is_out(alice, google, google_account, jobs):
    primary = RemoteCalendar.objects.get(account=google_account, remote_id=PRIMARY)
    services.calendar_configure(alice, primary, selected=True, direction="both", is_destination=True)  # from now on
    freebusy.fetch(google_account.pk, *WEEK)
    assert live(answer_of(alice))[0].state == OK
    appointment(alice, "2026-12-02 10:00", subject="Moved soon")  # goes to Google: what was asked no longer holds
    [answer] = live(answer_of(alice))
    assert answer.state == PENDING
    [(_name, args)] = [(name, args) for name, args in jobs if name.endswith("fetch_free_busy")]
    assert args[0] == google_account.pk


def test_a_time_across_the_caches_weeks_is_one_busy_block(alice, google, eager_tasks):
    # A night shift from Sunday 22:00 to Monday 02:00 UTC: in two of the cache's UTC weeks.
    google.insert({"summary": "Night shift", "start": {"dateTime": "2026-11-29T22:00:00Z"},
                   "end": {"dateTime": "2026-11-30T02:00:00Z"}})
    person = answer_of(alice, datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
    google_blocks = [(item.start, item.end) for item in person.busy if item.source != "CRM"]
    assert google_blocks == [(datetime(2026, 11, 29, 22, tzinfo=UTC), datetime(2026, 11, 30, 2, tzinfo=UTC))]


def test_appointments_imported_from_a_calendar_that_does_not_count_leave_their_owner_free(
        alice, google, google_account, calendar, eager_tasks):
    google.insert({"summary": "Imported", "start": {"dateTime": "2026-12-02T10:00:00+01:00", **PARIS},
                   "end": {"dateTime": "2026-12-02T11:00:00+01:00", **PARIS}})
    sync(calendar)
    assert [item.subject for item in answer_of(alice).busy] == ["Imported"]
    services.calendar_configure(alice, calendar, counts_busy=False)
    assert answer_of(alice).busy == []


def test_outlook_down_is_said_and_never_taken_for_free(alice, outlook, eager_tasks):
    outlook.fault(status=503, retry_after=0, times=12, path="/\\$batch")
    answers = live(answer_of(alice))
    assert answers
    assert {answer.state for answer in answers} == {MISSING}
    assert all("could not be asked" in answer.reason for answer in answers)


def test_a_caldav_server_that_is_down_is_said_and_never_taken_for_free(alice, caldav_account, caldav_server,
                                                                       eager_tasks):
    caldav_server.proxy.refuse(503, times=100)  # every request, retries included
    answers = live(answer_of(alice))
    assert answers
    assert {answer.state for answer in answers} == {MISSING}
