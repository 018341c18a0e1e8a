"""The real services CI provides: PostgreSQL, and a Celery worker process behind a real broker."""

import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from config.celery import healthcheck
from tests import factories
from tests.conftest import require


def test_database_is_the_one_database_url_names(db):
    """With DATABASE_URL set (CI), the suite must really run on that server."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        assert connection.vendor == "postgresql"
    else:
        require(bool(url), "DATABASE_URL is not set: the suite ran on SQLite, not PostgreSQL")
        assert connection.vendor in url.split(":")[0]


@pytest.fixture
def worker(transactional_db):
    """Start a real `celery worker` process on a queue of its own, against the test database."""
    require(bool(settings.CELERY_BROKER_URL), "CELERY_BROKER_URL is not set: the Celery worker test skipped")
    require(bool(settings.CELERY_RESULT_BACKEND), "no Celery result backend: the Celery worker test skipped")
    require(connection.vendor != "sqlite", "the worker needs a server database (DATABASE_URL) to share")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--queues", queue,
         "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": test_database},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield queue
    process.terminate()
    output, _ = process.communicate(timeout=30)
    print(output)


@pytest.mark.broker
def test_a_real_worker_completes_a_task_and_sees_the_test_database(worker):
    factories.user("alice")
    result = healthcheck.apply_async(queue=worker)
    report = result.get(timeout=90)
    assert report == {"database": connection.vendor, "name": connection.settings_dict["NAME"], "users": 1}
