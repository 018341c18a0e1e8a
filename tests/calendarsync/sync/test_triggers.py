"""What starts a sync: a save anywhere (outbox in the same transaction, a push after the commit), the
agenda being opened, and the management command."""

from django.core.cache import cache
from django.core.management import call_command

from calendarsync.models import OutboxEntry, SyncRun
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import sync


def test_a_save_through_the_api_is_pushed_after_its_commit(client, alice, calendar, google,
                                                           django_capture_on_commit_callbacks):
    sync(calendar)
    cache.clear()
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/api/v1/actions/", {
            "action_type": Action._meta.get_field("action_type").related_model.objects.get(code="appointment").pk,
            "subject": "From the phone", "start": "2026-12-04T10:00:00+01:00", "end": "2026-12-04T11:00:00+01:00"},
            content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1
    assert [event["summary"] for event in google.events()] == ["From the phone"]
    assert SyncRun.objects.filter(calendar=calendar, trigger="save").exists()
    assert not OutboxEntry.objects.exists()


def test_a_burst_of_saves_is_one_outbox_entry_and_one_push(alice, calendar, google,
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
    assert SyncRun.objects.filter(trigger="save").count() == 1  # the others rode along
    assert [event["summary"] for event in google.events()] == ["v5"]


def test_changes_the_engine_makes_do_not_come_back_to_their_calendar(alice, calendar, google):
    sync(calendar)
    google.insert({"summary": "Imported", "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}})
    sync(calendar)
    assert Action.objects.filter(subject="Imported").exists()
    assert not OutboxEntry.objects.exists()


def test_opening_the_agenda_pulls_at_most_once_in_a_while(client, alice, calendar, google,
                                                          django_capture_on_commit_callbacks):
    sync(calendar)
    cache.clear()
    google.insert({"summary": "Seen on opening", "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}})
    client.force_login(alice)
    assert client.get("/agenda/?date=2026-12-04").status_code == 200
    assert Action.objects.filter(subject="Seen on opening").exists()
    assert client.get("/agenda/?date=2026-12-04").status_code == 200
    assert SyncRun.objects.filter(trigger="agenda").count() == 1


def test_the_sync_command_syncs_one_users_calendars_with_progress(alice, calendar, google, capsys):
    for hour in range(3):
        factories.appointment(alice, "2026-12-04 10:00", subject=f"Call {hour}")
    call_command("sync", user="alice")
    output = capsys.readouterr().out
    assert "3/3" in output
    assert "created 3" in output
    assert len(google.events()) == 3
