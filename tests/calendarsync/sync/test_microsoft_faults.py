"""What Microsoft Graph can answer besides success, and the sync window moving on, through the engine."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from calendarsync import app_settings, engine
from calendarsync.models import AccountState, EventLink, OutboxEntry, TrashedAction
from calendarsync.providers.microsoft import graph
from crm import services as crm
from crm.models import Action
from tests import factories
from tests.calendarsync.connecting import connect

from .conftest import GRACE, Died, after_calls, die_once_after_writing, lease_runs_out, sync


def when(start, end, zone="Romance Standard Time"):
    """A Graph event's times, as Outlook writes them: wall-clock time and a Windows zone name."""
    return {"start": {"dateTime": start, "timeZone": zone}, "end": {"dateTime": end, "timeZone": zone}}


DEC_4 = when("2026-12-04T10:00:00", "2026-12-04T11:00:00")


def by_subject(events):
    return {event["subject"]: event for event in events}


def after_first_pull(monkeypatch, hook):
    """Call `hook()` once the next run's provider has answered its first pull; return every pull's changes."""
    pulls = []

    def record(found):
        pulls.append(found)
        if len(pulls) == 1:
            hook()
    after_calls(monkeypatch, "changes", record)
    return pulls


def recorded_waits(monkeypatch):
    """Graph's waits, recorded instead of slept."""
    waits = []
    monkeypatch.setattr(graph.Graph, "wait", lambda self, seconds: waits.append(seconds))
    return waits


@pytest.mark.parametrize("mode", ["syncStateNotFound", "resync"])
def test_an_expired_delta_token_means_a_full_listing_that_deletes_only_what_is_gone(mode, alice, outlook_calendar,
                                                                                   outlook):
    factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    factories.appointment(alice, "2026-12-05 10:00", subject="Deleted in Outlook")
    factories.appointment(alice, "2028-06-01 10:00", subject="Beyond the horizon")  # linked, not in the listing
    series = factories.appointment(alice, "2026-12-01 18:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    sync(outlook_calendar)
    assert EventLink.objects.count() == 4
    outlook.delete(by_subject(outlook.events())["Deleted in Outlook"]["id"])
    outlook.control("expire-delta-tokens", **({"mode": mode} if mode == "resync" else {}))
    outlook.insert({"subject": "New meanwhile", **DEC_4})
    run = sync(outlook_calendar)
    assert (run.full, run.deleted, run.created) == (True, 1, 1)
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Beyond the horizon", "Kept", "New meanwhile",
                                                                         "Weekly"]
    assert TrashedAction.objects.get().subject == "Deleted in Outlook"
    assert EventLink.objects.count() == 4
    series.refresh_from_db()
    assert series.exdates == []  # a full listing cancels no occurrence
    assert sorted(event["subject"] for event in outlook.events()) == ["Beyond the horizon", "Kept", "New meanwhile",
                                                                      "Weekly"]
    assert [write["method"] for write in outlook.writes()] == ["create"] * 4  # nothing written again

    run = sync(outlook_calendar)  # a new delta round goes on from the listing
    assert (run.full, run.created, run.updated, run.deleted) == (False, 0, 0, 0)


