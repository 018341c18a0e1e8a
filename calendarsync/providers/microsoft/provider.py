"""Microsoft 365 / Outlook through Graph: calendarView delta for changes, $batch for writes.

Graph lists occurrences, never series, and says nothing of cancelled occurrences but `@removed`
(which also means "moved out of the window"). So each round resolves the series it touched: the
master (its rule) and its occurrences since it began, the cancelled ones being those the rule has
and Graph no longer does. An `@removed` id is asked for again: gone is a deletion, found is a move.
"""

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from calendarsync import app_settings
from crm.recurrence import RecurrenceError, last_start_bound, occurrence_key, occurrences_between

from ..base import CalendarInfo, CalendarProvider, Changes, FreeBusy, ProviderUnavailable, RemoteEvent, unreadable
from . import writes
from .graph import (
    BATCH_SIZE,
    LONGEST_VIEW,
    PAGE_SIZE,
    Graph,
    calendar_view_url,
    event_url,
    gone,
    instances_url,
    iso,
)
from .mapping import (
    Unreadable,
    from_graph,
    graph_instant,
    key_of,
    moment_of,
    occurrence_of,
    palette_of,
    pattern_of,
    storable,
)
from .zones import UnknownZone, iana

SLACK = timedelta(days=30)  # a delta round covers this much past the horizon, and is renewed once it is used up
NOWHERE = (datetime.min.replace(tzinfo=UTC),) * 2  # a span that covers nothing
MOVED = timedelta(days=62)  # how far a changed occurrence may have moved from its place and still be found
RESYNC_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}
# Outlook's calendar color names, as its apps paint them.
COLORS = {"lightBlue": "#a6d1f5", "lightGreen": "#87d28e", "lightOrange": "#fcab73", "lightGray": "#c0c0c0",
          "lightYellow": "#f4e570", "lightTeal": "#7ed9d2", "lightPink": "#f8a5c2", "lightBrown": "#cdac8b",
          "lightRed": "#f69a98", "maxColor": "", "auto": ""}
GRAPH = "https://graph.microsoft.com/"


NO_COLORS = ("Outlook's colors are not synced for this account: it was connected without permission to read "
             "its categories. Reconnect it to sync them.")


class DeltaExpired(Exception):
    """Graph no longer knows the round a delta link belongs to: only a new round will do."""


