"""Load figures of the API as deployed: gunicorn on the configured database (PostgreSQL when DATABASE_URL names
one), a throwaway copy of it, `--clients` concurrent clients each sending requests back to back.

`manage.py benchmark_api [--clients 10 50] [--seconds 10] [--workers 4]` prints, per number of clients, the
requests per second and the p50 / p95 latencies of a trivial authenticated endpoint (`/api/v1/me/`) and of a
month window of 150 appointments (`/api/v1/actions/?start=…&end=…`, series expanded) whose owner has a Google
and an Outlook calendar synced: the window queues their pull (a worker would run it) and never waits for it.
The two take turns, a second at a time, so that their ratio is measured on the same machine.
"""

import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import setup_databases, teardown_databases
from rest_framework.authtoken.models import Token

from calendarsync.models import EventLink, ExternalAccount, RemoteCalendar
from config.serving import Served
from crm import services
from crm.models import Action, ActionType

MONTH = (date(2026, 12, 1), date(2027, 1, 1))


class Command(BaseCommand):
    help = "Print requests/s and latencies of the API under gunicorn, for a trivial endpoint and an agenda window."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
        parser.add_argument("--seconds", type=float, default=10)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn's processes (2 per core is usual)")

    def handle(self, *args, clients, seconds, workers, **options):
        with tempfile.TemporaryDirectory() as scratch:
            # A database of its own (a file the server's processes share, on SQLite), never a test run's.
            connection.settings_dict["TEST"]["NAME"] = (f"{scratch}/benchmark.sqlite3" if connection.vendor == "sqlite"
                                                        else f"benchmark_api_{os.getpid()}")
            databases = setup_databases(verbosity=0, interactive=False)
            try:
                token = _seed()
                env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false",
                       "DATABASE_URL": _database_url(), "CACHE_URL": f"filecache://{scratch}/cache",
                       "CELERY_BROKER_URL": settings.CELERY_BROKER_URL if "://" in settings.CELERY_BROKER_URL
                       and not settings.CELERY_BROKER_URL.startswith("filesystem") else "memory://",
                       "CELERY_TASK_DEFAULT_QUEUE": "benchmark-unread", "LOG_LEVEL": "WARNING"}
                with Served(env, workers=workers) as url:
                    figures = {"database": connection.vendor, "gunicorn_workers": workers,
                               "appointments_in_window": self._check(url, token), "runs": []}
                    for count in clients:
                        trivial, window = _load(url, ["/api/v1/me/", _window_path()], token, count, seconds)
                        figures["runs"].append({"clients": count, "trivial": trivial, "window": window,
                                                "window_share_of_trivial": round(window["rps"] / trivial["rps"], 2)})
            finally:
                teardown_databases(databases, verbosity=0)
        self.stdout.write(json.dumps(figures, indent=2))

    def _check(self, url, token) -> int:
        status, body = _get(_connection(url), _window_path(), token)
        if status != 200:
            raise RuntimeError(f"the window answered {status}: {body[:300]}")
        return json.loads(body)["count"]


def _seed() -> str:
    """A user with 150 appointments in December 2026 (singles and weekly series), synced with two calendars."""
    kind, _ = ActionType.objects.get_or_create(code="appointment", defaults={"name": "Appointment",
                                                                             "is_appointment": True})
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "-", time_zone="Europe/Paris")
    for number in range(130):
        start = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(days=number % 30, hours=number % 9)
        services.action_create(action_type=kind, owner=user, subject=f"Visit {number}", start=start,
                               end=start + timedelta(hours=1), time_zone="Europe/Paris", location="Lyon")
    for number in range(5):  # four occurrences each in the month
        start = datetime(2026, 12, 2 + number, 17, tzinfo=UTC)
        services.action_create(action_type=kind, owner=user, subject=f"Weekly {number}", start=start,
                               end=start + timedelta(hours=1), time_zone="Europe/Paris", rrule="FREQ=WEEKLY;COUNT=4")
    for provider in ("google", "microsoft"):  # linked after the saves: nothing waits in an outbox
        account = ExternalAccount.objects.create(user=user, provider=provider, remote_id=f"bench-{provider}",
                                                 email="bench@example.com", refresh_token="-", sandbox=True)
        calendar = RemoteCalendar.objects.create(account=account, remote_id="primary", name="Bench", can_write=True,
                                                 selected=True, direction="both",
                                                 last_synced_at=datetime.now(UTC))
        EventLink.objects.bulk_create([EventLink(calendar=calendar, action=action, remote_id=f"{provider}-{action.pk}",
                                                 ical_uid=action.uid) for action in Action.objects.all()])
    return Token.objects.create(user=user).key


def _database_url() -> str:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
            f"/{database['NAME']}")


def _window_path() -> str:
    return f"/api/v1/actions/?start={MONTH[0]}&end={MONTH[1]}&page_size=500"


def _connection(url):
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def _get(conn, path, token):
    conn.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    return response.status, response.read()


def _load(url, paths, token, clients, seconds, slices=10) -> list[dict]:
    """Figures per path: `clients` threads sending GET path back to back, for `seconds` in all, the paths taking
    turns in `slices` slices each. A shared machine's speed changes from one second to the next: in turns, every
    path sees the same machine, and their ratio holds where their figures do not."""
    latencies, errors = {path: [] for path in paths}, dict.fromkeys(paths, 0)
    for _ in range(slices):
        for path in paths:
            took, failed = _burst(url, path, token, clients, seconds / slices)
            latencies[path] += took
            errors[path] += failed
    figures = []
    for path in paths:
        found = latencies[path]
        cuts = statistics.quantiles(found, n=100) if len(found) > 1 else [0] * 99
        figures.append({"requests": len(found), "errors": errors[path], "rps": round(len(found) / seconds, 1),
                        "p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1)})
    return figures


def _burst(url, path, token, clients, seconds, warming=0.3) -> tuple[list[float], int]:
    """The latencies and the number of failures of `clients` threads sending GET `path` back to back for
    `seconds`, after `warming` seconds (new connections) that do not count."""
    latencies, errors, lock = [], [0], threading.Lock()
    began = time.monotonic()
    measuring, ending = began + warming, began + warming + seconds

    def client():
        conn = _connection(url)
        while (now := time.monotonic()) < ending:
            try:
                status, _body = _get(conn, path, token)
            except (OSError, http.client.HTTPException):
                status, conn = 0, _connection(url)
            took = time.monotonic() - now
            if now >= measuring:
                with lock:
                    latencies.append(took)
                    errors[0] += status != 200
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]
