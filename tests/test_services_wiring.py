"""The real services CI provides: PostgreSQL, and a Celery worker process behind a real broker."""

import os

import pytest
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


@pytest.mark.broker
def test_a_real_worker_completes_a_task_and_sees_the_test_database(worker):
    factories.user("alice")
    result = healthcheck.apply_async(queue=worker)
    report = result.get(timeout=90)
    assert report == {"database": connection.vendor, "name": connection.settings_dict["NAME"], "users": 1}
