"""CalDAV calendars behind the provider interface: reading, writing and listing the calendars of a home.

A resource holds an event, or a whole series with its changed occurrences. The engine, as for Google and
Graph, sees one remote event per component: the series (or single event) is the resource's path, a changed
occurrence is `path#key` with the series as its `series_id`. A component's ETag is the fingerprint of what
the CRM reads of it, not the resource's ETag, which every change of any component of the resource renews:
so an edit of one occurrence does not make the others look changed, and a write's precondition is checked
against the component it is about.

Changes come from sync-collection with the token kept in the cursor, their bodies in the same report where
the server gives them (one request for a run that finds a few changes); the cursor also keeps which changed
occurrences each series resource had, so that one that went from a resource that changed is reported gone.
A token the server no longer knows means a full listing of the window (time-range query), which reports
no deletion: the engine infers them from what it does not see. A server without sync-collection is asked
for its collection's CTag (one request while nothing changed), then for every ETag, compared with those
the cursor keeps.
"""

import json
from datetime import datetime
from itertools import chain

from calendarsync.core.normalize import fingerprint

from ..base import CalendarInfo, CalendarProvider, Changes, FreeBusy, RemoteEvent, unreadable
from ..busy import busy_intervals
from . import reports
from .dav import Dav
from .discovery import calendars_in
from .mapping import Cancelled, NotAnEvent, Unreadable, read
from .writes import SEPARATOR, Writer, split_id, storable


