"""Recurring series and time zones between the CRM and the Microsoft sandbox: Graph's patterns, its
instances, Windows zone names and daylight-saving changes."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from calendarsync.models import EventLink
from crm import selectors
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import sync

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))


def when(start, end, zone="Romance Standard Time"):
    """A Graph event's times, as Outlook writes them: wall-clock time and a Windows zone name."""
    return {"start": {"dateTime": start, "timeZone": zone}, "end": {"dateTime": end, "timeZone": zone}}


def instant(text):
    """A Graph time given in UTC (Graph's default) or an originalStart, as an aware datetime."""
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def graph_starts(outlook, series_id):
    """The start of each occurrence and exception Graph has of a series in the window."""
    found = outlook.instances(series_id, *(moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in WINDOW))
    assert {item["start"]["timeZone"] for item in found} <= {"UTC"}
    return [instant(item["start"]["dateTime"]) for item in found]


def crm_starts(series):
    """The start of each occurrence the CRM's agenda shows of a series (its overrides included) in the window."""
    actions = Action.objects.filter(Q(pk=series.pk) | Q(series=series))
    return [occurrence.start.astimezone(UTC)
            for occurrence in selectors.occurrences_between(actions=actions, start=WINDOW[0], end=WINDOW[1], zone=UTC)]


def rule(text):
    """An RRULE's parts, whatever their order."""
    return dict(part.split("=", 1) for part in text.split(";"))


def master_of(outlook):
    [master] = [event for event in outlook.events() if event["type"] == "seriesMaster"]
    return master


def test_a_crm_series_with_a_cancelled_and_a_moved_occurrence_reaches_outlook(alice, outlook_calendar, outlook):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=10")
    crm.occurrence_cancel(series=series, recurrence_id="20261208T080000Z")
    crm.action_move(action=series, recurrence_id="20261209T080000Z", start=factories.local("2026-12-09 11:00"))
    run = sync(outlook_calendar)
    assert run.report == []
    master = master_of(outlook)
    assert master["subject"] == "Stand-up"
    assert master["recurrence"]["pattern"]["type"] == "daily"
    assert master["recurrence"]["range"]["type"] == "numbered"
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 10
    assert master["recurrence"]["range"]["recurrenceTimeZone"] == "Europe/Paris"
    instances = outlook.instances(master["id"])
    assert len(instances) == 9
    by_original = {item["originalStart"]: item for item in instances}
    assert "2026-12-08T08:00:00Z" not in by_original  # cancelled
    moved = by_original["2026-12-09T08:00:00Z"]
    assert moved["type"] == "exception"
    assert moved["start"]["dateTime"].startswith("2026-12-09T10:00:00")
    assert moved["seriesMasterId"] == master["id"]
    assert [item["type"] for item in instances].count("exception") == 1
    assert graph_starts(outlook, master["id"]) == crm_starts(series)
    links = dict(EventLink.objects.values_list("action_id", "remote_id"))
    assert links == {series.pk: master["id"], series.overrides.get().pk: moved["id"]}

    writes = len(outlook.writes())
    run = sync(outlook_calendar)  # read back, the series is what the CRM has: nothing to write
    assert (run.created, run.updated, run.deleted) == (0, 0, 0)
    assert len(outlook.writes()) == writes
    series.refresh_from_db()
    assert (series.rrule, series.exdates) == ("FREQ=DAILY;COUNT=10", ["20261208T080000Z"])


