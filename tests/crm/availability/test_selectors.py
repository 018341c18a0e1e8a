"""Who is busy when, from the CRM: the show-as flag, series with their overrides and cancellations, all-day
days in each person's zone, privacy, and a few queries whatever the number of people."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import services
from crm.availability import selectors
from crm.availability import sources as registry
from crm.availability.selectors import CRM, WindowTooLong
from crm.availability.sources import MISSING, PENDING, SourceAnswer
from tests import factories
from tests.factories import appointment, local

pytestmark = pytest.mark.django_db
WEEK = (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def busy_of(viewer, person, start=WEEK[0], end=WEEK[1]):
    [found] = selectors.availability(viewer=viewer, people=[person], start=start, end=end)
    return [(item.start, item.end, item.subject) for item in found.busy]


def test_busy_appointments_count_free_and_cancelled_ones_do_not(alice):
    appointment(alice, "2026-12-01 10:00", "2026-12-01 11:00", subject="Busy")
    appointment(alice, "2026-12-01 12:00", subject="Free", availability="free")
    appointment(alice, "2026-12-01 14:00", subject="Cancelled", status="cancelled")
    assert busy_of(alice, alice) == [(local("2026-12-01 10:00"), local("2026-12-01 11:00"), "Busy")]


def test_participants_are_busy_too_and_an_owner_is_never_counted_twice(alice, bob):
    meeting = appointment(alice, "2026-12-01 10:00", subject="Review", participants=[bob, alice])
    [ada, bobs] = selectors.availability(viewer=alice, people=[alice, bob], start=WEEK[0], end=WEEK[1])
    assert [item.action_id for item in ada.busy] == [meeting.pk]
    assert [(item.start, item.subject) for item in bobs.busy] == [(local("2026-12-01 10:00"), "Review")]


def test_a_series_counts_its_occurrences_with_their_overrides_and_without_cancelled_ones(alice):
    weekly = appointment(alice, "2026-11-30 09:00", "2026-11-30 10:00", subject="Standup", rrule="FREQ=DAILY;COUNT=5")
    services.occurrence_cancel(series=weekly, recurrence_id="20261201T080000Z")
    services.occurrence_update(series=weekly, recurrence_id="20261202T080000Z", start=local("2026-12-02 15:00"),
                               end=local("2026-12-02 16:00"))
    services.occurrence_update(series=weekly, recurrence_id="20261203T080000Z", availability="free")
    starts = [start for start, _end, _subject in busy_of(alice, alice)]
    assert starts == [local("2026-11-30 09:00"), local("2026-12-02 15:00"), local("2026-12-04 09:00")]


def test_a_series_keeps_its_hour_across_a_change_of_daylight_saving_time(alice):
    appointment(alice, "2027-03-26 09:00", subject="Daily", rrule="FREQ=DAILY;COUNT=4")
    found = busy_of(alice, alice, datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 3, 30, tzinfo=UTC))
    assert [start.astimezone(UTC).hour for start, _end, _subject in found] == [8, 8, 7, 7]


def test_an_all_day_appointment_is_busy_for_the_days_it_covers_in_each_persons_zone(alice, bob, appointment_type):
    services.action_create(owner=alice, participants=[bob], subject="Offsite", all_day=True,
                           start_date=date(2026, 12, 2), end_date=date(2026, 12, 3), time_zone="Europe/Paris",
                           action_type=appointment_type)
    [ada, bobs] = selectors.availability(viewer=alice, people=[alice, bob], start=WEEK[0], end=WEEK[1])
    assert [(item.start, item.end) for item in ada.busy] == [(local("2026-12-02 00:00"), local("2026-12-03 00:00"))]
    new_york = "America/New_York"
    assert [(item.start, item.end) for item in bobs.busy] == [(local("2026-12-02 00:00", new_york),
                                                               local("2026-12-03 00:00", new_york))]


def test_a_private_appointment_is_busy_without_its_subject_for_anyone_not_in_it(alice, bob, manager):
    secret = appointment(alice, "2026-12-01 10:00", subject="Doctor", privacy="private")
    appointment(alice, "2026-12-01 14:00", subject="Client visit")
    assert [subject for _start, _end, subject in busy_of(alice, alice)] == ["Doctor", "Client visit"]
    # A manager sees everyone's agenda, but not what is private; a colleague sees busy blocks only.
    assert [subject for _start, _end, subject in busy_of(manager, alice)] == ["", "Client visit"]
    [found] = selectors.availability(viewer=bob, people=[alice], start=WEEK[0], end=WEEK[1])
    assert [(item.subject, item.action_id) for item in found.busy] == [("", None), ("", None)]
    assert secret.pk not in [item.action_id for item in found.busy]


def test_the_answer_takes_the_same_queries_for_one_person_and_for_twenty(alice, sales):
    def queries(people):
        with CaptureQueriesContext(connection) as captured:
            selectors.availability(viewer=alice, people=people, start=WEEK[0], end=WEEK[1])
        return len(captured)
    people = [factories.user(f"p{number}", profile=sales) for number in range(20)]
    for number, person in enumerate(people):
        appointment(person, f"2026-12-0{1 + number % 5} 10:00", participants=[people[number - 1]])
    queries(people)  # the viewer's permissions are read once, then cached on them
    # the CRM's rows, which of them the viewer is in, the people's calendars elsewhere (which do not count, which
    # are asked live)
    assert queries(people[:1]) == queries(people) == 4


def test_a_window_too_long_or_backwards_is_refused_with_its_reason(alice):
    with pytest.raises(WindowTooLong, match="62 days"):
        busy_of(alice, alice, WEEK[0], WEEK[0] + timedelta(days=70))
    with pytest.raises(WindowTooLong, match="end after"):
        busy_of(alice, alice, WEEK[1], WEEK[0])


def test_overlaps_say_who_is_busy_when_in_the_viewers_zone(alice, bob):
    appointment(bob, "2026-12-01 10:00", "2026-12-01 11:00", subject="Dentist", zone="Europe/Paris")
    moved = appointment(alice, "2026-12-01 10:30", subject="Kick-off", participants=[bob])
    found = selectors.overlaps(viewer=alice, people=[alice, bob], start=local("2026-12-01 10:30"),
                               end=local("2026-12-01 11:30"), ignore_uid=moved.uid)
    assert [overlap.text(local("2026-12-01 00:00").tzinfo) for overlap in found] == [
        "Bob is busy Tue 01 Dec 10:00–11:00."]  # Alice may not know what Bob's appointment is
    assert found[0].busy.source == CRM


def test_someone_added_to_one_occurrence_of_a_private_series_sees_it_as_busy_only(alice, bob, sales):
    carol = factories.user("carol", profile=sales)
    series = appointment(alice, "2026-12-01 10:00", subject="Secret deal", privacy="private",
                         rrule="FREQ=DAILY;COUNT=3")
    services.occurrence_update(series=series, recurrence_id="20261202T090000Z", participants=[carol])
    [found] = selectors.availability(viewer=carol, people=[alice], start=WEEK[0], end=WEEK[1])
    assert [(item.subject, item.action_id) for item in found.busy] == [("", None)] * 3  # as her agenda shows it


class Source:
    """A source standing for another app's: it answers what it is given."""

    def __init__(self, *answers):
        self.answers = answers

    def __call__(self, users, start, end):
        return {user.pk: [replace(answer) for answer in self.answers] for user in users}


