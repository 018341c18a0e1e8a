"""Who is busy when, from the CRM: the show-as flag, series with their overrides and cancellations, all-day
days in each person's zone, privacy, and a few queries whatever the number of people."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.availability import selectors
from crm.availability.selectors import CRM, WindowTooLong
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
    assert queries(people[:1]) == queries(people) == 2  # the CRM's rows, the people's calendars elsewhere


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
