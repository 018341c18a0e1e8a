"""Figures of the sync engine against each provider's sandbox, in a throwaway database (PostgreSQL when
DATABASE_URL names one): `manage.py benchmark_sync [--events 10000] [--provider google|microsoft|caldav]`.

- first import of a seeded calendar (about 2% recurring series with exceptions): listing requests,
  database queries, wall time, the process's peak memory;
- incremental pull of one remote change, in calendars of 1,000 and of `--events` events;
- a push of 1,000 appointments created in the CRM: batch requests;
- Microsoft only: in a calendar of 300 series, what one remote deletion, one cancelled occurrence and one
  event moved out of the window cost (Graph reports each as a bare `@removed` id).

CalDAV (`--provider caldav`, 2,000 events by default): against a real Radicale on loopback, filled by the
benchmark, the first sync and then one after ten remote changes, each beside vdirsyncer syncing the same
calendar to a folder (its own process, as it runs), in turns, `--rounds` times: requests the server received,
database queries, seconds, peak memory, and the ratios of the medians.
"""

import contextlib
import cProfile
import json
import re
import resource
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from calendarsync import engine
from calendarsync.models import ExternalAccount, RemoteCalendar
from crm import services as crm
from crm.models import ActionType
from sandboxes.google import seed as google_seed
from sandboxes.microsoft import seed as microsoft_seed
from sandboxes.server import start_google, start_microsoft

from . import _caldav_bench as caldav

