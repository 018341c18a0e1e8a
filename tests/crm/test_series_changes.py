"""A series changed as a whole keeps its exceptions where they belong (review findings 1-8)."""

from datetime import date

import pytest

from crm import selectors, services
from crm.models import Action
from tests import factories
from tests.factories import local


def occurrences(actions, start="2026-11-01 00:00", end="2026-11-10 00:00", zone="Europe/Paris"):
    from zoneinfo import ZoneInfo

    return selectors.occurrences_between(actions=actions, start=local(start, zone), end=local(end, zone),
                                         zone=ZoneInfo(zone))


@pytest.fixture
def daily(alice, appointment_type):
    return factories.appointment(alice, "2026-11-02 10:00", "2026-11-02 11:00", subject="Daily",
                                 rrule="FREQ=DAILY;COUNT=5")


def test_switching_a_series_to_all_day_and_back_keeps_its_cancelled_occurrences(daily):
    services.occurrence_cancel(series=daily, recurrence_id="20261103T090000Z")
    services.action_update(action=daily, all_day=True, start_date=date(2026, 11, 2), end_date=date(2026, 11, 3),
                           start=None, end=None)
    daily.refresh_from_db()
    assert daily.exdates == ["20261103"]
    services.action_update(action=daily, all_day=False, start=local("2026-11-02 10:00"),
                           end=local("2026-11-02 11:00"), start_date=None, end_date=None)
    daily.refresh_from_db()
    assert daily.exdates == ["20261103T090000Z"]


def test_changing_a_series_zone_keeps_each_exception_on_its_day(alice, appointment_type):
    weekly = factories.appointment(alice, "2026-03-02 10:00", rrule="FREQ=WEEKLY;COUNT=6")
    services.occurrence_cancel(series=weekly, recurrence_id="20260316T090000Z")
    services.occurrence_update(series=weekly, recurrence_id="20260323T090000Z", subject="Edited")
    services.action_update(action=weekly, time_zone="America/New_York",
                           start=local("2026-03-02 10:00", "America/New_York"),
                           end=local("2026-03-02 11:00", "America/New_York"))
    shown = {o.start.date().isoformat(): o.action.subject for o in occurrences(
        Action.objects.all(), "2026-03-01 00:00", "2026-04-20 00:00")}
    assert "2026-03-16" not in shown
    assert shown["2026-03-23"] == "Edited"
    assert len(shown) == 5


def test_an_occurrence_in_a_dst_gap_can_be_edited(alice, appointment_type):
    early = factories.appointment(alice, "2026-03-27 02:30", "2026-03-27 03:00", rrule="FREQ=DAILY;COUNT=5")
    [gap] = occurrences(Action.objects.all(), "2026-03-29 00:00", "2026-03-30 00:00")
    override = services.occurrence_update(series=early, recurrence_id=gap.recurrence_id, subject="Moved")
    assert override.recurrence_id == "20260329T013000Z"


def test_removing_the_rule_makes_a_single_action(daily, announced_deletions):
    services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    services.occurrence_cancel(series=daily, recurrence_id="20261105T090000Z")
    services.action_update(action=daily, rrule="")
    daily.refresh_from_db()
    assert (daily.exdates, daily.overrides.count()) == ([], 0)
    assert [o.action.subject for o in occurrences(Action.objects.all())] == ["Daily"]
    assert announced_deletions == ["Edited"]


def test_shortening_a_series_deletes_the_overrides_it_no_longer_has(daily):
    services.occurrence_update(series=daily, recurrence_id="20261105T090000Z", subject="Late one")
    services.occurrence_update(series=daily, recurrence_id="20261103T090000Z", subject="Early one")
    services.action_update(action=daily, rrule="FREQ=DAILY;COUNT=2")
    assert [o.action.subject for o in occurrences(Action.objects.all())] == ["Daily", "Early one"]


