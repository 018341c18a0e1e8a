"""Print the figures of the CRM's CalDAV server beside Radicale serving the same calendar from its own
storage, in one run: `manage.py benchmark_dav [--appointments 10000]` (on the database DATABASE_URL names,
in a test database of its own).

A device's sync as DAVx5 and Apple's apps make it: a sync-collection from no token (every href and ETag),
the calendar-multiget of everything (100 hrefs a request), then ten changes (eight renamed, one deleted,
one created) and the incremental sync-collection with the multiget of what changed. Both servers answer
over HTTP on loopback: ours in this process (a threaded WSGI server, its queries counted per request),
Radicale in its own, filled with the very bodies ours served. Incremental queries are measured at two
calendar sizes too, to show they do not grow with the calendar.
"""

import json
import re
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from xml.etree.ElementTree import fromstring
from zoneinfo import ZoneInfo

import requests
from django.core.management.base import BaseCommand
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases

from calendarsync.management.commands import _caldav_bench as radicale_bench
from calendarsync.management.commands.benchmark_sync import _peak_mb, _reset_peak
from crm import services as crm
from crm.models import Action, ActionType
from devices import services as devices
from sandboxes.processes import free_port

PARIS = ZoneInfo("Europe/Paris")
D, C = "{DAV:}", "{urn:ietf:params:xml:ns:caldav}"
CHUNK = 100
SYNC = ('<?xml version="1.0" encoding="UTF-8"?><sync-collection xmlns="DAV:"><sync-token>{token}</sync-token>'
        "<sync-level>1</sync-level><prop><getetag/></prop></sync-collection>")
MULTIGET = ('<?xml version="1.0" encoding="UTF-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:'
            'ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>')


class Command(BaseCommand):
    help = "Print the CRM's CalDAV server's figures beside Radicale's for the same calendar."

    def add_arguments(self, parser):
        parser.add_argument("--appointments", type=int, default=10_000)

    def handle(self, *args, appointments, **options):
        with tempfile.TemporaryDirectory() as directory:
            if connection.vendor == "sqlite":  # the server's threads need the database on disk, not in memory
                connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(directory) / "bench.sqlite3")
            databases = setup_databases(verbosity=0, interactive=False)
            try:
                with override_settings(ALLOWED_HOSTS=["*"]):
                    figures = Bench(Path(directory)).run(appointments)
            finally:
                teardown_databases(databases, verbosity=0)
        self.stdout.write(json.dumps(figures, indent=2))


