"""Graph change notifications from the Microsoft sandbox: the validation handshake, deliveries, lifecycle."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import EVENT


@pytest.fixture
def hook():
    """A notification URL on loopback: it echoes validation tokens (unless told not to) and records posts."""
    received, validations = [], []

    class Hook(BaseHTTPRequestHandler):
        echo = True

        def do_POST(self):
            query = parse_qs(urlsplit(self.path).query)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if "validationToken" in query:
                validations.append(query["validationToken"][0])
                answer = query["validationToken"][0].encode() if Hook.echo else b"nope"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
            else:
                received.append({"path": urlsplit(self.path).path, **json.loads(body)})
                answer = b""
                self.send_response(202)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received, server.validations, server.hook = received, validations, Hook
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


def soon(minutes=60):
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def subscribe(graph, hook, **extra):
    return graph.post(f"{graph.base}/subscriptions", json={
        "changeType": "created,updated,deleted", "notificationUrl": f"{hook.url}/graph",
        "lifecycleNotificationUrl": f"{hook.url}/lifecycle", "resource": "me/events",
        "expirationDateTime": soon(), "clientState": "s3cret", **extra})


def wait_for(condition, seconds=5):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_a_subscription_validates_both_urls_then_notifies_changes(graph, microsoft, hook):
    created = subscribe(graph, hook)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert len(hook.validations) == 2
    assert hook.validations[0].startswith("Validation: Testing client application reachability")
    assert (subscription["clientState"], subscription["resource"]) == ("s3cret", "me/events")
    assert subscription["creatorId"] == microsoft.user["id"]

    event = graph.post(f"{graph.base}/me/events", json=EVENT).json()
    graph.patch(f"{graph.base}/me/events/{event['id']}", json={"subject": "Changed"})
    graph.delete(f"{graph.base}/me/events/{event['id']}")
    assert wait_for(lambda: sum(len(post["value"]) for post in hook.received) == 3)
    notices = [notice for post in hook.received for notice in post["value"]]
    assert [notice["changeType"] for notice in notices] == ["created", "updated", "deleted"]
    assert {notice["clientState"] for notice in notices} == {"s3cret"}
    assert notices[0]["resource"] == f"Users/{microsoft.user['id']}/Events/{event['id']}"
    assert notices[0]["resourceData"]["id"] == event["id"]
    assert notices[0]["tenantId"]
    assert len(hook.received) < 3  # changes close together share a POST
    counters = microsoft.control("GET", "counters").json()
    assert counters["notifications_sent"] == 3


def test_changes_made_in_outlook_by_someone_else_are_notified_too(graph, microsoft, hook):
    subscribe(graph, hook)
    event = graph.post(f"{graph.base}/me/events", json=EVENT).json()
    changed = microsoft.control("PATCH", f"events/{event['id']}", {"subject": "Edited in Outlook"})
    assert changed.json()["@odata.etag"] != event["@odata.etag"]
    assert wait_for(lambda: [n["changeType"] for post in hook.received for n in post["value"]] == ["created",
                                                                                                    "updated"])
    assert graph.get(f"{graph.base}/me/events/{event['id']}").json()["subject"] == "Edited in Outlook"


def test_a_url_that_does_not_echo_the_token_is_refused(graph, hook):
    hook.hook.echo = False
    refused = subscribe(graph, hook)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "ValidationError")
    assert graph.get(f"{graph.base}/subscriptions").json()["value"] == []


@pytest.mark.parametrize(("change", "message"), [
    ({"expires_in": 10081}, "10080 minutes"),
    ({"expires_in": -5}, "future"),
    ({"changeType": "moved"}, "changeType"),
    ({"resource": "me/messages"}, "not supported"),
    ({"clientState": "x" * 129}, "128"),
    ({"notificationUrl": "ftp://example.com"}, "HTTPS"),
])
def test_invalid_subscriptions_are_400s(graph, hook, change, message):
    if "expires_in" in change:  # counted from now, not from when the tests were collected
        change = {"expirationDateTime": soon(change["expires_in"])}
    refused = subscribe(graph, hook, **change)
    assert refused.status_code == 400
    assert message in refused.json()["error"]["message"]


def test_renew_list_delete_and_a_short_expiration_raised_to_45_minutes(graph, microsoft, hook):
    subscription = subscribe(graph, hook, expirationDateTime=soon(5)).json()
    expires = datetime.fromisoformat(subscription["expirationDateTime"])
    assert expires > datetime.now(UTC) + timedelta(minutes=44)
    renewed = graph.patch(f"{graph.base}/subscriptions/{subscription['id']}", json={"expirationDateTime": soon(3000)})
    assert renewed.status_code == 200
    assert datetime.fromisoformat(renewed.json()["expirationDateTime"]) > expires
    assert graph.patch(f"{graph.base}/subscriptions/{subscription['id']}", json={"resource": "x"}).status_code == 400
    assert [item["id"] for item in graph.get(f"{graph.base}/subscriptions").json()["value"]] == [subscription["id"]]
    assert graph.post(f"{graph.base}/subscriptions/{subscription['id']}/reauthorize").status_code == 204
    assert graph.delete(f"{graph.base}/subscriptions/{subscription['id']}").status_code == 204
    assert graph.delete(f"{graph.base}/subscriptions/{subscription['id']}").status_code == 404


def test_a_calendar_subscription_follows_that_calendar_only(graph, microsoft, hook):
    other = microsoft.control("POST", "calendars", {"owner": "grace@example.com", "name": "Projects"}).json()
    subscribe(graph, hook, resource=f"me/calendars/{other['id']}/events")
    graph.post(f"{graph.base}/me/events", json=EVENT)  # the default calendar: not followed
    graph.post(f"{graph.base}/me/calendars/{other['id']}/events", json={**EVENT, "subject": "Project"})
    assert wait_for(lambda: hook.received)
    time.sleep(0.2)
    assert [n["changeType"] for post in hook.received for n in post["value"]] == ["created"]


def test_lifecycle_notifications_and_a_removed_subscription(graph, microsoft, hook):
    subscription = subscribe(graph, hook).json()
    for event in ("reauthorizationRequired", "missed", "subscriptionRemoved"):
        assert microsoft.control("POST", f"subscriptions/{subscription['id']}/lifecycle", {"event": event}).ok
    lifecycle = [post for post in hook.received if post["path"] == "/lifecycle"]
    assert [post["value"][0]["lifecycleEvent"] for post in lifecycle] == [
        "reauthorizationRequired", "missed", "subscriptionRemoved"]
    assert lifecycle[0]["value"][0]["clientState"] == "s3cret"
    assert graph.get(f"{graph.base}/subscriptions").json()["value"] == []  # removed means gone


def test_a_failing_receiver_is_retried_then_dropped(graph, microsoft, hook):
    microsoft.control("POST", "settings", {"notification_retries": 2})
    subscription = subscribe(graph, hook, notificationUrl=f"{hook.url}/graph").json()
    hook.server_close()  # nothing listens any more
    graph.post(f"{graph.base}/me/events", json=EVENT)
    deliveries = lambda: microsoft.control("GET", "subscriptions").json()[subscription["id"]]["deliveries"]  # noqa: E731
    assert wait_for(lambda: len(deliveries()) == 3)
    assert {delivery["status"] for delivery in deliveries()} == {0}
