"""Recurring events in the Google sandbox: masters, instances, exceptions and cancelled instances."""

import pytest
from googleapiclient.errors import HttpError

SERIES = {"summary": "Stand-up", "recurrence": ["RRULE:FREQ=DAILY;COUNT=5", "EXDATE;TZID=Europe/Paris:20261125T090000"],
          "start": {"dateTime": "2026-11-23T09:00:00+01:00", "timeZone": "Europe/Paris"},
          "end": {"dateTime": "2026-11-23T09:15:00+01:00", "timeZone": "Europe/Paris"}}


@pytest.fixture
def series(client):
    return client.events().insert(calendarId="primary", body=SERIES).execute()


def test_instances_expand_the_rule_without_the_exdate(client, series):
    instances = client.events().instances(calendarId="primary", eventId=series["id"]).execute()["items"]
    assert [item["id"] for item in instances] == [
        f"{series['id']}_20261123T080000Z", f"{series['id']}_20261124T080000Z",
        f"{series['id']}_20261126T080000Z", f"{series['id']}_20261127T080000Z"]
    assert {item["recurringEventId"] for item in instances} == {series["id"]}
    assert instances[0]["originalStartTime"] == {"dateTime": "2026-11-23T09:00:00+01:00", "timeZone": "Europe/Paris"}


def test_a_recurring_event_needs_a_start_time_zone(client):
    body = {**SERIES, "start": {"dateTime": "2026-11-23T09:00:00+01:00"},
            "end": {"dateTime": "2026-11-23T09:15:00+01:00"}}
    with pytest.raises(HttpError) as error:
        client.events().insert(calendarId="primary", body=body).execute()
    assert error.value.status_code == 400


def test_moving_and_cancelling_instances_make_exceptions_seen_by_sync(client, series):
    token = client.events().list(calendarId="primary").execute()["nextSyncToken"]
    moved_id, cancelled_id = f"{series['id']}_20261124T080000Z", f"{series['id']}_20261126T080000Z"
    client.events().patch(calendarId="primary", eventId=moved_id, body={
        "start": {"dateTime": "2026-11-24T15:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2026-11-24T15:15:00+01:00", "timeZone": "Europe/Paris"}}).execute()
    client.events().delete(calendarId="primary", eventId=cancelled_id).execute()

    changes = client.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert sorted((item["id"], item["status"]) for item in changes) == [
        (moved_id, "confirmed"), (cancelled_id, "cancelled")]
    assert all(item["recurringEventId"] == series["id"] for item in changes)
    assert next(item for item in changes if item["id"] == cancelled_id)["originalStartTime"]["dateTime"].startswith(
        "2026-11-26T09:00")

    # Without singleEvents: the master, the exception and the cancelled instance (showDeleted or not).
    listed = client.events().list(calendarId="primary").execute()["items"]
    assert sorted(item["id"] for item in listed) == sorted([series["id"], moved_id, cancelled_id])
    # With singleEvents: the instances, the exception in place of its instance, the cancelled one gone.
    singles = client.events().list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()["items"]
    assert [item["start"]["dateTime"][:16] for item in singles] == [
        "2026-11-23T09:00", "2026-11-24T15:00", "2026-11-27T09:00"]


def test_get_an_instance_that_was_never_changed(client, series):
    instance = client.events().get(calendarId="primary", eventId=f"{series['id']}_20261127T080000Z").execute()
    assert instance["start"]["dateTime"] == "2026-11-27T09:00:00+01:00"
    with pytest.raises(HttpError) as error:
        client.events().get(calendarId="primary", eventId=f"{series['id']}_20261125T080000Z").execute()  # EXDATE
    assert error.value.status_code == 404


def test_all_day_series(client):
    body = {"summary": "Holiday", "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=3"],
            "start": {"date": "2026-11-27"}, "end": {"date": "2026-11-28"}}
    master = client.events().insert(calendarId="primary", body=body).execute()
    instances = client.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    assert [(item["id"][-8:], item["start"]) for item in instances] == [
        ("20261127", {"date": "2026-11-27"}), ("20261204", {"date": "2026-12-04"}),
        ("20261211", {"date": "2026-12-11"})]
