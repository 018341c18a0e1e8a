"""The Microsoft sandbox under hostile input, concurrency and edge times: always Graph's 4xx, never a crash."""

import threading
from datetime import datetime

import pytest
from dateutil import rrule

from sandboxes import pages

from .conftest import EVENT, follow_delta

WINDOW = "startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"
SERIES = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-11-02"}}


@pytest.mark.parametrize("change", [
    {"showAs": ["busy"]}, {"sensitivity": {}}, {"importance": "urgent"}, {"subject": 5}, {"isAllDay": "yes"},
    {"body": {"content": 5}}, {"body": {"contentType": "rtf", "content": "x"}}, {"location": "Room 1"},
    {"attendees": [{"emailAddress": "a@example.com"}]}, {"attendees": "a@example.com"},
    {"categories": [1]}, {"singleValueExtendedProperties": "oops"},
    {"singleValueExtendedProperties": [{"id": "String {66f5a359-4659-4830-9070-00040ec6ac6e} Name x", "value": 5}]},
    {"transactionId": ["t"]}, {"reminderMinutesBeforeStart": True},
    {"start": "2026-11-23T10:00:00"}, {"start": {"dateTime": "2026-11-23T10:00:00", "timeZone": 5}},
    {"start": {"dateTime": "2026-11-23T10:00:00", "timeZone": ["UTC"]}},
    {"start": {"dateTime": "0001-01-01T01:00:00", "timeZone": "Tokyo Standard Time"}},
    {"end": {"dateTime": "9999-12-31T23:00:00", "timeZone": "Pacific Standard Time"}},
    {"recurrence": {"pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "noEnd", "startDate": "9999-12-31"}}},
])
def test_malformed_events_are_400s_and_nothing_is_saved(graph, microsoft, change):
    response = graph.post(f"{graph.base}/me/events", json={**EVENT, **change})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"]
    assert graph.get(f"{graph.base}/me/events").json()["value"] == []
    assert "sandbox_errors" not in microsoft.control("GET", "counters").json()["requests"]


@pytest.mark.parametrize("path", [
    f"me/calendarView?{WINDOW}&$skip=abc", f"me/calendarView?{WINDOW}&$top=-1", f"me/calendarView?{WINDOW}&$top=²",
    "me/events?$top=0", "me/events?$skip=²", "me/calendarView?startDateTime=0001-01-01T00:00:00Z"
    "&endDateTime=0001-02-01T00:00:00Z", "me/calendarView?startDateTime=x&endDateTime=y",
    "me/events/AAMkAExxxx", "me/events?$filter=subject eq 'x'",
])
def test_malformed_queries_are_4xx(graph, microsoft, path):
    graph.post(f"{graph.base}/me/events", json={**EVENT, "recurrence": SERIES})
    response = graph.get(f"{graph.base}/{path}")
    assert 400 <= response.status_code < 500, response.text
    assert "sandbox_errors" not in microsoft.control("GET", "counters").json()["requests"]


@pytest.mark.parametrize("token", [
    "e30", "eyJjYWwiOiAieCJ9", "!!!", "eyJjYWwiOjEsInNuYXAiOiJ4In0",
])
def test_forged_delta_tokens_are_410s(graph, token):
    response = graph.get(f"{graph.base}/me/calendarView/delta?$deltatoken={token}")
    assert (response.status_code, response.json()["error"]["code"]) == (410, "SyncStateNotFound")


@pytest.mark.parametrize("body", ["{", "[]"])
def test_malformed_subscription_and_batch_bodies_are_400s(graph, body):
    headers = {"Content-Type": "application/json"}
    assert graph.post(f"{graph.base}/subscriptions", data=body, headers=headers).status_code == 400
    assert graph.post(f"{graph.base}/$batch", data=body, headers=headers).status_code == 400
    bad_items = {"requests": [{"id": "1", "method": "GET", "url": "/me", "headers": ["a"]}]}
    assert graph.post(f"{graph.base}/$batch", json=bad_items).status_code == 400


def test_a_subscription_to_a_url_that_cannot_be_reached_is_refused(graph):
    for url in ("http://", "http://127.0.0.1:abc/", "http://127.0.0.1:9/hook"):
        response = graph.post(f"{graph.base}/subscriptions", json={
            "changeType": "created", "notificationUrl": url, "resource": "me/events",
            "expirationDateTime": "2099-01-01T00:00:00Z"})
        assert response.status_code == 400, url


def test_concurrent_writes_with_one_etag_let_exactly_one_through(graph):
    event = graph.post(f"{graph.base}/me/events", json=EVENT).json()
    statuses = []

    def patch(subject):
        statuses.append(graph.patch(f"{graph.base}/me/events/{event['id']}", json={"subject": subject},
                                    headers={"If-Match": event["@odata.etag"]}).status_code)

    threads = [threading.Thread(target=patch, args=(f"from {name}",)) for name in "ABCD"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412, 412, 412]


def test_a_round_no_longer_kept_answers_410_instead_of_skipping_items(graph, microsoft):
    for index in range(6):
        graph.post(f"{graph.base}/me/events", json={**EVENT, "subject": f"E{index}"})
    first = graph.get(f"{graph.base}/me/calendarView/delta?{WINDOW}",
                      headers={"Prefer": "odata.maxpagesize=2"}).json()
    for minute in range(pages.KEPT + 1):  # other rounds push this one out
        graph.get(f"{graph.base}/me/calendarView/delta?startDateTime=2026-10-01T00:{minute:02d}:00Z"
                  f"&endDateTime=2026-12-01T00:00:00Z")
    response = graph.get(first["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=2"})
    assert (response.status_code, response.json()["error"]["code"]) == (410, "SyncStateNotFound")


def test_a_reshaped_series_and_its_removals_share_one_change_number(graph, microsoft):
    master = graph.post(f"{graph.base}/me/events", json={**EVENT, "recurrence": SERIES}).json()
    graph.patch(f"{graph.base}/me/events/{master['id']}", json={"recurrence": {
        "pattern": {"type": "daily", "interval": 2}, "range": SERIES["range"]}})
    calendar = microsoft.store.calendars[microsoft.user["calendar"]]
    assert calendar.replaced[-1][0] == calendar.events[master["id"]]["_seq"]


def test_all_day_events_stay_on_their_day_in_every_zone(graph):
    created = graph.post(f"{graph.base}/me/events", json={
        "subject": "Holiday", "isAllDay": True,
        "start": {"dateTime": "2026-11-23T00:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-11-24T00:00:00", "timeZone": "W. Europe Standard Time"}}).json()
    assert created["start"] == {"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "UTC"}
    pacific = graph.get(f"{graph.base}/me/events/{created['id']}",
                        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'}).json()
    assert pacific["start"] == {"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert pacific["end"]["dateTime"] == "2026-11-24T00:00:00.0000000"


def test_a_series_in_a_dst_gap_keeps_its_wall_clock_time(graph):
    def sundays(start, end="03:00"):
        created = graph.post(f"{graph.base}/me/events", json={
            "subject": f"From {start}", "start": {"dateTime": f"{start}T02:30:00", "timeZone": "Eastern Standard Time"},
            "end": {"dateTime": f"{start}T{end}:00", "timeZone": "Eastern Standard Time"},
            "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["sunday"]},
                           "range": {"type": "numbered", "startDate": start, "numberOfOccurrences": 3}}})
        assert created.status_code == 201, created.text

    sundays("2026-03-01")
    sundays("2026-03-08", end="04:00")  # 02:30 does not exist that day: the event really starts at 03:30
    view = graph.get(f"{graph.base}/me/calendarView?startDateTime=2026-02-28T00:00:00Z&endDateTime=2026-04-01T00:00"
                     ":00Z", headers={"Prefer": 'outlook.timezone="Eastern Standard Time"'}).json()["value"]
    times = [(item["subject"], item["start"]["dateTime"][:16], item["end"]["dateTime"][:16]) for item in view]
    assert ("From 2026-03-01", "2026-03-08T03:30", "2026-03-08T04:00") in times  # moved past the gap, 30 min long
    assert ("From 2026-03-08", "2026-03-15T02:30", "2026-03-15T04:00") in times  # later ones back at 02:30
    assert ("From 2026-03-01", "2026-03-15T02:30", "2026-03-15T03:00") in times


@pytest.mark.parametrize(("kind", "interval"), [("daily", 1), ("daily", 5), ("weekly", 3)])
def test_an_old_endless_series_expands_exactly_near_today(graph, kind, interval):
    days = {"daysOfWeek": ["tuesday", "friday"]} if kind == "weekly" else {}
    pattern = {"type": kind, "interval": interval, **days}
    master = graph.post(f"{graph.base}/me/events", json={
        "subject": "Old", "start": {"dateTime": "1701-03-01T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "1701-03-01T10:00:00", "timeZone": "UTC"},
        "recurrence": {"pattern": pattern, "range": {"type": "noEnd", "startDate": "1701-03-01"}}}).json()
    instances = graph.get(f"{graph.base}/me/events/{master['id']}/instances?{WINDOW}").json()["value"]
    expected = rrule.rrule(rrule.DAILY if kind == "daily" else rrule.WEEKLY, interval=interval,
                           dtstart=datetime(1701, 3, 1, 9), wkst=rrule.SU,
                           byweekday=(rrule.TU, rrule.FR) if kind == "weekly" else None)
    dates = expected.between(datetime(2026, 10, 31, 9), datetime(2026, 12, 1), inc=True)
    assert [item["start"]["dateTime"][:16] for item in instances] == [
        moment.strftime("%Y-%m-%dT%H:%M") for moment in dates if moment >= datetime(2026, 11, 1)]


def test_times_with_seven_fractional_digits_keep_their_offset(graph):
    created = graph.post(f"{graph.base}/me/events", json={
        **EVENT, "start": {"dateTime": "2026-11-23T10:00:00.1234567+01:00", "timeZone": "UTC"}}).json()
    assert created["start"]["dateTime"] == "2026-11-23T09:00:00.0000000"


def test_calendar_view_pages_keep_their_size(graph):
    for index in range(5):
        graph.post(f"{graph.base}/me/events", json={**EVENT, "subject": f"E{index}"})
    first = graph.get(f"{graph.base}/me/calendarView?{WINDOW}&$top=2").json()
    second = graph.get(first["@odata.nextLink"]).json()
    assert (len(first["value"]), len(second["value"])) == (2, 2)
    items, _, _ = follow_delta(graph, f"{graph.base}/me/calendarView/delta?{WINDOW}")
    assert len(items) == 5
