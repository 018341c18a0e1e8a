"""A calendar service held in memory behind the provider interface, for fast tests of the engine.

It keeps what the engine relies on in the real services: ids chosen from the write's key (a retried
create finds its event), ETags that every change renews, a change log read through cursors that the
service may forget (then the listing is full), series whose cancelled occurrences are reported on
their own, and faults: a refusal before a call, or the answer lost after the writes were made.
"""

import hashlib
import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from calendarsync.core.event import overlaps

from .base import (
    CalendarInfo,
    CalendarProvider,
    Changes,
    FreeBusy,
    ProviderUnavailable,
    RemoteEvent,
    Tokens,
    WriteResult,
)
from .busy import busy_intervals

BATCH_SIZE = 50


@dataclass
class Entry:
    event: object  # core.Event, or None once deleted
    etag: str
    seq: int
    updated: datetime
    series_id: str = ""
    occurrence: str = ""


@dataclass
class Fault:
    on: str  # "changes" or "write"
    error: Exception
    after: bool = False  # the writes are made, then the answer is lost
    times: int = 1


@dataclass
class MemoryCalendar:
    info: CalendarInfo
    entries: dict[str, Entry] = field(default_factory=dict)
    epoch: int = 0  # bumped when the service forgets its cursors


class MemoryService:
    """The state every MemoryProvider on it shares, and the controls a test uses on it."""

    def __init__(self):
        self.calendars: dict[str, MemoryCalendar] = {}
        self.faults: list[Fault] = []
        self.spoiled: set[str] = set()  # ids of events listed as unreadable
        self._seq = itertools.count(1)

    def add_calendar(self, remote_id, name="", *, can_write=True, is_primary=False) -> MemoryCalendar:
        calendar = MemoryCalendar(CalendarInfo(remote_id, name or remote_id, "", can_write, is_primary))
        self.calendars[remote_id] = calendar
        return calendar

    def put(self, calendar_id, remote_id, event, *, series_id="", occurrence="") -> Entry:
        """Store an event (None: delete it) as the service would after any client's write."""
        seq = next(self._seq)
        old = self.calendars[calendar_id].entries.get(remote_id)
        entry = Entry(event, f'"{seq}"', seq, datetime.now(UTC), series_id or (old.series_id if old else ""),
                      occurrence or (old.occurrence if old else ""))
        self.calendars[calendar_id].entries[remote_id] = entry
        return entry

    def live(self, calendar_id) -> dict:
        """Every live event of a calendar, by id."""
        return {remote_id: entry.event for remote_id, entry in self.calendars[calendar_id].entries.items()
                if entry.event is not None}

    def forget_cursors(self, calendar_id):
        self.calendars[calendar_id].epoch += 1

    def fail(self, on, error=None, *, after=False, times=1):
        self.faults.append(Fault(on, error or ProviderUnavailable("The service is unavailable."), after, times))

    def _fault(self, on, after) -> Exception | None:
        for fault in self.faults:
            if fault.on == on and fault.after == after:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.error
        return None


