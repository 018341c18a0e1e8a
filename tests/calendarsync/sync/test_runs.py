"""How a run is carried out: under a lease, in short committed steps, never with a transaction open while a
provider is called, and never stopped for good by what goes wrong."""

import logging
import time

import pytest
from django.db import connection

from calendarsync import engine, services, tasks
from calendarsync.models import (
    CalendarStatus,
    ConflictRecord,
    EventLink,
    OutboxEntry,
    RemoteCalendar,
    SyncRun,
    TrashedAction,
    Trigger,
)
from calendarsync.selectors import calendar_status
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import TIMED, Died, by_summary, lease_runs_out, sync


def kill_at(monkeypatch, stage):
    """The worker is killed the first time its run gets past `stage`."""
    deaths = [Died()]

    def reached(name):
        if name == stage and deaths:
            raise deaths.pop()
    monkeypatch.setattr(engine, "reached", reached)


@pytest.mark.parametrize("stage", engine.STAGES)
def test_a_worker_killed_anywhere_loses_nothing_and_duplicates_nothing(alice, calendar, google, monkeypatch, stage):
    linked = factories.appointment(alice, "2026-12-03 10:00", subject="Linked")
    dropped = factories.appointment(alice, "2026-12-03 14:00", subject="Deleted in the CRM")
    gone = factories.appointment(alice, "2026-12-03 16:00", subject="Deleted in Google")
    sync(calendar)
    remote = dict(EventLink.objects.values_list("action_id", "remote_id"))
    # The killed run has one of everything to do: an import, a merge, a deletion each way, a create and an
    # update to push.
    google.insert({"summary": "New in Google", **TIMED})
    google.change(remote[linked.pk], location="Room 9")
    google.delete(remote[gone.pk])
    crm.action_update(action=Action.objects.get(pk=linked.pk), description="Agenda")
    crm.action_delete(action=dropped)
    factories.appointment(alice, "2026-12-05 10:00", subject="New in the CRM")
    kill_at(monkeypatch, stage)
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    with pytest.raises(engine.Busy):
        engine.sync(calendar.pk)
    lease_runs_out(calendar)
    sync(calendar)
    sync(calendar)
    subjects = ["Linked", "New in Google", "New in the CRM"]
    assert sorted(Action.objects.values_list("subject", flat=True)) == subjects
    events = by_summary(google.events())
    assert sorted(events) == subjects
    assert len(google.events()) == 3
    assert (events["Linked"]["location"], events["Linked"]["description"]) == ("Room 9", "Agenda")
    linked.refresh_from_db()
    assert (linked.location, linked.description) == ("Room 9", "Agenda")
    assert EventLink.objects.filter(calendar=calendar).count() == 3
    assert not OutboxEntry.objects.exists()
    assert TrashedAction.objects.get().subject == "Deleted in Google"
    killed = SyncRun.objects.filter(calendar=calendar).order_by("started_at", "pk")[1]
    if stage == "run recorded":
        assert killed.finished_at is not None
        assert killed.error == ""
    else:  # the run that took over says what became of it
        assert killed.finished_at is not None
        assert killed.error.startswith("Interrupted")


def test_a_run_that_outlived_its_lease_stops_before_writing(alice, calendar, google, monkeypatch):
    sync(calendar)
    google.insert({"summary": "New in Google", **TIMED})

    def another_worker_takes_over(name):
        if name == "pulled":  # the run stalled past its lease, and another claimed the calendar
            RemoteCalendar.objects.filter(pk=calendar.pk).update(lease_owner="another-worker")
    monkeypatch.setattr(engine, "reached", another_worker_takes_over)
    run = engine.sync(calendar.pk)
    assert "another run took the calendar over" in run.error
    assert not Action.objects.filter(subject="New in Google").exists()
    assert RemoteCalendar.objects.get(pk=calendar.pk).lease_owner == "another-worker"  # not released by the loser


