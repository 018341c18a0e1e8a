"""The sandboxes on loopback ports, and the real client libraries pointed at them."""

import json
import urllib.request

import pytest
import requests
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from calendarsync.providers.google.provider import discovery_document

SCOPE = "https://www.googleapis.com/auth/calendar"
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"


def control(sandbox, method, path, data=None):
    """Call the sandbox's control API over HTTP, as tests in other processes and the demo do."""
    request = urllib.request.Request(f"{sandbox.url}/__sandbox__/{path}", method=method,
                                     data=json.dumps(data or {}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:  # noqa: S310 - a loopback URL of ours
        return json.loads(response.read())


@pytest.fixture
def google(google_server):
    """The sandbox service, reset, with one user: ada@example.com."""
    service = google_server.service
    service.url = google_server.base_url
    control(service, "POST", "reset")
    control(service, "POST", "users", {"email": "ada@example.com", "name": "Ada Lovelace"})
    service.control = lambda method, path, data=None: control(service, method, path, data)
    return service


def calendar_client(sandbox, email="ada@example.com"):
    """Build the Calendar client from its bundled discovery document, moved to the sandbox."""
    grant = control(sandbox, "POST", "grants", {"email": email, "client_id": CLIENT_ID, "scope": SCOPE})
    credentials = Credentials(token=None, refresh_token=grant["refresh_token"], token_uri=sandbox.url + "/token",
                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=[SCOPE])
    client = build_from_document(discovery_document(sandbox.url), credentials=credentials)
    client.refresh_token = grant["refresh_token"]
    return client


@pytest.fixture
def client(google):
    return calendar_client(google)


# Microsoft ---------------------------------------------------------------------------------

@pytest.fixture
def http(certificate):
    """A requests session that trusts the sandbox CA and ignores REQUESTS_CA_BUNDLE (MSAL needs this)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = certificate
    return session


@pytest.fixture
def microsoft(microsoft_server, http):
    url = microsoft_server.base_url
    http.post(f"{url}/__sandbox__/reset")
    user = http.post(f"{url}/__sandbox__/users", json={"email": "grace@example.com", "name": "Grace Hopper"}).json()
    service = microsoft_server.service
    service.url, service.user = url, user
    service.control = lambda method, path, data=None: http.request(method, f"{url}/__sandbox__/{path}", json=data)
    return service


@pytest.fixture
def graph(microsoft, http):
    """A Graph session for grace, as the provider will hold one."""
    tokens = http.post(f"{microsoft.url}/__sandbox__/grants", json={"email": "grace@example.com"}).json()
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    http.base = f"{microsoft.url}/v1.0"
    return http


EVENT = {"subject": "Review", "body": {"contentType": "html", "content": "<p>Agenda <b>items</b></p>"},
         "start": {"dateTime": "2026-11-23T10:00:00", "timeZone": "W. Europe Standard Time"},
         "end": {"dateTime": "2026-11-23T11:00:00", "timeZone": "W. Europe Standard Time"}}


def follow_delta(graph, url, page_size=None):
    """Run one delta round; return (items, deltaLink, pages)."""
    headers = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    items, pages = [], 0
    while True:
        page = graph.get(url, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["value"]
        pages += 1
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]
