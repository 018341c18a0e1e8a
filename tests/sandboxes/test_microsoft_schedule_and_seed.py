"""getSchedule, the seeded realistic calendar and remote edits in the Microsoft sandbox."""

from collections import Counter

import pytest

from .conftest import follow_delta


def timed(subject, start, end, **extra):
    return {"subject": subject, "start": {"dateTime": start, "timeZone": "UTC"},
            "end": {"dateTime": end, "timeZone": "UTC"}, **extra}


def test_get_schedule_reports_busy_blocks_and_hides_private_subjects(graph, microsoft):
    microsoft.control("POST", "users", {"email": "alan@example.com", "name": "Alan Turing"})
    calendar = microsoft.control("POST", "users", {"email": "ada@example.com"}).json()["calendar"]
    microsoft.control("POST", f"calendars/{calendar}/events", [
        timed("Board", "2026-11-23T09:00:00", "2026-11-23T10:00:00"),
        timed("Maybe", "2026-11-23T10:00:00", "2026-11-23T10:30:00", showAs="tentative"),
        timed("Doctor", "2026-11-23T11:00:00", "2026-11-23T12:00:00", sensitivity="private"),
        timed("Lunch", "2026-11-23T12:00:00", "2026-11-23T13:00:00", showAs="free")])
    answer = graph.post(f"{graph.base}/me/calendar/getSchedule", json={
        "schedules": ["ada@example.com", "nobody@example.com"],
        "startTime": {"dateTime": "2026-11-23T10:00:00", "timeZone": "Romance Standard Time"},
        "endTime": {"dateTime": "2026-11-23T14:00:00", "timeZone": "Romance Standard Time"},
        "availabilityViewInterval": 60}, headers={"Prefer": 'outlook.timezone="Europe/Paris"'})
    assert answer.status_code == 200, answer.text
    ada, nobody = answer.json()["value"]
    assert ada["availabilityView"] == "2120"  # 10:00 busy, 11:00 tentative, 12:00 busy (private), 13:00 free
    assert [(item["status"], item.get("subject")) for item in ada["scheduleItems"]] == [
        ("busy", "Board"), ("tentative", "Maybe"), ("busy", None)]
    assert ada["scheduleItems"][0]["start"] == {"dateTime": "2026-11-23T10:00:00.0000000", "timeZone": "Europe/Paris"}
    assert nobody["error"]["responseCode"] == "ErrorMailRecipientNotFound"


@pytest.mark.parametrize("body", [
    {"schedules": []},
    {"schedules": ["a@example.com"], "startTime": {"dateTime": "2026-11-23T10:00:00"}},
    {"schedules": ["a@example.com"], "startTime": {"dateTime": "2026-11-23T10:00:00", "timeZone": "UTC"},
     "endTime": {"dateTime": "2026-11-23T09:00:00", "timeZone": "UTC"}},
    {"schedules": ["a@example.com"], "startTime": {"dateTime": "2026-11-23T10:00:00", "timeZone": "UTC"},
     "endTime": {"dateTime": "2026-11-23T11:00:00", "timeZone": "UTC"}, "availabilityViewInterval": 2},
])
def test_get_schedule_refuses_bad_requests(graph, body):
    assert graph.post(f"{graph.base}/me/calendar/getSchedule", json=body).status_code == 400


def test_a_seeded_calendar_is_a_realistic_mix(graph, microsoft):
    calendar = microsoft.user["calendar"]
    assert microsoft.control("POST", "seed", {"calendar": calendar, "count": 400, "seed": 3}).json()["events"] >= 390
    stored = microsoft.store.calendars[calendar].events.values()
    kinds = Counter(event["type"] for event in stored)
    assert kinds["seriesMaster"] >= 3
    assert kinds["exception"] == kinds["seriesMaster"]  # each series has one moved occurrence
    assert all(master.get("_cancelled") for master in stored if master["type"] == "seriesMaster")
    assert sum(event["isAllDay"] for event in stored) > 20
    assert len({event["originalStartTimeZone"] for event in stored}) >= 5
    assert any("Standard Time" in event["originalStartTimeZone"] for event in stored)  # Windows names too
    # The whole calendar reads back through Graph's views without a fault.
    window = "startDateTime=2025-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z"
    items, _, _ = follow_delta(graph, f"{graph.base}/me/calendarView/delta?{window}", page_size=500)
    assert {item["type"] for item in items} == {"singleInstance", "occurrence", "exception"}


def test_a_remote_user_edits_and_deletes_occurrences(graph, microsoft):
    calendar = microsoft.user["calendar"]
    master = microsoft.control("POST", f"calendars/{calendar}/events", {
        **timed("Weekly", "2026-11-23T09:00:00", "2026-11-23T10:00:00"),
        "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                       "range": {"type": "numbered", "startDate": "2026-11-23", "numberOfOccurrences": 3}}}).json()
    window = "startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-31T00:00:00Z"
    first, second, third = graph.get(f"{graph.base}/me/events/{master['id']}/instances?{window}").json()["value"]
    assert microsoft.control("PATCH", f"events/{first['id']}", {"subject": "Moved"}).status_code == 200
    assert microsoft.control("DELETE", f"events/{second['id']}").status_code == 204
    assert microsoft.control("DELETE", f"events/{second['id']}").status_code == 404
    view = graph.get(f"{graph.base}/me/calendarView?{window}").json()["value"]
    assert [(item["subject"], item["type"]) for item in view] == [("Moved", "exception"), ("Weekly", "occurrence")]
    assert view[1]["id"] == third["id"]