def test_a_timed_series_turned_all_day_keeps_its_last_day(alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", zone="America/Los_Angeles",
                                   rrule="FREQ=DAILY;UNTIL=20261105")
    services.action_update(action=series, all_day=True, start_date=date(2026, 11, 2), end_date=date(2026, 11, 3))
    assert len(occurrences(Action.objects.all(), zone="America/Los_Angeles")) == 4


def test_actions_of_no_length_show_at_the_start_of_a_window(alice, appointment_type):
    factories.appointment(alice, "2026-11-02 10:00", "2026-11-02 10:00", rrule="FREQ=DAILY;COUNT=5")
    factories.appointment(alice, "2026-11-03 10:00", "2026-11-03 10:00", subject="Reminder")
    assert len(occurrences(Action.objects.all(), "2026-11-03 10:00", "2026-11-03 11:00")) == 2


def test_a_new_owner_or_participant_sees_every_occurrence_including_overrides(daily, bob):
    services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    services.action_update(action=daily, participants=[bob])
    assert len(occurrences(selectors.actions_involving(bob))) == 5
    services.action_update(action=daily, owner=bob, participants=[])
    assert len(occurrences(selectors.actions_involving(bob))) == 5
    assert set(daily.overrides.values_list("owner__username", flat=True)) == {"bob"}


def test_a_removed_participant_no_longer_sees_the_overrides(client, daily, bob):
    daily.participants.set([bob])
    override = services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    services.action_update(action=daily, participants=[], description="Confidential plan")
    client.force_login(bob)
    assert client.get(f"/actions/{override.pk}/").status_code == 404
    assert occurrences(selectors.actions_involving(bob)) == []


