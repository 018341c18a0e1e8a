"""Fixtures for every test, and the end-of-run report of what was skipped for want of a service.

A test that needs a service calls `require(...)`: on a bare machine it is skipped with the reason,
and the run ends with a banner listing those reasons; in CI (REQUIRE_ALL_SERVICES=1) it fails.
"""

import contextlib
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
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
    broker = settings.CELERY_BROKER_URL.split("://")[0]
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
def _no_debounce_left(monkeypatch):
    """No debounce is left over from another test; what a test queues waits unread (tests/settings.py)."""
    from django.core.cache import cache

    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    cache.clear()


@pytest.fixture
def eager_tasks(monkeypatch):
    """What the test queues runs at once, in its own process, and raises there (CELERY_TASK_EAGER_PROPAGATES)."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


class Jobs(list):
    """The tasks a test sent to the broker (name, args), as Celery published them; `run()` carries them out in
    the test's process, as the worker would once the requests that queued them have answered."""

    def run(self):
        done = []
        with _eager(celery_app):
            while self:
                name, args = self.pop(0)
                # Not inside a task: an eager task another thread (the live server's) runs meanwhile must
                # not make Celery take this join for one.
                done.append(celery_app.tasks[name].apply(args).get(disable_sync_subtasks=False))
        return done

    def names(self):
        return [name.rsplit(".", 1)[-1] for name, _args in self]


@contextlib.contextmanager
def recording_jobs():
    from celery.signals import before_task_publish

    sent = Jobs()

    def record(sender=None, body=None, **kwargs):
        sent.append((sender, tuple(body[0])))
    before_task_publish.connect(record, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)


@pytest.fixture
def jobs():
    with recording_jobs() as sent:
        yield sent


@contextlib.contextmanager
def then_the_worker():
    """Run what the block queues, at once or after its commit, when the block ends: in this process, as the
    worker would once the requests that queued it have answered."""
    from django.test import TestCase

    with recording_jobs() as sent, TestCase.captureOnCommitCallbacks() as after_commit:
        yield
    with _eager(celery_app):
        for callback in after_commit:  # in a test's transaction, "after the commit" is now
            callback()
    sent.run()


@contextlib.contextmanager
def _eager(app):
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture(scope="session", autouse=True)
def _unread_tasks_purged():
    """The tasks tests sent without a worker to read them are dropped at the end (CI's broker lives on)."""
    yield
    from config.celery import app

    with app.connection_for_write() as connection, contextlib.suppress(Exception):  # no queue: nothing was sent
        connection.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)


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
    """Three distinct loopback TCP ports nothing listens on right now (the probes held open together,
    so that the system cannot hand out the same port twice)."""
    import socket

    probes = [socket.socket() for _ in range(3)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture
def workers(transactional_db, monkeypatch):
    """Start real `celery worker` processes against the test database, all on one queue of their own that the
    tasks the test sends go to, with the test's CALENDARSYNC_* settings (the sandboxes' URLs): `workers(2)`.
    Request it last: the settings it passes on are those set before."""
    require(not settings.CELERY_BROKER_URL.startswith("memory://"),
            "CELERY_BROKER_URL is not set: the Celery worker tests skipped")
    require(bool(settings.CELERY_RESULT_BACKEND), "no Celery result backend: the Celery worker tests skipped")
    require(connection.vendor != "sqlite", "the worker needs a server database (DATABASE_URL) to share")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    processes = []

    def start(count=1):
        ours = {name: str(getattr(settings, name)) for name in dir(settings) if name.startswith("CALENDARSYNC_")}
        for _ in range(count):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--queues", queue,
                 "--hostname", f"{queue}-{len(processes)}@%h", "--without-gossip", "--without-mingle",
                 "--loglevel=WARNING"],
                cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, **ours, "DATABASE_URL": test_database, "CELERY_TASK_DEFAULT_QUEUE": queue}))
        return queue
    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        print(process.communicate(timeout=30)[0])


@pytest.fixture
def worker(workers):
    """One real `celery worker` process (see `workers`); request it last."""
    return workers(1)
