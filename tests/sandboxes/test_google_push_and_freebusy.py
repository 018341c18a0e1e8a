"""events.watch / channels.stop with deliveries to a real receiver, and freebusy.query."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from googleapiclient.errors import HttpError

EVENT = {"summary": "E", "start": {"dateTime": "2026-11-23T10:00:00+01:00", "timeZone": "Europe/Paris"},
         "end": {"dateTime": "2026-11-23T11:00:00+01:00", "timeZone": "Europe/Paris"}}


@pytest.fixture
def receiver():
    """A web hook on loopback that records what it is sent and answers with `status`."""
    received = []

    class Hook(BaseHTTPRequestHandler):
        status = 200

        def do_POST(self):
            received.append({name: value for name, value in self.headers.items() if name.startswith("X-Goog")})
            self.send_response(Hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received, server.hook = received, Hook
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()


def wait_for(condition, seconds=5):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_watch_delivers_sync_then_changes_until_stopped(client, receiver):
    channel = client.events().watch(calendarId="primary", body={
        "id": "channel-1", "type": "web_hook", "address": receiver.url, "token": "secret"}).execute()
    assert wait_for(lambda: len(receiver.received) == 1)
    first = receiver.received[0]
    assert (first["X-Goog-Resource-State"], first["X-Goog-Message-Number"]) == ("sync", "1")
    assert (first["X-Goog-Channel-ID"], first["X-Goog-Channel-Token"]) == ("channel-1", "secret")
    assert first["X-Goog-Resource-ID"] == channel["resourceId"]

    client.events().insert(calendarId="primary", body=EVENT).execute()
    assert wait_for(lambda: len(receiver.received) == 2)
    assert receiver.received[1]["X-Goog-Resource-State"] == "exists"
    assert int(receiver.received[1]["X-Goog-Message-Number"]) > 1

    client.channels().stop(body={"id": "channel-1", "resourceId": channel["resourceId"]}).execute()
    client.events().insert(calendarId="primary", body=EVENT).execute()
    time.sleep(0.3)
    assert len(receiver.received) == 2
    with pytest.raises(HttpError) as error:
        client.channels().stop(body={"id": "channel-1", "resourceId": "other"}).execute()
    assert error.value.status_code == 404


def test_server_errors_are_retried_client_errors_are_not(client, google, receiver):
    receiver.hook.status = 503
    client.events().watch(calendarId="primary", body={"id": "c2", "type": "web_hook",
                                                      "address": receiver.url}).execute()
    assert wait_for(lambda: len(receiver.received) == 4)  # the first try and three retries
    receiver.hook.status = 403
    client.events().insert(calendarId="primary", body=EVENT).execute()
    assert wait_for(lambda: len(receiver.received) == 5)
    time.sleep(0.3)
    assert len(receiver.received) == 5
    deliveries = google.control("GET", "channels")["c2"]["deliveries"]
    assert [delivery["status"] for delivery in deliveries] == [503, 503, 503, 503, 403]


def test_freebusy_merges_busy_time_and_skips_free_and_cancelled(client):
    events = client.events()
    events.insert(calendarId="primary", body=EVENT).execute()
    events.insert(calendarId="primary", body={**EVENT, "start": {"dateTime": "2026-11-23T10:30:00+01:00"},
                                              "end": {"dateTime": "2026-11-23T12:00:00+01:00"}}).execute()
    events.insert(calendarId="primary", body={**EVENT, "transparency": "transparent",
                                              "start": {"dateTime": "2026-11-23T14:00:00+01:00"},
                                              "end": {"dateTime": "2026-11-23T15:00:00+01:00"}}).execute()
    gone = events.insert(calendarId="primary", body={**EVENT, "start": {"dateTime": "2026-11-23T16:00:00+01:00"},
                                                     "end": {"dateTime": "2026-11-23T17:00:00+01:00"}}).execute()
    events.delete(calendarId="primary", eventId=gone["id"]).execute()
    events.insert(calendarId="primary", body={
        "summary": "Daily", "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        "start": {"dateTime": "2026-11-22T08:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2026-11-22T08:30:00+01:00", "timeZone": "Europe/Paris"}}).execute()
    answer = client.freebusy().query(body={
        "timeMin": "2026-11-23T00:00:00Z", "timeMax": "2026-11-24T00:00:00Z",
        "items": [{"id": "primary"}, {"id": "nobody@example.com"}]}).execute()
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2026-11-23T07:00:00Z", "end": "2026-11-23T07:30:00Z"},
        {"start": "2026-11-23T09:00:00Z", "end": "2026-11-23T11:00:00Z"}]
    assert answer["calendars"]["nobody@example.com"]["errors"][0]["reason"] == "notFound"