def test_an_outlook_series_with_exceptions_arrives_whole_and_its_later_cancellations_follow(alice, outlook_calendar,
                                                                                            outlook):
    sync(outlook_calendar)
    master = outlook.insert({"subject": "Yoga", **when("2026-12-01T18:00:00", "2026-12-01T19:00:00"), "recurrence": {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"], "firstDayOfWeek": "monday"},
        "range": {"type": "numbered", "startDate": "2026-12-01", "numberOfOccurrences": 6}}})
    occurrences = {item["originalStart"]: item["id"] for item in outlook.instances(master["id"])}
    assert len(occurrences) == 6
    outlook.change(occurrences["2026-12-08T17:00:00Z"], subject="Yoga (long)",
                   end={"dateTime": "2026-12-08T19:30:00", "timeZone": "Romance Standard Time"})
    outlook.delete(occurrences["2026-12-15T17:00:00Z"])
    run = sync(outlook_calendar)
    assert run.report == []
    yoga = Action.objects.get(subject="Yoga")
    assert (yoga.rrule, yoga.time_zone) == ("FREQ=WEEKLY;COUNT=6", "Europe/Paris")
    assert yoga.start == factories.local("2026-12-01 18:00")
    assert yoga.exdates == ["20261215T170000Z"]
    override = yoga.overrides.get()
    assert (override.recurrence_id, override.subject) == ("20261208T170000Z", "Yoga (long)")
    assert (override.start, override.end) == (factories.local("2026-12-08 18:00"), factories.local("2026-12-08 19:30"))
    assert crm_starts(yoga) == graph_starts(outlook, master["id"])

    outlook.delete(occurrences["2026-12-22T17:00:00Z"])  # later, on its own
    sync(outlook_calendar)
    yoga.refresh_from_db()
    assert yoga.exdates == ["20261215T170000Z", "20261222T170000Z"]
    assert yoga.overrides.get().subject == "Yoga (long)"
    sync(outlook_calendar)
    assert crm_starts(yoga) == graph_starts(outlook, master["id"])
    assert len(graph_starts(outlook, master["id"])) == 4
    assert outlook.writes() == []  # all of it came from Outlook: nothing goes back

    crm.action_update(action=yoga, location="Studio")  # written to the series without rebuilding it
    assert sync(outlook_calendar).updated == 1
    assert outlook.event(master["id"])["location"]["displayName"] == "Studio"
    instances = outlook.instances(master["id"])
    assert [(item["originalStart"], item["type"]) for item in instances] == [
        ("2026-12-01T17:00:00Z", "occurrence"), ("2026-12-08T17:00:00Z", "exception"),
        ("2026-12-29T17:00:00Z", "occurrence"), ("2027-01-05T17:00:00Z", "occurrence")]
    assert instances[1]["subject"] == "Yoga (long)"
    assert crm_starts(yoga) == graph_starts(outlook, master["id"])


