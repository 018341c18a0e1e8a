from datetime import date
from zoneinfo import ZoneInfo

import pytest

from crm import selectors, services
from crm.models import Action
from crm.recurrence import RecurrenceError
from tests import factories
from tests.factories import local


def test_users_see_their_own_and_shared_actions_managers_see_all(alice, bob, manager, appointment_type):
    own = factories.appointment(alice, "2026-11-23 10:00", subject="Alice's")
    shared = factories.appointment(bob, "2026-11-23 11:00", subject="Bob's, with Alice")
    shared.participants.set([alice])
    factories.appointment(bob, "2026-11-23 12:00", subject="Bob's own")

    assert set(selectors.actions_visible_to(alice)) == {own, shared}
    assert selectors.action_can_edit(user=alice, action=own)
    assert selectors.actions_visible_to(manager).count() == 3
    assert not selectors.action_can_edit(user=alice, action=shared)
    assert selectors.action_can_edit(user=manager, action=shared)


def test_agenda_window_expands_series_with_overrides_and_exdates(alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", subject="Stand-up", rrule="FREQ=DAILY")
    services.occurrence_cancel(series=series, recurrence_id="20261104T090000Z")
    services.occurrence_update(series=series, recurrence_id="20261105T090000Z", subject="Stand-up (moved)",
                               start=local("2026-11-05 15:00"), end=local("2026-11-05 16:00"))
    single = factories.appointment(alice, "2026-11-03 12:00", subject="Lunch")

    found = selectors.occurrences_between(
        actions=selectors.actions_visible_to(alice),
        start=local("2026-11-02 00:00"), end=local("2026-11-07 00:00"), zone=series.zone,
    )
    assert [(o.action.subject, o.start.astimezone(series.zone).strftime("%d %H:%M")) for o in found] == [
        ("Stand-up", "02 10:00"), ("Stand-up", "03 10:00"), ("Lunch", "03 12:00"),
        ("Stand-up (moved)", "05 15:00"), ("Stand-up", "06 10:00"),
    ]
    assert found[0].is_generated
    assert found[0].series_id == series.pk
    assert not found[2].is_generated
    assert found[2].action == single
    assert found[3].recurrence_id == "20261105T090000Z"
    assert not found[3].is_generated


def test_agenda_window_takes_a_constant_number_of_queries(alice, appointment_type, django_assert_num_queries):
    for day in range(2, 9):
        series = factories.appointment(alice, f"2026-11-0{day} 09:00", rrule="FREQ=DAILY;COUNT=3")
        services.occurrence_update(series=series, recurrence_id=f"202611{day + 1:02d}T080000Z", subject="Moved")
    with django_assert_num_queries(2):
        found = selectors.occurrences_between(
            actions=Action.objects.all(), start=local("2026-11-01 00:00"), end=local("2026-11-15 00:00"),
            zone=ZoneInfo("Europe/Paris"),
        )
    assert len(found) == 21


def test_all_day_actions_show_on_their_dates_in_any_viewer_zone(alice, appointment_type):
    services.action_create(
        owner=alice, action_type=appointment_type, subject="Offsite", all_day=True,
        start_date=date(2026, 11, 24), end_date=date(2026, 11, 25), time_zone="Europe/Paris",
    )
    tokyo, hawaii = ZoneInfo("Asia/Tokyo"), ZoneInfo("Pacific/Honolulu")
    for zone in (tokyo, hawaii):
        day = [o.action.subject for o in selectors.occurrences_between(
            actions=Action.objects.all(),
            start=local("2026-11-24 00:00", zone.key), end=local("2026-11-25 00:00", zone.key), zone=zone,
        )]
        assert day == ["Offsite"]
        day_before = selectors.occurrences_between(
            actions=Action.objects.all(),
            start=local("2026-11-23 00:00", zone.key), end=local("2026-11-24 00:00", zone.key), zone=zone,
        )
        assert day_before == []


def test_occurrence_of_names_generated_and_overridden_occurrences(alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", rrule="FREQ=WEEKLY;COUNT=3")
    generated = selectors.occurrence_of(action=series, recurrence_id="20261109T090000Z")
    assert generated.start == local("2026-11-09 10:00")
    assert generated.is_generated
    services.occurrence_update(series=series, recurrence_id="20261109T090000Z", subject="Changed")
    overridden = selectors.occurrence_of(action=series, recurrence_id="20261109T090000Z")
    assert overridden.action.subject == "Changed"
    assert not overridden.is_generated
    with pytest.raises(RecurrenceError):
        selectors.occurrence_of(action=series, recurrence_id="20261110T090000Z")
