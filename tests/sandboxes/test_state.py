"""Sandbox state survives a restart: events, series, shares and granted refresh tokens."""

import json

from sandboxes import state
from sandboxes.google.store import GoogleStore
from sandboxes.microsoft.store import MicrosoftStore
from sandboxes.server import load_google_demo, load_microsoft_demo

from .conftest import follow_delta


def test_a_microsoft_state_file_restores_everything_a_client_relies_on(graph, microsoft, http, tmp_path):
    calendar = microsoft.user["calendar"]
    microsoft.control("POST", "seed", {"calendar": calendar, "count": 200, "seed": 5})
    grant = microsoft.control("POST", "grants", {"email": "grace@example.com"}).json()
    window = f"{graph.base}/me/calendarView/delta?startDateTime=2025-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z"
    before, delta_link, _ = follow_delta(graph, window, page_size=1000)
    state.save(microsoft.store, tmp_path / "microsoft.json")

    microsoft.control("POST", "reset")
    assert microsoft.store.calendars == {}
    assert state.load(microsoft.store, tmp_path / "microsoft.json")
    graph.headers["Authorization"] = f"Bearer {grant['access_token']}"  # tokens granted before still work
    after, _, _ = follow_delta(graph, window, page_size=1000)
    assert sorted(json.dumps(item, sort_keys=True) for item in after) == sorted(
        json.dumps(item, sort_keys=True) for item in before)
    # A delta link from before may belong to another history: it expires, and the client starts again.
    assert graph.get(delta_link).status_code == 410


def test_demo_states_round_trip_through_json(tmp_path):
    for store_class, load_demo in ((GoogleStore, load_google_demo), (MicrosoftStore, load_microsoft_demo)):
        original = store_class()
        load_demo(original)
        state.save(original, tmp_path / "state.json")
        copy = store_class()
        state.load(copy, tmp_path / "state.json")
        original.restored()  # expire the original's cursors too, as the load did the copy's
        assert state.dump(copy) == state.dump(original)
        assert type(next(iter(copy.users.values()))) is type(next(iter(original.users.values())))
    assert not state.load(MicrosoftStore(), tmp_path / "missing.json")


def test_a_state_file_from_an_older_sandbox_still_loads(tmp_path):
    original = GoogleStore()
    load_google_demo(original)
    saved = state.dump(original)
    for calendar in saved["calendars"].values():
        calendar["a_field_since_removed"] = 0
    restored = GoogleStore()
    state.restore(restored, saved)
    assert set(restored.calendars) == set(original.calendars)