GOOGLE_SCOPE = "https://www.googleapis.com/auth/calendar"
MICROSOFT_SCOPE = " ".join(f"https://graph.microsoft.com/{scope}" for scope in (
    "User.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "MailboxSettings.Read"))


class Command(BaseCommand):
    help = "Print the sync engine's figures (requests, queries, seconds, memory) against each sandbox."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, help="events in the calendar (10,000; CalDAV: 2,000)")
        parser.add_argument("--pushes", type=int, default=1_000)
        parser.add_argument("--provider", choices=["google", "microsoft", "caldav"], action="append")
        parser.add_argument("--rounds", type=int, default=3, help="CalDAV: rounds of both syncs, in turns")
        parser.add_argument("--profile", metavar="DIRECTORY", help="CalDAV: keep a cProfile of each of our syncs "
                            "there (its seconds then include the profiler's cost)")

    def handle(self, *args, events, pushes, provider, rounds, profile, **options):
        figures = {}
        for name in provider or ["google", "microsoft"]:
            if name == "caldav":  # a database of its own for each round
                with tempfile.TemporaryDirectory() as directory:
                    figures[name] = CalDAVBench(Path(directory), rounds, profile).run(events or 2_000)
                continue
            databases = setup_databases(verbosity=0, interactive=False)
            try:
                with tempfile.TemporaryDirectory() as directory:
                    bench = GoogleBench() if name == "google" else MicrosoftBench(Path(directory))
                    try:
                        figures[name] = bench.run(events or 10_000, pushes)
                    finally:
                        bench.server.stop()
            finally:
                teardown_databases(databases, verbosity=0)
        self.stdout.write(json.dumps(figures, indent=2))


class Bench:
    listing = batch = ""  # the sandbox's names of its listing and batch requests

    def __init__(self, server):
        self.server, self.store = server, server.service.store
        from django.contrib.auth import get_user_model

        self.kind, _ = ActionType.objects.get_or_create(code="appointment", defaults={
            "name": "Appointment", "is_appointment": True})
        self.users = get_user_model().objects

    def owner(self, email):
        """One CRM user per calendar: a user's calendars pair the events they share, which would make one
        calendar's figures depend on the other's."""
        return self.users.create_superuser(email.split("@")[0], email, "-")  # allowed to sync everything

    def calendar(self, email, count) -> RemoteCalendar:
        """A calendar of `count` seeded events, selected two-way (the big one is the destination)."""
        raise NotImplementedError

    def change_one(self, calendar):
        """Change one single event as its owner would."""
        raise NotImplementedError

    def run(self, events, pushes):
        figures = {"database": connection.vendor}
        big = self.calendar("big@example.com", events)
        figures["first_import"] = self.sync(big, events=events)
        small = self.calendar("small@example.com", 1_000)
        self.sync(small)
        figures["incremental_pull_of_1_change"] = {
            "in_1000_events": self.one_change(small), f"in_{events}_events": self.one_change(big)}
        figures["push"] = self.push(big, pushes)
        return figures

    def configure(self, account, remote_id, email):
        return RemoteCalendar.objects.create(
            account=account, remote_id=remote_id, name=email, can_write=True, selected=True, direction="both",
            is_destination=email.startswith("big"), first_sync="since", first_sync_since=date(2025, 1, 1))

    def sync(self, calendar, **extra):
        self.server.service.counters.clear()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            run = engine.sync(calendar.pk)
            wall = time.perf_counter() - began
        counted = self.server.service.counters.snapshot()
        return {**extra, "created": run.created, "updated": run.updated, "skipped": run.skipped,
                "skipped_first": run.report[:3], "error": run.error, "list_requests": counted.get(self.listing, 0),
                "batch_requests": counted.get(self.batch, 0), "api_requests": run.requests,
                "db_queries": len(queries), "seconds": round(wall, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}

    def one_change(self, calendar):
        self.change_one(calendar)
        return self.sync(calendar)

    def push(self, calendar, count):
        cache.set(f"calendarsync:push:{calendar.pk}", 1, timeout=3600)  # a push is pending: saves ride along
        began = time.perf_counter()
        with transaction.atomic():
            for number in range(count):
                crm.action_create(action_type=self.kind, owner=calendar.account.user, subject=f"Pushed {number}",
                                  start=_moment(number), end=_moment(number, 1), time_zone="Europe/Paris")
        saved = time.perf_counter() - began
        return {"appointments": count, "crm_save_seconds": round(saved, 3), **self.sync(calendar)}


class GoogleBench(Bench):
    listing, batch = "events_list", "batch"

    def __init__(self):
        server = start_google()
        settings.CALENDARSYNC_GOOGLE_SANDBOX_URL = server.base_url
        super().__init__(server)

    def calendar(self, email, count):
        self.store.add_user(email, email)
        grant = self.store.issue_tokens(email, "sandbox-client", GOOGLE_SCOPE)
        google_seed.fill(self.store, self.store.calendars[email], count, seed=count)
        account = ExternalAccount.objects.create(
            user=self.owner(email), provider="google", remote_id=email, email=email, sandbox=True,
            refresh_token=grant["refresh_token"], access_token=grant["access_token"], scopes=GOOGLE_SCOPE)
        return self.configure(account, email, email)

    def change_one(self, calendar):
        event_id = next(event_id for event_id, event in self.store.calendars[calendar.remote_id].events.items()
                        if not event.get("recurrence") and not event.get("recurringEventId")
                        and event.get("status") != "cancelled")
        requests.patch(f"{self.server.base_url}/__sandbox__/calendars/{calendar.remote_id}/events/{event_id}",
                       json={"summary": "Changed remotely"}, timeout=30).raise_for_status()


class MicrosoftBench(Bench):
    listing, batch = "delta", "batch"

    def __init__(self, certificates):
        server = start_microsoft(certificates)
        settings.CALENDARSYNC_MICROSOFT_SANDBOX_URL = server.base_url
        settings.CALENDARSYNC_MICROSOFT_CA_BUNDLE = str(server.certificate)
        self.web = requests.Session()
        self.web.verify, self.web.trust_env = str(server.certificate), False
        super().__init__(server)

    def calendar(self, email, count):
        user = self.store.add_user(email, email)
        grant = self.store.issue_tokens(email, "sandbox-client", MICROSOFT_SCOPE)
        remote_id = user.calendars[0].calendar_id
        microsoft_seed.fill(self.store, self.store.calendars[remote_id], count, seed=count)
        account = ExternalAccount.objects.create(
            user=self.owner(email), provider="microsoft", remote_id=user.oid, email=email, sandbox=True,
            refresh_token=grant["refresh"], access_token=grant["access"], scopes=MICROSOFT_SCOPE,
            access_token_expires_at=datetime.now(UTC) + timedelta(minutes=50))
        return self.configure(account, remote_id, email)

    def change_one(self, calendar):
        event_id = next(event_id for event_id, event in self.store.calendars[calendar.remote_id].events.items()
                        if event["type"] == "singleInstance")
        self.web.patch(f"{self.server.base_url}/__sandbox__/events/{event_id}", json={"subject": "Changed remotely"},
                       timeout=30).raise_for_status()

    def run(self, events, pushes):
        return {**super().run(events, pushes), "removals_in_300_series": self.removals(300)}

    def removals(self, count):
        """A calendar of `count` weekly series and a few single events; then one of each kind of removal."""
        user = self.store.add_user("series@example.com", "series@example.com")
        remote_id = user.calendars[0].calendar_id
        weekly = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"]},
                  "range": {"type": "numbered", "startDate": "2026-12-02", "numberOfOccurrences": 20}}
        url = f"{self.server.base_url}/__sandbox__"
        series = self.web.post(f"{url}/calendars/{remote_id}/events", timeout=60, json=[
            {"subject": f"Series {number}", "recurrence": weekly, **_when(number)} for number in range(count)]).json()
        single, away = self.web.post(f"{url}/calendars/{remote_id}/events", timeout=60, json=[
            {"subject": "Single", **_when(1)}, {"subject": "Away", **_when(2)}]).json()
        grant = self.store.issue_tokens(user.email, "sandbox-client", MICROSOFT_SCOPE)
        account = ExternalAccount.objects.create(
            user=self.owner(user.email), provider="microsoft", remote_id=user.oid, email=user.email, sandbox=True,
            refresh_token=grant["refresh"], access_token=grant["access"], scopes=MICROSOFT_SCOPE,
            access_token_expires_at=datetime.now(UTC) + timedelta(minutes=50))
        calendar = self.configure(account, remote_id, user.email)
        figures = {"first_import": self.sync(calendar)}
        window = {"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2027-06-01T00:00:00Z"}
        occurrence = self.web.get(f"{self.server.base_url}/v1.0/me/events/{series[count // 2]['id']}/instances",
                                  params=window, headers={"Authorization": f"Bearer {grant['access']}"},
                                  timeout=30).json()["value"][3]
        for name, change in (
                ("one_cancelled_occurrence", lambda: self.web.delete(f"{url}/events/{occurrence['id']}", timeout=30)),
                ("one_deletion", lambda: self.web.delete(f"{url}/events/{single['id']}", timeout=30)),
                ("one_move_out_of_the_window", lambda: self.web.patch(f"{url}/events/{away['id']}", timeout=30,
                                                                      json=_when(0, year=2031)))):
            change().raise_for_status()
            counted = self.sync(calendar)
            parts = self.server.service.counters.snapshot()
            figures[name] = {**counted, "batch_parts": parts.get("events_get", 0) + parts.get("events_instances", 0)}
        return figures


class CalDAVBench(Bench):
    """Our sync and vdirsyncer's, in turns, against one Radicale: each round a new database (the CRM would
    otherwise link the calendar's events to the appointments an earlier round made), a new vdirsyncer folder,
    the first syncs of both, ten remote changes, then both syncs again."""

    def __init__(self, directory: Path, rounds: int, profile: str | None):
        from django.contrib.auth import get_user_model

        self.directory, self.rounds, self.profile = directory, rounds, profile
        self.users = get_user_model().objects

    def run(self, events, pushes=0):
        seeded = caldav.seed(self.directory / "radicale", events, datetime.now(UTC).date() - timedelta(days=60))
        # The server is on this machine, which accounts may not reach unless allowed.
        with caldav.Radicale(self.directory / "radicale").running() as server, \
                override_settings(CALENDARSYNC_CALDAV_ALLOW_LOOPBACK=True):
            self.server = server
            began = time.perf_counter()
            server.warm()
            warmed = time.perf_counter() - began
            rounds = [self.round(number, seeded) for number in range(self.rounds)]
        return {"database": connection.vendor, "server": "Radicale (its own process, on loopback)",
                "resources": len(seeded.names), "series": len(seeded.series),
                "server_warm_up_seconds": round(warmed, 3),
                "vdirsyncer_start_seconds": caldav.process_start_seconds(),
                "median": _medians(rounds), "rounds": rounds}

    def round(self, number, seeded) -> dict:
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            return self.both(number, seeded)
        finally:
            teardown_databases(databases, verbosity=0)

    def both(self, number, seeded) -> dict:
        calendar = self.calendar(f"caldav{number}@example.com")
        vdirsyncer = caldav.Vdirsyncer(self.directory / f"vdirsyncer-{number}", self.server)
        figures = {"vdirsyncer_discover": vdirsyncer.run("discover")}
        ours_first = number % 2 == 0  # who goes first alternates: neither always finds the server warmer
        for stage in ("first_sync", "after_10_changes"):
            if stage == "after_10_changes":
                figures["changes"] = self.server.change(seeded, number)
            turns = [("ours", partial(self.sync, calendar, f"{number}-{stage}")),
                     ("vdirsyncer", partial(vdirsyncer.run, "sync"))]
            for name, measure in turns if ours_first else reversed(turns):
                figures.setdefault(stage, {})[name] = measure()
        return figures

    def calendar(self, email, count=0) -> RemoteCalendar:
        server = self.server
        # What events are imported as, in a database without the defaults (a flushed one, in the tests)
        ActionType.objects.get_or_create(code="appointment", defaults={"name": "Appointment", "is_appointment": True})
        account = ExternalAccount.objects.create(
            user=self.owner(email), provider="caldav", remote_id=f"{caldav.USER} {server.url}", name="Radicale",
            username=caldav.USER, refresh_token=caldav.PASSWORD, server_url=server.url,
            home_url=server.url.rstrip("/") + server.home)
        return self.configure(account, server.calendar, email)

    def sync(self, calendar, label=""):
        mark = self.server.mark()
        profiler = cProfile.Profile() if self.profile else None
        _reset_peak()
        at_start = _peak_mb()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            run = engine.sync(calendar.pk)
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - began
        if profiler:
            Path(self.profile).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(Path(self.profile) / f"caldav-{label}.prof")
        if run.error:  # figures of a failed run would measure nothing
            raise CommandError(f"The CalDAV sync failed: {run.error}")
        return {"created": run.created, "updated": run.updated, "deleted": run.deleted, "skipped": run.skipped,
                "skipped_first": run.report[:3], "error": run.error, **self.server.answered(mark),
                "db_queries": len(queries), "seconds": round(wall, 3), "peak_rss_mb": _peak_mb(),
                "rss_at_start_mb": at_start}


def _medians(rounds) -> dict:
    """The median of each figure over the rounds, and ours as a share of vdirsyncer's."""
    medians = {}
    for stage in ("first_sync", "after_10_changes"):
        medians[stage] = {name: {figure: statistics.median(round_[stage][name][figure] for round_ in rounds)
                                 for figure in ("requests", "server_seconds", "seconds", "peak_rss_mb")}
                          for name in ("ours", "vdirsyncer")}
        medians[stage]["ours"]["db_queries"] = statistics.median(round_[stage]["ours"]["db_queries"]
                                                                 for round_ in rounds)
        medians[stage]["seconds_ours_over_vdirsyncer"] = round(
            medians[stage]["ours"]["seconds"] / medians[stage]["vdirsyncer"]["seconds"], 3)
    medians["first_sync"]["target"] = "ours <= 1/2 of vdirsyncer's"
    medians["after_10_changes"]["target"] = "ours <= 1/5 of vdirsyncer's"
    return medians


def _reset_peak():
    """Start counting the process's peak memory again (Linux: VmHWM), so that each sync has its own."""
    with contextlib.suppress(OSError):  # elsewhere the figure is the process's peak so far
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    try:
        found = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    except OSError:
        found = None
    kilobytes = int(found.group(1)) if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kilobytes / 1024, 1)


def _when(number, year=2026):
    hour = f"{8 + number % 10:02}"
    return {"start": {"dateTime": f"{year}-12-02T{hour}:00:00", "timeZone": "Romance Standard Time"},
            "end": {"dateTime": f"{year}-12-02T{hour}:30:00", "timeZone": "Romance Standard Time"}}


def _moment(number, hours=0):
    return datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(hours=number % 10 + hours, days=number // 10)
