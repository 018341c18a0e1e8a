import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient


@pytest.fixture
def api(alice):
    """An API client authenticated as alice with a token, as a mobile app is."""
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "secret-pass-1"})
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@pytest.fixture
def query_count():
    """Return the number of queries one successful GET takes."""
    def count(client, url, params=None):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params or {})
        assert response.status_code == 200, response.content
        return len(queries)
    return count
