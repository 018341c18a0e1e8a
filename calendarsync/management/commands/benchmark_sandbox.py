import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import requests
from django.core.management.base import BaseCommand
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from calendarsync.providers.google.provider import discovery_document
from sandboxes.google import seed as google_seed
from sandboxes.microsoft import seed as microsoft_seed
from sandboxes.server import start_google, start_microsoft

GRAPH_PAGE = 1000  # the largest Prefer: odata.maxpagesize the Microsoft sandbox grants
WINDOW = "startDateTime=2025-11-01T00:00:00Z&endDateTime=2027-12-01T00:00:00Z"  # every seeded event


class Command(BaseCommand):
    help = "Print how long each sandbox takes to serve a large calendar to a real client."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000)

    def handle(self, *args, events, **options):
        self.stdout.write(json.dumps({"google": _google(events), "microsoft": _microsoft(events)}, indent=2))


def _measure(server, endpoint, list_all, forget=lambda: None):
    """Run `list_all` once timed and once under tracemalloc; return its figures.

    `forget` drops what the sandbox kept from the first pass, so the second one measures the same work.
    """
    server.service.counters.clear()
    began = time.perf_counter()
    items, pages = list_all()
    wall = time.perf_counter() - began
    sandbox = server.service.counters.seconds.get(endpoint, 0.0)
    forget()
    tracemalloc.start()  # a second pass for memory: tracing slows every allocation
    list_all()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"items": items, "list_requests": pages, "sandbox_seconds": round(sandbox, 3),
            "client_wall_seconds": round(wall, 3), "peak_memory_mb_while_listing": round(peak / 2**20, 1)}


def _google(events):
    server = start_google()
    store = server.service.store
    store.add_user("bench@example.com", "Bench")
    grant = store.issue_tokens("bench@example.com", "bench", "https://www.googleapis.com/auth/calendar")
    began = time.perf_counter()
    google_seed.fill(store, store.calendars["bench@example.com"], events, seed=1)
    seeded = time.perf_counter() - began
    client = _google_client(server.base_url, grant["refresh_token"])
    client.calendarList().list().execute()  # the token refresh, not part of the listing

    def list_all():
        request, items, pages = client.events().list(calendarId="primary", maxResults=2500), 0, 0
        while request is not None:
            page = request.execute()
            items, pages = items + len(page["items"]), pages + 1
            request = client.events().list_next(request, page)
        return items, pages

    figures = {"events": events, **_measure(server, "events_list", list_all), "seed_seconds": round(seeded, 3)}
    server.stop()
    return figures


def _microsoft(events):
    with tempfile.TemporaryDirectory() as folder:
        server = start_microsoft(Path(folder))
        store = server.service.store
        user = store.add_user("bench@example.com", "Bench")
        began = time.perf_counter()
        microsoft_seed.fill(store, store.calendars[user.calendars[0].calendar_id], events, seed=1)
        seeded = time.perf_counter() - began
        session = requests.Session()
        session.trust_env, session.verify = False, str(server.certificate)
        token = store.issue_tokens(user.email, "bench", "Calendars.Read")["access"]
        session.headers.update({"Authorization": f"Bearer {token}",
                                "Prefer": f"odata.maxpagesize={GRAPH_PAGE}"})

        def list_all():
            url, items, pages = f"{server.base_url}/v1.0/me/calendarView/delta?{WINDOW}", 0, 0
            while url:
                page = session.get(url, timeout=60).json()
                items, pages = items + len(page["value"]), pages + 1
                url = page.get("@odata.nextLink")
            return items, pages

        figures = {"events": events, **_measure(server, "delta", list_all, store.kept_pages.clear),
                   "seed_seconds": round(seeded, 3)}
        server.stop()
    return figures


def _google_client(base_url, refresh_token):
    credentials = Credentials(None, refresh_token=refresh_token, token_uri=base_url + "/token", client_id="bench",
                              client_secret="bench")
    return build_from_document(discovery_document(base_url), credentials=credentials)
