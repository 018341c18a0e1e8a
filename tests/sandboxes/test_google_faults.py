"""Each injected fault, as google-api-python-client sees it."""

import http.client
import time
from types import SimpleNamespace

import httplib2
import pytest
from googleapiclient import http as google_http
from googleapiclient.errors import HttpError

EVENT = {"summary": "E", "start": {"dateTime": "2026-11-23T10:00:00+01:00", "timeZone": "Europe/Paris"},
         "end": {"dateTime": "2026-11-23T11:00:00+01:00", "timeZone": "Europe/Paris"}}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """The client's own retries sleep random()*2**n seconds; tests need not wait."""
    monkeypatch.setattr(google_http, "time", SimpleNamespace(sleep=lambda seconds: None))  # that module's only


@pytest.mark.parametrize(("status", "expected_reason"), [
    (429, "rateLimitExceeded"), (403, "rateLimitExceeded"), (500, "backendError"), (503, "backendError"),
])
def test_rate_limits_and_server_errors(client, google, status, expected_reason):
    client.calendarList().list().execute()  # refresh the token first
    google.control("POST", "faults", {"status": status, "retry_after": 7, "times": 1, "path": "/events"})
    with pytest.raises(HttpError) as error:
        client.events().list(calendarId="primary").execute()
    assert error.value.status_code == status
    assert error.value.error_details[0]["reason"] == expected_reason
    assert error.value.resp["retry-after"] == "7"
    assert client.events().list(calendarId="primary").execute()["items"] == []  # the fault is used up


def test_the_client_retries_what_google_says_may_be_retried(client, google):
    client.calendarList().list().execute()
    google.control("POST", "faults", {"status": 403, "times": 2, "path": "/events"})
    assert client.events().list(calendarId="primary").execute(num_retries=3)["items"] == []
    google.control("POST", "faults", {"status": 403, "times": 1, "path": "/events",
                                      "body": {"error": {"errors": [{"domain": "usageLimits",
                                                                     "reason": "quotaExceeded",
                                                                     "message": "Calendar usage limits exceeded."}],
                                                         "code": 403, "message": "Calendar usage limits exceeded."}}})
    with pytest.raises(HttpError) as error:
        client.events().list(calendarId="primary").execute(num_retries=3)  # quotaExceeded is not retried
    assert error.value.error_details[0]["reason"] == "quotaExceeded"


def test_a_dropped_connection(client, google):
    client.calendarList().list().execute()
    google.control("POST", "faults", {"drop": True, "times": 1, "path": "/events"})
    # httplib2 re-sends once on a dropped connection: one drop goes unnoticed...
    assert client.events().list(calendarId="primary").execute()["items"] == []
    # ...two in a row reach the caller.
    google.control("POST", "faults", {"drop": True, "times": 2, "path": "/events"})
    with pytest.raises((http.client.HTTPException, httplib2.HttpLib2Error, OSError)):
        client.events().list(calendarId="primary").execute()
    assert google.control("GET", "counters")["requests"]["injected_faults"] == 3


def test_added_latency(client, google):
    client.calendarList().list().execute()
    google.control("POST", "faults", {"latency": 0.3, "times": 1, "path": "/events"})
    began = time.monotonic()
    client.events().insert(calendarId="primary", body=EVENT).execute()
    assert time.monotonic() - began >= 0.3


def test_an_expired_access_token_is_refreshed_by_the_client(client, google):
    client.calendarList().list().execute()
    google.control("POST", "expire-access-tokens", {"email": "ada@example.com"})
    assert client.calendarList().list().execute()["items"]
    assert google.control("GET", "counters")["requests"]["token"] == 2
