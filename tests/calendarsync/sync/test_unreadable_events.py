"""What a calendar may hold that the CRM cannot: each such event is skipped and said, and the sync goes on."""

from calendarsync.models import CalendarStatus, EventLink, OutboxEntry, SyncRun, TrashedAction
from calendarsync.selectors import calendar_status
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import PRIMARY, TIMED, sync

BEYOND = {"start": {"dateTime": "9999-12-31T20:00:00-05:00"}, "end": {"dateTime": "9999-12-31T21:00:00-05:00"}}


def served_as_is(google, *items):
    """Google's listings of the primary calendar end with these items, however odd."""
    google.control(f"calendars/{PRIMARY}/raw-items", items=list(items))


def poison(event_id="poison0001", **fields):
    return {"kind": "calendar#event", "id": event_id, "etag": '"1"', "status": "confirmed", "summary": "Poison",
            "iCalUID": f"{event_id}@google.com", "updated": "2026-12-01T10:00:00.000Z", **BEYOND, **fields}


def test_an_event_whose_time_passes_year_9999_in_utc_is_skipped_and_the_calendar_goes_on(alice, calendar, google):
    sync(calendar)
    served_as_is(google, poison())  # reaches us through a sync token, as in the report
    google.insert({"summary": "Next to it", **TIMED})
    run = sync(calendar)
    assert (run.error, run.skipped, run.created) == ("", 1, 1)
    assert "poison0001 skipped: its dates are beyond what a calendar can hold" in run.report[0]
    assert Action.objects.filter(subject="Next to it").exists()
    calendar.refresh_from_db()
    assert calendar_status(calendar, {})[0] == CalendarStatus.SYNCED
    google.insert({"summary": "And later", **TIMED})
    assert sync(calendar).created == 1  # every later run too


def test_text_no_database_stores_is_cleaned_on_the_way_in(alice, calendar, google):
    sync(calendar)
    served_as_is(google, poison("controls01", summary="Call\x00 Bob\x07", description="Line 1\x00\nLine\x1b 2",
                                location="Room\x0b 4", start=TIMED["start"], end=TIMED["end"]))
    run = sync(calendar)
    assert (run.error, run.created) == ("", 1)
    action = Action.objects.get(uid="controls01@google.com")
    assert (action.subject, action.description, action.location) == ("Call Bob", "Line 1\nLine 2", "Room 4")


def test_junk_in_every_field_is_skipped_one_event_at_a_time(alice, calendar, google):
    sync(calendar)
    served_as_is(google, "not an event", {"id": 42, **TIMED}, {"summary": "no id", **TIMED},
                 poison("nostart001", start=None), poison("badzone001", start={"dateTime": "2026-12-04T10:00:00",
                                                                                "timeZone": "Mars/Olympus"}),
                 poison("badrule001", start=TIMED["start"], end=TIMED["end"], recurrence=["RRULE:FREQ=SOMETIMES"]),
                 poison("badetag001", etag={"not": "text"}, start=TIMED["start"], end=TIMED["end"]),
                 poison("nul\x00id001", start=TIMED["start"], end=TIMED["end"]),
                 poison("longuid001", iCalUID="u" * 300, start=TIMED["start"], end=TIMED["end"]),
                 poison("fine000001", summary="Fine", start=TIMED["start"], end=TIMED["end"]))
    run = sync(calendar)
    assert run.error == ""
    assert list(Action.objects.values_list("subject", flat=True)) == ["Fine"]
    assert run.skipped == 8, run.report  # "not an event" is no event at all


def test_a_linked_event_become_unreadable_is_neither_trashed_nor_overwritten(alice, calendar, google):
    kept = factories.appointment(alice, "2026-12-04 10:00", subject="Kept")
    sync(calendar)
    link = EventLink.objects.get(action=kept)
    crm.action_update(action=Action.objects.get(pk=kept.pk), location="Room 2")
    google.control("expire-sync-tokens")  # a full listing, where a missing event would count as deleted
    google.delete(link.remote_id)
    served_as_is(google, poison(link.remote_id))
    run = sync(calendar)
    assert run.error == ""
    assert not TrashedAction.objects.exists()
    assert Action.objects.filter(pk=kept.pk, location="Room 2").exists()
    entry = OutboxEntry.objects.get(action_id=kept.pk)  # the edit waits, and says why
    assert "cannot be read" in entry.last_error
    assert EventLink.objects.filter(pk=link.pk).exists()


def test_an_api_save_answers_once_whatever_the_calendar_holds(client, alice, calendar, google, jobs,
                                                              django_capture_on_commit_callbacks):
    sync(calendar)
    served_as_is(google, poison())
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/actions/", {
            "action_type": Action._meta.get_field("action_type").related_model.objects.get(code="appointment").pk,
            "subject": "From the phone", "start": "2026-12-04T10:00:00+01:00", "end": "2026-12-04T11:00:00+01:00"},
            content_type="application/json")
    assert response.status_code == 201
    jobs.run()
    run = SyncRun.objects.latest("started_at")
    assert (run.error, run.created, run.skipped) == ("", 1, 1)
    served_as_is(google)
    assert [event["summary"] for event in google.events()] == ["From the phone"]
    assert Action.objects.count() == 1
