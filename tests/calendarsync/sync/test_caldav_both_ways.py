"""End to end: the CRM and a real CalDAV server (Radicale, Xandikos), through the engine, an account added on
the settings page, and another client's edits on the server."""

import time
from datetime import date

import pytest
from django.urls import reverse

from calendarsync import engine, jobs, selectors, services
from calendarsync.models import EventLink, OutboxEntry, RemoteCalendar, Trigger
from crm import services as crm
from crm.models import Action
from tests import caldav_servers, factories

from .conftest import Died, after_calls, caldav_connected, lease_runs_out, sync
from .test_runs import kill_at

DENTIST = """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Phone//EN
BEGIN:VEVENT
UID:dentist-1@phone.example
DTSTAMP:20261201T080000Z
DTSTART;TZID=Europe/Paris:20261203T090000
DTEND;TZID=Europe/Paris:20261203T093000
SUMMARY:Dentist
LOCATION:Main street
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:Dentist
END:VALARM
END:VEVENT
END:VCALENDAR
"""


def test_an_appointment_made_edited_and_deleted_in_the_crm_follows_on_the_server(alice, caldav_calendar,
                                                                                 caldav_server):
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off", location="Room 1")
    run = sync(caldav_calendar)
    assert run.created == 1
    assert caldav_server.names() == [f"{meeting.uid}.ics"]  # a UID-named resource
    event = caldav_server.events()[meeting.uid, ""]
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Kick-off", "Room 1")
    assert event.decoded("DTSTART") == factories.local("2026-12-01 10:00")
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
    assert not OutboxEntry.objects.filter(calendar=caldav_calendar).exists()

    crm.action_update(action=meeting, subject="Kick-off (moved)")
    crm.action_move(action=meeting, start=factories.local("2026-12-02 15:00"))
    assert sync(caldav_calendar).updated == 1
    event = caldav_server.events()[meeting.uid, ""]
    assert str(event["SUMMARY"]) == "Kick-off (moved)"
    assert event.decoded("DTSTART") == factories.local("2026-12-02 15:00")

    crm.action_delete(action=meeting)
    assert sync(caldav_calendar).deleted == 1
    assert caldav_server.names() == []
    assert not EventLink.objects.filter(calendar=caldav_calendar).exists()


def test_events_made_edited_and_deleted_by_another_client_follow_in_the_crm(alice, caldav_calendar, caldav_server):
    sync(caldav_calendar)
    etag = caldav_server.put("dentist.ics", DENTIST)
    run = sync(caldav_calendar)
    assert run.created == 1, run.report
    dentist = Action.objects.get(subject="Dentist")
    assert (dentist.owner, dentist.location, dentist.uid) == (alice, "Main street", "dentist-1@phone.example")
    assert dentist.start == factories.local("2026-12-03 09:00")

    caldav_server.put("dentist.ics", DENTIST.replace("SUMMARY:Dentist", "SUMMARY:Dentist (again)"), etag)
    assert sync(caldav_calendar).updated == 1
    dentist.refresh_from_db()
    assert dentist.subject == "Dentist (again)"

    crm.action_update(action=dentist, location="High street")  # the phone's alarm survives the CRM's edit
    sync(caldav_calendar)
    event = caldav_server.get("dentist.ics").walk("VEVENT")[0]
    assert (str(event["LOCATION"]), len(event.walk("VALARM"))) == ("High street", 1)

    caldav_server.delete("dentist.ics")
    assert sync(caldav_calendar).deleted == 1
    assert not Action.objects.filter(subject__startswith="Dentist").exists()


SERIES = """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Thunderbird//EN
BEGIN:VEVENT
UID:standup@thunderbird.example
DTSTAMP:20261201T080000Z
DTSTART;TZID=Europe/Paris:20261201T180000
DTEND;TZID=Europe/Paris:20261201T190000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Paris:20261215T180000
SUMMARY:Stand-up
X-MOZ-GENERATION:3
END:VEVENT
BEGIN:VEVENT
UID:standup@thunderbird.example
DTSTAMP:20261201T080000Z
RECURRENCE-ID;TZID=Europe/Paris:20261208T180000
DTSTART;TZID=Europe/Paris:20261208T190000
DTEND;TZID=Europe/Paris:20261208T200000
SUMMARY:Stand-up (late)
END:VEVENT
END:VCALENDAR
"""


