"""CalDAV calendars behind the provider interface (being built: it reads and writes a calendar; accounts,
connecting and its place among the providers come next).

A resource holds an event, or a whole series with its changed occurrences. The engine, as for Google and
Graph, sees one remote event per component: the series (or single event) is the resource's path, a changed
occurrence is `path#key` with the series as its `series_id`. A component's ETag is the fingerprint of what
the CRM reads of it, not the resource's ETag, which every change of any component of the resource renews:
so an edit of one occurrence does not make the others look changed, and a write's precondition is checked
against the component it is about.

Changes come from sync-collection with the token kept in the cursor; the cursor also keeps which changed
occurrences each series resource had, so that one that went from a resource that changed is reported gone.
A token the server no longer knows means a full listing of the window (time-range query), which reports
no deletion: the engine infers them from what it does not see.
"""

import json
from datetime import datetime

from calendarsync.core.normalize import fingerprint

from ..base import CalendarProvider, Changes, ProviderUnavailable, RemoteEvent, unreadable
from . import reports
from .dav import Dav
from .mapping import Unreadable, read
from .writes import SEPARATOR, Writer, split_id


class CalDAVProvider(CalendarProvider):
    """Calendars of one CalDAV server, over a Dav session; `zones` gives each calendar's zone for floating
    times (calendar-timezone), UTC when it has none."""

    scopes: list[str] = []
    required_scopes: set[str] = set()
    write_batch = 50  # resources gathered per call: their bodies come in one multiget
    def __init__(self, dav: Dav, zones: dict[str, str] | None = None):
        super().__init__(None, None, lambda tokens: None)
        self.dav, self.zones = dav, zones or {}
        self.usage = dav.usage

    def changes(self, calendar_id: str, cursor: str, window: tuple[datetime, datetime]) -> Changes:
        state = _state(cursor)
        if state.get("token"):
            try:
                since = reports.sync_collection(self.dav, calendar_id, state["token"])
            except reports.TokenExpired:
                pass
            else:
                events, series = self._read(calendar_id, list(since.etags), state.get("series", {}))
                gone = [RemoteEvent(href) for href in sorted(since.removed)]
                gone += [RemoteEvent(f"{href}{SEPARATOR}{key}") for href in sorted(since.removed)
                         for key in state.get("series", {}).get(href, ())]
                kept = {href: keys for href, keys in state.get("series", {}).items() if href not in since.removed}
                return Changes(events + gone, _cursor(since.token, {**kept, **series}), full=False)
        token = reports.sync_collection(self.dav, calendar_id, "").token  # the token to follow from now on
        events, series = self._read(calendar_id, list(reports.in_window(self.dav, calendar_id, window).etags), {})
        return Changes(events, _cursor(token, series), full=True)

    def listing(self, calendar_id: str, window: tuple[datetime, datetime]) -> list[RemoteEvent]:
        return self._read(calendar_id, list(reports.in_window(self.dav, calendar_id, window).etags), {})[0]

    def fetch(self, calendar_id: str, remote_ids: list[str]) -> list[RemoteEvent]:
        hrefs = sorted({split_id(remote_id)[0] for remote_id in remote_ids})
        found = {event.remote_id: event for event in self._read(calendar_id, hrefs, {})[0]}
        return [found.get(remote_id, RemoteEvent(remote_id)) for remote_id in remote_ids]

    def write(self, calendar_id, writes):
        return Writer(self.dav, calendar_id, self.zones.get(calendar_id, "UTC")).write(writes)

    def _read(self, calendar_id, hrefs, known_series) -> tuple[list[RemoteEvent], dict[str, list[str]]]:
        """The remote events of these resources, and the keys of the changed occurrences of each series among
        them; a changed occurrence a series had and no longer has is reported gone."""
        events, series = [], {}
        zone = self.zones.get(calendar_id, "UTC")
        bodies = reports.multiget(self.dav, calendar_id, hrefs) if hrefs else {}
        for href in hrefs:
            if href not in bodies:
                events.append(RemoteEvent(href))  # gone between the listing and the multiget
                continue
            try:
                found = read(bodies[href][1], zone).events
            except (Unreadable, ValueError, OverflowError) as exc:
                events.append(RemoteEvent(href, problem=str(exc) if isinstance(exc, Unreadable) else unreadable(exc)))
                continue
            master, overrides = found[0], found[1:]
            events.append(RemoteEvent(href, fingerprint(master), master))
            keys = [override.recurrence_id for override in overrides]
            events += [RemoteEvent(f"{href}{SEPARATOR}{override.recurrence_id}", fingerprint(override), override,
                                   series_id=href) for override in overrides]
            events += [RemoteEvent(f"{href}{SEPARATOR}{key}") for key in known_series.get(href, ())
                       if key not in keys]
            if keys:
                series[href] = keys
        return events, series


def _state(cursor: str) -> dict:
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _cursor(token: str, series: dict[str, list[str]]) -> str:
    if not token:
        raise ProviderUnavailable("The server gave no sync token: it does not support sync-collection (RFC 6578).")
    return json.dumps({"token": token, "series": series}, separators=(",", ":"), sort_keys=True)
