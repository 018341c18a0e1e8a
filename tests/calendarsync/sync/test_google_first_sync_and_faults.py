"""First syncs (matching, dry runs, directions) and the failures Google can answer with."""

import time
from datetime import date, timedelta

from django.utils import timezone

from calendarsync import services
from calendarsync.models import AccountState, EventLink, OutboxEntry, RemoteCalendar, TrashedAction
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import PRIMARY, TIMED, by_summary, sync


def test_a_first_sync_pairs_what_exists_on_both_sides_instead_of_duplicating(alice, calendar, google):
    google.insert({"summary": "Board meeting", **TIMED})
    google.insert({"summary": "Only in Google", **TIMED})
    same = factories.appointment(alice, "2026-12-04 10:00", subject="Board meeting")
    factories.appointment(alice, "2026-12-05 10:00", subject="Only in the CRM")
    dry = sync(calendar, dry_run=True)
    assert sorted(line.split()[0] for line in dry.report) == ["create_local", "create_remote", "link"]
    assert Action.objects.count() == 2
    assert len(google.events()) == 2

    run = sync(calendar)
    assert (run.error, run.created) == ("", 2)
    assert sorted(event["summary"] for event in google.events()) == ["Board meeting", "Only in Google",
                                                                      "Only in the CRM"]
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Board meeting", "Only in Google",
                                                                         "Only in the CRM"]
    assert EventLink.objects.get(action_id=same.pk)

    # Reconnecting from scratch (links and cursor gone) creates nothing twice (P4).
    EventLink.objects.all().delete()
    RemoteCalendar.objects.filter(pk=calendar.pk).update(cursor="", window_start=None)
    run = sync(calendar)
    assert (run.error, run.created) == ("", 0)
    assert len(google.events()) == 3
    assert Action.objects.count() == 3


def test_from_now_on_leaves_what_exists_alone_and_syncs_what_changes(alice, calendar, google):
    services.calendar_configure(alice, calendar, first_sync="from_now")
    later = timezone.now() + timedelta(days=7)  # "from now on" covers what is ahead of now
    old = google.insert({"summary": "Existing", "start": {"dateTime": later.isoformat()},
                         "end": {"dateTime": (later + timedelta(hours=1)).isoformat()}})
    factories.appointment(alice, "2026-12-05 10:00", subject="Existing in the CRM")
    OutboxEntry.objects.all().delete()  # saved before the calendar was chosen
    assert sync(calendar).created == 0
    assert not Action.objects.filter(subject="Existing").exists()
    google.change(old["id"], summary="Existing, changed")
    sync(calendar)
    assert Action.objects.filter(subject="Existing, changed").exists()


def test_import_only_never_writes_to_google_and_export_only_never_changes_the_crm(alice, calendar, google):
    services.calendar_configure(alice, calendar, direction="import")
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Private plan")
    remote = google.insert({"summary": "From Google", **TIMED})
    sync(calendar)
    assert [event["summary"] for event in google.events()] == ["From Google"]
    imported = Action.objects.get(subject="From Google")
    crm.action_delete(action=imported)
    sync(calendar)
    assert google.event(remote["id"])["status"] == "confirmed"  # a local deletion does not reach it

    services.calendar_configure(alice, calendar, direction="export", is_destination=True)
    crm.action_update(action=meeting, subject="Plan")
    google.insert({"summary": "Also from Google", **TIMED})
    sync(calendar)
    assert not Action.objects.filter(subject="Also from Google").exists()
    assert "Plan" in [event["summary"] for event in google.events()]


def test_a_forgotten_sync_token_means_a_full_listing_that_deletes_only_what_is_gone(alice, calendar, google):
    factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    factories.appointment(alice, "2026-12-05 10:00", subject="Deleted in Google")
    factories.appointment(alice, "2028-06-01 10:00", subject="Beyond the horizon")  # linked, not in the listing
    sync(calendar)
    assert EventLink.objects.count() == 3
    google.delete(by_summary(google.events())["Deleted in Google"]["id"])
    google.control("expire-sync-tokens")
    google.insert({"summary": "New meanwhile", **TIMED})
    run = sync(calendar)
    assert (run.error, run.full, run.deleted, run.created) == ("", True, 1, 1)
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Beyond the horizon", "Kept", "New meanwhile"]
    assert TrashedAction.objects.get().subject == "Deleted in Google"
    assert EventLink.objects.count() == 3