def test_a_series_with_a_changed_and_a_cancelled_occurrence_is_one_resource_both_ways(alice, caldav_calendar,
                                                                                     caldav_server):
    sync(caldav_calendar)
    caldav_server.put("standup.ics", SERIES)
    run = sync(caldav_calendar)
    assert (run.error, run.skipped) == ("", 0), run.report
    series = Action.objects.get(subject="Stand-up", series=None)
    assert series.rrule == "FREQ=WEEKLY;COUNT=6"
    assert series.exdates == ["20261215T170000Z"]  # the cancelled occurrence, by its key
    late = Action.objects.get(subject="Stand-up (late)")
    assert (late.series, late.start) == (series, factories.local("2026-12-08 19:00"))

    crm.action_update(action=late, location="Room 3")  # an occurrence changed in the CRM: its own component
    sync(caldav_calendar)
    stored = caldav_server.get("standup.ics").walk("VEVENT")
    assert len(stored) == 2
    override = next(event for event in stored if event.get("RECURRENCE-ID"))
    assert str(override["LOCATION"]) == "Room 3"
    master = next(event for event in stored if not event.get("RECURRENCE-ID"))
    assert str(master["X-MOZ-GENERATION"]) == "3"  # another app's property, untouched
    assert caldav_server.names() == ["standup.ics"]


def test_a_refused_password_stops_the_account_with_what_to_do_and_keeps_the_outbox(alice, caldav_calendar,
                                                                                  caldav_server):
    if caldav_server.server.kind == "xandikos":
        pytest.skip("Xandikos has no passwords of its own")
    account = caldav_calendar.account
    account.refresh_token = "an-old-app-password"  # the user revoked it at the provider
    account.save(update_fields=["refresh_token"])
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off")
    sync(caldav_calendar, failing=True)
    account.refresh_from_db()
    assert (account.state, account.problem) == ("reconnect", "revoked")
    assert "app password" in selectors.account_problem(account)
    assert OutboxEntry.objects.filter(calendar=caldav_calendar, action_id=meeting.pk).exists()
    assert caldav_server.names() == []


def test_a_calendar_the_user_may_only_read_imports_only(client, alice, sync_allowed, appointment_type, tmp_path):
    with caldav_servers.radicale(tmp_path, read_only=["holidays"]) as server:
        account = caldav_connected(client, alice, server.url)
        holidays = account.calendars.get(name="Holidays")
        assert not holidays.can_write
        with pytest.raises(services.Invalid, match="read-only"):
            services.calendar_configure(alice, holidays, selected=True, direction="both")
        holidays = services.calendar_configure(alice, holidays, selected=True, direction="import",
                                               first_sync="since", first_sync_since=date(2026, 1, 1))
        assert sync(holidays).error == ""


def test_a_token_the_server_forgot_means_a_full_listing_that_still_finds_deletions(alice, caldav_calendar,
                                                                                  caldav_server):
    caldav_server.put("dentist.ics", DENTIST)
    caldav_server.put("standup.ics", SERIES)
    assert sync(caldav_calendar).created == 3  # the dentist, the series and its changed occurrence
    caldav_server.delete("dentist.ics")
    caldav_server.proxy.forget_tokens()
    run = sync(caldav_calendar)
    assert run.full
    assert run.deleted == 1
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Stand-up", "Stand-up (late)"]
    assert not sync(caldav_calendar).full  # a new token from then on