class MicrosoftProvider(CalendarProvider):
    scopes = ["offline_access", "User.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "MailboxSettings.Read"]
    required_scopes = {"Calendars.ReadWrite", "Calendars.Read.Shared"}  # colors only need MailboxSettings.Read
    write_batch = BATCH_SIZE

    def __init__(self, tokens, client, on_tokens, granted=None):
        super().__init__(tokens, client, on_tokens, granted)
        self.graph = Graph(tokens, client, on_tokens, self.usage, granted)
        self._palette = None

    @classmethod
    def missing_scopes(cls, granted: str) -> set[str]:
        short = {scope.removeprefix(GRAPH) for scope in granted.split()}  # Graph answers with full URIs
        return cls.required_scopes - short

    def storable(self, event):
        return storable(event, self.palette() if event.color else {})

    def palette(self) -> dict[str, str]:
        """The mailbox's colored categories (name -> #rrggbb), read once per run and only when needed. Without
        MailboxSettings.Read (an account connected before it was asked for), none: the sync goes on without
        colors, and says so."""
        if self._palette is None:
            answer = None
            if self.granted is None or "MailboxSettings.Read" in self.granted:
                answer = self.graph.call("GET", "me/outlook/masterCategories")
                if answer.status not in (200, 403):
                    raise ProviderUnavailable(answer.describe())
            if answer is None or answer.status == 403:
                self._palette = {}
                self.notices.append(NO_COLORS)
            else:
                self._palette = palette_of(answer.body.get("value", []))
        return self._palette

    def color_names(self) -> dict[str, str]:
        return self.palette()

    def _colors(self, item) -> dict[str, str]:
        return self.palette() if item.get("categories") else {}

    def inexact(self, event):
        if not event.rrule or event.recurrence_id:
            return ""
        try:
            lost = pattern_of(event)[1]
        except ValueError:
            return ""
        return (f"“{event.summary}” repeats in Outlook as closely as Outlook allows: {'; '.join(lost)}. "
                "The CRM keeps its own rule.") if lost else ""

    # Calendars

    def list_calendars(self) -> list[CalendarInfo]:
        me = self.graph.get("me")
        mailbox = (me.get("mail") or me.get("userPrincipalName") or "").lower()
        found = []
        for item in self.graph.pages("me/calendars?$top=100"):
            owner = ((item.get("owner") or {}).get("address") or "").lower()
            found.append(CalendarInfo(
                remote_id=item["id"], name=item.get("name") or item["id"],
                color=item.get("hexColor") or COLORS.get(item.get("color", ""), ""),
                # Shared calendars are read-only here: the app asks for Calendars.Read.Shared only.
                can_write=bool(item.get("canEdit")) and (not owner or owner == mailbox),
                is_primary=bool(item.get("isDefaultCalendar")), owner_email=owner))
        return found

    # Changes

    def changes(self, calendar_id, cursor, window):
        state = _state(cursor)
        if state and datetime.fromisoformat(state["end"]) >= window[1]:
            try:
                return self._changes(self._round(state["delta"]), window, state, full=False)
            except DeltaExpired:
                pass  # Graph forgot where we were: read everything again, deleting nothing for it
        end = window[1] + SLACK
        start = max(window[0], end - LONGEST_VIEW)  # older events are asked for by id when the engine needs them
        for _attempt in range(3):  # a round whose pages expire while read is started again
            query = urlencode({"startDateTime": iso(start), "endDateTime": iso(end)})
            try:
                items = self._round(f"me/calendars/{quote(calendar_id, safe='')}/calendarView/delta?{query}")
            except DeltaExpired:
                continue
            return self._changes(items, window, {"end": end.isoformat(), "series": {}}, full=True)
        raise ProviderUnavailable("Outlook kept expiring the listing of this calendar while it was read.")

    def listing(self, calendar_id, window):
        found, series = [], set()
        for item in self.graph.pages(calendar_view_url(calendar_id, *window)):
            self._sort(item, found, series)
        return _unique(found + self._series(sorted(series), window)[0])

    def _round(self, url) -> tuple[list[dict], str]:
        """Follow a delta round's pages to its delta link; (items, delta link)."""
        items = []
        while True:
            answer = self.graph.call("GET", url, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
            if answer.status == 410 or (400 <= answer.status < 500 and answer.code.lower() in RESYNC_CODES):
                raise DeltaExpired(answer.describe())
            if answer.status != 200:
                raise ProviderUnavailable(answer.describe())
            items += answer.body.get("value", [])
            url = answer.body.get("@odata.nextLink")
            if not url:
                return items, answer.body.get("@odata.deltaLink", "")

    def _changes(self, round_, window, state, *, full) -> Changes:
        """The round's items as changes. The cursor keeps, beside the delta link, each series of the window
        with its exceptions (id -> occurrence key): Graph reports a cancelled one as a bare `@removed` id."""
        items, delta_link = round_
        if not delta_link:
            raise ProviderUnavailable("Outlook ended a listing without a delta link.")
        known, digests = state["series"], state.get("occurrences", {})
        found, series, removed = [], set(), []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                found.append(RemoteEvent("", problem="it has no id"))
            elif "@removed" in item:
                removed.append(item["id"])
            else:
                self._sort(item, found, series)
        answers = {}
        if removed and not full:  # deleted, cancelled, or moved out of the window: ask, with the series it may be of
            exceptions = {exception_id: (series_id, key) for series_id, keys in known.items()
                          for exception_id, key in keys.items()}
            owners = sorted(_owners(removed, known, digests) - set(removed))  # a cancelled occurrence names none
            answered = self.get_events(removed + owners)  # in the same requests
            found += self._removed(removed, series, exceptions, answered[:len(removed)])
            answers = dict(zip(owners, answered[len(removed):], strict=True))
            series |= set(owners)
        resolved, alive, seen = self._series(sorted(series), window, known, answers)
        kept = {series_id: keys for series_id, keys in known.items() if series_id not in series}
        cursor = json.dumps({"delta": delta_link, "end": state["end"], "series": {**kept, **alive},
                             "occurrences": {**{series_id: digests[series_id] for series_id in kept
                                                if series_id in digests}, **seen}})
        return Changes(_unique(found + resolved), cursor, full)

    def _sort(self, item, found, series):
        """A live event of a listing: a single event is reported; an occurrence or exception names its series."""
        kind = item.get("type")
        if kind in ("occurrence", "exception"):
            if isinstance(item.get("seriesMasterId"), str) and item["seriesMasterId"]:
                series.add(item["seriesMasterId"])
        elif kind == "seriesMaster":
            series.add(item["id"])
        else:
            found.append(self._remote(item))

    def _removed(self, ids, series, exceptions, answered=None) -> list[RemoteEvent]:
        """These events as they are now (`answered`: Graph's answers for them, if asked already): gone ones as
        deletions (a known exception's as the cancellation of its occurrence), live ones sorted as a listing's."""
        found = []
        for remote_id, answer in zip(ids, answered if answered is not None else self.get_events(ids), strict=True):
            if gone(answer):
                series_id, key = exceptions.get(remote_id, ("", ""))
                found.append(RemoteEvent(remote_id, series_id=series_id, occurrence=key))
            elif answer.status == 200:
                self._sort(answer.body, found, series)
            else:
                raise ProviderUnavailable(answer.describe())
        return found

    def get_events(self, ids):
        """Each event by id, as Graph answers (404: deleted), in $batch requests."""
        return self.graph.batch([{"method": "GET", "url": event_url(remote_id)} for remote_id in ids])

    def _series(self, ids, window, known=None, answered=None) -> tuple[list[RemoteEvent], dict, dict]:
        """Each series as it is now (its cancelled occurrences as exception dates) and its exceptions; a
        deleted one as a deletion. Returns them, the exceptions (id -> key) of each series alive, and the
        digests of its occurrences' ids (which series a removed id may have been an occurrence of).
        `known`: the exceptions each series had, which Outlook makes plain occurrences again when the series
        is rebuilt (its times or rule changed): those are reported as they now are. `answered`: the masters
        Graph was asked for already, by id."""
        known, answered = known or {}, dict(answered or {})
        asking = [remote_id for remote_id in ids if remote_id not in answered]
        answered.update(zip(asking, self.get_events(asking), strict=True))
        found, masters = [], {}
        for remote_id, answer in ((remote_id, answered[remote_id]) for remote_id in ids):
            if gone(answer):
                found.append(RemoteEvent(remote_id))
            elif answer.status == 200 and answer.body.get("type") != "seriesMaster":
                found.append(self._remote(answer.body))  # a series no more: a single event now
            elif answer.status == 200:
                masters[remote_id] = answer.body
            else:
                raise ProviderUnavailable(answer.describe())
        alive, seen = {}, {}
        spans = {remote_id: _span(master, window[1]) for remote_id, master in masters.items()}
        asked = [(remote_id, *span.asked) for remote_id, span in spans.items() if span]
        found_instances = dict(zip([remote_id for remote_id, *_ in asked], self.instances(asked), strict=True))
        for remote_id, master in masters.items():
            instances = found_instances.get(remote_id, [])
            events = self._series_events(master, instances, spans[remote_id], known.get(remote_id, {}))
            found += events
            if not _ended(events[0].event, datetime.now(UTC) - MOVED):  # not checked again at each deletion
                alive[remote_id] = {item["id"]: key for item in instances if item.get("type") == "exception"
                                    and (key := key_of(item))}
                seen[remote_id] = "".join(sorted({_digest(item["id"]) for item in instances}))
        return found, alive, seen

    def instances(self, asked) -> list[list[dict]]:
        """The occurrences and exceptions Graph has of each (series id, start, end), every page."""
        requests_ = [{"method": "GET", "url": instances_url(series_id, start, end),
                      "headers": {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}} for series_id, start, end in asked]
        found = []
        for answer in self.graph.batch(requests_):
            if answer.status != 200:
                raise ProviderUnavailable(answer.describe())
            found.append(list(self.graph.pages(first=answer.body)))
        return found

    def fetch(self, calendar_id, remote_ids):
        series = set()
        found = self._removed(remote_ids, series, {})
        until = datetime.now(UTC) + timedelta(days=app_settings.HORIZON_DAYS) + SLACK
        return _unique(found + self._series(sorted(series), (None, until))[0])

    def _series_events(self, master, instances, span, known) -> list[RemoteEvent]:
        """A series and its exceptions from its master and every occurrence Graph has of it (and the plain
        occurrences that were exceptions, `known`, reverted by a rebuild)."""
        try:
            event = from_graph(master)
            have = {occurrence_of(item, event.time_zone) for item in instances}
            cancelled = _cancelled(event, have, span.covered) if span else set()
        except (Unreadable, RecurrenceError) as exc:
            return [RemoteEvent(master["id"], problem=str(exc))]
        except Exception as exc:  # anything else Graph may hold: that series is skipped, never the listing
            return [RemoteEvent(master["id"], problem=unreadable(exc))]
        found = [RemoteEvent(master["id"], master.get("@odata.etag", ""),
                             from_graph(master, exdates=cancelled, palette=self._colors(master)), _updated(master),
                             covered=span.covered if span else NOWHERE)]
        for item in instances:
            if item.get("type") == "exception" or item["id"] in known:
                found.append(self._remote(item, uid=event.uid))
        return found

    def _remote(self, item, uid="") -> RemoteEvent:
        try:
            return RemoteEvent(item["id"], item.get("@odata.etag", ""),
                               from_graph(item, uid=uid, palette=self._colors(item)), _updated(item),
                               series_id=item.get("seriesMasterId") or "")
        except Unreadable as exc:
            return RemoteEvent(item["id"], problem=str(exc))
        except Exception as exc:  # anything else Graph may send: that event is skipped, never the listing
            return RemoteEvent(item["id"], problem=unreadable(exc))

    # Writes

    def write(self, calendar_id, writes_):
        return writes.Writer(self, calendar_id).write(writes_)

    # Free/busy

    def free_busy(self, calendar_ids, start, end):
        """Each calendar's view of the window, all in one `$batch` (20 calendars a request), in UTC: what Outlook
        shows as busy, tentative or out of office. (getSchedule answers by mailbox address for its default
        calendar only, and not which calendar a time comes from.)"""
        found = {}
        requests_ = [{"method": "GET", "url": f"{calendar_view_url(cid, start, end)}&{BUSY_FIELDS}",
                      "headers": {"Prefer": f'outlook.timezone="UTC", odata.maxpagesize={PAGE_SIZE}'}}
                     for cid in calendar_ids]
        for calendar_id, answer in zip(calendar_ids, self.graph.batch(requests_), strict=True):
            if answer.status != 200:
                found[calendar_id] = FreeBusy(problem=f"Outlook answered {answer.describe()}")
                continue
            try:
                found[calendar_id] = FreeBusy(tuple(sorted(
                    _busy_span(item) for item in self.graph.pages(first=answer.body)
                    if item.get("showAs", "busy") in BUSY_STATUSES and not item.get("isCancelled"))))
            except (KeyError, TypeError, ValueError, Unreadable) as exc:
                found[calendar_id] = FreeBusy(problem=f"Outlook sent what could not be read ({exc})")
        return found


BUSY_FIELDS = "$select=showAs,isCancelled,isAllDay,start,end,originalStartTimeZone"
BUSY_STATUSES = {"busy", "tentative", "oof", "unknown"}  # free and working elsewhere leave one available


def _busy_span(item: dict) -> tuple[datetime, datetime]:
    """An event's busy time as instants; an all-day one covers its days in its own zone (for a zone of Outlook's
    own, such as "Customized Time Zone", the instants Graph gave)."""
    all_day = bool(item.get("isAllDay"))
    try:
        start, end = (moment_of(item[name], all_day, item) for name in ("start", "end"))
        if not all_day:
            return start, end
        zone = ZoneInfo(iana(item.get("originalStartTimeZone") or "UTC"))
    except (Unreadable, UnknownZone):
        return graph_instant(item["start"]["dateTime"]), graph_instant(item["end"]["dateTime"])
    return datetime.combine(start, datetime.min.time(), zone), datetime.combine(end, datetime.min.time(), zone)


def _digest(remote_id: str) -> str:
    """Six characters standing for an event id: a cursor keeps them for each occurrence of each series."""
    return base64.urlsafe_b64encode(hashlib.blake2b(remote_id.encode(), digest_size=4).digest())[:6].decode()


def _owners(removed, known, digests) -> set[str]:
    """The series that removed ids may have been occurrences of, found by their digests: only those are read
    again (a cursor of an earlier version, without digests, has each of its series read once)."""
    index = {}
    for series_id, text in digests.items():
        for start in range(0, len(text), 6):
            index.setdefault(text[start:start + 6], set()).add(series_id)
    owners = {series_id for series_id in known if series_id not in digests}
    for remote_id in removed:
        owners |= index.get(_digest(remote_id), set())
    return owners


class Span(NamedTuple):
    """Where a series' cancelled occurrences are known (`covered`), and the range asked of Graph for them: wider,
    so that an occurrence moved a little out of the covered range is still found (not taken as cancelled)."""

    covered: tuple[datetime, datetime]
    asked: tuple[datetime, datetime]


def _span(master, until) -> Span | None:
    """From the series' start (or as far back as one request of Graph reaches) to `until`; None for a series
    that starts later."""
    first = graph_instant(master["start"]["dateTime"])
    low = max(first, until - LONGEST_VIEW + 2 * MOVED)
    if low >= until:
        return None
    return Span((low, until), (low - MOVED, until + MOVED))


def _ended(event, since) -> bool:
    """Whether a series' last occurrence started before `since`."""
    if event is None:
        return False
    try:
        last = last_start_bound(rrule=event.rrule, start=event.start)
    except (RecurrenceError, ValueError):
        return False
    if last is None:
        return False
    return (last < since.date()) if isinstance(last, date) and not isinstance(last, datetime) else last < since


def _cancelled(event, have, covered) -> set[str]:
    """The occurrences the rule has in the covered range that Graph does not."""
    zone_start = event.start if event.all_day else event.start.astimezone(ZoneInfo(event.time_zone or "UTC"))
    low, high = (moment.date() for moment in covered) if event.all_day else covered
    expected = {occurrence_key(begin) for begin, _ in occurrences_between(
        rrule=event.rrule, exdates=[], start=zone_start, end=zone_start + (event.end - event.start),
        window_start=low, window_end=high)}
    missing = expected - have
    # An occurrence Graph places differently (a wall-clock time a DST change skips) is not a cancelled one.
    odd_days = {key[:8] for key in have - expected}
    return {key for key in missing if key[:8] not in odd_days}


def _unique(found) -> list[RemoteEvent]:
    """One report per event (Graph may repeat one in a round), the last one kept."""
    return list({remote.remote_id: remote for remote in found}.values())


def _state(cursor):
    try:
        state = json.loads(cursor) if cursor else None
    except ValueError:
        return None
    if not isinstance(state, dict) or not {"delta", "end", "series"} <= set(state) \
            or not isinstance(state["series"], dict):
        return None
    return state


def _updated(item):
    text = item.get("lastModifiedDateTime")
    return graph_instant(text) if text else None


