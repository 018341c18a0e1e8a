"""Whatever a provider sends, a run is recorded, the good events arrive and nothing raises: Hypothesis makes
events in Google's and Graph's JSON shapes (times at the edges of every range, odd zones, junk rules, huge and
control-laden text, missing and mistyped fields), the sandboxes serve them as they are, and the real engine
pulls them through the real client libraries (on PostgreSQL in CI)."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendarsync import engine
from calendarsync.models import SyncRun
from crm.models import Action

from .conftest import PRIMARY

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
numbers = itertools.count()

junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                 st.text(max_size=20), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
text = st.one_of(st.text(max_size=50), st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=30),
                 st.just("x" * 20_000), st.just("Nul\x00 inside"), st.just("\ud800 lone surrogate"), junk)
instants = st.sampled_from([
    "2026-12-04T10:00:00+01:00", "2026-12-04T10:00:00Z", "2026-12-04T10:00:00", "0001-01-01T00:00:00Z",
    "9999-12-31T20:00:00-05:00", "9999-12-31T23:59:59Z", "1899-12-31T23:00:00Z", "2200-01-01T00:00:00Z",
    "2026-03-29T02:30:00", "2026-12-04T10:00:00+14:00", "2026-12-04T10:00:00-12:00", "2026-02-30T10:00:00Z",
    "not a time", "", "2026-12-04T10:00:00.1234567", "2026-12-04"])
zones = st.one_of(st.sampled_from(["Europe/Paris", "America/New_York", "UTC", "Etc/GMT+12", "Pacific/Kiritimati",
                                   "Mars/Olympus", "", "W. Europe Standard Time", "Romance Standard Time",
                                   "Customized Time Zone", "tzone://Microsoft/Utc"]), junk)
rules = st.one_of(st.sampled_from([
    "RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=DAILY", "RRULE:FREQ=SOMETIMES", "RRULE:FREQ=DAILY;COUNT=0",
    "RRULE:FREQ=WEEKLY;UNTIL=19000101T000000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "RRULE:FREQ=MINUTELY", "RRULE:FREQ=DAILY;INTERVAL=100000", "EXDATE:20261211T090000Z", "EXDATE;VALUE=DATE:x",
    "RDATE:20261224T090000Z", "RRULE:", "garbage"]), junk)


def google_times():
    moment = st.fixed_dictionaries({"dateTime": instants}, optional={"timeZone": zones})
    day = st.fixed_dictionaries({"date": st.one_of(st.sampled_from(["2026-12-04", "0001-01-01", "9999-12-31",
                                                                     "2026-13-01", ""]), junk)})
    return st.one_of(moment, day, junk)


def google_events():
    return st.fixed_dictionaries({"id": st.one_of(st.text(alphabet="abcdefghijklmnopqrstuv0123456789", min_size=5,
                                                          max_size=40).map(lambda text: f"junk{text}"), junk)},
                                 optional={
        "status": st.one_of(st.sampled_from(["confirmed", "tentative", "cancelled"]), junk),
        "etag": st.one_of(st.just('"1"'), junk), "summary": text, "description": text, "location": text,
        "start": google_times(), "end": google_times(), "recurrence": st.one_of(st.lists(rules, max_size=3), junk),
        "recurringEventId": st.one_of(st.just("junkseries"), junk), "originalStartTime": google_times(),
        "iCalUID": st.one_of(st.text(max_size=30), st.just("u" * 400), junk), "colorId": st.one_of(
            st.sampled_from(["1", "11", "12", "0"]), junk), "transparency": junk, "visibility": junk,
        "updated": st.one_of(instants, junk), "attendees": st.one_of(st.lists(st.one_of(st.fixed_dictionaries(
            {"email": text}, optional={"displayName": text, "self": junk, "resource": junk}), junk), max_size=3),
            junk)})


def graph_times():
    return st.one_of(st.fixed_dictionaries({"dateTime": instants, "timeZone": zones}), junk)


def graph_events():
    return st.fixed_dictionaries({"id": st.one_of(st.text(min_size=5, max_size=40).map(lambda text: f"junk{text}"),
                                                  junk)}, optional={
        "@odata.etag": st.one_of(st.just('W/"1"'), junk),
        "type": st.one_of(st.sampled_from(["singleInstance", "occurrence", "exception", "seriesMaster"]), junk),
        "seriesMasterId": st.one_of(st.just("junkseries"), junk), "subject": text,
        "body": st.one_of(st.fixed_dictionaries({"contentType": st.sampled_from(["html", "text", "rtf"]),
                                                 "content": text}), junk),
        "start": graph_times(), "end": graph_times(), "originalStart": st.one_of(instants, junk),
        "isAllDay": junk, "showAs": junk, "sensitivity": junk, "isCancelled": junk,
        "categories": st.one_of(st.lists(text, max_size=3), junk), "iCalUId": st.one_of(st.text(max_size=30), junk),
        "lastModifiedDateTime": st.one_of(instants, junk), "location": st.one_of(st.fixed_dictionaries(
            {"displayName": text}), junk),
        "recurrence": st.one_of(st.fixed_dictionaries({
            "pattern": st.one_of(st.fixed_dictionaries({"type": st.one_of(st.sampled_from(
                ["daily", "weekly", "absoluteMonthly", "relativeYearly", "hourly"]), junk), "interval": junk,
                "daysOfWeek": st.one_of(st.lists(st.sampled_from(["monday", "funday"]), max_size=2), junk)}), junk),
            "range": st.one_of(st.fixed_dictionaries({"type": st.one_of(st.sampled_from(
                ["endDate", "noEnd", "numbered"]), junk), "startDate": st.one_of(st.just("2026-12-01"), junk),
                "numberOfOccurrences": junk, "endDate": junk}), junk)}), junk),
        "attendees": st.one_of(st.lists(st.one_of(st.fixed_dictionaries({"emailAddress": st.one_of(
            st.fixed_dictionaries({"address": text, "name": text}), junk)}), junk), max_size=3), junk),
        "@removed": st.one_of(st.just({"reason": "deleted"}), junk)})


def pulled(calendar, world, raw_path, items, good, full):
    """Serve `items` as they are beside one good new event, pull, and check the run."""
    world.control(raw_path, items=items)
    if full:
        world.control(*full)
    run = engine.sync(calendar.pk)
    assert SyncRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists()
    assert run.error == "", (run.error, run.report)
    assert Action.objects.filter(subject=good).exists(), run.report


@FUZZ
@given(items=st.lists(google_events(), min_size=1, max_size=4), full=st.booleans())
def test_nothing_google_sends_stops_a_run(alice, calendar, google, items, full):
    good = f"Good {next(numbers)}"
    google.insert({"summary": good, "start": {"dateTime": "2026-12-04T10:00:00+01:00"},
                   "end": {"dateTime": "2026-12-04T11:00:00+01:00"}})
    pulled(calendar, google, f"calendars/{PRIMARY}/raw-items", items, good,
           ("expire-sync-tokens",) if full else None)


@FUZZ
@given(items=st.lists(graph_events(), min_size=1, max_size=4), full=st.booleans())
def test_nothing_outlook_sends_stops_a_run(alice, outlook_calendar, outlook, items, full):
    good = f"Good {next(numbers)}"
    outlook.insert({"subject": good, "start": {"dateTime": "2026-12-04T10:00:00", "timeZone": "UTC"},
                    "end": {"dateTime": "2026-12-04T11:00:00", "timeZone": "UTC"}})
    pulled(outlook_calendar, outlook, f"calendars/{outlook.calendar_id}/raw-items", items, good,
           ("expire-delta-tokens",) if full else None)