def test_a_write_refused_because_outlook_changed_the_event_is_pulled_merged_and_written_again(
        alice, outlook_calendar, outlook, monkeypatch):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Plan")
    sync(outlook_calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    etag = outlook.event(remote_id)["@odata.etag"]
    crm.action_update(action=meeting, description="Agenda attached")
    pulls = after_first_pull(monkeypatch, lambda: outlook.change(remote_id, location={"displayName": "Room 9"}))
    run = sync(outlook_calendar)  # its write carries the ETag it planned on: Graph answers 412
    assert len(pulls) == 2  # so it pulls again, and sees the change
    assert (run.updated, run.conflicts, run.skipped) == (2, 0, 0)
    event = outlook.event(remote_id)
    assert (event["body"]["content"], event["location"]["displayName"]) == ("Agenda attached", "Room 9")
    assert event["@odata.etag"] != etag
    meeting.refresh_from_db()
    assert (meeting.description, meeting.location) == ("Agenda attached", "Room 9")
    assert EventLink.objects.get(action_id=meeting.pk).etag == event["@odata.etag"]
    assert [write["method"] for write in outlook.writes()] == ["create", "update"]  # the refused one left nothing
    assert not OutboxEntry.objects.exists()


def test_throttling_and_outages_are_waited_out_as_long_as_graph_asks(alice, outlook_calendar, outlook, monkeypatch):
    waits = recorded_waits(monkeypatch)
    for number in range(25):
        factories.appointment(alice, "2026-12-04 10:00", subject=f"Meeting {number}")
    outlook.fault(status=503, retry_after=4, times=1, method="GET", path="/calendarView/delta")
    outlook.fault(status=429, retry_after=3, times=1, method="POST", path=r"/\$batch$")
    outlook.fault(status=503, retry_after=5, times=2, method="POST", path=r"/calendars/[^/]+/events$")  # in a batch
    run = sync(outlook_calendar)
    assert waits == [4, 3, 5]
    assert run.created == 25
    assert outlook.counters()["injected_faults"] == 4
    assert len(outlook.events()) == 25
    assert len(outlook.writes()) == 25
    assert not OutboxEntry.objects.exists()


def test_a_revoked_grant_flags_the_account_keeps_the_outbox_and_resumes_after_reconnecting(
        client, alice, outlook_calendar, outlook, sandboxes):
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Later")
    outlook.control("revoke", email=GRACE)
    run = sync(outlook_calendar, failing=True)
    assert "Reconnect" in run.error
    account = outlook_calendar.account
    account.refresh_from_db()
    assert (account.state, account.problem) == (AccountState.RECONNECT, "revoked")
    assert OutboxEntry.objects.filter(action_id=meeting.pk).exists()
    assert outlook.writes() == []
    assert sync(outlook_calendar) is None  # not tried again until reconnected

    client.force_login(alice)
    connect(client, sandboxes, "microsoft", GRACE, account=account)
    account.refresh_from_db()
    assert (account.state, account.problem) == (AccountState.ACTIVE, "")
    assert sync(outlook_calendar).created == 1
    assert [event["subject"] for event in outlook.events()] == ["Later"]
    assert not OutboxEntry.objects.exists()


def test_a_run_that_died_after_pushing_is_taken_up_without_duplicating_or_resurrecting(
        alice, outlook_calendar, outlook, monkeypatch):
    sync(outlook_calendar)
    kept = factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    dropped = factories.appointment(alice, "2026-12-05 10:00", subject="Deleted meanwhile")
    die_once_after_writing(monkeypatch)
    with pytest.raises(Died):
        engine.sync(outlook_calendar.pk)
    with pytest.raises(engine.Busy):  # the dead worker's lease holds the calendar until it runs out
        engine.sync(outlook_calendar.pk)
    lease_runs_out(outlook_calendar)
    assert sorted(event["subject"] for event in outlook.events()) == ["Deleted meanwhile", "Kept"]
    assert not EventLink.objects.exists()  # the worker died before recording what it wrote
    crm.action_update(action=kept, location="Room 3")
    crm.action_delete(action=dropped)
    run = sync(outlook_calendar)
    assert [(event["subject"], event["location"]["displayName"]) for event in outlook.events()] == [("Kept",
                                                                                                    "Room 3")]
    assert list(Action.objects.values_list("subject", flat=True)) == ["Kept"]
    assert EventLink.objects.get().action_id == kept.pk
    assert (run.created, run.skipped, run.conflicts) == (0, 0, 0)
    assert sorted(write["method"] for write in outlook.writes()) == ["create", "create", "delete", "update"]


def test_a_create_whose_answer_was_lost_is_sent_again_and_finds_the_event_it_made(
        alice, outlook_calendar, outlook, monkeypatch):
    recorded_waits(monkeypatch)
    make, lost = graph.session, []

    def session(ca_bundle=""):
        http = make(ca_bundle)
        send = http.request

        def request(method, url, **kwargs):
            response = send(method, url, **kwargs)
            if not lost and method == "POST" and url.endswith("/$batch"):
                lost.append(url)
                raise requests.ConnectionError("Connection reset by peer")  # Graph did it; its answer is lost
            return response
        http.request = request
        return http
    monkeypatch.setattr(graph, "session", session)
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Once only")
    run = sync(outlook_calendar)
    assert lost
    assert run.created == 1
    [event] = outlook.events()
    assert event["subject"] == "Once only"
    assert EventLink.objects.get(action_id=meeting.pk).remote_id == event["id"]
    assert outlook.counters()["batch"] == 2  # sent twice, made once
    assert [write["method"] for write in outlook.writes()] == ["create"]
    assert sync(outlook_calendar).created == 0
    assert len(outlook.events()) == 1


def later(monkeypatch, days):
    """Time moves on by `days`, as the engine sees it."""
    moment = timezone.now() + timedelta(days=days)
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.mark.parametrize(("moving", "days"), [("time", 10), ("time", 45), ("horizon", 10)])
def test_an_event_beyond_the_horizon_arrives_once_the_window_reaches_it(moving, days, alice, outlook_calendar,
                                                                        outlook, monkeypatch, settings):
    sync(outlook_calendar)
    far = (timezone.now() + timedelta(days=app_settings.HORIZON_DAYS + 5)).date()
    created = outlook.insert({"subject": "Far ahead", **when(f"{far}T10:00:00", f"{far}T11:00:00")})
    run = sync(outlook_calendar)
    assert run.created == 0
    assert not Action.objects.filter(subject="Far ahead").exists()

    if moving == "time":
        later(monkeypatch, days)
    else:
        settings.CALENDARSYNC_HORIZON_DAYS = app_settings.HORIZON_DAYS + days
    run = sync(outlook_calendar)
    assert run.created == 1, run.report
    action = Action.objects.get(subject="Far ahead")
    assert action.start == factories.local(f"{far} 10:00")
    assert EventLink.objects.get(action_id=action.pk).remote_id == created["id"]
    assert outlook.writes() == []


def test_a_refused_token_after_a_burst_of_retries_asks_to_reconnect_instead_of_crashing(alice, outlook_calendar,
                                                                                          outlook, monkeypatch):
    monkeypatch.setattr(graph.Graph, "wait", lambda self, seconds: None)
    sync(outlook_calendar)
    outlook.fault(status=429, retry_after=0, times=graph.ATTEMPTS - 1, path="^/v1.0/")  # the last try meets 401s
    outlook.fault(status=401, times=2, path="^/v1.0/")
    run = sync(outlook_calendar, failing=True)
    assert "reconnect" in run.error.lower()
    outlook_calendar.account.refresh_from_db()
    assert outlook_calendar.account.problem == "revoked"


def instances(outlook, series_id):
    return {item["originalStart"]: item for item in outlook.instances(series_id)}


def test_a_cancellation_outlook_refuses_is_kept_in_the_crm_and_tried_again(alice, outlook_calendar, outlook):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=5")
    crm.occurrence_cancel(series=series, recurrence_id="20261208T080000Z")
    outlook.fault(status=503, method="DELETE", times=graph.ATTEMPTS)  # the occurrence's deletion, every try
    run = sync(outlook_calendar)
    assert any("written in part" in line for line in run.report), run.report
    [master] = [event for event in outlook.events() if event["type"] == "seriesMaster"]
    assert "2026-12-08T08:00:00Z" in instances(outlook, master["id"])
    outlook.clear_faults()
    sync(outlook_calendar)
    assert "2026-12-08T08:00:00Z" not in instances(outlook, master["id"])
    series.refresh_from_db()
    assert series.exdates == ["20261208T080000Z"]


def test_a_changed_occurrence_outlook_cannot_place_is_reported_and_not_tried_forever(alice, outlook_calendar,
                                                                                    outlook):
    """Outlook keeps one day of the month per series: the 15th of BYMONTHDAY=1,15 does not exist there."""
    series = factories.appointment(alice, "2026-12-01 09:00", subject="Payroll", rrule="FREQ=MONTHLY;BYMONTHDAY=1,15")
    crm.action_move(action=series, recurrence_id="20261215T080000Z", start=factories.local("2026-12-15 11:00"))
    run = sync(outlook_calendar)
    assert any("Payroll" in line and "no such occurrence" in line for line in run.report), run.report
    for _again in range(app_settings.OUTBOX_ATTEMPTS):
        sync(outlook_calendar)
    assert not OutboxEntry.objects.filter(calendar=outlook_calendar, attempts__lt=app_settings.OUTBOX_ATTEMPTS)
    assert sync(outlook_calendar).requests <= 2  # nothing left to try: one pull


def test_a_rebuilt_series_writes_each_changed_occurrence_once(alice, outlook_calendar, outlook):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=10")
    moved = crm.action_move(action=series, recurrence_id="20261209T080000Z", start=factories.local("2026-12-09 11:00"))
    sync(outlook_calendar)
    before = len(outlook.writes())
    series.refresh_from_db()
    crm.action_update(action=series, rrule="FREQ=DAILY;COUNT=12")
    crm.action_update(action=moved, subject="Stand-up (late)")
    crm.action_move(action=series, recurrence_id="20261211T080000Z", start=factories.local("2026-12-11 10:00"))
    run = sync(outlook_calendar)
    writes = [write["method"] for write in outlook.writes()[before:]]
    assert writes == ["update", "update", "update"], writes  # the series, then each changed occurrence once
    assert run.full is False
    assert (run.updated, run.created) == (2, 1)
    [master] = [event for event in outlook.events() if event["type"] == "seriesMaster"]
    by_start = instances(outlook, master["id"])
    assert by_start["2026-12-09T08:00:00Z"]["subject"] == "Stand-up (late)"
    assert by_start["2026-12-11T08:00:00Z"]["start"]["dateTime"].startswith("2026-12-11T09:00:00")
