"""Contract tests of the Microsoft sandbox: MSAL against its identity platform over TLS, Graph over HTTP."""

import json
import urllib.parse

import msal
import pytest
import requests

from .conftest import EVENT, follow_delta

SCOPES = ["https://graph.microsoft.com/Calendars.ReadWrite"]


def msal_app(microsoft, http):
    return msal.ConfidentialClientApplication(
        "crm-app", client_credential="secret", authority=f"{microsoft.url}/common", instance_discovery=False,
        http_client=http, token_cache=msal.SerializableTokenCache())


def test_msal_refreshes_rotates_and_reports_invalid_grant(microsoft, http):
    tokens = http.post(f"{microsoft.url}/__sandbox__/grants", json={"email": "grace@example.com"}).json()
    app = msal_app(microsoft, http)
    result = app.acquire_token_by_refresh_token(tokens["refresh_token"], scopes=SCOPES)
    assert "access_token" in result, result
    assert result["refresh_token"] != tokens["refresh_token"]  # refresh tokens rotate
    account = app.get_accounts()[0]
    assert account["username"] == "grace@example.com"
    assert account["home_account_id"].endswith(".9188040d-6c67-4c5b-b112-36a304b66dad")
    assert app.acquire_token_silent(SCOPES, account=account)["token_source"] == "cache"

    http.post(f"{microsoft.url}/__sandbox__/revoke", json={"email": "grace@example.com"})
    failed = msal_app(microsoft, http).acquire_token_by_refresh_token(result["refresh_token"], scopes=SCOPES)
    assert failed["error"] == "invalid_grant"
    assert "AADSTS70008" in failed["error_description"]


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")  # query mode only, for now
def test_consent_code_flow_with_pkce_and_deny(microsoft, http):
    app = msal_app(microsoft, http)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri="http://127.0.0.1:8000/accounts/microsoft/callback/")
    page = http.get(flow["auth_uri"])
    assert page.status_code == 200
    assert "grace@example.com" in page.text
    form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(flow["auth_uri"]).query))
    answer = http.post(flow["auth_uri"].split("?")[0], data={**form, "email": "grace@example.com", "decision": "allow"},
                       allow_redirects=False)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    result = app.acquire_token_by_auth_code_flow(flow, back)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "grace@example.com"

    denied = http.post(flow["auth_uri"].split("?")[0], data={**form, "decision": "deny"}, allow_redirects=False)
    assert "error=access_denied" in denied.headers["Location"]


def test_me_and_calendars(graph, microsoft, http):
    shared = http.post(f"{microsoft.url}/__sandbox__/users", json={"email": "alan@example.com"}).json()
    http.post(f"{microsoft.url}/__sandbox__/calendars", json={
        "owner": "alan@example.com", "name": "Team", "color": "lightBlue", "hex_color": "#a6d1f5",
        "share": [{"email": "grace@example.com", "can_edit": False}]})
    assert graph.get(f"{graph.base}/me").json()["mail"] == "grace@example.com"
    calendars = graph.get(f"{graph.base}/me/calendars").json()["value"]
    assert [(c["name"], c["isDefaultCalendar"], c["canEdit"], c["hexColor"]) for c in calendars] == [
        ("Calendar", True, True, ""), ("Team", False, False, "#a6d1f5")]
    assert calendars[1]["owner"]["address"] == "alan@example.com"
    assert shared["email"] == "alan@example.com"


