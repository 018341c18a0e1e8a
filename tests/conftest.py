"""Fixtures for every test, and the end-of-run report of what was skipped for want of a service.

A test that needs a service calls `require(...)`: on a bare machine it is skipped with the reason,
and the run ends with a banner listing those reasons; in CI (REQUIRE_ALL_SERVICES=1) it fails.
"""

import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from sandboxes.server import start_google, start_microsoft
from tests import factories

REQUIRE_ALL_SERVICES = os.environ.get("REQUIRE_ALL_SERVICES") == "1"
_skipped_for_services = set()


def require(available: bool, reason: str) -> None:
    """Skip (or, in CI, fail) the calling test when the service it needs is missing."""
    if available:
        return
    if REQUIRE_ALL_SERVICES:
        pytest.fail(f"REQUIRE_ALL_SERVICES is set but {reason}", pytrace=False)
    _skipped_for_services.add(reason)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("://")[0] if settings.CELERY_BROKER_URL else "none (in-process)"
    terminalreporter.write_sep("=", "environment", bold=True)
    terminalreporter.write_line(f"database: {engine}   celery broker: {broker}")
    if _skipped_for_services:
        terminalreporter.write_sep("!", "SKIPPED FOR WANT OF A SERVICE", red=True, bold=True)
        for reason in sorted(_skipped_for_services):
            terminalreporter.write_line(f"  - {reason}", red=True)
        terminalreporter.write_line(
            "  Run .ci/run (PostgreSQL, Redis, Chromium) to run them all.", red=True
        )


# The sandbox servers, started once per run and reset by the tests that use them.

@pytest.fixture(scope="session")
def google_server():
    server = start_google()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def microsoft_server(tmp_path_factory):
    server = start_microsoft(tmp_path_factory.mktemp("tls"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(microsoft_server):
    """The test CA file the Microsoft sandbox's certificate is signed with."""
    return str(microsoft_server.certificate)


@pytest.fixture(autouse=True)
def _tasks_in_process(monkeypatch):
    """Tasks run in the test's process, even where CI sets a broker (tests that want a real worker ask for
    the `worker` fixture), and no debounce is left over from another test."""
    from django.core.cache import cache

    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def appointment_type(db):
    return factories.action_type(code="appointment")


@pytest.fixture
def call_type(db):
    return factories.action_type(code="call")


@pytest.fixture
def sales(db):
    return factories.profile("Sales")


@pytest.fixture
def manager_profile(db):
    return factories.profile("Manager")


@pytest.fixture
def alice(db, sales):
    return factories.user("alice", profile=sales, time_zone="Europe/Paris")


@pytest.fixture
def bob(db, sales):
    return factories.user("bob", profile=sales, time_zone="America/New_York")


@pytest.fixture
def manager(db, manager_profile):
    return factories.user("maria", profile=manager_profile, time_zone="Europe/London")


@pytest.fixture
def api_as():
    """Return an API client authenticated as a given user."""
    from rest_framework.test import APIClient

    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return login


@pytest.fixture
def unused_ports():
    """Two distinct loopback TCP ports nothing listens on right now (both probes held open together,
    so that the system cannot hand out the same port twice)."""
    import socket

    probes = [socket.socket(), socket.socket()]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture
def worker(transactional_db, monkeypatch):
    """A real `celery worker` process against the test database, on a queue of its own that tasks sent by
    the test go to, with the test's CALENDARSYNC_* settings (the sandboxes' URLs): request it last."""
    require(bool(settings.CELERY_BROKER_URL), "CELERY_BROKER_URL is not set: the Celery worker tests skipped")
    require(bool(settings.CELERY_RESULT_BACKEND), "no Celery result backend: the Celery worker tests skipped")
    require(connection.vendor != "sqlite", "the worker needs a server database (DATABASE_URL) to share")
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    ours = {name: str(getattr(settings, name)) for name in dir(settings) if name.startswith("CALENDARSYNC_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--queues", queue,
         "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **ours, "DATABASE_URL": test_database, "CELERY_TASK_DEFAULT_QUEUE": queue},
    )
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    yield queue
    process.terminate()
    output, _ = process.communicate(timeout=30)
    print(output)
