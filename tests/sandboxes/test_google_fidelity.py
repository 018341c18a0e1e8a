"""The Google sandbox behaves as Calendar API v3 documents it where a client can trip: scopes per method,
batch Content-IDs, empty pages that still carry a nextPageToken, and revoking one grant."""

import json

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from calendarsync.providers.google.provider import discovery_document
from sandboxes.google.api import SCOPES, GoogleSandbox

from .conftest import CLIENT_ID, CLIENT_SECRET, calendar_client, control

AUTH = "https://www.googleapis.com/auth/"
EVENT = {"summary": "Visit", "start": {"dateTime": "2026-12-04T10:00:00+01:00"},
         "end": {"dateTime": "2026-12-04T11:00:00+01:00"}}


def client_with(sandbox, *scopes):
    grant = control(sandbox, "POST", "grants", {"email": "ada@example.com", "client_id": CLIENT_ID,
                                                "scope": " ".join(AUTH + scope for scope in scopes)})
    credentials = Credentials(token=None, refresh_token=grant["refresh_token"], token_uri=sandbox.url + "/token",
                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client = build_from_document(discovery_document(sandbox.url), credentials=credentials)
    client.grant = grant
    return client


def refused_for_scopes(call):
    with pytest.raises(HttpError) as caught:
        call.execute()
    assert caught.value.status_code == 403
    body = json.loads(caught.value.content)["error"]
    assert body["errors"][0]["reason"] == "insufficientPermissions"
    assert body["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert "insufficient authentication scopes" in str(caught.value)
    return caught.value


def test_the_scope_table_is_the_discovery_document_s():
    """Each route's accepted scopes are the ones the client library's own discovery document lists."""
    document = discovery_document("http://sandbox")
    methods = {f"{resource}.{name}": method for resource, body in document["resources"].items()
               for name, method in body.get("methods", {}).items()}
    names = {"calendar_list": "calendarList.list", "calendar_list_entry": "calendarList.get", "colors": "colors.get",
             "events_list": "events.list", "events_get": "events.get", "events_instances": "events.instances",
             "watch": "events.watch", "events_insert": "events.insert", "events_import": "events.import",
             "events_patch": "events.patch", "events_update": "events.update", "events_delete": "events.delete",
             "freebusy": "freebusy.query", "channels_stop": "channels.stop"}
    assert set(names) == set(SCOPES)
    for route, method in names.items():
        assert SCOPES[route] == {scope.removeprefix(AUTH) for scope in methods[method]["scopes"]}, route
    routed = {name for _, _, _, name in GoogleSandbox().router.routes}
    assert set(SCOPES) <= routed


def test_a_read_only_grant_reads_and_cannot_write(google):
    client = client_with(google, "calendar.readonly")
    assert client.events().list(calendarId="primary").execute()["items"] == []
    assert client.calendarList().list().execute()["items"]
    assert client.colors().get().execute()["event"]
    error = refused_for_scopes(client.events().insert(calendarId="primary", body=EVENT))
    assert 'error="insufficient_scope"' in error.resp["www-authenticate"]


def test_an_events_grant_writes_events_but_cannot_list_calendars(google):
    client = client_with(google, "calendar.events")
    created = client.events().insert(calendarId="primary", body=EVENT).execute()
    client.events().patch(calendarId="primary", eventId=created["id"], body={"summary": "Moved"}).execute()
    refused_for_scopes(client.calendarList().list())
    refused_for_scopes(client.colors().get())
    refused_for_scopes(client.freebusy().query(body={"timeMin": "2026-12-01T00:00:00Z",
                                                     "timeMax": "2026-12-02T00:00:00Z", "items": []}))


def test_batch_parts_are_checked_one_by_one(google):
    client = client_with(google, "calendar.readonly")
    answers = {}
    batch = client.new_batch_http_request(callback=lambda rid, response, error: answers.__setitem__(rid, error))
    batch.add(client.events().list(calendarId="primary"), request_id="read")
    batch.add(client.events().insert(calendarId="primary", body=EVENT), request_id="write")
    batch.execute()
    assert answers["read"] is None
    assert answers["write"].status_code == 403


def test_a_folded_content_id_comes_back_unfolded(google):
    token = control(google, "POST", "grants", {"email": "ada@example.com"})["access_token"]
    long_id = "5eb8e4d8-e7e4-4d47-b859-53100a93c848 + " + "x" * 90
    folded = long_id.replace(" + ", " +\r\n ")
    body = ("--frontier\nContent-Type: application/http\nContent-ID: <" + folded + ">\n\n"
            "GET /calendar/v3/calendars/primary/events HTTP/1.1\n\n\n--frontier--\n")
    answer = requests.post(f"{google.url}/batch/calendar/v3", data=body.encode(),
                           headers={"Content-Type": 'multipart/mixed; boundary="frontier"',
                                    "Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert f"Content-ID: <response-{long_id}>\r\n" in answer.text
    assert "HTTP/1.1 200 OK" in answer.text


def test_empty_pages_carry_a_next_page_token(google, client):
    for number in range(3):
        client.events().insert(calendarId="primary", body={**EVENT, "summary": f"Visit {number}"}).execute()
    control(google, "POST", "calendars/ada@example.com/empty-pages", {"pages": 2})
    request, pages, items = client.events().list(calendarId="primary", maxResults=2), [], []
    while request is not None:
        page = request.execute()
        pages.append(len(page["items"]))
        items += page["items"]
        request = client.events().list_next(request, page)
    assert pages == [0, 0, 2, 1]
    assert "nextSyncToken" in page
    assert sorted(item["summary"] for item in items) == ["Visit 0", "Visit 1", "Visit 2"]


def test_revoking_one_refresh_token_leaves_the_person_s_other_grants_alone(google):
    kept, revoked = calendar_client(google), calendar_client(google)
    for client in (kept, revoked):
        client.events().list(calendarId="primary").execute()
    control(google, "POST", "revoke", {"refresh_token": revoked.refresh_token})
    answer = requests.get(f"{google.url}/calendar/v3/calendars/primary/events", timeout=10,
                          headers={"Authorization": f"Bearer {revoked._http.credentials.token}"})
    assert answer.status_code == 401  # its access token died with it
    with pytest.raises(RefreshError, match="invalid_grant"):
        revoked._http.credentials.refresh(google_request())
    assert kept.events().list(calendarId="primary").execute()["items"] == []  # its token still works
    kept._http.credentials.refresh(google_request())  # and so does its refresh token
    assert kept.events().list(calendarId="primary").execute()["items"] == []


def google_request():
    from google.auth.transport.requests import Request
    session = requests.Session()
    session.trust_env = False
    return Request(session)


def test_revoking_a_person_revokes_every_grant(google):
    first, second = calendar_client(google), calendar_client(google)
    control(google, "POST", "revoke", {"email": "ada@example.com"})
    for client in (first, second):
        with pytest.raises(RefreshError):
            client._http.credentials.refresh(google_request())