def test_a_run_that_lost_its_lease_after_its_last_step_records_itself_and_leaves_the_calendar(
        alice, calendar, google, monkeypatch):
    google.insert({"summary": "New in Google", **TIMED})

    def another_worker_takes_over(name):
        if name == "cursor kept":  # everything is written; only the run's record is left to do
            RemoteCalendar.objects.filter(pk=calendar.pk).update(lease_owner="another-worker")
    monkeypatch.setattr(engine, "reached", another_worker_takes_over)
    run = engine.sync(calendar.pk)
    run.refresh_from_db()
    assert run.finished_at is not None
    assert run.error == ""
    assert Action.objects.filter(subject="New in Google").exists()
    assert RemoteCalendar.objects.get(pk=calendar.pk).lease_owner == "another-worker"


def test_no_transaction_is_open_while_a_provider_is_called(transactional_db, alice, calendar, google, monkeypatch):
    """Tokens refreshed mid-run are saved at once, and no row stays locked while Google answers or is waited for."""
    make, calls = services.provider_for, []

    def provider_for(account):
        provider = make(account)
        for name in ("changes", "listing", "fetch", "write"):
            setattr(provider, name, watched(name, getattr(provider, name)))
        return provider

    def watched(name, call):
        def checked(*args):
            calls.append((name, connection.in_atomic_block))
            return call(*args)
        return checked
    monkeypatch.setattr(services, "provider_for", provider_for)
    saved = []
    monkeypatch.setattr(type(calendar.account), "save", lambda self, *args, **kwargs: saved.append(
        connection.in_atomic_block))
    factories.appointment(alice, "2026-12-05 10:00", subject="New in the CRM")
    google.insert({"summary": "New in Google", **TIMED})
    type(calendar.account).objects.filter(pk=calendar.account_id).update(access_token_expires_at=None)
    sync(calendar)
    assert {name for name, _ in calls} >= {"changes", "write"}
    assert not any(in_transaction for _, in_transaction in calls)
    assert saved == [False]  # the refreshed token, committed on its own


def test_an_unexpected_error_is_the_run_s_error_and_the_next_run_tries_again(alice, calendar, google, monkeypatch,
                                                                             caplog):
    sync(calendar)
    google.insert({"summary": "New in Google", **TIMED})

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the mapping")
    monkeypatch.setattr(type(services.provider_for(calendar.account)), "changes", broken)
    with caplog.at_level(logging.ERROR, logger="calendarsync.engine"):
        run = engine.sync(calendar.pk)
    assert "unexpected error" in run.error
    assert f"run {run.pk}" in run.error
    assert "a bug in the mapping" in caplog.text  # the traceback is in the log, not on the page
    calendar.refresh_from_db()
    assert calendar_status(calendar, {}) == (CalendarStatus.ERROR, run.error)
    assert calendar.lease_owner == ""  # released: the next run need not wait
    monkeypatch.undo()
    sync(calendar)
    assert Action.objects.filter(subject="New in Google").exists()
    assert calendar_status(calendar, {})[0] == CalendarStatus.SYNCED


