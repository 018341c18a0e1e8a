"""The Microsoft sandbox grants each request what Graph's permission tables say, no more: a missing delegated
permission is a 403 ErrorAccessDenied, and a refresh cannot widen what the user consented to."""

import pytest

from .conftest import EVENT
from .test_microsoft import msal_app

GRAPH = "https://graph.microsoft.com/"


def session_with(http, microsoft, scope):
    tokens = http.post(f"{microsoft.url}/__sandbox__/grants", json={"email": "grace@example.com",
                                                                      "scope": scope}).json()
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return f"{microsoft.url}/v1.0", tokens


@pytest.mark.parametrize(("scope", "categories", "read", "write"), [
    ("User.Read Calendars.ReadWrite MailboxSettings.Read", 200, 200, 201),
    ("User.Read Calendars.ReadWrite", 403, 200, 201),
    ("User.Read Calendars.Read", 403, 200, 403),
    ("User.Read MailboxSettings.Read", 200, 403, 403),
])
def test_each_endpoint_needs_its_own_permission(http, microsoft, scope, categories, read, write):
    graph, _tokens = session_with(http, microsoft, scope)
    assert http.get(f"{graph}/me").status_code == 200
    answer = http.get(f"{graph}/me/outlook/masterCategories")
    assert answer.status_code == categories
    if categories == 403:
        assert answer.json()["error"]["code"] == "ErrorAccessDenied"
    assert http.get(f"{graph}/me/calendars").status_code == read
    assert http.get(f"{graph}/me/calendarView/delta?startDateTime=2026-11-01T00:00:00Z"
                    "&endDateTime=2026-12-01T00:00:00Z").status_code == read
    assert http.post(f"{graph}/me/events", json=EVENT).status_code == write
    batch = http.post(f"{graph}/$batch", json={"requests": [
        {"id": "1", "method": "GET", "url": "/me/outlook/masterCategories"}]}).json()
    assert batch["responses"][0]["status"] == categories  # the parts of a $batch too


def test_a_refresh_asks_for_no_more_than_was_consented(http, microsoft):
    _graph, tokens = session_with(http, microsoft, "User.Read Calendars.ReadWrite")
    app = msal_app(microsoft, http)
    wider = app.acquire_token_by_refresh_token(tokens["refresh_token"], scopes=[
        f"{GRAPH}Calendars.ReadWrite", f"{GRAPH}MailboxSettings.Read"])
    assert wider["error"] == "invalid_grant"
    assert "AADSTS65001" in wider["error_description"]
    same = msal_app(microsoft, http).acquire_token_by_refresh_token(tokens["refresh_token"], scopes=[
        f"{GRAPH}Calendars.ReadWrite"])
    assert "access_token" in same, same
    http.headers["Authorization"] = f"Bearer {same['access_token']}"
    assert http.get(f"{microsoft.url}/v1.0/me/outlook/masterCategories").status_code == 403
