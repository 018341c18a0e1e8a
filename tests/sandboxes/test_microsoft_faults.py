"""Each injected fault and expiry as a Graph client sees it, and the invitations Outlook would mail."""

import time

import pytest
import requests

from .conftest import EVENT, follow_delta

WINDOW = "startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"


@pytest.mark.parametrize(("status", "code"), [(429, "ApplicationThrottled"), (503, "serviceNotAvailable"),
                                              (504, "UnknownError"), (500, "UnknownError")])
def test_server_faults_in_graph_shape(graph, microsoft, status, code):
    microsoft.control("POST", "faults", {"status": status, "retry_after": 1, "times": 1})
    failed = graph.get(f"{graph.base}/me/calendars")
    assert (failed.status_code, failed.json()["error"]["code"]) == (status, code)
    assert failed.headers["Retry-After"] == "1"
    assert failed.headers["request-id"]
    assert graph.get(f"{graph.base}/me/calendars").status_code == 200  # only the next request


def test_a_dropped_connection_and_added_latency(graph, microsoft):
    microsoft.control("POST", "faults", {"drop": True, "times": 1})
    with pytest.raises(requests.ConnectionError):
        graph.get(f"{graph.base}/me/calendars")
    microsoft.control("POST", "faults", {"latency": 0.3, "times": 1})
    began = time.monotonic()
    assert graph.get(f"{graph.base}/me/calendars").status_code == 200
    assert time.monotonic() - began >= 0.3
    assert microsoft.control("GET", "counters").json()["requests"]["injected_faults"] == 2


def test_expired_access_tokens_are_401s(graph, microsoft):
    microsoft.control("POST", "expire-access-tokens", {"email": "grace@example.com"})
    expired = graph.get(f"{graph.base}/me")
    assert (expired.status_code, expired.json()["error"]["message"]) == (
        401, "Lifetime validation failed, the token is expired.")
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_resync_expiry_points_back_to_the_first_request(graph, microsoft):
    graph.post(f"{graph.base}/me/events", json=EVENT)
    first_request = f"{graph.base}/me/calendarView/delta?{WINDOW}"
    _, delta_link, _ = follow_delta(graph, first_request)
    microsoft.control("POST", "expire-delta-tokens", {"mode": "resync"})
    gone = graph.get(delta_link)
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "resyncRequired")
    items, _, _ = follow_delta(graph, gone.headers["Location"])
    assert [item["subject"] for item in items] == ["Review"]


def test_writes_to_meetings_record_the_mail_outlook_sends(graph, microsoft):
    meeting = graph.post(f"{graph.base}/me/events", json={**EVENT, "attendees": [
        {"emailAddress": {"address": "alan@example.com", "name": "Alan"}, "type": "required"}]}).json()
    graph.patch(f"{graph.base}/me/events/{meeting['id']}", json={"subject": "Moved"})
    graph.delete(f"{graph.base}/me/events/{meeting['id']}")
    plain = graph.post(f"{graph.base}/me/events", json=EVENT).json()
    writes = microsoft.control("GET", "counters").json()["writes"]
    assert [(write["method"], write["mailed"]) for write in writes] == [
        ("create", ["alan@example.com"]), ("update", ["alan@example.com"]), ("delete", ["alan@example.com"]),
        ("create", [])]
    assert writes[-1]["event"] == plain["id"]


def test_users_paths_reach_only_ones_own_mailbox(graph, microsoft):
    microsoft.control("POST", "users", {"email": "alan@example.com"})
    assert graph.get(f"{graph.base}/users/grace@example.com/calendars").status_code == 200
    assert graph.get(f"{graph.base}/users/{microsoft.user['id']}").json()["mail"] == "grace@example.com"
    refused = graph.get(f"{graph.base}/users/alan@example.com")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "ErrorAccessDenied")
