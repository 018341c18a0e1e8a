"""Series in the Microsoft sandbox: patternedRecurrence, occurrences, exceptions, cancellations, delta."""

import pytest

from .conftest import follow_delta

PARIS = {"Prefer": 'outlook.timezone="Europe/Paris"'}
AUTUMN = "startDateTime=2026-10-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"


def series(graph, pattern, span, start="2026-10-19T09:00:00", end="2026-10-19T10:00:00", **extra):
    response = graph.post(f"{graph.base}/me/events", json={
        "subject": "Stand-up", "start": {"dateTime": start, "timeZone": "Romance Standard Time"},
        "end": {"dateTime": end, "timeZone": "Romance Standard Time"},
        "recurrence": {"pattern": pattern, "range": span}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def view(graph, window=AUTUMN, calendar=""):
    path = f"calendars/{calendar}/calendarView" if calendar else "calendarView"
    return graph.get(f"{graph.base}/me/{path}?{window}&$top=100", headers=PARIS).json()["value"]


def test_a_weekly_series_keeps_its_local_time_across_the_dst_change(graph):
    master = series(graph, {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
                    {"type": "numbered", "startDate": "2026-10-19", "numberOfOccurrences": 4})
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["range"]["recurrenceTimeZone"] == "Romance Standard Time"
    occurrences = view(graph)
    assert [(item["start"]["dateTime"][:16], item["type"]) for item in occurrences] == [
        ("2026-10-19T09:00", "occurrence"), ("2026-10-21T09:00", "occurrence"),
        ("2026-10-26T09:00", "occurrence"), ("2026-10-28T09:00", "occurrence")]
    utc = graph.get(f"{graph.base}/me/calendarView?{AUTUMN}").json()["value"]
    assert [item["start"]["dateTime"][11:16] for item in utc] == ["07:00", "07:00", "08:00", "08:00"]
    assert {item["seriesMasterId"] for item in occurrences} == {master["id"]}
    assert occurrences[0]["originalStart"] == "2026-10-19T07:00:00Z"
    assert len({item["iCalUId"] for item in occurrences} | {master["iCalUId"]}) == 5  # one per occurrence
    assert occurrences[0]["iCalUId"][32:40] == "07EA0A13"  # the occurrence's date, as Outlook writes it
    listed = graph.get(f"{graph.base}/me/events").json()["value"]
    assert [item["type"] for item in listed] == ["seriesMaster"]  # /events never lists occurrences


@pytest.mark.parametrize(("pattern", "span", "dates"), [
    ({"type": "daily", "interval": 2}, {"type": "numbered", "numberOfOccurrences": 3},
     ["2026-10-19", "2026-10-21", "2026-10-23"]),
    ({"type": "weekly", "interval": 2, "daysOfWeek": ["friday"]}, {"type": "endDate", "endDate": "2026-11-13"},
     ["2026-10-23", "2026-11-06"]),
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31}, {"type": "numbered", "numberOfOccurrences": 3},
     ["2026-10-31", "2026-11-30", "2026-12-31"]),  # months without a 31st get their last day, as in Outlook
    ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
     {"type": "numbered", "numberOfOccurrences": 3}, ["2026-10-30", "2026-11-27", "2026-12-25"]),
    ({"type": "relativeMonthly", "interval": 1, "index": "first",
      "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
     {"type": "numbered", "numberOfOccurrences": 2}, ["2026-11-02", "2026-12-01"]),  # the first weekday
    ({"type": "absoluteYearly", "interval": 1, "dayOfMonth": 24, "month": 12},
     {"type": "numbered", "numberOfOccurrences": 2}, ["2026-12-24", "2027-12-24"]),
    ({"type": "relativeYearly", "interval": 1, "daysOfWeek": ["thursday"], "index": "fourth", "month": 11},
     {"type": "noEnd"}, ["2026-11-26", "2027-11-25", "2028-11-23"]),
])
def test_every_pattern_graph_has(graph, pattern, span, dates):
    master = series(graph, pattern, {"startDate": "2026-10-19", **span})
    window = "startDateTime=2026-10-01T00:00:00Z&endDateTime=2028-12-01T00:00:00Z"
    instances = graph.get(f"{graph.base}/me/events/{master['id']}/instances?{window}", headers=PARIS).json()["value"]
    assert [item["start"]["dateTime"][:10] for item in instances] == dates
    assert master["start"]["dateTime"][:10] == dates[0]  # the master moves to its first occurrence


def test_an_all_day_series(graph):
    master = series(graph, {"type": "weekly", "interval": 1, "daysOfWeek": ["friday"]},
                    {"type": "numbered", "startDate": "2026-10-23", "numberOfOccurrences": 2},
                    start="2026-10-23T00:00:00", end="2026-10-24T00:00:00", isAllDay=True)
    assert master["isAllDay"] is True
    assert [(item["start"]["dateTime"], item["end"]["dateTime"]) for item in view(graph)] == [
        ("2026-10-23T00:00:00.0000000", "2026-10-24T00:00:00.0000000"),
        ("2026-10-30T00:00:00.0000000", "2026-10-31T00:00:00.0000000")]


def test_an_occurrence_changed_becomes_an_exception_and_a_deleted_one_is_cancelled(graph):
    master = series(graph, {"type": "daily", "interval": 1}, {"type": "numbered", "startDate": "2026-10-19",
                                                              "numberOfOccurrences": 4})
    first, second, third, _ = view(graph)
    moved = graph.patch(f"{graph.base}/me/events/{second['id']}", json={
        "subject": "Moved stand-up", "start": {"dateTime": "2026-10-20T15:00:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2026-10-20T16:00:00", "timeZone": "Europe/Paris"}}, headers=PARIS)
    assert moved.status_code == 200
    exception = moved.json()
    assert (exception["id"], exception["type"], exception["seriesMasterId"]) == (second["id"], "exception",
                                                                                 master["id"])
    assert exception["originalStart"] == second["originalStart"]
    assert graph.delete(f"{graph.base}/me/events/{third['id']}").status_code == 204
    assert graph.get(f"{graph.base}/me/events/{third['id']}").status_code == 404
    assert graph.delete(f"{graph.base}/me/events/{third['id']}").status_code == 404
    assert [(item["subject"], item["start"]["dateTime"][:16]) for item in view(graph)] == [
        ("Stand-up", "2026-10-19T09:00"), ("Moved stand-up", "2026-10-20T15:00"), ("Stand-up", "2026-10-22T09:00")]
    assert graph.get(f"{graph.base}/me/events/{first['id']}").json()["type"] == "occurrence"
    recurrence_on_occurrence = graph.patch(f"{graph.base}/me/events/{first['id']}", json={"recurrence": None})
    assert recurrence_on_occurrence.status_code == 400
    assert graph.get(f"{graph.base}/me/events/{master['id'][:-2]}xx").status_code == 404


def test_delta_follows_a_series_through_its_changes(graph):
    master = series(graph, {"type": "daily", "interval": 1}, {"type": "numbered", "startDate": "2026-10-19",
                                                              "numberOfOccurrences": 4})
    window = f"{graph.base}/me/calendarView/delta?{AUTUMN}"
    items, delta_link, _ = follow_delta(graph, window)
    assert sorted(item["type"] for item in items) == ["occurrence"] * 4  # never the master
    ids = [item["id"] for item in sorted(items, key=lambda item: item["start"]["dateTime"])]

    graph.patch(f"{graph.base}/me/events/{ids[0]}", json={"subject": "Changed once"})
    graph.delete(f"{graph.base}/me/events/{ids[1]}")
    changes, delta_link, _ = follow_delta(graph, delta_link)
    assert sorted((item["id"], item.get("type"), "@removed" in item) for item in changes) == sorted([
        (ids[0], "exception", False), (ids[1], None, True)])

    graph.patch(f"{graph.base}/me/events/{master['id']}", json={"subject": "Daily"})
    changes, delta_link, _ = follow_delta(graph, delta_link)
    assert sorted((item["id"], item["subject"]) for item in changes) == sorted([(ids[2], "Daily"), (ids[3], "Daily")])

    graph.patch(f"{graph.base}/me/events/{master['id']}", json={"recurrence": {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-10-19", "numberOfOccurrences": 3}}})
    changes, delta_link, _ = follow_delta(graph, delta_link)
    assert {item["id"] for item in changes if "@removed" not in item} == set(ids[:3])  # the exception is dropped
    assert [item["id"] for item in changes if "@removed" in item] == [ids[3]]

    graph.delete(f"{graph.base}/me/events/{master['id']}")
    changes, _, _ = follow_delta(graph, delta_link)
    assert sorted(item["id"] for item in changes if "@removed" in item) == sorted(ids[:3])


def test_a_single_event_that_becomes_a_series_leaves_the_views_as_itself(graph):
    single = graph.post(f"{graph.base}/me/events", json={
        "subject": "One-off", "start": {"dateTime": "2026-10-19T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-10-19T10:00:00", "timeZone": "UTC"}}).json()
    _, delta_link, _ = follow_delta(graph, f"{graph.base}/me/calendarView/delta?{AUTUMN}")
    graph.patch(f"{graph.base}/me/events/{single['id']}", json={"recurrence": {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-10-19", "numberOfOccurrences": 2}}})
    changes, _, _ = follow_delta(graph, delta_link)
    assert sorted((item.get("type", ""), "@removed" in item) for item in changes) == [
        ("", True), ("occurrence", False), ("occurrence", False)]


@pytest.mark.parametrize("recurrence", [
    {"pattern": {"type": "hourly", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "weekly", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily", "interval": 0}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "endDate", "startDate": "2026-10-19"}},
    {"pattern": {"type": "absoluteMonthly", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "19/10/2026"}},
    {"pattern": {"type": "daily", "interval": "1"}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily"}},
    {"pattern": {"type": ["daily"], "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [["monday"]], "firstDayOfWeek": {}},
     "range": {"type": "noEnd", "startDate": "2026-10-19"}},
    {"pattern": {"type": "daily", "interval": 1},
     "range": {"type": "noEnd", "startDate": "2026-10-19", "recurrenceTimeZone": 5}},
    {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "0002-01-01"}},
    {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2026-10-19",
                                                             "numberOfOccurrences": 10**9}},
])
def test_invalid_recurrences_are_400s(graph, recurrence):
    response = graph.post(f"{graph.base}/me/events", json={
        "subject": "x", "start": {"dateTime": "2026-10-19T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-10-19T10:00:00", "timeZone": "UTC"}, "recurrence": recurrence})
    assert response.status_code == 400
    zone_refused = "recurrenceTimeZone" in recurrence.get("range", {})
    assert response.json()["error"]["code"] == (
        "ErrorTimeZoneNotSupportedException" if zone_refused else "ErrorPropertyValidationFailure")
    assert graph.get(f"{graph.base}/me/events").json()["value"] == []


def test_a_recurrence_that_is_not_an_object_cannot_be_read(graph):
    response = graph.post(f"{graph.base}/me/events", json={
        "subject": "x", "start": {"dateTime": "2026-10-19T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-10-19T10:00:00", "timeZone": "UTC"}, "recurrence": "FREQ=DAILY"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "RequestBodyRead")