@pytest.mark.parametrize("stage", engine.STAGES)
def test_a_worker_killed_anywhere_loses_nothing_and_duplicates_nothing(alice, caldav_calendar, caldav_server,
                                                                       monkeypatch, stage):
    """Between a PUT and the commit of what it did, above all: the retried create finds its resource by UID."""
    linked = factories.appointment(alice, "2026-12-03 10:00", subject="Linked")
    gone = factories.appointment(alice, "2026-12-03 16:00", subject="Deleted on the phone")
    sync(caldav_calendar)
    caldav_server.put("dentist.ics", DENTIST)
    caldav_server.delete(f"{gone.uid}.ics")
    crm.action_update(action=Action.objects.get(pk=linked.pk), description="Agenda")
    made = factories.appointment(alice, "2026-12-05 10:00", subject="New in the CRM")
    kill_at(monkeypatch, stage)
    with pytest.raises(Died):
        engine.sync(caldav_calendar.pk)
    lease_runs_out(caldav_calendar)
    sync(caldav_calendar)
    sync(caldav_calendar)
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Dentist", "Linked", "New in the CRM"]
    assert caldav_server.names() == sorted(["dentist.ics", f"{linked.uid}.ics", f"{made.uid}.ics"])
    assert str(caldav_server.events()[linked.uid, ""]["DESCRIPTION"]) == "Agenda"
    assert EventLink.objects.filter(calendar=caldav_calendar).count() == 3
    assert not OutboxEntry.objects.exists()


@pytest.mark.parametrize("stage", ["merged", "outbox cleared"])  # nothing to push: no "pushed"
def test_an_event_a_dead_run_imported_then_deleted_on_the_phone_is_deleted_in_the_crm(
        alice, caldav_calendar, caldav_server, monkeypatch, stage):
    """The next run pulls from the dead run's cursor, older than the event: a server may leave out of that
    report an event made after it and gone since (Xandikos does); what the dead run linked is read again."""
    sync(caldav_calendar)
    caldav_server.put("dentist.ics", DENTIST)
    kill_at(monkeypatch, stage)
    with pytest.raises(Died):
        engine.sync(caldav_calendar.pk)
    monkeypatch.setattr(engine, "reached", lambda stage: None)
    assert Action.objects.filter(subject="Dentist").exists()  # imported, linked, its cursor not kept
    caldav_server.delete("dentist.ics")
    lease_runs_out(caldav_calendar)
    sync(caldav_calendar)
    assert not Action.objects.filter(subject="Dentist").exists()
    assert not EventLink.objects.filter(calendar=caldav_calendar).exists()


def test_another_client_s_edit_between_our_read_and_our_write_is_merged_in_the_same_run(
        alice, caldav_calendar, caldav_server, monkeypatch):
    """The PUT's If-Match fails (412): the resource is read again, merged, and written with both edits."""
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off")
    sync(caldav_calendar)
    name = f"{meeting.uid}.ics"
    crm.action_update(action=meeting, location="Room 2")
    raced = []

    def phone_edits(answer):
        if not raced:
            stored = caldav_server._request("GET", name)
            text = stored.text.replace("SUMMARY:Kick-off", "SUMMARY:Kick-off (phone)")
            raced.append(caldav_server.put(name, text, stored.headers["ETag"]))
    after_calls(monkeypatch, "changes", phone_edits)  # after the run listed the changes, before it writes
    run = sync(caldav_calendar)
    assert raced
    event = caldav_server.events()[meeting.uid, ""]
    sync(caldav_calendar)
    event = caldav_server.events()[meeting.uid, ""]
    meeting.refresh_from_db()
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Kick-off (phone)", "Room 2")
    assert (meeting.subject, meeting.location) == ("Kick-off (phone)", "Room 2")
    assert run.error == ""


def test_an_appointment_pushed_then_deleted_by_another_client_is_deleted_in_the_crm(alice, caldav_calendar,
                                                                                   caldav_server):
    """The cursor's token predates the push; a server may leave a resource that was created and deleted since
    out of the next report (Xandikos does), so the run checks the ones it created."""
    meeting = factories.appointment(alice, "2026-12-03 16:00", subject="Pushed")
    assert sync(caldav_calendar).created == 1
    caldav_server.delete(f"{meeting.uid}.ics")
    run = sync(caldav_calendar)
    assert (run.deleted, run.full) == (1, False)
    assert not Action.objects.filter(subject="Pushed").exists()
    assert "created" not in caldav_calendar.cursor  # checked once, then the token covers it