def test_create_get_update_delete_with_etags_and_transaction_ids(graph):
    created = graph.post(f"{graph.base}/me/events", json={**EVENT, "transactionId": "crm-42"})
    assert created.status_code == 201
    event = created.json()
    assert event["start"] == {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == "W. Europe Standard Time"
    assert event["bodyPreview"] == "Agenda items"
    assert event["type"] == "singleInstance"
    again = graph.post(f"{graph.base}/me/events", json={**EVENT, "transactionId": "crm-42"})
    assert (again.status_code, again.json()["id"]) == (201, event["id"])  # a retried create never duplicates

    paris = graph.get(f"{graph.base}/me/events/{event['id']}", headers={"Prefer": 'outlook.timezone="Europe/Paris"'})
    assert paris.json()["start"] == {"dateTime": "2026-11-23T10:00:00.0000000", "timeZone": "Europe/Paris"}

    updated = graph.patch(f"{graph.base}/me/events/{event['id']}", json={"location": {"displayName": "Lyon"}},
                          headers={"If-Match": event["@odata.etag"]})
    assert updated.status_code == 200
    assert updated.json()["@odata.etag"] != event["@odata.etag"]
    stale = graph.patch(f"{graph.base}/me/events/{event['id']}", json={"subject": "x"},
                        headers={"If-Match": event["@odata.etag"]})
    assert (stale.status_code, stale.json()["error"]["code"]) == (412, "ErrorIrresolvableConflict")

    assert graph.delete(f"{graph.base}/me/events/{event['id']}").status_code == 204
    gone = graph.get(f"{graph.base}/me/events/{event['id']}")
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "ErrorItemNotFound")
    assert graph.delete(f"{graph.base}/me/events/{event['id']}").status_code == 404


@pytest.mark.parametrize(("change", "code"), [
    ({"end": {"dateTime": "2026-11-23T09:00:00", "timeZone": "W. Europe Standard Time"}}, "ErrorInvalidRequest"),
    ({"start": {"dateTime": "2026-11-23T10:00:00", "timeZone": "Mars Standard Time"}},
     "ErrorTimeZoneNotSupportedException"),
    ({"isAllDay": True}, "ErrorInvalidRequest"),
    ({"showAs": "sleeping"}, "ErrorInvalidParameter"),
])
def test_invalid_events_are_400s_with_outlook_codes(graph, change, code):
    response = graph.post(f"{graph.base}/me/events", json={**EVENT, **change})
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_an_all_day_event_spans_midnights(graph):
    response = graph.post(f"{graph.base}/me/events", json={
        "subject": "Off-site", "isAllDay": True, "start": {"dateTime": "2026-11-24T00:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-26T00:00:00", "timeZone": "UTC"}})
    assert response.status_code == 201
    assert response.json()["isAllDay"] is True


def test_listing_pages_with_next_links_and_errors_need_a_token(graph, microsoft, http):
    for index in range(12):
        graph.post(f"{graph.base}/me/events", json={**EVENT, "subject": f"E{index}"})
    first = graph.get(f"{graph.base}/me/events").json()
    assert len(first["value"]) == 10
    second = graph.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 2
    assert "@odata.nextLink" not in second
    anonymous = requests.Session()
    anonymous.trust_env, anonymous.verify = False, http.verify
    response = anonymous.get(f"{graph.base}/me/events")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")
    assert response.headers["request-id"]


def test_throttling_as_graph_sends_it(graph, microsoft, http):
    http.post(f"{microsoft.url}/__sandbox__/faults", json={"status": 429, "retry_after": 3, "path": "/v1.0/me"})
    response = graph.get(f"{graph.base}/me/events")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert response.json()["error"]["code"] == "ApplicationThrottled"
    assert json.loads(response.content)["error"]["innerError"]["request-id"]


def test_delta_rounds_see_creates_updates_deletions_and_moves_out_of_the_window(graph, microsoft, http):
    created = [graph.post(f"{graph.base}/me/events", json={**EVENT, "subject": f"E{index}"}).json()
               for index in range(5)]
    window = f"{graph.base}/me/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"
    items, delta_link, pages = follow_delta(graph, window, page_size=2)
    assert (len(items), pages) == (5, 3)
    assert all(item["@odata.type"] == "#microsoft.graph.event" for item in items)

    graph.patch(f"{graph.base}/me/events/{created[0]['id']}", json={"subject": "Changed"})
    graph.delete(f"{graph.base}/me/events/{created[1]['id']}")
    graph.patch(f"{graph.base}/me/events/{created[2]['id']}", json={
        "start": {"dateTime": "2027-01-10T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2027-01-10T11:00:00", "timeZone": "UTC"}})
    new = graph.post(f"{graph.base}/me/events", json={**EVENT, "subject": "New"}).json()
    changes, next_delta, _ = follow_delta(graph, delta_link)
    assert sorted((item["id"], item.get("subject"), "@removed" in item) for item in changes) == sorted([
        (created[0]["id"], "Changed", False), (created[1]["id"], None, True), (created[2]["id"], None, True),
        (new["id"], "New", False)])
    assert follow_delta(graph, next_delta)[0] == []


