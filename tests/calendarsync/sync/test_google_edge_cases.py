"""Cases found by review: edits racing a run, what Google holds that the CRM does not, and the outbox's limits."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from calendarsync import app_settings, engine, services, tasks
from calendarsync.models import ConflictRecord, EventLink, OutboxEntry, RemoteCalendar, SyncRun, TrashedAction
from calendarsync.providers.memory import MemoryProvider, MemoryService
from crm import services as crm
from crm.models import Action, Removal, removals
from tests import factories

from .conftest import PRIMARY, TIMED, Died, die_once_after_writing, lease_runs_out, sync


def test_an_edit_saved_while_a_run_merges_is_neither_overwritten_nor_lost(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Plan")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    google.change(remote_id, location="Room 9")
    edited = []

    def web_save_after_the_run_reads(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not edited and 'FROM "crm_action"' in sql and "updated_at" in sql:  # the run's read of the appointment
            edited.append(True)
            crm.action_update(action=Action.objects.get(pk=meeting.pk), subject="Renamed on the web")
        return result

    with connection.execute_wrapper(web_save_after_the_run_reads):
        run = sync(calendar)
    assert edited
    assert run.queued_meanwhile  # its task queues the next push
    meeting.refresh_from_db()
    assert (meeting.subject, meeting.location) == ("Renamed on the web", "Room 9")
    sync(calendar)
    event = google.event(remote_id)
    assert (event["summary"], event["location"]) == ("Renamed on the web", "Room 9")


def test_what_google_holds_beyond_the_synced_fields_survives_a_crm_edit(alice, calendar, google):
    sync(calendar)
    created = google.insert({"summary": "Demo", **TIMED, "attendees": [{"email": "client@example.com"}],
                             "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]},
                             "extendedProperties": {"shared": {"crm-of-the-client": "42"}}})
    sync(calendar)
    crm.action_update(action=Action.objects.get(subject="Demo"), subject="Demo (confirmed)")
    sync(calendar)
    event = google.event(created["id"])
    assert event["summary"] == "Demo (confirmed)"
    assert event["attendees"] == [{"email": "client@example.com"}]
    assert event["reminders"]["overrides"] == [{"method": "popup", "minutes": 5}]
    assert event["extendedProperties"]["shared"] == {"crm-of-the-client": "42"}


def test_a_pair_with_different_contents_is_linked_so_later_edits_do_not_duplicate(alice, calendar, google):
    google.insert({"summary": "Board meeting", "location": "HQ", **TIMED})
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Board meeting", description="Agenda")
    sync(calendar)
    assert EventLink.objects.filter(action_id=meeting.pk).exists()
    meeting.refresh_from_db()
    assert (meeting.location, meeting.description) == ("HQ", "Agenda")  # a field one side left empty: no conflict
    assert not ConflictRecord.objects.exists()
    crm.action_update(action=meeting, subject="Board meeting (moved room)")
    sync(calendar)
    assert [event["summary"] for event in google.events()] == ["Board meeting (moved room)"]
    event = google.events()[0]
    assert (event["location"], event["description"]) == ("HQ", "Agenda")


def test_a_conflict_the_crm_wins_keeps_googles_version(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Review")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    google.change(remote_id, summary="Review (Google)")
    time.sleep(0.01)
    crm.action_update(action=meeting, subject="Review (CRM)")  # the later change
    run = sync(calendar)
    assert run.conflicts == 1
    assert google.event(remote_id)["summary"] == "Review (CRM)"
    conflict = ConflictRecord.objects.get()
    assert (conflict.winner, conflict.remote, conflict.action_id) == ("local", {"summary": "Review (Google)"},
                                                                      meeting.pk)


def test_an_exact_crm_color_stays_when_google_edits_something_else(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Colored", color="#123456")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    google.change(remote_id, summary="Colored, renamed")
    sync(calendar)
    meeting.refresh_from_db()
    assert (meeting.subject, meeting.color) == ("Colored, renamed", "#123456")


def test_a_deletion_refused_because_google_changed_the_event_gives_way_to_the_edit(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Keep me")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_delete(action=meeting)
    google.fault(latency=1, path="/batch", times=1)  # the deletion is held in flight while Google's user edits

    def edit_once_the_deletion_is_in_flight():
        while google.counters().get("injected_faults", 0) < 1:
            time.sleep(0.02)
        google.change(remote_id, summary="Keep me, edited in Google")

    editing = threading.Thread(target=edit_once_the_deletion_is_in_flight)
    editing.start()
    run = sync(calendar)
    editing.join()
    assert run.deleted == 0
    assert google.event(remote_id)["status"] == "confirmed"
    assert Action.objects.filter(subject="Keep me, edited in Google").exists()  # the edit wins (never lost)


def test_an_exception_cancelled_in_google_leaves_the_crm_even_through_a_full_listing(alice, calendar, google):
    sync(calendar)
    master = google.weekly_series("Yoga", 4)
    google.change(f"{master['id']}_20261208T170000Z", summary="Yoga (long)")
    sync(calendar)
    yoga = Action.objects.get(subject="Yoga")
    assert yoga.overrides.count() == 1
    google.delete(f"{master['id']}_20261208T170000Z")
    google.control("expire-sync-tokens")
    assert sync(calendar).full
    yoga.refresh_from_db()
    assert yoga.exdates == ["20261208T170000Z"]
    assert not yoga.overrides.exists()


def test_removing_an_accounts_imports_takes_series_with_their_exceptions(alice, calendar, google):
    sync(calendar)
    master = google.weekly_series("Yoga", 4)
    google.change(f"{master['id']}_20261208T170000Z", summary="Yoga (long)")
    sync(calendar)
    assert Action.objects.count() == 2
    services.account_disconnect(calendar.account, appointments="remove")
    assert not Action.objects.exists()


def test_a_change_google_keeps_refusing_is_tried_a_few_times_then_waits_with_its_error(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Refused")
    google.fault(status=400, method="POST", path=f"/calendars/{PRIMARY}/events", times=100)
    for _attempt in range(app_settings.OUTBOX_ATTEMPTS):
        assert sync(calendar).skipped == 1
    entry = OutboxEntry.objects.get(action_id=meeting.pk)
    assert entry.attempts == app_settings.OUTBOX_ATTEMPTS
    assert "400" in entry.last_error
    faults = google.counters()["injected_faults"]
    assert sync(calendar).skipped == 0  # no more tries
    assert google.counters()["injected_faults"] == faults
    google.clear_faults()
    crm.action_update(action=meeting, subject="Refused, then fixed")  # a new change: new tries
    sync(calendar)
    assert [event["summary"] for event in google.events()] == ["Refused, then fixed"]


def test_old_runs_and_trash_are_purged_but_each_calendars_last_run_stays(alice, calendar, google):
    sync(calendar)
    sync(calendar)
    long_ago = timezone.now() - timedelta(days=app_settings.RUNS_KEPT_DAYS + 1)
    SyncRun.objects.update(started_at=long_ago)
    TrashedAction.objects.create(owner=alice, subject="Old", snapshot=[])
    TrashedAction.objects.update(trashed_at=timezone.now() - timedelta(days=app_settings.TRASH_DAYS + 1))
    recent, old = (factories.appointment(alice, "2026-12-01 10:00", subject=subject) for subject in ("New", "Old"))
    crm.action_delete(action=recent)
    crm.action_delete(action=old)
    Removal.objects.filter(uid=old.uid).update(removed_at=timezone.now() - timedelta(days=removals.KEPT_DAYS + 1))
    assert tasks.purge() == {"trashed": 1, "runs": 1, "removals": 1}
    assert list(Removal.objects.values_list("uid", flat=True)) == [recent.uid]
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [calendar.last_run_id]


def test_a_large_outbox_is_cleared_whatever_the_database(alice, calendar, google):
    sync(calendar)
    gone = [OutboxEntry(calendar=calendar, action_id=10_000_000 + number) for number in range(2_500)]
    OutboxEntry.objects.bulk_create(gone)  # appointments deleted before any sync: nothing to send
    sync(calendar)
    assert not OutboxEntry.objects.exists()


def test_a_run_that_died_after_pushing_is_taken_up_without_duplicating_or_resurrecting(
        alice, calendar, google, monkeypatch):
    sync(calendar)
    kept = factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    dropped = factories.appointment(alice, "2026-12-05 10:00", subject="Deleted meanwhile")
    die_once_after_writing(monkeypatch)
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    with pytest.raises(engine.Busy):  # the dead worker's lease holds the calendar until it runs out
        engine.sync(calendar.pk)
    lease_runs_out(calendar)
    assert sorted(event["summary"] for event in google.events()) == ["Deleted meanwhile", "Kept"]
    assert not EventLink.objects.exists()  # the worker died before recording what it wrote
    crm.action_update(action=kept, location="Room 3")
    crm.action_delete(action=dropped)
    run = sync(calendar)
    assert [(event["summary"], event.get("location")) for event in google.events()] == [("Kept", "Room 3")]
    assert list(Action.objects.values_list("subject", flat=True)) == ["Kept"]
    assert EventLink.objects.get().action_id == kept.pk
    assert (run.skipped, run.conflicts) == (0, 0)


def test_a_run_that_died_after_pushing_a_series_pairs_it_with_the_series_not_its_occurrence(
        alice, calendar, google, monkeypatch):
    sync(calendar)
    series = factories.appointment(alice, "2026-12-01 18:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    crm.occurrence_update(series=series, recurrence_id="20261208T170000Z", location="Moved room")
    die_once_after_writing(monkeypatch)
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    with pytest.raises(engine.Busy):  # the dead worker's lease holds the calendar until it runs out
        engine.sync(calendar.pk)
    lease_runs_out(calendar)
    sync(calendar)
    links = dict(EventLink.objects.values_list("action_id", "remote_id"))
    override = series.overrides.get()
    assert links[series.pk] != links[override.pk]
    master = google.event(links[series.pk])
    assert master["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]
    assert google.event(links[override.pk])["location"] == "Moved room"
    sync(calendar)
    assert google.event(links[series.pk])["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]


def test_a_forgotten_cursor_asks_for_what_the_listing_lacks_before_trashing_it(alice, calendar, google):
    moved = factories.appointment(alice, "2026-12-04 10:00", subject="Moved far away")
    deleted = factories.appointment(alice, "2026-12-01 18:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    sync(calendar)
    links = dict(EventLink.objects.values_list("action_id", "remote_id"))
    google.change(links[moved.pk], start={"dateTime": "2028-03-01T10:00:00+01:00", "timeZone": "Europe/Paris"},
                  end={"dateTime": "2028-03-01T11:00:00+01:00", "timeZone": "Europe/Paris"})
    google.delete(links[deleted.pk])
    google.control("expire-sync-tokens")
    run = sync(calendar)
    assert (run.full, run.deleted, run.updated) == (True, 1, 1)
    moved.refresh_from_db()
    assert moved.start == factories.local("2028-03-01 10:00")  # followed, not trashed
    assert TrashedAction.objects.get().subject == "Weekly"


def test_an_update_of_an_event_that_vanished_unseen_recreates_it_instead_of_retrying_forever(
        alice, calendar, monkeypatch):
    service = MemoryService()
    service.add_calendar(PRIMARY)
    monkeypatch.setattr(services, "provider_for", lambda account: MemoryProvider(service))
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Kept alive")
    sync(calendar)
    del service.calendars[PRIMARY].entries[EventLink.objects.get().remote_id]  # gone, and no listing says so
    crm.action_update(action=meeting, location="Room 4")
    sync(calendar)
    assert [(event.summary, event.location) for event in service.live(PRIMARY).values()] == [("Kept alive", "Room 4")]
    assert EventLink.objects.get().remote_id in service.live(PRIMARY)
    assert not OutboxEntry.objects.exists()


def test_a_calendar_an_administrator_paused_is_not_resumed_by_its_user(client, alice, calendar, google):
    services.calendars_hold(RemoteCalendar.objects.filter(pk=calendar.pk), "Paused during the audit.")
    client.force_login(alice)
    page = client.get("/settings/sync/").content.decode()
    assert "Paused during the audit." in page
    assert "data-resume" not in page
    response = client.post(f"/settings/sync/calendars/{calendar.pk}/resume/", follow=True)
    assert "only an administrator can resume it" in response.content.decode()
    calendar.refresh_from_db()
    assert calendar.hold == "Paused during the audit."
    services.calendars_release(RemoteCalendar.objects.filter(pk=calendar.pk))
    assert sync(calendar) is not None


def test_an_appointment_restored_from_the_trash_goes_back_to_its_calendar_only(alice, calendar, google,
                                                                               google_account):
    from calendarsync import recovery

    team = RemoteCalendar.objects.get(account=google_account, remote_id="team@group.example.com")
    services.calendar_configure(alice, team, selected=True, direction="both")
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Audit")
    sync(calendar)
    RemoteCalendar.objects.filter(pk=calendar.pk).update(is_destination=False)
    RemoteCalendar.objects.filter(pk=team.pk).update(is_destination=True)
    google.delete(EventLink.objects.get(action_id=meeting.pk).remote_id)
    sync(calendar)
    recovery.trash_restore(alice, TrashedAction.objects.get())
    assert list(OutboxEntry.objects.values_list("calendar_id", flat=True)) == [calendar.pk]


def test_an_event_beyond_the_horizon_arrives_once_the_window_reaches_it(alice, calendar, google, monkeypatch):
    """Google's sync token reported the event once, while it was beyond the horizon: the listing of what the
    horizon reached since brings it."""
    sync(calendar)
    far = timezone.now() + timedelta(days=app_settings.HORIZON_DAYS + 5)
    google.insert({"summary": "Far ahead", "start": {"dateTime": far.isoformat(), "timeZone": "UTC"},
                   "end": {"dateTime": (far + timedelta(hours=1)).isoformat(), "timeZone": "UTC"}})
    assert sync(calendar).created == 0
    moment = timezone.now() + timedelta(days=10)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    run = sync(calendar)
    assert run.created == 1, run.report
    assert Action.objects.get(subject="Far ahead").start == far.replace(microsecond=0)
    assert sync(calendar).created == 0


def test_empty_pages_that_carry_a_next_page_token_are_followed(alice, calendar, google):
    """Google may answer a page with no items and a nextPageToken; the listing goes on, nothing is trashed."""
    factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    sync(calendar)
    google.insert({"summary": "New in Google", **TIMED})
    google.control(f"calendars/{PRIMARY}/empty-pages", pages=3)
    sync(calendar)
    google.control("expire-sync-tokens")
    google.control(f"calendars/{PRIMARY}/empty-pages", pages=3)
    sync(calendar)
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Kept", "New in Google"]
    assert not TrashedAction.objects.exists()
