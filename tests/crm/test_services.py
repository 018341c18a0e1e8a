from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import Action
from crm.signals import action_deleted, action_saved
from tests import factories
from tests.factories import local


@pytest.fixture
def announced():
    """Record every crm signal sent while the test runs."""
    calls = []

    def record(signal_name):
        def receiver(sender, **kwargs):
            calls.append((signal_name, kwargs["action"].subject, kwargs.get("created"), kwargs["origin"]))
        return receiver

    saved, deleted = record("saved"), record("deleted")
    action_saved.connect(saved)
    action_deleted.connect(deleted)
    yield calls
    action_saved.disconnect(saved)
    action_deleted.disconnect(deleted)


@pytest.fixture
def weekly(alice, appointment_type):
    """A weekly Monday 10:00-11:00 Paris series, five occurrences from 2 Nov 2026."""
    return factories.appointment(alice, "2026-11-02 10:00", "2026-11-02 11:00", subject="Weekly review",
                                 rrule="FREQ=WEEKLY;COUNT=5")


def test_create_sets_uid_span_and_announces(alice, appointment_type, announced):
    action = factories.appointment(alice, "2026-11-23 10:00", "2026-11-23 11:30", subject="Kick-off")
    assert action.uid.endswith("@crm")
    assert action.span_start == local("2026-11-23 10:00")
    assert action.span_end == local("2026-11-23 11:30")
    assert announced == [("saved", "Kick-off", True, "crm")]


def test_update_announces_with_origin(alice, appointment_type, announced):
    action = factories.appointment(alice, "2026-11-23 10:00")
    services.action_update(action=action, subject="Renamed", origin="calendarsync")
    assert announced[-1] == ("saved", "Renamed", False, "calendarsync")