# Graph's patterns, each as Outlook writes it, and the RRULE the CRM must hold for it.
PATTERNS = {
    "daily, every other day, until a date, across a DST change": (
        {"type": "daily", "interval": 2},
        {"type": "endDate", "startDate": "2026-03-20", "endDate": "2026-04-10"},
        ("2026-03-20T09:00:00", "Romance Standard Time"),
        "FREQ=DAILY;INTERVAL=2;UNTIL=20260410T215959Z"),
    "weekly on three days, numbered, across a DST change": (
        {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday", "friday"],
         "firstDayOfWeek": "sunday"},
        {"type": "numbered", "startDate": "2026-10-19", "numberOfOccurrences": 10},
        ("2026-10-19T08:30:00", "Eastern Standard Time"),
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10"),
    "every other week on two days, week starting on Sunday, no end": (
        {"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "tuesday"], "firstDayOfWeek": "sunday"},
        {"type": "noEnd", "startDate": "2026-02-01"},
        ("2026-02-01T17:00:00", "Romance Standard Time"),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU"),
    "absoluteMonthly on the 15th, no end": (
        {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
        {"type": "noEnd", "startDate": "2026-01-15"},
        ("2026-01-15T10:00:00", "Romance Standard Time"),
        "FREQ=MONTHLY"),
    "absoluteMonthly on the 31st (the last day of shorter months), numbered": (
        {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
        {"type": "numbered", "startDate": "2026-01-31", "numberOfOccurrences": 6},
        ("2026-01-31T10:00:00", "Romance Standard Time"),
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=6"),
    "relativeMonthly on the second Tuesday, numbered": (
        {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "second"},
        {"type": "numbered", "startDate": "2026-02-01", "numberOfOccurrences": 6},
        ("2026-02-01T14:00:00", "Eastern Standard Time"),
        "FREQ=MONTHLY;BYDAY=2TU;COUNT=6"),
    "relativeMonthly every other month on the last Friday, until a date": (
        {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["friday"], "index": "last"},
        {"type": "endDate", "startDate": "2026-01-30", "endDate": "2027-06-30"},
        ("2026-01-30T16:00:00", "Romance Standard Time"),
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;UNTIL=20270630T215959Z"),
    "absoluteYearly on 14 July, starting before it, numbered": (
        {"type": "absoluteYearly", "interval": 1, "month": 7, "dayOfMonth": 14},
        {"type": "numbered", "startDate": "2026-03-01", "numberOfOccurrences": 3},
        ("2026-03-01T11:00:00", "Romance Standard Time"),
        "FREQ=YEARLY;COUNT=3"),
    "relativeYearly on the fourth Thursday of November, until a date": (
        {"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"], "index": "fourth"},
        {"type": "endDate", "startDate": "2026-11-01", "endDate": "2028-12-31"},
        ("2026-11-01T12:00:00", "Eastern Standard Time"),
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;UNTIL=20290101T045959Z"),
}


@pytest.mark.parametrize("name", PATTERNS)
def test_each_graph_pattern_arrives_as_its_rrule_with_the_same_occurrences_and_goes_back_unchanged(
        name, alice, outlook_calendar, outlook):
    pattern, span, (start, zone), rrule = PATTERNS[name]
    sync(outlook_calendar)
    end = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()
    master = outlook.insert({"subject": name, **when(start, end, zone),
                             "recurrence": {"pattern": pattern, "range": span}})
    run = sync(outlook_calendar)
    assert (run.created, run.skipped) == (1, 0), run.report
    series = Action.objects.get(subject=name)
    assert rule(series.rrule) == rule(rrule)
    assert series.time_zone == {"Romance Standard Time": "Europe/Paris",
                                "Eastern Standard Time": "America/New_York"}[zone]
    graph = graph_starts(outlook, master["id"])
    assert len(graph) >= 3
    assert crm_starts(series) == graph

    for _again in range(2):
        run = sync(outlook_calendar)
        assert (run.created, run.updated, run.deleted, run.skipped) == (0, 0, 0, 0), run.report
    assert outlook.writes() == []

    recurrence = outlook.event(master["id"])["recurrence"]
    crm.action_update(action=series, description="Notes")  # the CRM's series goes back to Outlook
    run = sync(outlook_calendar)
    assert (run.updated, run.skipped, run.report) == (1, 0, [])
    event = outlook.event(master["id"])
    assert (event["body"]["content"], event["recurrence"]) == ("Notes", recurrence)
    assert graph_starts(outlook, master["id"]) == graph
    run = sync(outlook_calendar)
    assert (run.updated, run.skipped) == (0, 0)
    assert [write["method"] for write in outlook.writes()] == ["update"]
    series.refresh_from_db()
    assert rule(series.rrule) == rule(rrule)


# Wall-clock times on the days clocks change, in Windows zone names, and the instants they are.
DST_EDGES = {
    "Romance Standard Time": ("Europe/Paris", [
        ("2026-03-29T01:00:00", "2026-03-29T00:00"),  # before 02:00 becomes 03:00: UTC+1
        ("2026-03-29T09:00:00", "2026-03-29T07:00"),  # after: UTC+2
        ("2026-10-25T01:00:00", "2026-10-24T23:00"),  # before 03:00 becomes 02:00: UTC+2
        ("2026-10-25T09:00:00", "2026-10-25T08:00"),  # after: UTC+1
    ]),
    "Eastern Standard Time": ("America/New_York", [
        ("2026-03-08T01:00:00", "2026-03-08T06:00"),  # before 02:00 becomes 03:00: UTC-5
        ("2026-03-08T09:00:00", "2026-03-08T13:00"),  # after: UTC-4
        ("2026-11-01T00:30:00", "2026-11-01T04:30"),  # before 02:00 becomes 01:00: UTC-4
        ("2026-11-01T09:00:00", "2026-11-01T14:00"),  # after: UTC-5
    ]),
}


@pytest.mark.parametrize("windows_zone", DST_EDGES)
def test_events_in_windows_zones_on_dst_edges_arrive_at_the_right_instants_in_iana_zones(
        windows_zone, alice, outlook_calendar, outlook):
    zone, edges = DST_EDGES[windows_zone]
    sync(outlook_calendar)
    for wall, _utc in edges:
        end = (datetime.fromisoformat(wall) + timedelta(minutes=30)).isoformat()
        outlook.insert({"subject": f"At {wall}", **when(wall, end, windows_zone)})
    run = sync(outlook_calendar)
    assert run.created == len(edges), run.report
    for wall, utc in edges:
        action = Action.objects.get(subject=f"At {wall}")
        assert action.time_zone == zone
        assert action.start.astimezone(UTC) == datetime.fromisoformat(utc).replace(tzinfo=UTC)
        assert action.end - action.start == timedelta(minutes=30)
        assert action.start.astimezone(action.zone).replace(tzinfo=None) == datetime.fromisoformat(wall)
    run = sync(outlook_calendar)
    assert (run.updated, run.skipped) == (0, 0)
    assert outlook.writes() == []


def test_a_rule_outlook_cannot_hold_goes_as_close_as_it_can_says_so_and_stays_as_it_is_in_the_crm(
        alice, outlook_calendar, outlook):
    series = factories.appointment(alice, "2026-12-31 10:00", subject="Month end",
                                   rrule="FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4")
    crm_rule = series.rrule
    assert crm_starts(series) == [factories.local(day).astimezone(UTC) for day in (
        "2026-12-31 10:00", "2027-01-31 10:00", "2027-03-31 10:00", "2027-05-31 10:00")]
    run = sync(outlook_calendar)
    assert run.created == 1
    assert any("Month end" in line and "as closely as Outlook allows" in line for line in run.report), run.report
    master = master_of(outlook)
    assert master["recurrence"]["pattern"]["type"] == "absoluteMonthly"
    assert master["recurrence"]["pattern"]["dayOfMonth"] == 31
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 4
    assert graph_starts(outlook, master["id"]) == [factories.local(day).astimezone(UTC) for day in (
        "2026-12-31 10:00", "2027-01-31 10:00", "2027-02-28 10:00", "2027-03-31 10:00")]  # Outlook's best

    writes = len(outlook.writes())
    for _again in range(2):
        run = sync(outlook_calendar)
        assert (run.created, run.updated, run.deleted, run.skipped) == (0, 0, 0, 0), run.report
    assert len(outlook.writes()) == writes
    outlook.change(master["id"], subject="Month end (closing)")  # an edit in Outlook of something else
    sync(outlook_calendar)
    series.refresh_from_db()
    assert (series.subject, series.rrule, series.exdates) == ("Month end (closing)", crm_rule, [])
    sync(outlook_calendar)
    assert len(outlook.writes()) == writes
    assert outlook.event(master["id"])["recurrence"]["pattern"]["dayOfMonth"] == 31


def test_a_series_made_a_single_event_in_outlook_stays_in_the_crm_as_one(alice, outlook_calendar, outlook):
    sync(outlook_calendar)
    series = outlook.insert({"subject": "Weekly", **when("2026-12-01T09:00:00", "2026-12-01T10:00:00"),
                             "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
                                            "range": {"type": "numbered", "startDate": "2026-12-01",
                                                      "numberOfOccurrences": 4}}})
    sync(outlook_calendar)
    outlook.change(series["id"], recurrence=None, subject="Once")
    run = sync(outlook_calendar)
    assert (run.updated, run.deleted) == (1, 0)
    action = Action.objects.get()
    assert (action.subject, action.rrule) == ("Once", "")
    assert EventLink.objects.get().remote_id == series["id"]


def test_an_occurrence_moved_before_the_series_start_is_a_change_not_a_cancellation(alice, outlook_calendar,
                                                                                   outlook):
    series = outlook.insert({"subject": "Weekly", **when("2026-12-01T18:00:00", "2026-12-01T19:00:00"),
                             "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
                                            "range": {"type": "numbered", "startDate": "2026-12-01",
                                                      "numberOfOccurrences": 4}}})
    first = next(item for item in outlook.instances(series["id"]) if item["originalStart"].startswith("2026-12-01"))
    outlook.change(first["id"], **when("2026-11-27T18:00:00", "2026-11-27T19:00:00"))  # four days earlier
    sync(outlook_calendar)
    action = Action.objects.get(series=None)
    assert action.exdates == []
    moved = Action.objects.get(series=action)
    assert (moved.recurrence_id, moved.start) == ("20261201T170000Z", factories.local("2026-11-27 18:00"))


def test_a_series_begun_long_ago_is_read_within_the_longest_window_graph_lists(alice, outlook_calendar, outlook):
    series = outlook.insert({"subject": "Standing", **when("2019-01-07T09:00:00", "2019-01-07T09:30:00"),
                             "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                                            "range": {"type": "noEnd", "startDate": "2019-01-07"}}})
    cancelled = next(item for item in outlook.instances(series["id"]) if item["originalStart"].startswith("2026-12-07"))
    outlook.delete(cancelled["id"])
    sync(outlook_calendar)
    action = Action.objects.get()
    assert action.exdates == ["20261207T080000Z"]
    assert action.start == factories.local("2019-01-07 09:00")


def test_a_series_the_crm_reshapes_keeps_its_moved_and_cancelled_occurrences_in_outlook(alice, outlook_calendar,
                                                                                       outlook):
    """Outlook rebuilds a series whose rule changes, dropping its changed and cancelled occurrences: they are
    written again in the same run."""
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=10")
    crm.occurrence_cancel(series=series, recurrence_id="20261208T080000Z")
    crm.action_move(action=series, recurrence_id="20261209T080000Z", start=factories.local("2026-12-09 11:00"))
    sync(outlook_calendar)
    series.refresh_from_db()
    crm.action_update(action=series, rrule="FREQ=DAILY;COUNT=12")
    sync(outlook_calendar)
    master = master_of(outlook)
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 12
    assert graph_starts(outlook, master["id"]) == crm_starts(series)
    moved = next(item for item in outlook.instances(master["id"]) if item["originalStart"] == "2026-12-09T08:00:00Z")
    assert moved["type"] == "exception"
    for _again in range(2):
        run = sync(outlook_calendar)
        assert (run.created, run.updated, run.deleted) == (0, 0, 0), run.report
    series.refresh_from_db()
    assert series.exdates == ["20261208T080000Z"]
    assert series.overrides.get().start == factories.local("2026-12-09 11:00")


def test_a_cancelled_occurrence_restored_in_the_crm_comes_back_in_outlook(alice, outlook_calendar, outlook):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=5")
    crm.occurrence_cancel(series=series, recurrence_id="20261208T080000Z")
    sync(outlook_calendar)
    master = master_of(outlook)
    assert len(outlook.instances(master["id"])) == 4
    series.refresh_from_db()
    crm.action_update(action=series, exdates=[])
    sync(outlook_calendar)
    assert len(outlook.instances(master_of(outlook)["id"])) == 5
    sync(outlook_calendar)
    series.refresh_from_db()
    assert series.exdates == []


def test_a_series_outlook_reshapes_brings_its_changed_occurrences_back_to_the_series(alice, outlook_calendar,
                                                                                    outlook):
    """Outlook drops the changes of a series' occurrences when its rule changes: the CRM follows, and nothing
    is taken as cancelled."""
    sync(outlook_calendar)
    master = outlook.insert({"subject": "Yoga", **when("2026-12-01T18:00:00", "2026-12-01T19:00:00"), "recurrence": {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
        "range": {"type": "numbered", "startDate": "2026-12-01", "numberOfOccurrences": 6}}})
    second = next(item["id"] for item in outlook.instances(master["id"])
                  if item["originalStart"] == "2026-12-08T17:00:00Z")
    outlook.change(second, subject="Yoga (long)")
    sync(outlook_calendar)
    outlook.change(master["id"], recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
        "range": {"type": "numbered", "startDate": "2026-12-01", "numberOfOccurrences": 8}})
    sync(outlook_calendar)
    yoga = Action.objects.get(series=None)
    assert (yoga.rrule, yoga.exdates) == ("FREQ=WEEKLY;COUNT=8", [])
    assert [override.subject for override in yoga.overrides.all()] in ([], ["Yoga"])
    assert crm_starts(yoga) == graph_starts(outlook, master["id"])
    run = sync(outlook_calendar)
    assert (run.created, run.updated, run.deleted) == (0, 0, 0), run.report


def test_cancellations_beyond_what_graph_lists_at_once_stay_in_the_crm(alice, outlook_calendar, outlook):
    """Graph lists at most 1,825 days at once: a series' cancellations read over that span leave the older
    ones, and those beyond the horizon, as the CRM has them."""
    series = factories.appointment(alice, "2019-01-07 09:00", subject="Standing", rrule="FREQ=WEEKLY")
    old, far = "20200113T080000Z", "20280103T080000Z"
    crm.occurrence_cancel(series=series, recurrence_id=old)
    crm.occurrence_cancel(series=series, recurrence_id=far)
    sync(outlook_calendar)
    master = master_of(outlook)
    outlook.change(master["id"], subject="Standing (room 2)")  # read again from Outlook
    [occurrence] = [item for item in outlook.instances(master["id"]) if item["originalStart"].startswith("2026-12-14")]
    outlook.delete(occurrence["id"])
    sync(outlook_calendar)
    series.refresh_from_db()
    assert series.subject == "Standing (room 2)"
    assert series.exdates == [old, "20261214T080000Z", far]


def test_a_series_that_ended_is_not_read_again_at_each_deletion(alice, outlook_calendar, outlook):
    weekly = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}}
    ended = outlook.insert({"subject": "Spring course", **when("2026-03-02T09:00:00", "2026-03-02T10:00:00"),
                            "recurrence": {**weekly, "range": {"type": "numbered", "startDate": "2026-03-02",
                                                               "numberOfOccurrences": 6}}})
    current = outlook.insert({"subject": "Stand-up", **when("2026-11-30T09:00:00", "2026-11-30T09:15:00"),
                              "recurrence": {**weekly, "range": {"type": "noEnd", "startDate": "2026-11-30"}}})
    sync(outlook_calendar)
    assert Action.objects.filter(series=None).count() == 2
    outlook_calendar.refresh_from_db()
    assert set(json.loads(outlook_calendar.cursor)["series"]) == {current["id"]}
    assert ended["id"] not in outlook_calendar.cursor


def test_a_removal_costs_what_it_needs_not_a_read_of_every_series(alice, outlook_calendar, outlook):
    """Graph says only `@removed` and an id, for a deletion, a cancelled occurrence or a move out of the window:
    the cursor's digests of each series' occurrences name the one series to read again, not all 30."""
    sync(outlook_calendar)
    weekly = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"], "firstDayOfWeek": "monday"},
              "range": {"type": "numbered", "startDate": "2026-12-02", "numberOfOccurrences": 10}}
    series = outlook.insert([{"subject": f"Series {number}", **when(f"2026-12-02T{8 + number % 10:02}:00:00",
                                                                     f"2026-12-02T{8 + number % 10:02}:30:00"),
                              "recurrence": weekly} for number in range(30)])
    single, away = outlook.insert([{"subject": "Single", **when("2026-12-04T10:00:00", "2026-12-04T11:00:00")},
                                   {"subject": "Away", **when("2026-12-05T10:00:00", "2026-12-05T11:00:00")}])
    assert sync(outlook_calendar).created == 32
    occurrence = outlook.instances(series[7]["id"])[3]

    outlook.delete(occurrence["id"])
    run = sync(outlook_calendar)
    assert Action.objects.get(subject="Series 7").exdates == [occurrence["originalStart"].replace("-", "").replace(
        ":", "")[:15] + "Z"]
    assert run.requests <= 3, run.requests  # the delta page, the removed id, the one series

    outlook.delete(single["id"])
    run = sync(outlook_calendar)
    assert not Action.objects.filter(subject="Single").exists()
    assert run.requests <= 3, run.requests

    outlook.change(away["id"], **when("2031-01-01T10:00:00", "2031-01-01T11:00:00"))  # far beyond the window
    run = sync(outlook_calendar)
    assert run.requests <= 3, run.requests
    assert run.error == ""
