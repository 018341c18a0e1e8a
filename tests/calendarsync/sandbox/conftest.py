"""A Google sandbox on a loopback port, and the real Google client libraries pointed at it."""

import json
import os
import urllib.request

import googleapiclient
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from calendarsync.sandbox.google.api import GoogleSandbox
from calendarsync.sandbox.http import SandboxServer

SCOPE = "https://www.googleapis.com/auth/calendar"
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"


@pytest.fixture(scope="session")
def google_server():
    server = SandboxServer(GoogleSandbox())
    server.start()
    yield server
    server.stop()


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
    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache/documents/calendar.v3.json")
    with open(path) as document:
        discovery = json.load(document)
    discovery["rootUrl"] = sandbox.url + "/"
    credentials = Credentials(token=None, refresh_token=grant["refresh_token"], token_uri=sandbox.url + "/token",
                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=[SCOPE])
    client = build_from_document(discovery, credentials=credentials)
    client.refresh_token = grant["refresh_token"]
    return client


@pytest.fixture
def client(google):
    return calendar_client(google)