def test_a_write_refused_as_stale_is_pulled_merged_and_written_again_in_the_same_run(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Plan")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_update(action=meeting, description="Agenda attached")
    google.change(remote_id, location="Room 9")  # seen by the run's pull, merged
    google.fault(status=412, method="PATCH", times=1)  # as if changed again between that pull and the write
    run = sync(calendar)
    assert run.error == ""
    assert google.counters()["injected_faults"] == 1
    event = google.event(remote_id)
    meeting.refresh_from_db()
    assert (event["description"], event["location"]) == ("Agenda attached", "Room 9")
    assert meeting.location == "Room 9"


def test_rate_limits_and_outages_are_waited_out_as_google_asks(alice, calendar, google):
    for hour in range(60):
        factories.appointment(alice, "2026-12-04 10:00", subject=f"Meeting {hour}")
    google.fault(status=429, retry_after=1, times=2, path="/batch")
    google.fault(status=503, times=2, path="/calendar/v3/calendars")
    began = time.monotonic()
    run = sync(calendar)
    assert time.monotonic() - began >= 2  # twice the second Google asked for (the outage adds backoff)
    assert (run.error, run.created) == ("", 60)
    assert google.counters()["injected_faults"] == 4
    assert len(google.events()) == 60


def test_a_quota_error_is_said_in_words_and_keeps_the_outbox(alice, calendar, google):
    factories.appointment(alice, "2026-12-04 10:00", subject="Waiting")
    google.fault(status=403, body={"error": {"code": 403, "message": "Calendar usage limits exceeded.", "errors": [
        {"domain": "usageLimits", "reason": "quotaExceeded", "message": "Calendar usage limits exceeded."}]}},
        path="/batch", times=1)
    run = sync(calendar, failing=True)
    assert "usage limit" in run.error
    assert calendar.error == run.error
    assert OutboxEntry.objects.filter(calendar=calendar).exists()
    google.clear_faults()
    assert sync(calendar).error == ""
    assert calendar.error == ""
    assert not OutboxEntry.objects.filter(calendar=calendar).exists()


def test_a_revoked_grant_flags_the_account_keeps_the_outbox_and_resumes_after_reconnecting(
        client, alice, calendar, google, sandboxes):
    from tests.calendarsync.connecting import connect

    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Later")
    google.control("revoke", email=PRIMARY)
    google.control("expire-access-tokens", email=PRIMARY)
    run = sync(calendar, failing=True)
    assert "Reconnect" in run.error
    calendar.account.refresh_from_db()
    assert calendar.account.state == AccountState.RECONNECT
    assert Action.objects.filter(pk=meeting.pk).exists()
    assert OutboxEntry.objects.filter(action_id=meeting.pk).exists()
    assert sync(calendar) is None  # not tried again until reconnected

    client.force_login(alice)
    connect(client, sandboxes, "google", PRIMARY, account=calendar.account)
    assert sync(calendar).error == ""
    assert [event["summary"] for event in google.events()] == ["Later"]


def test_a_run_that_would_empty_the_crm_holds_the_calendar_until_the_user_resumes(alice, calendar, google):
    for day in range(1, 13):
        google.insert({"summary": f"Visit {day}",
                       "start": {"date": date(2026, 12, day).isoformat()},
                       "end": {"date": date(2026, 12, day + 1).isoformat()}})
    sync(calendar)
    assert Action.objects.count() == 12
    for event in google.events():
        google.delete(event["id"])
    dry = sync(calendar, dry_run=True, failing=True)
    assert "12 of 12" in dry.error
    assert calendar.hold == ""  # a dry run says so, and holds nothing
    run = sync(calendar, failing=True)
    assert "12 of 12" in run.error
    assert Action.objects.count() == 12
    assert sync(calendar) is None  # held
    services.calendar_resume(alice, calendar)
    assert sync(calendar).deleted == 12
    assert Action.objects.count() == 0


def test_a_crm_deletion_under_import_only_is_not_carried_out_when_the_calendar_later_exports(alice, calendar, google):
    services.calendar_configure(alice, calendar, direction="import")
    remote = google.insert({"summary": "From Google", **TIMED})
    sync(calendar)
    crm.action_delete(action=Action.objects.get(subject="From Google"))
    sync(calendar)
    assert not EventLink.objects.filter(calendar=calendar).exists()  # forgotten, not remembered as deleted

    services.calendar_configure(alice, calendar, direction="both")
    google.change(remote["id"], summary="From Google, changed")
    sync(calendar)
    assert google.event(remote["id"])["status"] == "confirmed"
    assert Action.objects.get().subject == "From Google, changed"  # changed there: it comes back