@pytest.fixture
def sources(monkeypatch):
    def plug(*answers, not_busy=()):
        monkeypatch.setattr(registry, "_sources", [Source(*answers)])
        monkeypatch.setattr(registry, "_not_busy", [lambda person_ids: set(not_busy)])
    return plug


def test_a_calendar_still_being_asked_is_said_in_the_warnings_never_taken_for_free(alice, sources):
    sources(SourceAnswer("Google Calendar: ada@example.com", PENDING, public_name="Google Calendar",
                         reason="asking Google"))
    found = selectors.overlaps(viewer=alice, people=[alice], start=local("2026-12-01 10:00"),
                               end=local("2026-12-01 11:00"))
    assert [(overlap.state, overlap.text(UTC)) for overlap in found] == [
        ("pending", "Alice: Google Calendar: ada@example.com is still being checked.")]


def test_others_see_a_calendar_by_its_kind_and_not_why_its_account_fails(alice, bob, sources):
    sources(SourceAnswer("Google Calendar: ada@private.example", MISSING, public_name="Google Calendar",
                         reason="ada@private.example refused the password at dav.private.example"))
    [own] = selectors.availability(viewer=alice, people=[alice], start=WEEK[0], end=WEEK[1])
    [seen] = selectors.availability(viewer=bob, people=[alice], start=WEEK[0], end=WEEK[1])
    assert (own.unknown[0].name, own.unknown[0].reason) == (
        "Google Calendar: ada@private.example", "ada@private.example refused the password at dav.private.example")
    assert (seen.unknown[0].name, seen.unknown[0].reason) == ("Google Calendar", "it could not be asked")


def test_the_appointment_being_moved_is_not_in_its_own_way_in_a_calendar_it_was_written_to(alice, sources):
    moved = appointment(alice, "2026-12-01 10:00", "2026-12-01 11:00", subject="Review")
    sources(SourceAnswer("Google Calendar: Work", busy=[(local("2026-12-01 10:00"), local("2026-12-01 11:00"))]))
    found = selectors.overlaps(viewer=alice, people=[alice], start=local("2026-12-01 10:30"),
                               end=local("2026-12-01 11:30"), ignore_uid=moved.uid)
    assert found == []


def test_an_appointment_imported_from_a_calendar_that_does_not_count_leaves_its_owner_free(alice, sources):
    holiday = appointment(alice, "2026-12-01 10:00", subject="Holiday in Ruritania")
    appointment(alice, "2026-12-01 14:00", subject="Client")
    sources(not_busy=[holiday.pk])
    assert [subject for _start, _end, subject in busy_of(alice, alice)] == ["Client"]


def test_a_series_warns_of_what_its_coming_occurrences_meet_moved_ones_included(alice):
    today = timezone.localdate()
    start = f"{today - timedelta(days=30):%Y-%m-%d} 09:00"
    series = appointment(alice, start, subject="Daily", rrule="FREQ=DAILY;COUNT=60")
    tomorrow = today + timedelta(days=1)
    key = f"{local(f'{tomorrow:%Y-%m-%d} 09:00').astimezone(UTC):%Y%m%dT%H%M%SZ}"
    services.occurrence_update(series=series, recurrence_id=key, start=local(f"{tomorrow:%Y-%m-%d} 15:00"),
                               end=local(f"{tomorrow:%Y-%m-%d} 16:00"))
    appointment(alice, f"{tomorrow:%Y-%m-%d} 15:30", subject="Client")  # meets the moved occurrence only
    appointment(alice, f"{today - timedelta(days=20):%Y-%m-%d} 09:00", subject="Past")  # long gone
    series.refresh_from_db()
    found = selectors.overlaps_of(viewer=alice, action=series)
    assert [overlap.busy.subject for overlap in found] == ["Client"]
