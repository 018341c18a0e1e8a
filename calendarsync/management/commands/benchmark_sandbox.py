import json
import os
import time
import tracemalloc

import googleapiclient
from django.core.management.base import BaseCommand
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from calendarsync.sandbox.google import seed
from calendarsync.sandbox.server import start_google


class Command(BaseCommand):
    help = "Print how long the Google sandbox takes to serve a large calendar to the real client."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000)

    def handle(self, *args, events, **options):
        server = start_google()
        store = server.service.store
        store.add_user("bench@example.com", "Bench")
        grant = store.issue_tokens("bench@example.com", "bench", "https://www.googleapis.com/auth/calendar")
        began = time.perf_counter()
        seed.fill(store, store.calendars["bench@example.com"], events, seed=1)
        seeded = time.perf_counter() - began

        client = _client(server.base_url, grant["refresh_token"])
        client.calendarList().list().execute()  # the token refresh, not part of the listing
        server.service.counters.clear()
        began = time.perf_counter()
        items, pages = _list_all(client)
        wall = time.perf_counter() - began
        sandbox = server.service.counters.seconds.get("events_list", 0.0)
        tracemalloc.start()  # a second pass for memory: tracing slows every allocation
        _list_all(client)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        server.stop()
        self.stdout.write(json.dumps({
            "events": items, "list_requests": pages, "sandbox_seconds": round(sandbox, 3),
            "client_wall_seconds": round(wall, 3), "seed_seconds": round(seeded, 3),
            "peak_memory_mb_while_listing": round(peak / 2**20, 1),
        }, indent=2))


def _list_all(client):
    request, items, pages = client.events().list(calendarId="primary", maxResults=2500), 0, 0
    while request is not None:
        page = request.execute()
        items, pages = items + len(page["items"]), pages + 1
        request = client.events().list_next(request, page)
    return items, pages


def _client(base_url, refresh_token):
    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache/documents/calendar.v3.json")
    with open(path) as document:
        discovery = json.load(document)
    discovery["rootUrl"] = base_url + "/"
    credentials = Credentials(None, refresh_token=refresh_token, token_uri=base_url + "/token", client_id="bench",
                              client_secret="bench")
    return build_from_document(discovery, credentials=credentials)