class Bench:
    def __init__(self, directory: Path):
        self.directory = directory
        self.kind, _ = ActionType.objects.get_or_create(code="appointment", defaults={
            "name": "Appointment", "is_appointment": True})

    def run(self, count):
        small_user, user = self.user("small"), self.user("bench")
        self.fill(small_user, 200)
        self.fill(user, count)
        _password, secret = devices.password_create(user=user, name="bench")
        _password, small_secret = devices.password_create(user=small_user, name="bench")
        with serving() as url:
            ours = Client(f"{url}dav/calendars/bench/agenda/", "bench", secret)
            first = ours.first_sync()
            bodies = first.pop("bodies")
            self.change(user, 0)
            figures = {"database": connection.vendor, "appointments": count,
                       "ours": {"first_sync": first, "after_10_changes": ours.incremental()}}
            small = Client(f"{url}dav/calendars/small/agenda/", "small", small_secret)
            small.first_sync()
            self.change(small_user, 0)
            figures["ours"]["after_10_changes_in_200"] = small.incremental()
            ours.http.close()
            small.http.close()
        seeded = self.seed(bodies)
        server = radicale_bench.Radicale(self.directory / "radicale")
        with server.running():
            server.warm()
            theirs = Client(server.url.rstrip("/") + server.calendar, radicale_bench.USER, radicale_bench.PASSWORD,
                            radicale=server)
            first = theirs.first_sync()
            first.pop("bodies")
            server.change(seeded, 0)  # the same ten changes, made on Radicale by another client
            figures["radicale"] = {"first_sync": first, "after_10_changes": theirs.incremental()}
        figures["incremental_radicale_over_ours"] = round(
            figures["radicale"]["after_10_changes"]["seconds"] / figures["ours"]["after_10_changes"]["seconds"], 1)
        figures["target"] = "ours at least 2x faster than Radicale after 10 changes; queries the same at both sizes"
        return figures

    def user(self, name):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.create_user(name, f"{name}@example.com", "-", time_zone="Europe/Paris")

    def fill(self, user, count):
        """`count` resources: one in ten a weekly series of 12 with a cancelled and a changed occurrence."""
        start = datetime(2026, 9, 7, 8, tzinfo=UTC)
        singles, series = [], []
        for number in range(count):
            begin = start + timedelta(days=number % 300, hours=number % 9)
            fields = {"owner": user, "action_type": self.kind, "subject": f"Appointment {number}",
                      "start": begin, "end": begin + timedelta(hours=1), "time_zone": "Europe/Paris"}
            if number % 10 == 0:
                series.append(Action(**fields, rrule="FREQ=WEEKLY;COUNT=12"))
            else:
                singles.append(Action(**fields))
        crm.action_create_many(actions=singles + series)
        for master in series:
            crm.occurrence_cancel(series=master, recurrence_id=_key(_weeks_on(master.start, 3)))
        overrides = [Action(uid=master.uid, series=master, recurrence_id=_key(_weeks_on(master.start, 5)),
                            owner=user, action_type=self.kind, subject=f"{master.subject} (moved)",
                            start=_weeks_on(master.start, 5) + timedelta(hours=2),
                            end=_weeks_on(master.start, 5) + timedelta(hours=3), time_zone="Europe/Paris")
                     for master in series]
        crm.action_create_many(actions=overrides)
        # A calendar built over months, not a minute ago: its rows' last changes are older than a token's settling
        Action.objects.filter(owner=user).update(updated_at=datetime.now(UTC) - timedelta(days=1))

    def change(self, user, offset):
        """Ten changes in the CRM: eight renamed, one deleted, one created."""
        rows = list(Action.objects.filter(owner=user, series__isnull=True, rrule="").order_by("pk")[offset:offset + 9])
        for action in rows[:8]:
            crm.action_update(action=action, subject=f"{action.subject} (changed)")
        crm.action_delete(action=rows[8])
        begin = datetime(2026, 12, 20, 9, tzinfo=UTC)
        crm.action_create(owner=user, action_type=self.kind, subject="Created", start=begin,
                          end=begin + timedelta(hours=1), time_zone="Europe/Paris")

    def seed(self, bodies: dict[str, bytes]) -> radicale_bench.Seeded:
        """Radicale's storage holding the bodies ours served, under the same names."""
        folder = self.directory / "radicale" / "collections" / "collection-root" / radicale_bench.USER / \
            radicale_bench.CALENDAR
        folder.mkdir(parents=True)
        (folder / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR", "D:displayname": "Work"}))
        for name, body in bodies.items():
            (folder / name).write_bytes(body)
        names = sorted(bodies)
        singles = [name for name in names if b"RRULE" not in bodies[name]]
        return radicale_bench.Seeded(names, singles, [name for name in names if name not in singles])


class Client:
    """A device's calendar app, as requests: its figures per stage (requests, seconds, and the server's
    queries and peak memory where it is ours)."""

    def __init__(self, url, username, password, radicale=None):
        self.url, self.radicale, self.token = url, radicale, ""
        self.http = requests.Session()
        self.http.auth, self.http.trust_env = (username, password), False

    def first_sync(self) -> dict:
        with self.measured() as figures:
            listed = self.report(SYNC.format(token=""))
            hrefs = [href for href in listed if href.rstrip("/") != urlpath(self.url).rstrip("/")]
            bodies = self.multiget(hrefs)
        return {**figures, "resources": len(bodies), "bodies": {href.rsplit("/", 1)[1]: body
                                                                 for href, body in bodies.items()}}

    def incremental(self) -> dict:
        with self.measured() as figures:
            changed = self.report(SYNC.format(token=self.token))
            found = self.multiget([href for href, etag in changed.items() if etag])
        return {**figures, "changed": len(found), "removed": sum(1 for etag in changed.values() if not etag)}

    def report(self, body) -> dict[str, str]:
        response = self.http.request("REPORT", self.url, data=body.encode(), timeout=600,
                                     headers={"Content-Type": "application/xml; charset=utf-8", "Depth": "1"})
        response.raise_for_status()
        self.requests += 1
        root = fromstring(response.content)
        self.token = root.findtext(f"{D}sync-token") or self.token
        return {response.findtext(f"{D}href"): response.findtext(f".//{D}getetag") or ""
                for response in root.findall(f"{D}response")}

    def multiget(self, hrefs) -> dict[str, bytes]:
        found = {}
        for start in range(0, len(hrefs), CHUNK):
            body = MULTIGET.format(hrefs="".join(f"<D:href>{href}</D:href>" for href in hrefs[start:start + CHUNK]))
            response = self.http.request("REPORT", self.url, data=body.encode(), timeout=600,
                                         headers={"Content-Type": "application/xml; charset=utf-8"})
            response.raise_for_status()
            self.requests += 1
            for answer in fromstring(response.content).findall(f"{D}response"):
                data = answer.findtext(f".//{C}calendar-data")
                if data:
                    found[answer.findtext(f"{D}href")] = data.encode()
        return found

    @contextmanager
    def measured(self):
        figures = {}
        self.requests = 0
        Queries.count = 0
        _reset_peak()
        began = time.perf_counter()
        yield figures
        figures["seconds"] = round(time.perf_counter() - began, 3)
        figures["requests"] = self.requests
        if self.radicale is None:
            figures["db_queries"] = Queries.count
            figures["peak_rss_mb"] = _peak_mb()


class Queries:
    """Queries made while serving, in every request thread."""

    count = 0
    lock = threading.Lock()

    @classmethod
    def counted(cls, execute, sql, params, many, context):
        with cls.lock:
            cls.count += 1
        return execute(sql, params, many, context)


class _Threaded(ThreadingMixIn, WSGIServer):
    """A thread per client connection (kept alive across its requests, as devices keep them), its database
    connection kept as production keeps it (CONN_MAX_AGE) and closed with it: the test database is dropped."""

    daemon_threads, block_on_close = False, True  # server_close() waits for them, once clients have gone

    def process_request_thread(self, request, client_address):
        from django.db import connections

        try:
            super().process_request_thread(request, client_address)
        finally:
            connections.close_all()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving():
    """The CRM on a loopback port, in this process, each request's queries counted."""
    application = get_wsgi_application()

    def counting(environ, start_response):
        from django.db import connections

        with connections["default"].execute_wrapper(Queries.counted):
            return application(environ, start_response)

    port = free_port()
    server = make_server("127.0.0.1", port, counting, server_class=_Threaded, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


def urlpath(url):
    return re.sub(r"^https?://[^/]+", "", url)


def _key(moment):
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _weeks_on(start, weeks):
    """The start of a weekly series' occurrence `weeks` on, at the same time of day in Paris (DST kept)."""
    return start.astimezone(PARIS) + timedelta(weeks=weeks)