@pytest.mark.broker
def test_two_workers_hammering_the_same_calendars_never_run_one_twice_at_once(alice, calendar, google, settings,
                                                                               workers):
    """CI: two `celery worker` processes on PostgreSQL take sixteen runs of two calendars from one queue, each
    run slowed down by Google; the leases let one run at a time per calendar, the others wait their turn."""
    team = services.calendar_configure(alice, RemoteCalendar.objects.get(account=calendar.account, name="Team"),
                                       selected=True, direction="both")
    for day in range(3, 8):
        factories.appointment(alice, f"2026-12-0{day} 10:00", subject=f"Visit {day}")
    google.fault(latency=0.15, times=10_000, path="/calendar/v3/")
    settings.CALENDARSYNC_PUSH_DELAY_SECONDS = 1  # a busy calendar's task comes back after 1, 2, 4... seconds
    workers(2)
    results = [tasks.sync_calendar.delay(pk, Trigger.MANUAL) for _ in range(8) for pk in (calendar.pk, team.pk)]
    for result in results:
        result.get(timeout=300)
    for synced in (calendar, team):
        runs = SyncRun.objects.filter(calendar=synced).order_by("started_at")
        assert runs.filter(trigger=Trigger.MANUAL).count() == 8  # a push queued by the saves above may add one
        spans = list(runs.values_list("started_at", "finished_at"))
        assert all(ended is not None for _, ended in spans)
        assert all(ended <= began for (_, ended), (began, _) in zip(spans, spans[1:], strict=False))
    assert not SyncRun.objects.exclude(error="").exists()
    assert sorted(by_summary(google.events())) == [f"Visit {day}" for day in range(3, 8)]  # each once
    held = RemoteCalendar.objects.exclude(lease_owner="")
    deadline = time.monotonic() + 60
    while held.exists() and time.monotonic() < deadline:  # the push the saves queued may be running still
        time.sleep(0.2)
    assert not held.exists()  # every run released its calendar


@pytest.mark.parametrize("stage", ["merged", "pushed"])
def test_a_calendar_edit_merged_by_a_run_that_died_before_recording_is_not_taken_for_a_crm_edit(
        alice, calendar, google, monkeypatch, stage):
    """Found by the convergence machine: the dead run had merged the calendar's location into the CRM while
    pushing the CRM's subject; the next run took that location for the CRM's own edit and let it beat the
    calendar's newer one."""
    visit = factories.appointment(alice, "2026-12-03 10:00", subject="Visit", location="Room 1")
    sync(calendar)
    remote_id = EventLink.objects.get(action=visit).remote_id
    crm.action_update(action=Action.objects.get(pk=visit.pk), subject="Visit, moved")
    google.change(remote_id, location="Room 2")
    kill_at(monkeypatch, stage)
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    google.change(remote_id, location="Room 3")
    crm.action_update(action=Action.objects.get(pk=visit.pk), subject="Visit, moved again")
    lease_runs_out(calendar)
    sync(calendar)
    sync(calendar)
    visit.refresh_from_db()
    event = google.event(remote_id)
    assert (visit.subject, visit.location) == ("Visit, moved again", "Room 3")
    assert (event["summary"], event["location"]) == ("Visit, moved again", "Room 3")
    assert not ConflictRecord.objects.filter(group="location").exists()


def test_an_update_a_dead_run_wrote_but_never_recorded_is_known_as_its_own_when_read_back(
        alice, calendar, google, monkeypatch):
    """Found by the convergence machine (Outlook): a run pushed the CRM's new time and died before recording
    it; the CRM then moved the appointment again and the calendar changed its room. Read back, the time the
    dead run wrote is its own write, not the calendar's edit: it must not beat the CRM's later move."""
    visit = factories.appointment(alice, "2026-12-03 16:00", subject="Visit", location="Room 1")
    sync(calendar)
    remote_id = EventLink.objects.get(action=visit).remote_id
    crm.action_move(action=Action.objects.get(pk=visit.pk), start=factories.local("2026-12-03 12:00"))
    kill_at(monkeypatch, "pushed")
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    assert google.event(remote_id)["start"]["dateTime"] == "2026-12-03T12:00:00+01:00"  # it went out
    crm.action_move(action=Action.objects.get(pk=visit.pk), start=factories.local("2026-12-03 18:00"))
    google.change(remote_id, location="Room 2")  # the calendar's edit comes last
    lease_runs_out(calendar)
    sync(calendar)
    sync(calendar)
    visit.refresh_from_db()
    event = google.event(remote_id)
    assert (visit.start, visit.location) == (factories.local("2026-12-03 18:00"), "Room 2")
    assert (event["start"]["dateTime"], event["location"]) == ("2026-12-03T18:00:00+01:00", "Room 2")
    assert not ConflictRecord.objects.exists()
    assert EventLink.objects.get(action=visit).pending is None
