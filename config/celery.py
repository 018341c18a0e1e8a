"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.healthcheck")
def healthcheck():
    """Report which database this worker reaches and how many users it sees.

    `celery -A config call config.healthcheck` checks a deployment's broker, worker and database.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection

    return {"database": connection.vendor, "name": connection.settings_dict["NAME"],
            "users": get_user_model().objects.count()}
