"""Device passwords: shown once, kept hashed, the only way into /dav/, failures rate-limited, and no answer
that tells whether a user exists."""

import base64

import pytest
from django.core.cache import cache

from devices import services
from devices.models import DevicePassword


@pytest.fixture(autouse=True)
def _no_failures_counted():
    cache.clear()
    yield
    cache.clear()


def basic(username, password):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def propfind(client, path="/dav/", **headers):
    return client.generic("PROPFIND", path, b"", content_type="application/xml", HTTP_DEPTH="0", **headers)


def test_a_password_is_shown_once_and_kept_as_a_digest(alice):
    password, secret = services.password_create(user=alice, name="  Alice's phone ")
    assert len(secret) == 24
    assert secret.count("-") == 4
    stored = DevicePassword.objects.get()
    assert secret not in (stored.digest, stored.name)
    assert stored.hint == secret[-4:]
    assert (stored.name, str(stored)) == ("Alice's phone", f"Alice's phone (…{secret[-4:]})")


def test_only_a_device_password_opens_the_server(client, alice, alice_device):
    assert propfind(client).status_code == 401
    assert propfind(client).headers["WWW-Authenticate"].startswith("Basic")
    assert propfind(client, **basic("alice", "secret-pass-1")).status_code == 401  # the login password
    assert propfind(client, **basic("alice", alice_device)).status_code == 207
    assert propfind(client, **basic("ALICE", alice_device)).status_code == 207  # as apps capitalise names
    assert DevicePassword.objects.get().last_used_at is not None


def test_a_wrong_name_and_an_unknown_user_get_the_same_answer(client, alice, bob, alice_device):
    answers = [propfind(client, **basic(name, alice_device)) for name in ("bob", "nobody")]
    assert {(answer.status_code, answer.content) for answer in answers} == {(401, answers[0].content)}


def test_failing_in_a_users_name_does_not_lock_their_devices_out(client, alice, alice_device):
    for attempt in range(services.FAILURES_ALLOWED + 5):
        assert propfind(client, **basic("alice", f"guess-{attempt}"), REMOTE_ADDR=f"10.0.{attempt}.1"
                        ).status_code == 401
    assert propfind(client, **basic("alice", alice_device), REMOTE_ADDR="10.0.99.1").status_code == 207


def test_an_address_that_keeps_failing_is_throttled(client, alice, bob, alice_device):
    for attempt in range(services.FAILURES_ALLOWED):
        assert propfind(client, **basic(f"someone-{attempt}", "guess"), REMOTE_ADDR="10.0.0.9").status_code == 401
    throttled = propfind(client, **basic("alice", alice_device), REMOTE_ADDR="10.0.0.9")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert propfind(client, **basic("alice", alice_device), REMOTE_ADDR="10.0.0.10").status_code == 207
    cache.clear()  # the window passed
    assert propfind(client, **basic("alice", alice_device), REMOTE_ADDR="10.0.0.9").status_code == 207


def test_a_revoked_password_no_longer_opens_it(client, alice, alice_device):
    assert services.password_revoke(user=alice, pk=DevicePassword.objects.get().pk)
    assert propfind(client, **basic("alice", alice_device)).status_code == 401


def test_another_users_paths_are_not_found(client, alice, bob, alice_device):
    for path in ("/dav/principals/bob/", "/dav/calendars/bob/", "/dav/calendars/bob/agenda/"):
        assert propfind(client, path, **basic("alice", alice_device)).status_code == 404
