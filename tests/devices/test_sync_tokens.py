"""Sync tokens of the CRM's calendars (RFC 6578): what changed since one, what left, a change committed
after a token was given, the epoch, and queries that do not grow with the calendar."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import services as crm
from crm.models import Action
from devices import services
from devices.calendars import calendar_of
from devices.dav import store
from tests import factories


@pytest.fixture
def settled(monkeypatch):
    """Tokens given as if every change so far were long committed."""
    monkeypatch.setattr(store, "SETTLE", timedelta(0))


def names(entries):
    return sorted(entry.name for entry in entries.values())


def test_changes_since_a_token_and_nothing_after_the_next(alice, bob, appointment_type, settled):
    kept = factories.appointment(alice, "2026-12-03 10:00", subject="Kept")
    edited = factories.appointment(alice, "2026-12-04 10:00", subject="Edited")
    agenda = calendar_of(alice, "agenda")
    token = store.token(agenda)
    crm.action_update(action=edited, subject="Edited again")
    added = factories.appointment(bob, "2026-12-05 10:00", subject="Invited", participants=[alice])
    factories.appointment(bob, "2026-12-05 11:00", subject="Not hers")
    present, removed, token = store.since(agenda, token)
    assert names(present) == sorted([f"{edited.uid}.ics", f"{added.uid}.ics"])
    assert removed == set()
    assert store.since(agenda, token)[:2] == ({}, set())
    assert kept.uid not in {entry.uid for entry in present.values()}


def test_what_left_the_calendar_is_reported_removed(alice, bob, appointment_type, settled):
    deleted = factories.appointment(alice, "2026-12-03 10:00", subject="Deleted")
    invited = factories.appointment(bob, "2026-12-04 10:00", subject="Invited", participants=[alice])
    given = factories.appointment(alice, "2026-12-05 10:00", subject="Given to Bob")
    agenda = calendar_of(alice, "agenda")
    token = store.token(agenda)
    crm.action_delete(action=deleted)
    crm.action_update(action=invited, participants=[])
    crm.action_update(action=given, owner=bob)
    present, removed, _token = store.since(agenda, token)
    assert present == {}
    assert removed == {f"{deleted.uid}.ics", f"{invited.uid}.ics", f"{given.uid}.ics"}
    bobs = calendar_of(bob, "agenda")
    assert f"{given.uid}.ics" in store.entries(bobs)


def test_a_change_committed_after_the_token_was_given_is_still_reported(alice, appointment_type):
    """A token is never newer than SETTLE ago: a change saved (its time taken) before a token was given, and
    committed after, is reported by it."""
    agenda = calendar_of(alice, "agenda")
    token = store.token(agenda)
    late = factories.appointment(alice, "2026-12-03 10:00", subject="Late")
    Action.objects.filter(pk=late.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    present, _removed, _token = store.since(agenda, token)
    assert names(present) == [f"{late.uid}.ics"]


def test_a_quiet_calendar_keeps_its_token(alice, appointment_type, settled):
    factories.appointment(alice, "2026-12-03 10:00")
    agenda = calendar_of(alice, "agenda")
    assert store.token(agenda) == store.token(agenda, timezone.now() + timedelta(hours=1))


def test_switching_a_type_apart_renews_the_agenda_epoch_and_its_tokens(alice, appointment_type, call_type,
                                                                       settled):
    call = factories.appointment(alice, "2026-12-03 10:00", subject="Call", action_type=call_type)
    token = store.token(calendar_of(alice, "agenda"))
    services.calendar_switch(user=alice, key=f"type-{call_type.pk}", synced=True)
    agenda = calendar_of(alice, "agenda")
    with pytest.raises(store.InvalidToken):
        store.since(agenda, token)
    assert call.uid not in {entry.uid for entry in store.entries(agenda).values()}
    assert names(store.entries(calendar_of(alice, f"type-{call_type.pk}"))) == [f"{call.uid}.ics"]


@pytest.mark.parametrize("token", ["", "urn:x-crm:sync:1", "urn:x-crm:sync:0:99999999999999999", "http://x/1"])
def test_tokens_it_did_not_give_are_refused(alice, token):
    with pytest.raises(store.InvalidToken):
        store.since(calendar_of(alice, "agenda"), token)


def test_an_incremental_sync_takes_as_many_queries_whatever_the_calendar_holds(alice, appointment_type, settled):
    def three_changes_among(count):
        made = [factories.appointment(alice, f"2026-12-{1 + number % 28:02} {8 + number % 10:02}:00")
                for number in range(count)]
        agenda = calendar_of(alice, "agenda")
        token = store.token(agenda)
        for action in made[:3]:
            crm.action_update(action=action, subject="Changed")
        with CaptureQueriesContext(connection) as queries:
            present, _removed, _token = store.since(agenda, token)
            found = store.bodies(agenda, list(present))
        assert sorted(entry.uid for entry, _body in found.values()) == sorted(action.uid for action in made[:3])
        Action.objects.all().delete()
        return len(queries)

    assert three_changes_among(5) == three_changes_among(80)


def test_a_precondition_that_no_longer_holds_once_locked_is_a_412(alice, appointment_type):
    """Two devices writing over the same ETag: the second one's precondition is asked again under the lock."""
    from devices.dav import writes

    meeting = factories.appointment(alice, "2026-12-03 10:00", subject="Kept")
    agenda = calendar_of(alice, "agenda")
    [(_entry, body)] = store.bodies(agenda, list(store.entries(agenda))).values()
    with pytest.raises(writes.Refused) as refused:
        writes.put(agenda, f"{meeting.uid}.ics", meeting.uid, body.replace(b"SUMMARY:Kept", b"SUMMARY:Lost"),
                   origin="devices:1", holds=lambda: False)
    assert refused.value.status == 412
    assert Action.objects.get(pk=meeting.pk).subject == "Kept"


def test_a_type_made_inactive_brings_its_appointments_back_to_the_agenda(alice, appointment_type, call_type):
    call = factories.appointment(alice, "2026-12-03 10:00", subject="Call", action_type=call_type)
    services.calendar_switch(user=alice, key=f"type-{call_type.pk}", synced=True)
    assert call.uid not in {entry.uid for entry in store.entries(calendar_of(alice, "agenda")).values()}
    call_type.is_active = False
    call_type.save()
    assert call.uid in {entry.uid for entry in store.entries(calendar_of(alice, "agenda")).values()}