def test_moving_a_series_in_the_admin_keeps_its_cancelled_occurrences(admin_client, admin_user, daily):
    admin_user.time_zone = "Europe/Paris"  # the admin reads the times typed in its user's zone
    admin_user.save()
    services.occurrence_cancel(series=daily, recurrence_id="20261104T090000Z")
    response = admin_client.post(f"/admin/crm/action/{daily.pk}/change/", {
        "action_type": daily.action_type_id, "owner": daily.owner_id, "subject": "Daily", "status": "planned",
        "start_0": "2026-11-02", "start_1": "11:00", "end_0": "2026-11-02", "end_1": "12:00",
        "time_zone": "Europe/Paris", "rrule": daily.rrule, "exdates": '["20261104T090000Z"]',
        "availability": "busy", "privacy": "normal", "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    daily.refresh_from_db()
    assert daily.exdates == ["20261104T100000Z"]
    assert len(occurrences(Action.objects.all())) == 4


def test_deleting_a_series_and_its_override_together_in_the_admin(admin_client, daily):
    override = services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    response = admin_client.post("/admin/crm/action/", {
        "action": "delete_selected", "_selected_action": [daily.pk, override.pk], "post": "yes"})
    assert response.status_code == 302
    assert not Action.objects.exists()


def test_an_override_row_stands_for_its_occurrence_on_every_page(client, alice, daily):
    override = services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    client.force_login(alice)
    assert client.get(f"/actions/{override.pk}/edit/").context["one_occurrence"]
    client.post(f"/actions/{override.pk}/delete/")
    daily.refresh_from_db()
    assert daily.exdates == ["20261104T090000Z"]
    assert Action.objects.filter(pk=daily.pk).exists()


@pytest.fixture
def announced_deletions():
    from crm.signals import action_deleted

    subjects = []

    def receiver(sender, action, **kwargs):
        subjects.append(action.subject)

    action_deleted.connect(receiver)
    yield subjects
    action_deleted.disconnect(receiver)


def test_moving_a_series_on_fixed_weekdays_keeps_its_exceptions_on_their_days(alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", rrule="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8")
    services.occurrence_update(series=series, recurrence_id="20261104T090000Z", subject="Edited")
    services.occurrence_cancel(series=series, recurrence_id="20261111T090000Z")
    series.refresh_from_db()
    services.action_update(action=series, start=local("2026-11-03 10:30"), end=local("2026-11-03 11:30"))
    days = {o.start.date().isoformat(): o.action.subject for o in occurrences(
        Action.objects.all(), "2026-11-01 00:00", "2026-12-31 00:00")}
    assert days["2026-11-04"] == "Edited"
    assert "2026-11-11" not in days
    series.refresh_from_db()
    assert series.exdates == ["20261111T093000Z"]


def test_moving_a_series_keeps_the_override_of_its_dst_gap_occurrence(alice, appointment_type):
    series = factories.appointment(alice, "2026-03-27 02:30", "2026-03-27 03:00", rrule="FREQ=DAILY;COUNT=5")
    services.occurrence_update(series=series, recurrence_id="20260329T013000Z", subject="Edited in the gap")
    services.action_update(action=series, start=local("2026-03-27 10:00"), end=local("2026-03-27 10:30"))
    assert series.overrides.get().recurrence_id == "20260329T080000Z"


def test_exdates_given_with_a_move_are_taken_as_given(alice, appointment_type, api_as):
    series = factories.appointment(alice, "2026-11-02 10:00", rrule="FREQ=DAILY;COUNT=5")
    response = api_as(alice).patch(f"/api/v1/actions/{series.pk}/", {
        "start": "2026-11-02T12:00:00+01:00", "end": "2026-11-02T13:00:00+01:00",
        "exdates": ["20261103T110000Z"]}, format="json")
    assert response.status_code == 200
    series.refresh_from_db()
    assert series.exdates == ["20261103T110000Z"]


def test_overrides_changed_with_their_series_are_announced(daily, bob):
    from crm.signals import action_saved

    override = services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    seen = []

    def receiver(sender, action, **kwargs):
        seen.append((action.pk, action.recurrence_id, action.owner_id))

    action_saved.connect(receiver)
    try:
        services.action_update(action=daily, start=local("2026-11-02 12:00"), end=local("2026-11-02 13:00"),
                               owner=bob)
    finally:
        action_saved.disconnect(receiver)
    assert (override.pk, "20261104T110000Z", bob.pk) in seen


def test_an_override_keeps_its_series_owner(daily, bob, manager, api_as):
    override = services.occurrence_update(series=daily, recurrence_id="20261104T090000Z", subject="Edited")
    api_as(manager).patch(f"/api/v1/actions/{override.pk}/", {"owner": bob.pk}, format="json")
    override.refresh_from_db()
    assert override.owner_id == daily.owner_id


def test_saving_a_long_series_with_many_overrides_costs_one_expansion(alice, appointment_type,
                                                                       django_assert_max_num_queries):
    series = factories.appointment(alice, "2026-01-05 10:00", rrule="FREQ=DAILY;COUNT=300")
    for day in range(40):
        services.occurrence_update(series=series, recurrence_id=f"2026{2 + day // 28:02d}{1 + day % 28:02d}T090000Z",
                                   location="Elsewhere")
    with django_assert_max_num_queries(30):
        services.action_update(action=series, start=local("2026-01-05 11:00"), end=local("2026-01-05 12:00"))
    assert series.overrides.count() == 40
    assert series.overrides.filter(recurrence_id__endswith="T100000Z").count() == 40


def test_a_refused_change_leaves_the_series_and_its_exdates_as_they_were(daily):
    from django.core.exceptions import ValidationError

    services.occurrence_cancel(series=daily, recurrence_id="20261104T090000Z")
    daily.refresh_from_db()
    with pytest.raises(ValidationError):
        services.action_update(action=daily, end=local("2026-11-02 09:00"))
    assert daily.exdates == ["20261104T090000Z"]
    daily.refresh_from_db()
    assert daily.exdates == ["20261104T090000Z"]


def test_saving_a_series_validates_it_once(daily, django_assert_max_num_queries):
    # Read the stored series; one validation (2 foreign keys, uid unique, 2 constraints, with their
    # savepoints); update; read the overrides; find the calendars to sync it to (calendarsync's outbox).
    # A second validation would add 10 more.
    with django_assert_max_num_queries(15):
        services.action_update(action=daily, subject="Renamed")
