"""What users and administrators see of the sync and can do about it: the last run, "Sync now", a held
calendar resumed, the version a conflict set aside put back, and an appointment deleted remotely restored."""

from django.urls import reverse

from calendarsync import services
from calendarsync.models import ConflictRecord, EventLink, OutboxEntry, RemoteCalendar, SyncRun, TrashedAction, Trigger
from crm import services as crm
from crm.models import Action
from tests import factories
from tests.calendarsync.connecting import connect

from .conftest import sync

SETTINGS = "/settings/sync/"


def page(client):
    response = client.get(SETTINGS)
    assert response.status_code == 200
    return response.content.decode()


def test_the_settings_page_shows_the_last_run_and_syncs_now(client, alice, calendar, google, jobs):
    factories.appointment(alice, "2026-12-04 10:00", subject="Kick-off")
    client.force_login(alice)
    assert "data-last-run" not in page(client)
    response = client.post(reverse("calendarsync:calendar-sync", args=[calendar.pk]), follow=True)
    assert "will be synced in a moment" in response.content.decode()
    assert not SyncRun.objects.exists()  # queued: the worker runs it
    jobs.run()
    run = SyncRun.objects.get()
    assert (run.trigger, run.created, run.error) == (Trigger.MANUAL, 1, "")
    assert [event["summary"] for event in google.events()] == ["Kick-off"]
    html = page(client)
    assert "1 created, 0 updated, 0 deleted, 0 conflicts" in html
    assert f"{run.requests} requests" in html


def test_a_calendar_that_cannot_sync_says_why_instead_of_syncing(client, alice, calendar, google):
    services_off = RemoteCalendar.objects.filter(pk=calendar.pk)
    services_off.update(enabled=False)
    client.force_login(alice)
    response = client.post(reverse("calendarsync:calendar-sync", args=[calendar.pk]), follow=True)
    assert "You switched sync off for this calendar." in response.content.decode()
    assert not SyncRun.objects.exists()


def test_a_held_calendar_is_resumed_from_the_page(client, alice, calendar, google):
    RemoteCalendar.objects.filter(pk=calendar.pk).update(hold="Held: 12 of 20 linked events would be deleted.")
    client.force_login(alice)
    assert "data-resume" in page(client)
    client.post(reverse("calendarsync:calendar-resume", args=[calendar.pk]))
    calendar.refresh_from_db()
    assert (calendar.hold, calendar.deletions_confirmed) == ("", True)
    assert "data-resume" not in page(client)