def test_delta_needs_a_window_refuses_select_and_expires(graph, microsoft, http):
    assert graph.get(f"{graph.base}/me/calendarView/delta").status_code == 400
    window = f"{graph.base}/me/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"
    assert graph.get(window + "&$select=subject").status_code == 400
    _, delta_link, _ = follow_delta(graph, window)
    http.post(f"{microsoft.url}/__sandbox__/expire-delta-tokens")
    expired = graph.get(delta_link)
    assert (expired.status_code, expired.json()["error"]["code"]) == (410, "SyncStateNotFound")


def test_calendar_view_lists_the_window(graph):
    for day in (22, 23, 24):
        graph.post(f"{graph.base}/me/events", json={
            **EVENT, "subject": f"Day {day}", "start": {"dateTime": f"2026-11-{day}T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"2026-11-{day}T11:00:00", "timeZone": "UTC"}})
    view = graph.get(f"{graph.base}/me/calendarView?startDateTime=2026-11-23T00:00:00Z"
                     "&endDateTime=2026-11-25T00:00:00Z").json()["value"]
    assert [event["subject"] for event in view] == ["Day 23", "Day 24"]
    assert graph.get(f"{graph.base}/me/calendarView").json()["error"]["code"] == "ErrorInvalidParameter"


def test_json_batch_with_depends_on_failures_and_per_request_throttling(graph, microsoft, http):
    created = graph.post(f"{graph.base}/me/events", json=EVENT).json()
    http.post(f"{microsoft.url}/__sandbox__/faults", json={"status": 429, "retry_after": 2, "times": 1,
                                                           "method": "DELETE", "path": "/v1.0/me/events/"})
    answer = graph.post(f"{graph.base}/$batch", json={"requests": [
        {"id": "1", "method": "POST", "url": "/me/events", "headers": {"Content-Type": "application/json"},
         "body": {**EVENT, "subject": "In a batch", "transactionId": "t-1"}},
        {"id": "2", "method": "PATCH", "url": f"me/events/{created['id']}", "dependsOn": ["1"],
         "headers": {"Content-Type": "application/json", "If-Match": 'W/"stale"'}, "body": {"subject": "x"}},
        {"id": "3", "method": "GET", "url": "/me/calendars", "dependsOn": ["2"]},
        {"id": "4", "method": "DELETE", "url": f"/me/events/{created['id']}"},
        {"id": "5", "method": "POST", "url": "/me/events", "body": EVENT},
    ]})
    assert answer.status_code == 200
    by_id = {item["id"]: item for item in answer.json()["responses"]}
    assert by_id["1"]["status"] == 201
    assert by_id["1"]["body"]["subject"] == "In a batch"
    assert by_id["2"]["status"] == 412
    assert by_id["3"]["status"] == 424  # its dependency failed
    assert (by_id["4"]["status"], by_id["4"]["headers"]["Retry-After"]) == (429, "2")
    assert by_id["5"]["status"] == 400  # a body without a Content-Type header


def test_a_batch_of_more_than_20_is_refused_whole(graph):
    requests = [{"id": str(index), "method": "GET", "url": "/me"} for index in range(21)]
    answer = graph.post(f"{graph.base}/$batch", json={"requests": requests})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "BadRequest")
    duplicate = graph.post(f"{graph.base}/$batch", json={"requests": [{"id": "a", "method": "GET", "url": "/me"},
                                                                      {"id": "A", "method": "GET", "url": "/me"}]})
    assert duplicate.status_code == 400
