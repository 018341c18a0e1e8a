"""Figures of availability for a team, in a throwaway database (PostgreSQL when DATABASE_URL names one):
`manage.py benchmark_availability [--people 20]`.

Each person has three calendars: the CRM's own appointments (a daily stand-up with colleagues, whose overrides
and cancellations count, and meetings), a provider calendar synced into the CRM, and one the CRM does not
import, whose busy times are asked live; half the people are on Google, half on Microsoft 365. Over two
weeks, it prints what a page's answer costs with the cache cold (every live calendar *pending*: nothing is
waited for, a fetch is queued per account), what the worker's fetches cost (provider requests by kind: at
most one per account), and the answer once cached; then the same cached answer for fewer people, to show that
queries do not grow with people and calendars, and Find a time for everyone.
"""

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from calendarsync import engine, freebusy, jobs
from calendarsync.models import RemoteCalendar
from crm import services as crm
from crm.availability import selectors as availability
from sandboxes.google import seed as google_seed
from sandboxes.microsoft import seed as microsoft_seed

from .benchmark_sync import GoogleBench, MicrosoftBench

START = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday; the sandboxes' seeds gather around it
WINDOW = (START, START + timedelta(days=14))
SYNCED_EVENTS, LIVE_EVENTS = 300, 300  # per calendar, spread over a year around START
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class Command(BaseCommand):
    help = "Print availability's figures (provider requests, queries, seconds) for a team, cold and cached."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=20)

    def handle(self, *args, people, **options):
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            with tempfile.TemporaryDirectory() as directory, override_settings(CACHES=LOCAL_CACHE):
                google, microsoft = GoogleBench(), MicrosoftBench(Path(directory))
                try:
                    figures = Team(google, microsoft, people).run()
                finally:
                    google.server.stop()
                    microsoft.server.stop()
        finally:
            teardown_databases(databases, verbosity=0)
        self.stdout.write(json.dumps(figures, indent=2))


class Team:
    def __init__(self, google, microsoft, size):
        self.google, self.microsoft, self.size = google, microsoft, size
        self.people, self.accounts = [], []

    def run(self) -> dict:
        began = time.perf_counter()
        for number in range(self.size):
            self.add_person(number)
        self.add_crm_appointments()
        figures = {"database": connection.vendor, "people": self.size, "calendars_per_person": 3,
                   "window_days": (WINDOW[1] - WINDOW[0]).days, "setup_seconds": round(time.perf_counter() - began, 1)}
        viewer = self.people[0]
        cache.clear()
        queued = []
        with mock.patch.object(jobs, "_queue", lambda task, *args, **kwargs: queued.append(args) or True):
            figures["page_with_a_cold_cache"] = self.answer(viewer, self.people) | {"fetches_queued": len(queued)}
        figures["worker_fetches"] = self.fetch(queued)
        figures["page_cached"] = self.answer(viewer, self.people)
        figures["page_cached_by_team_size"] = {count: self.answer(viewer, self.people[:count])["db_queries"]
                                               for count in (1, 5, self.size)}
        with CaptureQueriesContext(connection) as queries:
            moment = time.perf_counter()
            slots, _found = availability.slots(viewer=viewer, people=self.people, duration=timedelta(hours=1),
                                               start=WINDOW[0], end=WINDOW[1])
        figures["find_a_time_cached"] = {"slots": len(slots), "suits_everyone": sum(s.suits_everyone for s in slots),
                                         "db_queries": len(queries), "seconds": round(time.perf_counter() - moment, 3)}
        return figures

    def add_person(self, number):
        """A person with a synced calendar (imported once, as the worker would) and one the CRM does not import."""
        bench, seed = (self.google, google_seed) if number % 2 == 0 else (self.microsoft, microsoft_seed)
        email = f"person{number}@example.com"
        synced = bench.calendar(email, SYNCED_EVENTS)
        synced.direction, synced.is_destination, synced.is_primary = "import", False, True  # their own: it counts
        synced.save()
        engine.sync(synced.pk)
        account = synced.account
        if bench is self.google:
            remote_id = f"other-{number}@example.com"
            calendar = bench.store.add_calendar(remote_id, "Other", "Europe/Paris", owner=email)
        else:
            calendar = bench.store.add_calendar(email, "Other")
            remote_id = calendar.id
        seed.fill(bench.store, calendar, LIVE_EVENTS, seed=1000 + number)
        RemoteCalendar.objects.create(account=account, remote_id=remote_id, name="Other", can_write=True,
                                      counts_busy=True)
        self.people.append(account.user)
        self.accounts.append(account)

    def add_crm_appointments(self):
        kind = self.google.kind
        for number, person in enumerate(self.people):
            colleagues = [self.people[(number + step) % self.size] for step in (1, 2)]
            series = crm.action_create(owner=person, action_type=kind, subject="Stand-up", time_zone="Europe/Paris",
                                       start=START + timedelta(hours=8), end=START + timedelta(hours=8, minutes=15),
                                       rrule="FREQ=DAILY;COUNT=14", participants=colleagues)
            crm.occurrence_cancel(series=series, recurrence_id="20261125T080000Z")
            crm.occurrence_update(series=series, recurrence_id="20261126T080000Z",
                                  start=START + timedelta(days=3, hours=14), end=START + timedelta(days=3, hours=15))
            for day in range(0, 14, 2):
                begin = START + timedelta(days=day, hours=9 + number % 6)
                crm.action_create(owner=person, action_type=kind, subject=f"Meeting {day}", time_zone="Europe/Paris",
                                  start=begin, end=begin + timedelta(hours=1), participants=colleagues[:1])

    def answer(self, viewer, people) -> dict:
        for bench in (self.google, self.microsoft):
            bench.server.service.counters.clear()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            found = availability.availability(viewer=viewer, people=people, start=WINDOW[0], end=WINDOW[1])
            seconds = time.perf_counter() - began
        states = {}
        for person in found:
            for answer in person.sources:
                states[answer.state] = states.get(answer.state, 0) + 1
        return {"provider_requests": self.requests(), "db_queries": len(queries), "seconds": round(seconds, 3),
                "busy_blocks": sum(len(person.busy) for person in found), "calendar_answers": states}

    def fetch(self, queued) -> dict:
        for bench in (self.google, self.microsoft):
            bench.server.service.counters.clear()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            done = [freebusy.fetch(account_id, datetime.fromisoformat(start), datetime.fromisoformat(end))
                    for account_id, start, end in queued]
            seconds = time.perf_counter() - began
        return {"accounts": len(queued), "provider_requests": sum(figures["requests"] for figures in done if figures),
                "errors": [figures["error"] for figures in done if figures and figures["error"]],
                # as the sandboxes count them: Graph's $batch with its parts (calendar views) counted apart
                "sandbox_counters": {**_named(self.google, "google "), **_named(self.microsoft, "microsoft ")},
                "db_queries": len(queries), "seconds": round(seconds, 3)}

    def requests(self) -> int:
        return sum(sum(_named(bench, "").values()) for bench in (self.google, self.microsoft))


def _named(bench, prefix) -> dict:
    return {f"{prefix}{name}": count for name, count in bench.server.service.counters.snapshot().items()
            if isinstance(count, int) and name not in ("injected_faults", "sandbox_errors") and count}