class CalDAVProvider(CalendarProvider):
    """Calendars of one CalDAV server, over a Dav session; `zones` gives each calendar's zone for floating
    times (calendar-timezone), UTC when it has none."""

    scopes: list[str] = []
    required_scopes: set[str] = set()
    write_batch = 50  # resources gathered per call: their bodies come in one multiget

    def __init__(self, dav: Dav, home: str = "", zones: dict[str, str] | None = None):
        super().__init__(None, None, lambda tokens: None)
        self.dav, self.home, self.zones = dav, home, zones or {}
        self.usage, self.created = dav.usage, []

    def storable(self, event):
        return storable(event)

    def list_calendars(self) -> list[CalendarInfo]:
        """The event calendars of the user's calendar home (its path is found when the account connects)."""
        return [CalendarInfo(collection.path, collection.name, collection.color, collection.can_write,
                             is_primary=False, time_zone=collection.time_zone)
                for collection in calendars_in(self.dav, self.home)]

    def changes(self, calendar_id: str, cursor: str, window: tuple[datetime, datetime]) -> Changes:
        state = _state(cursor)
        self.created = []  # from now on, resources this run creates after the token about to be taken
        if "etags" in state:
            return self._changes_by_etags(calendar_id, state)
        with_report = True
        if state.get("token"):
            try:
                since = reports.sync_collection(self.dav, calendar_id, state["token"], with_bodies=True)
            except reports.TokenExpired:
                pass
            except reports.NoSyncCollection:  # it gave a token as a property, then refused the report
                with_report = False
            else:
                removed = since.removed | self._created_and_gone(calendar_id, state.get("created", []), since)
                events, series = self._since(calendar_id, list(since.etags), removed, state.get("series", {}),
                                             since.bodies)
                return Changes(events, _cursor(token=since.token, series=series), full=False)
        # A full listing, and what will tell the changes from now on: the token, or (a server without
        # sync-collection) every ETag, taken first so that what changes during the listing is seen next time.
        token = self._first_token(calendar_id) if with_report else ""
        every = None if token else reports.every_etag(self.dav, calendar_id)
        events, series = self._read(calendar_id, list(reports.in_window(self.dav, calendar_id, window).etags), {})
        cursor = _cursor(token=token, series=series) if token else _cursor(ctag=every.token, etags=every.etags,
                                                                           series=series)
        return Changes(events, cursor, full=True)

    def _first_token(self, calendar_id: str) -> str:
        """A sync token for the collection as it is, or "" from a server without sync-collection: the
        collection's property (on Radicale with 2,000 resources 0.18 s, where the report from no token, which
        lists them all, takes 0.3 to 0.5 s); from a server that has none, the report's, which also says
        whether it has the report. A property the report then refuses is found out at the next run."""
        try:
            return reports.sync_token(self.dav, calendar_id) or reports.sync_collection(self.dav, calendar_id,
                                                                                        "").token
        except reports.NoSyncCollection:
            return ""

    def _changes_by_etags(self, calendar_id: str, state: dict) -> Changes:
        """Changes on a server without sync-collection: nothing while the CTag stays, else the resources
        whose ETag is new, and those that went."""
        known, series = state["etags"], state.get("series", {})
        if state.get("ctag") and reports.ctag(self.dav, calendar_id) == state["ctag"]:
            return Changes([], _cursor(ctag=state["ctag"], etags=known, series=series), full=False)
        now = reports.every_etag(self.dav, calendar_id)
        changed = sorted(href for href, etag in now.etags.items() if known.get(href) != etag)
        events, series = self._since(calendar_id, changed, set(known) - set(now.etags), series)
        return Changes(events, _cursor(ctag=now.token, etags=now.etags, series=series), full=False)

    def _since(self, calendar_id, changed, removed, known_series, given=None) -> tuple[list[RemoteEvent],
                                                                                      dict[str, list[str]]]:
        """The events of the resources that changed (`given`: bodies already at hand) and of those that went
        (their changed occurrences too), and the changed occurrences of each series to keep in the cursor."""
        events, series = self._read(calendar_id, changed, known_series, given)
        for href in sorted(removed):
            events += [RemoteEvent(href)] + [RemoteEvent(f"{href}{SEPARATOR}{key}")
                                             for key in known_series.get(href, ())]
        kept = {href: keys for href, keys in known_series.items() if href not in removed and href not in changed}
        return events, {**kept, **series}

    def listing(self, calendar_id: str, window: tuple[datetime, datetime]) -> list[RemoteEvent]:
        return self._read(calendar_id, list(reports.in_window(self.dav, calendar_id, window).etags), {})[0]

    def fetch(self, calendar_id: str, remote_ids: list[str]) -> list[RemoteEvent]:
        hrefs = sorted({href for href, _key in map(split_id, remote_ids) if href.startswith(calendar_id)})
        found = {event.remote_id: event for event in self._read(calendar_id, hrefs, {})[0]}
        return [found.get(remote_id, RemoteEvent(remote_id)) for remote_id in remote_ids]

    def free_busy(self, calendar_ids, start, end):
        """Each calendar's free-busy-query (one request, busy periods only); where a server does not offer that
        optional report (RFC 4791 7.10), the events that meet the window, expanded here. CalDAV has no request
        for several calendars (but a scheduling outbox, which the servers met here do not have)."""
        found = {}
        for calendar_id in calendar_ids:
            periods = reports.free_busy(self.dav, calendar_id, (start, end))
            if periods is None:
                events = [item.event for item in self.listing(calendar_id, (start, end)) if item.event is not None]
                periods = busy_intervals(events, start, end)
            found[calendar_id] = FreeBusy(tuple(periods))
        return found

    def _created_and_gone(self, calendar_id, created, since) -> set[str]:
        """Of the resources the last run created after its token, those that are gone: a server may leave a
        resource that did not exist at the token and no longer exists out of the report (Xandikos does; RFC
        6578 3.5.2 only asks for members that existed), yet the CRM holds it."""
        unreported = sorted(set(created) - set(since.etags) - since.removed)
        if not unreported:
            return set()
        found, failed = reports.bodies(self.dav, calendar_id, unreported)
        return {href for href in unreported if href not in found and href not in failed}

    def write(self, calendar_id, writes):
        results = Writer(self.dav, calendar_id, self.zones.get(calendar_id) or "UTC").write(writes)
        creates = {write.key for write in writes if write.kind == "create"}
        self.created += [split_id(result.remote_id)[0] for result in results
                         if result.key in creates and result.status == "ok" and result.remote_id]
        return results

    def cursor_after_writes(self, cursor: str) -> str:
        """What this run created after the cursor was taken, for the next run to know of: a token cursor keeps
        it to check, an ETag cursor as known with no ETag (changed, then, or gone: either is seen)."""
        state = _state(cursor)
        if not self.created:
            return cursor
        if "etags" in state:
            return _cursor(**{**state, "etags": {**dict.fromkeys(self.created, ""), **state["etags"]}})
        if state.get("token"):
            return _cursor(**state, created=sorted(set(self.created)))
        return cursor

    def _read(self, calendar_id, hrefs, known_series, given=None) -> tuple[list[RemoteEvent], dict[str, list[str]]]:
        """The remote events of these resources (their bodies `given`, or read now), and the keys of the
        changed occurrences of each series among them; a changed occurrence a series had and no longer has is
        reported gone."""
        events, series = [], {}
        zone = self.zones.get(calendar_id) or "UTC"
        given = {href: given[href] for href in hrefs if href in given} if given else {}
        for href, body, status in chain(((href, body, 0) for href, body in given.items()),
                                        reports.each_body(self.dav, calendar_id,  # parsed as the next come
                                                          [href for href in hrefs if href not in given])):
            if status:
                events.append(RemoteEvent(href, problem=f"it could not be read (the server answered {status})"))
                continue
            if body is None:
                events.append(RemoteEvent(href))  # gone since it was listed
                continue
            try:
                found = read(body, zone)
            except Cancelled:  # as Google and Graph report a cancelled event: deleted (a series with its occurrences)
                events.append(RemoteEvent(href))
                continue
            except NotAnEvent:
                continue  # a to-do or a journal in a calendar that holds them too: not the sync's business
            except Unreadable as exc:
                events.append(RemoteEvent(href, problem=str(exc)))
                continue
            except Exception as exc:  # noqa: BLE001 - whatever one resource holds, the others are read
                events.append(RemoteEvent(href, problem=unreadable(exc)))
                continue
            master, overrides = found.events[0], found.events[1:]
            events.append(RemoteEvent(href, fingerprint(master), master, found.updated.get("")))
            keys = [override.recurrence_id for override in overrides]
            events += [RemoteEvent(f"{href}{SEPARATOR}{override.recurrence_id}", fingerprint(override), override,
                                   found.updated.get(override.recurrence_id), series_id=href)
                       for override in overrides]
            for key in known_series.get(href, ()):  # changed occurrences the resource no longer holds
                if key in master.exdates:  # cancelled
                    events.append(RemoteEvent(f"{href}{SEPARATOR}{key}", series_id=href, occurrence=key))
                elif key not in keys:  # the series' own again
                    events.append(RemoteEvent(f"{href}{SEPARATOR}{key}"))
            if keys:
                series[href] = keys
        return events, series


def _state(cursor: str) -> dict:
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _cursor(**state) -> str:
    """A sync token, or a CTag and the ETags, with the changed occurrences of each series."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True)