@pytest.mark.broker
def test_a_real_worker_finds_the_calendars_and_syncs_both_ways(client, alice, sync_allowed, appointment_type,
                                                              caldav_server, worker):
    """CI: the account added on the web, a separate `celery worker` process finds its calendars, pushes an
    appointment saved on the web, and brings back another client's edit; all on PostgreSQL, through Redis."""
    client.force_login(alice)
    answer = client.post(reverse("calendarsync:caldav-add"), {
        "preset": "generic", "server_url": caldav_server.proxy.url, "username": caldav_servers.USER,
        "password": caldav_servers.PASSWORD})
    assert answer.status_code == 302
    work = eventually(lambda: RemoteCalendar.objects.filter(remote_id=caldav_server.calendar_path).first())
    services.calendar_configure(alice, work, selected=True, direction="both", is_destination=True,
                                first_sync="since", first_sync_since=date(2026, 1, 1))
    response = client.post("/actions/new/", {
        "action_type": appointment_type.pk, "subject": "Signed on the web", "start_date": "2026-12-07",
        "start_time": "10:00", "end_date": "2026-12-07", "end_time": "11:00", "time_zone": "Europe/Paris",
        "status": "planned", "availability": "busy", "privacy": "normal", "ends": "never"})
    assert response.status_code == 302
    action = Action.objects.get(subject="Signed on the web")
    name = f"{action.uid}.ics"
    eventually(lambda: name in caldav_server.names())
    stored = caldav_server._request("GET", name)
    caldav_server.put(name, stored.text.replace("SUMMARY:Signed on the web", "SUMMARY:Signed and moved"),
                      stored.headers["ETag"])
    jobs.sync_now(work.pk, Trigger.MANUAL)
    eventually(lambda: Action.objects.filter(pk=action.pk, subject="Signed and moved").exists())
    assert EventLink.objects.get(calendar=work, action=action).remote_id == caldav_server.calendar_path + name
    assert not OutboxEntry.objects.filter(calendar=work).exists()


def eventually(check, seconds=90):
    """What `check` gives once it gives something, as the worker gets there."""
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found
    return found


def test_an_event_another_client_cancels_is_deleted_in_the_crm(alice, caldav_calendar, caldav_server):
    """Some clients cancel rather than delete (STATUS:CANCELLED): the sync token reports it changed."""
    sync(caldav_calendar)
    etag = caldav_server.put("standup.ics", SERIES)
    assert sync(caldav_calendar).created == 2
    caldav_server.put("standup.ics", SERIES.replace("SUMMARY:Stand-up\n", "SUMMARY:Stand-up\nSTATUS:CANCELLED\n", 1),
                      etag)
    run = sync(caldav_calendar)
    assert (run.deleted, run.skipped) == (1, 0), run.report
    assert not Action.objects.exists()


def test_a_series_deleted_by_another_client_goes_with_its_changed_occurrence(alice, caldav_calendar, caldav_server):
    sync(caldav_calendar)
    caldav_server.put("standup.ics", SERIES)
    assert sync(caldav_calendar).created == 2
    caldav_server.delete("standup.ics")
    run = sync(caldav_calendar)
    assert (run.skipped, run.report) == (0, [])
    assert not Action.objects.exists()


def test_an_appointment_deleted_on_both_sides_is_done_not_a_failure(alice, caldav_calendar, caldav_server):
    meeting = factories.appointment(alice, "2026-12-03 10:00", subject="Both")
    sync(caldav_calendar)
    caldav_server.delete(f"{meeting.uid}.ics")
    crm.action_delete(action=meeting)
    run = sync(caldav_calendar)
    assert (run.skipped, run.report) == (0, [])
    assert not EventLink.objects.filter(calendar=caldav_calendar).exists()
    assert not OutboxEntry.objects.exists()


def test_without_sync_collection_a_pushed_appointment_deleted_on_the_phone_is_deleted(alice, caldav_calendar,
                                                                                     caldav_server):
    """The ETags the cursor keeps are taken before the run's writes: what it created is added, unknown."""
    caldav_server.proxy.without_sync_collection = True
    meeting = factories.appointment(alice, "2026-12-03 10:00", subject="Pushed")
    sync(caldav_calendar)
    assert sync(caldav_calendar).updated == 0  # its own write, seen as such
    caldav_server.delete(f"{meeting.uid}.ics")
    assert sync(caldav_calendar).deleted == 1
    assert not Action.objects.exists()