@pytest.mark.parametrize(("fields", "field"), [
    ({"end": local("2026-11-23 09:00")}, "end"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
    ({"color": "blue"}, "color"),
    ({"all_day": True}, "start_date"),
])
def test_invalid_changes_name_the_field_and_save_nothing(alice, appointment_type, fields, field):
    action = factories.appointment(alice, "2026-11-23 10:00")
    with pytest.raises(ValidationError) as error:
        services.action_update(action=action, **fields)
    assert field in error.value.message_dict
    assert Action.objects.get(pk=action.pk).subject == "Meeting"


def test_an_occurrence_key_without_a_series_is_refused_by_validation_not_by_the_database(alice, appointment_type):
    """The check constraints are clean()'s rules: validating an update asks the database only what it alone
    knows (the related rows, the uniqueness), and a shape the constraints forbid is a field error."""
    action = factories.appointment(alice, "2026-11-23 10:00")
    with CaptureQueriesContext(connection) as queries:
        services.action_update(action=action, subject="Renamed", origin="calendarsync")
    assert not [query for query in queries.captured_queries if "_check" in query["sql"]]
    with pytest.raises(ValidationError) as error:
        services.action_update(action=action, recurrence_id="20261123T090000Z")
    assert "recurrence_id" in error.value.message_dict
    assert Action.objects.get(pk=action.pk).recurrence_id == ""


def test_all_day_action(alice, appointment_type):
    action = services.action_create(
        owner=alice, action_type=appointment_type, subject="Trade fair", all_day=True,
        start_date=date(2026, 11, 24), end_date=date(2026, 11, 26), time_zone="Europe/Paris",
    )
    assert action.first_occurrence() == (date(2026, 11, 24), date(2026, 11, 26))
    assert action.start is None


def test_editing_one_occurrence_creates_an_override_that_copies_the_series(weekly, bob, announced):
    weekly.participants.set([bob])
    override = services.occurrence_update(series=weekly, recurrence_id="20261109T090000Z", location="Lyon")
    assert override.series == weekly
    assert override.uid == weekly.uid
    assert (override.subject, override.location) == ("Weekly review", "Lyon")
    assert override.start == local("2026-11-09 10:00")
    assert list(override.participants.all()) == [bob]
    # Editing it again updates the same override.
    again = services.occurrence_update(series=weekly, recurrence_id="20261109T090000Z", subject="Special")
    assert again.pk == override.pk
    assert weekly.overrides.count() == 1


def test_an_occurrence_the_series_does_not_have_is_refused(weekly):
    with pytest.raises(services.OccurrenceError):
        services.occurrence_update(series=weekly, recurrence_id="20261110T090000Z", subject="x")
    with pytest.raises(services.OccurrenceError):
        services.occurrence_cancel(series=weekly, recurrence_id="20261221T090000Z")  # after COUNT=5


def test_cancelling_an_occurrence_adds_an_exdate_and_drops_its_override(weekly, announced):
    services.occurrence_update(series=weekly, recurrence_id="20261116T090000Z", subject="Moved")
    services.occurrence_cancel(series=weekly, recurrence_id="20261116T090000Z")
    weekly.refresh_from_db()
    assert weekly.exdates == ["20261116T090000Z"]
    assert not weekly.overrides.exists()
    assert ("deleted", "Moved", None, "crm") in announced


def test_moving_one_occurrence_keeps_its_duration(weekly):
    moved = services.action_move(
        action=weekly, recurrence_id="20261109T090000Z", start=local("2026-11-10 15:00")
    )
    assert (moved.start, moved.end) == (local("2026-11-10 15:00"), local("2026-11-10 16:00"))
    assert moved.recurrence_id == "20261109T090000Z"


def test_moving_a_whole_series_moves_its_exceptions_with_it(weekly):
    services.occurrence_cancel(series=weekly, recurrence_id="20261109T090000Z")
    services.occurrence_update(series=weekly, recurrence_id="20261116T090000Z", subject="Special")
    services.occurrence_update(series=weekly, recurrence_id="20261123T090000Z", subject="Also special")
    services.action_move(action=weekly, start=local("2026-11-03 14:00"))  # Monday 10:00 -> Tuesday 14:00
    weekly.refresh_from_db()
    assert weekly.rrule == "FREQ=WEEKLY;COUNT=5"
    assert weekly.exdates == ["20261110T130000Z"]
    assert sorted(weekly.overrides.values_list("recurrence_id", flat=True)) == [
        "20261117T130000Z", "20261124T130000Z",
    ]


def test_moving_a_series_by_one_period_rekeys_overrides_without_collisions(weekly):
    for key in ("20261109T090000Z", "20261116T090000Z"):
        services.occurrence_update(series=weekly, recurrence_id=key, subject=f"Override {key}")
    services.action_move(action=weekly, start=local("2026-11-09 10:00"))  # exactly one week later
    keys = dict(weekly.overrides.values_list("subject", "recurrence_id"))
    assert keys == {
        "Override 20261109T090000Z": "20261116T090000Z",
        "Override 20261116T090000Z": "20261123T090000Z",
    }


def test_deleting_a_series_deletes_its_overrides(weekly, announced):
    services.occurrence_update(series=weekly, recurrence_id="20261109T090000Z", subject="Moved")
    services.action_delete(action=weekly)
    assert not Action.objects.exists()
    assert announced[-1] == ("deleted", "Weekly review", None, "crm")


def test_series_span_covers_all_occurrences(weekly):
    assert weekly.span_start == local("2026-11-02 10:00")
    assert weekly.span_end == local("2026-11-30 11:00")
    endless = services.action_update(action=weekly, rrule="FREQ=WEEKLY")
    assert endless.span_end is None


def test_all_day_span_is_widened_for_every_time_zone(alice, appointment_type):
    action = services.action_create(
        owner=alice, action_type=appointment_type, subject="Holiday", all_day=True,
        start_date=date(2026, 12, 24), end_date=date(2026, 12, 25), time_zone="Europe/Paris",
    )
    assert action.span_end - action.span_start == timedelta(hours=24 + 28)
