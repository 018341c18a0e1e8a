"""What starts a sync: a save anywhere (outbox in the same transaction, a push after the commit), the
agenda being opened, and the management command."""

import time

import pytest
from django.core.cache import cache
from django.core.management import call_command

from calendarsync.models import EventLink, OutboxEntry, SyncRun, Trigger
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import by_summary, sync


def test_a_save_through_the_api_is_pushed_by_the_worker_after_its_commit(client, alice, calendar, google, jobs,
                                                                         django_capture_on_commit_callbacks):
    sync(calendar)
    cache.clear()
    client.force_login(alice)
    before = google.counters()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/api/v1/actions/", {
            "action_type": Action._meta.get_field("action_type").related_model.objects.get(code="appointment").pk,
            "subject": "From the phone", "start": "2026-12-04T10:00:00+01:00", "end": "2026-12-04T11:00:00+01:00"},
            content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1
    assert jobs.names() == ["sync_calendar"]  # queued after the commit; the request answered without Google
    assert google.counters() == before
    assert google.events() == []
    jobs.run()
    assert [event["summary"] for event in google.events()] == ["From the phone"]
    assert SyncRun.objects.filter(calendar=calendar, trigger="save").exists()
    assert not OutboxEntry.objects.exists()


def test_a_burst_of_saves_is_one_outbox_entry_and_one_push(alice, calendar, google, jobs,
                                                           django_capture_on_commit_callbacks):
    sync(calendar)
    cache.clear()
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="v0")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for version in range(1, 6):
            crm.action_update(action=meeting, subject=f"v{version}")
    assert OutboxEntry.objects.filter(action_id=meeting.pk).count() == 1
    for callback in callbacks:
        callback()
    assert jobs.names() == ["sync_calendar"]  # the others ride along
    jobs.run()
    assert SyncRun.objects.filter(trigger="save").count() == 1
    assert [event["summary"] for event in google.events()] == ["v5"]


def test_changes_the_engine_makes_do_not_come_back_to_their_calendar(alice, calendar, google):
    sync(calendar)
    google.insert({"summary": "Imported", "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}})
    sync(calendar)
    assert Action.objects.filter(subject="Imported").exists()
    assert not OutboxEntry.objects.exists()


def test_opening_the_agenda_has_a_worker_pull_at_most_once_in_a_while(client, alice, calendar, google, jobs):
    sync(calendar)
    cache.clear()
    google.insert({"summary": "Seen on opening", "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}})
    client.force_login(alice)
    before = google.counters()
    assert client.get("/agenda/?date=2026-12-04").status_code == 200
    assert client.get("/api/v1/actions/?start=2026-12-01&end=2026-12-08").status_code == 200
    assert google.counters() == before  # neither page waited on Google
    assert jobs.names() == ["pull_user"]  # once for both
    jobs.run()
    assert Action.objects.filter(subject="Seen on opening").exists()
    assert client.get("/agenda/?date=2026-12-04").status_code == 200
    assert jobs.names() == []
    assert SyncRun.objects.filter(trigger="agenda").count() == 1


def test_the_sync_command_syncs_one_users_calendars_with_progress(alice, calendar, google, capsys):
    for hour in range(3):
        factories.appointment(alice, "2026-12-04 10:00", subject=f"Call {hour}")
    call_command("sync", user="alice")
    output = capsys.readouterr().out
    assert "3/3" in output
    assert "created 3" in output
    assert len(google.events()) == 3


@pytest.mark.broker
def test_a_real_worker_pushes_an_appointment_saved_on_the_web(client, alice, calendar, google, appointment_type,
                                                              worker):
    """CI: the web save commits, its push goes through Redis to a separate `celery worker` process, which
    syncs through the Google sandbox and commits to the same PostgreSQL database."""
    client.force_login(alice)
    response = client.post("/actions/new/", {
        "action_type": appointment_type.pk, "subject": "Signed on the web", "start_date": "2026-12-07",
        "start_time": "10:00", "end_date": "2026-12-07", "end_time": "11:00", "time_zone": "Europe/Paris",
        "status": "planned", "availability": "busy", "privacy": "normal", "ends": "never"})
    assert response.status_code == 302
    deadline = time.monotonic() + 90
    def pushed():  # the event is in Google, and the run that wrote it has recorded its figures
        return "Signed on the web" in by_summary(google.events()) and SyncRun.objects.filter(
            calendar=calendar, finished_at__isnull=False).exists()
    while not pushed() and time.monotonic() < deadline:
        time.sleep(0.5)
    event = by_summary(google.events())["Signed on the web"]
    assert event["start"]["dateTime"] == "2026-12-07T10:00:00+01:00"
    action = Action.objects.get(subject="Signed on the web")
    assert EventLink.objects.get(calendar=calendar, action=action).remote_id == event["id"]
    assert list(SyncRun.objects.filter(calendar=calendar).values_list("trigger", "created")) == [(Trigger.SAVE, 1)]
    assert not OutboxEntry.objects.filter(calendar=calendar).exists()