class MemoryProvider(CalendarProvider):
    scopes: list[str] = []
    required_scopes: set[str] = set()
    write_batch = BATCH_SIZE

    def __init__(self, service: MemoryService):
        super().__init__(Tokens("", "", None), None, lambda tokens: None)
        self.service = service

    def list_calendars(self):
        self.usage.requests += 1
        return [calendar.info for calendar in self.service.calendars.values()]

    def changes(self, calendar_id, cursor, window):
        self._refuse("changes", after=False)
        self.usage.requests += 1
        calendar = self.service.calendars[calendar_id]
        epoch, _, since = cursor.partition(":")
        full = not cursor or int(epoch) != calendar.epoch
        if full:
            found = _in_window(calendar, window)
        else:
            found = [(remote_id, entry) for remote_id, entry in calendar.entries.items() if entry.seq > int(since)]
        seq = max((entry.seq for entry in calendar.entries.values()), default=0)
        return Changes(self._remote_events(calendar, found, full), f"{calendar.epoch}:{seq}", full)

    def _remote_events(self, calendar, found, full):
        """As Google reports them: a cancelled occurrence is a deletion of its own id, and an exception date
        of its series when the series is listed too (a full listing shows those of the series it holds)."""
        cancelled = {}
        for remote_id, entry in calendar.entries.items():
            if entry.event is None and entry.occurrence:
                cancelled.setdefault(entry.series_id, {})[remote_id] = entry
        live_series = {remote_id for remote_id, entry in found if entry.event is not None and entry.event.rrule}
        if full:
            found = found + [item for series_id in live_series for item in cancelled.get(series_id, {}).items()]
        events = []
        for remote_id, entry in found:
            event = entry.event
            if remote_id in self.service.spoiled:
                events.append(RemoteEvent(remote_id, entry.etag, problem="it was spoiled by a test"))
            elif event is not None:
                keys = {other.occurrence for other in cancelled.get(remote_id, {}).values()}
                if event.rrule and keys:
                    event = replace(event, exdates=tuple(sorted({*event.exdates, *keys})))
                events.append(RemoteEvent(remote_id, entry.etag, event, entry.updated, series_id=entry.series_id))
            elif entry.occurrence and entry.series_id not in live_series:
                events.append(RemoteEvent(remote_id, entry.etag, series_id=entry.series_id,
                                          occurrence=entry.occurrence))
            else:
                events.append(RemoteEvent(remote_id, entry.etag))
        return events

    def listing(self, calendar_id, window):
        self._refuse("changes", after=False)
        self.usage.requests += 1
        calendar = self.service.calendars[calendar_id]
        return self._remote_events(calendar, _in_window(calendar, window), full=True)

    def fetch(self, calendar_id, remote_ids):
        self._refuse("changes", after=False)
        self.usage.requests += -(-len(remote_ids) // BATCH_SIZE)
        calendar = self.service.calendars[calendar_id]
        found = [(remote_id, calendar.entries[remote_id]) for remote_id in remote_ids if remote_id in calendar.entries]
        unknown = [RemoteEvent(remote_id) for remote_id in remote_ids if remote_id not in calendar.entries]
        return self._remote_events(calendar, found, full=False) + unknown

    def write(self, calendar_id, writes):
        self._refuse("write", after=False)
        calendar = self.service.calendars[calendar_id]
        self.usage.requests += -(-len(writes) // BATCH_SIZE)
        results = [self._write(calendar_id, calendar, write) for write in writes]
        self._refuse("write", after=True)
        return results

    def _write(self, calendar_id, calendar, write):
        if write.kind == "create":
            if write.event.recurrence_id:
                series = calendar.entries.get(write.remote_id)
                if series is None or series.event is None:
                    return WriteResult(write.key, "gone")
                remote_id = f"{write.remote_id}_{write.event.recurrence_id}"
                entry = self.service.put(calendar_id, remote_id, write.event, series_id=write.remote_id,
                                         occurrence=write.event.recurrence_id)
            else:
                remote_id = "m" + hashlib.sha256(write.key.encode()).hexdigest()[:24]
                entry = self.service.put(calendar_id, remote_id, write.event)
            return WriteResult(write.key, "ok", remote_id, entry.etag)
        entry = calendar.entries.get(write.remote_id)
        if entry is None or entry.event is None:
            return WriteResult(write.key, "gone")
        if write.etag and write.etag != entry.etag:
            return WriteResult(write.key, "stale")
        entry = self.service.put(calendar_id, write.remote_id, write.event if write.kind == "update" else None)
        return WriteResult(write.key, "ok", write.remote_id, entry.etag)

    def free_busy(self, calendar_ids, start, end):
        self.usage.requests += 1
        return {calendar_id: FreeBusy(tuple(busy_intervals(list(self.service.live(calendar_id).values()), start, end)))
                for calendar_id in calendar_ids}

    def _refuse(self, on, *, after):
        error = self.service._fault(on, after)
        if error is not None:
            raise error


def _in_window(calendar, window) -> list:
    return [(remote_id, entry) for remote_id, entry in calendar.entries.items()
            if entry.event is not None and overlaps(entry.event, *window)]