def test_the_version_a_conflict_set_aside_is_put_back_and_reaches_google(client, alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_update(action=meeting, subject="Review (CRM)")
    google.change(remote_id, summary="Review (Google)")  # the later change wins
    sync(calendar)
    record = ConflictRecord.objects.get()
    client.force_login(alice)
    html = page(client)
    assert "kept the Remote version “Review (Google)”, set aside “Review (CRM)”" in html
    client.post(reverse("calendarsync:conflict-restore", args=[record.pk]))
    meeting.refresh_from_db()
    assert meeting.subject == "Review (CRM)"
    assert OutboxEntry.objects.filter(calendar=calendar, action_id=meeting.pk).exists()
    sync(calendar)
    assert google.event(remote_id)["summary"] == "Review (CRM)"
    record.refresh_from_db()
    assert record.restored_at is not None
    assert "set aside" not in page(client)
    response = client.post(reverse("calendarsync:conflict-restore", args=[record.pk]), follow=True)
    assert "restored already" in response.content.decode()


def test_a_conflict_over_the_time_is_put_back_whole(client, alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_move(action=meeting, start=factories.local("2026-12-10 14:00"))
    google.change(remote_id, start={"dateTime": "2026-12-10T16:00:00+01:00", "timeZone": "Europe/Paris"},
                  end={"dateTime": "2026-12-10T17:00:00+01:00", "timeZone": "Europe/Paris"})
    sync(calendar)
    client.force_login(alice)
    client.post(reverse("calendarsync:conflict-restore", args=[ConflictRecord.objects.get(group="when").pk]))
    meeting.refresh_from_db()
    assert (meeting.start, meeting.end) == (factories.local("2026-12-10 14:00"), factories.local("2026-12-10 15:00"))


def test_an_appointment_deleted_in_google_is_restored_whole_and_goes_back(client, alice, bob, calendar, google):
    contact = factories.contact("Hopper", first_name="Grace")
    meeting = factories.appointment(alice, "2026-12-11 09:00", subject="Contract", location="Lyon")
    meeting.participants.add(bob)
    meeting.contacts.add(contact)
    sync(calendar)
    google.delete(EventLink.objects.get(action_id=meeting.pk).remote_id)
    sync(calendar)
    trashed = TrashedAction.objects.get()
    assert not Action.objects.exists()
    client.force_login(alice)
    assert 'data-trashed="Contract"' in page(client)
    client.post(reverse("calendarsync:trash-restore", args=[trashed.pk]))
    restored = Action.objects.get()
    assert (restored.subject, restored.location, restored.uid) == ("Contract", "Lyon", meeting.uid)
    assert list(restored.participants.all()) == [bob]
    assert list(restored.contacts.all()) == [contact]
    assert not TrashedAction.objects.exists()
    sync(calendar)
    assert [(event["summary"], event["status"]) for event in google.events()] == [("Contract", "confirmed")]
    assert EventLink.objects.get().action_id == restored.pk


def test_nobody_undoes_what_is_someone_elses(client, bob, calendar, google):
    record = ConflictRecord.objects.create(calendar=calendar, subject="Hers", group="summary",
                                           local={"summary": "a"}, remote={"summary": "b"}, winner="remote")
    trashed = TrashedAction.objects.create(calendar=calendar, owner=calendar.account.user, subject="Hers",
                                           snapshot=[])
    client.force_login(bob)
    for name, pk in (("conflict-restore", record.pk), ("trash-restore", trashed.pk),
                     ("calendar-sync", calendar.pk), ("calendar-resume", calendar.pk)):
        assert client.post(reverse(f"calendarsync:{name}", args=[pk])).status_code == 404


def test_the_admin_shows_runs_and_syncs_resets_pauses_and_resumes(admin_client, alice, calendar, google, jobs):
    changelist = reverse("admin:calendarsync_remotecalendar_changelist")

    def act(action):
        return admin_client.post(changelist, {"action": action, "_selected_action": [calendar.pk]})

    factories.appointment(alice, "2026-12-04 10:00", subject="Kick-off")
    act("sync_now")
    assert jobs.names() == ["sync_calendar"]
    jobs.run()
    calendar.refresh_from_db()
    assert calendar.last_run.created == 1
    assert calendar.cursor
    listing = admin_client.get(changelist).content.decode()
    assert "1 created, 0 updated, 0 deleted, 0 conflicts, 0 skipped" in listing
    act("reset_cursor")
    calendar.refresh_from_db()
    assert calendar.cursor == ""
    act("pause")
    calendar.refresh_from_db()
    assert calendar.hold == "An administrator paused the sync of this calendar."
    assert sync(calendar) is None
    act("resume")
    assert sync(calendar).full
    for model in ("syncrun", "conflictrecord", "trashedaction"):
        assert admin_client.get(reverse(f"admin:calendarsync_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:calendarsync_remotecalendar_change", args=[calendar.pk])).status_code == 200


def test_the_admin_restores_from_the_trash_and_conflicts(admin_client, alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    other = factories.appointment(alice, "2026-12-11 10:00", subject="Gone")
    sync(calendar)
    links = dict(EventLink.objects.values_list("action_id", "remote_id"))
    crm.action_update(action=meeting, subject="Review (CRM)")
    google.change(links[meeting.pk], summary="Review (Google)")
    google.delete(links[other.pk])
    sync(calendar)
    admin_client.post(reverse("admin:calendarsync_conflictrecord_changelist"),
                      {"action": "restore", "_selected_action": [ConflictRecord.objects.get().pk]})
    admin_client.post(reverse("admin:calendarsync_trashedaction_changelist"),
                      {"action": "restore", "_selected_action": [TrashedAction.objects.get().pk]})
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Gone", "Review (CRM)"]


def test_a_microsoft_calendar_syncs_from_the_settings_page(client, alice, sync_allowed, sandboxes, appointment_type,
                                                          jobs):
    client.force_login(alice)
    connect(client, sandboxes, "microsoft", "grace@example.com")
    projects = RemoteCalendar.objects.get(name="Projects")
    services.calendar_configure(alice, projects, selected=True, direction="both", is_destination=True)
    factories.appointment(alice, "2026-12-04 10:00", subject="Kick-off")
    assert "do not sync yet" not in page(client)
    response = client.post(reverse("calendarsync:calendar-sync", args=[projects.pk]), follow=True)
    assert response.status_code == 200
    jobs.run()
    run = SyncRun.objects.get(calendar=projects)
    assert (run.error, run.created) == ("", 1)
    account = projects.account
    account.refresh_from_db()
    listed = sandboxes.get(f"{sandboxes.microsoft}/v1.0/me/calendars/{projects.remote_id}/events",
                           headers={"Authorization": f"Bearer {account.access_token}"}).json()["value"]
    assert [event["subject"] for event in listed] == ["Kick-off"]
