"""Writing to a CalDAV calendar: one PUT or DELETE per resource touched, a few resources at a time.

A resource holds a series with its changed occurrences, so the writes of one call are gathered by resource:
its current body comes by multiget (with the others'), each write is applied to the events it holds (the
precondition of an update or deletion is the component's fingerprint, as read), and the result goes back
in one conditional request: `If-Match` on the resource's ETag (read again by GET where the multiget gave
none: never a write without a condition), or `If-None-Match: *` for a new resource, named after the event's
UID, so that a create retried after a lost answer finds the resource it made; one the server refuses because
another resource has the UID (no-uid-conflict) is made in that one. A 412 means someone wrote meanwhile: the
resource is read again and the writes applied again, once; a second 412 makes them "stale", and the engine
pulls before it tries again. A series moved or given another rule takes its changed occurrences along (those
it no longer has go) and says `rebuilt`. Refusals say which precondition failed. Servers are slow to write
(Radicale takes about 65 ms per PUT here): resources go `PARALLEL` at a time, never one by one, never
unbounded, and each one's outcome is its own.
"""

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from xml.etree.ElementTree import Element, ParseError, SubElement
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from calendarsync.core.normalize import fingerprint, normalized
from crm.recurrence import RecurrenceError, keys_among, same_start, shift_key

from ..base import AuthorizationLost, ProviderUnavailable, WriteResult
from . import reports
from .dav import CALDAV, DAV, DavError, path_of, qname
from .mapping import Cancelled, Unreadable, read, uid_of, write

PARALLEL = 4  # requests in flight to one server
SAFE_NAME = re.compile(r"[A-Za-z0-9@._-]{1,200}")
KEY = re.compile(r"\d{8}(T\d{6}Z)?")
SEPARATOR = "#"


def storable(event):
    """The event as a CalDAV resource holds it here: without the CRM's color (iCalendar's COLOR is a CSS color
    name, not read yet), so that what is written and what is read back have one fingerprint."""
    return replace(event, color="")


def split_id(remote_id: str) -> tuple[str, str]:
    """A remote id as (the resource's path, the key of a changed occurrence or "")."""
    href, separator, key = remote_id.rpartition(SEPARATOR)
    return (href, key) if separator and KEY.fullmatch(key) else (remote_id, "")


def resource_name(uid: str) -> str:
    """The name of a new resource: its UID where that makes a plain file name, else a digest of it."""
    return f"{uid}.ics" if SAFE_NAME.fullmatch(uid) and not uid.startswith(".") else \
        f"{hashlib.sha256(uid.encode()).hexdigest()[:40]}.ics"


class Writer:
    def __init__(self, dav, calendar_id: str, zone: str = "UTC"):
        self.dav, self.calendar_id, self.zone = dav, calendar_id, zone

    def write(self, writes) -> list[WriteResult]:
        resources: dict[str, list] = {}  # href -> the writes to that resource
        for item in writes:
            href = self.calendar_id + resource_name(item.event.uid) if item.kind == "create" and \
                not item.event.recurrence_id else split_id(item.remote_id)[0]
            resources.setdefault(href, []).append(item)
        existing = {href for href, items in resources.items()
                    if any(item.kind != "create" or item.event.recurrence_id for item in items)}
        held, unreadable = reports.bodies(self.dav, self.calendar_id, sorted(resources), expected=existing)
        done = [[WriteResult(item.key, "failed", item.remote_id, message=f"the server would not give the event "
                             f"({unreadable[href]})") for item in resources.pop(href)] for href in unreadable]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:  # nothing is written over what could not be read
            running = {href: pool.submit(self._resource, href, items, held.get(href))
                       for href, items in resources.items()}
        ending = None
        for href, future in running.items():  # each resource's outcome on its own: one failing loses no other's
            try:
                done.append(future.result())
            except (AuthorizationLost, ProviderUnavailable) as exc:
                ending = ending or exc
                done.append([WriteResult(item.key, "failed", item.remote_id, message=str(exc))
                             for item in resources[href]])
            except Exception as exc:  # noqa: BLE001 - whatever went wrong with one resource, the others are kept
                why = f"it could not be written ({type(exc).__name__}: {exc})"[:300]
                done.append([WriteResult(item.key, "failed", item.remote_id, message=why) for item in resources[href]])
        results = {result.key: result for found in done for result in found}
        if ending is not None and not any(result.status == "ok" for result in results.values()):
            raise ending  # nothing written to lose: the run ends (the account, the server's space), the outbox kept
        return [results[item.key] for item in writes]

    def _resource(self, href: str, writes, held: tuple[str, bytes] | None, found=False) -> list[WriteResult]:
        for attempt in range(2):
            if held is not None and not held[0]:  # never written over without a condition: GET gives an ETag
                held, problem = self._with_etag(href)
                if problem:
                    return [WriteResult(item.key, "failed", item.remote_id, message=problem) for item in writes]
            results, body, delete = self._apply(href, writes, held)
            if not any(result.status == "ok" for result in results):
                return results
            etag = held[0] if held else ""
            if delete:
                response = self.dav.delete(href, etag=etag)
            else:
                response = self.dav.put(href, body, etag=etag, create=held is None)
            if response.status_code in (200, 201, 204) or (delete and response.status_code == 404):
                return results
            refusal = _refusal(response)
            if refusal.precondition == "no-uid-conflict" and held is None and not delete and not found:
                return self._found_elsewhere(href, writes, refusal.href)
            if response.status_code != 412:
                return [_failed(result, response) if result.status == "ok" else result for result in results]
            if attempt == 0:  # written meanwhile: read it again, apply the writes again
                held = reports.bodies(self.dav, self.calendar_id, [href])[0].get(href)
        return [WriteResult(result.key, "stale", result.remote_id, message="changed on the server meanwhile")
                if result.status == "ok" else result for result in results]

    def _found_elsewhere(self, href: str, writes, named: str) -> list[WriteResult]:
        """A create refused because another resource of the calendar has the event's UID (RFC 4791 5.3.2.1; Radicale
        answers 409, Xandikos 412): that resource is the event, written by another client or an earlier attempt,
        and the create is made there, as a retried create is, never beside it."""
        uid = next(item.event.uid for item in writes if item.kind == "create")
        other = named or self._holding(uid)
        held = reports.bodies(self.dav, self.calendar_id, [other])[0].get(other) if other else None
        if held is None:
            return [WriteResult(item.key, "failed", item.remote_id, message="the server says another event of the "
                                "calendar has its UID, and that event cannot be found") for item in writes]
        return self._resource(other, writes, held, found=True)

    def _holding(self, uid: str) -> str:
        """The resource of the calendar whose UID is `uid` ("" if none is found), by calendar-query on UID."""
        query = Element(qname(CALDAV, "calendar-query"))
        SubElement(SubElement(query, qname(DAV, "prop")), qname(DAV, "getetag"))
        calendar = SubElement(SubElement(query, qname(CALDAV, "filter")), qname(CALDAV, "comp-filter"),
                              name="VCALENDAR")
        event = SubElement(calendar, qname(CALDAV, "comp-filter"), name="VEVENT")
        match = SubElement(SubElement(event, qname(CALDAV, "prop-filter"), name="UID"), qname(CALDAV, "text-match"),
                           collation="i;octet")
        match.text = uid  # a substring match: the bodies tell which is the UID itself
        try:
            listed = self.dav.report(self.calendar_id, query, depth=1).resources
        except DavError:
            return ""
        hrefs = [item.href for item in listed if item.status == 200 and item.href.rstrip("/") !=
                 self.calendar_id.rstrip("/")]
        bodies = reports.bodies(self.dav, self.calendar_id, hrefs)[0]
        return next((href for href in hrefs if href in bodies and uid_of(bodies[href][1]) == uid), "")

    def _with_etag(self, href: str) -> tuple[tuple[str, bytes] | None, str]:
        """The resource and its ETag by GET (None if it is gone), or why it cannot be written."""
        response = self.dav.get(href)
        if response.status_code in (404, 410):
            return None, ""
        if response.status_code != 200:
            return None, f"the server would not give the event ({response.status_code})"
        if not response.headers.get("ETag"):
            return None, "the server gives no ETag for the event: it could be written over another client's change"
        return (response.headers["ETag"], response.content), ""

    def _apply(self, href: str, writes, held) -> tuple[list[WriteResult], bytes, bool]:
        """The writes applied to the events the resource holds: their results (before the request that makes
        them so), the new body, and whether the resource is to be deleted."""
        events = []
        if held is not None:
            try:
                events = read(held[1], self.zone).events
            except Cancelled:
                pass  # deleted, as it reads: an update finds it gone, a create writes it anew (over its ETag)
            except Unreadable as exc:
                return [WriteResult(item.key, "failed", item.remote_id, message=f"the event on the server: {exc}")
                        for item in writes], b"", False
        by_key = {event.recurrence_id: event for event in events}
        results, delete = [], False
        for item in writes:
            key = item.event.recurrence_id if item.kind == "create" else split_id(item.remote_id)[1]
            remote_id = href + (f"{SEPARATOR}{key}" if key else "")
            current = by_key.get(key)
            if item.kind == "create":
                if key and "" not in by_key:
                    results.append(WriteResult(item.key, "gone", remote_id))  # no series to change it in
                    continue
                by_key[key] = storable(item.event)  # a create retried finds its resource: made what it meant
            elif current is None:
                results.append(WriteResult(item.key, "gone", remote_id))
                continue
            elif item.kind == "update" and fingerprint(current) == fingerprint(replace(storable(item.event),
                                                                                      uid=current.uid)):
                # Already as meant: an earlier attempt landed and its answer was lost (its retry meets a 412)
                results.append(WriteResult(item.key, "ok", remote_id, fingerprint(current)))
                continue
            elif item.etag and fingerprint(current) != item.etag:
                results.append(WriteResult(item.key, "stale", remote_id, message="changed on the server"))
                continue
            elif item.kind == "delete":
                if key:  # deleting a changed occurrence cancels it, as in every calendar
                    by_key.pop(key)
                    by_key[""] = replace(by_key[""], exdates=tuple(sorted({*by_key[""].exdates, key})))
                else:
                    delete = True
            else:  # the resource keeps its UID: servers refuse to change it (RFC 4791 5.3.2.1)
                by_key[key] = replace(storable(item.event), uid=current.uid)
            written = by_key.get(key)
            results.append(WriteResult(item.key, "ok", remote_id,
                                       fingerprint(written) if written is not None and not delete else ""))
        if delete or "" not in by_key:
            return results, b"", True
        moved = {}
        if events and not events[0].recurrence_id and by_key[""] is not events[0]:
            by_key, moved, rebuilt = _following(events[0], by_key, {event.recurrence_id for event in events[1:]})
            if rebuilt:  # the engine writes the CRM's changed occurrences again, as Outlook's rebuilt series have
                results = [replace(result, rebuilt=True) if result.remote_id == href and result.status == "ok"
                           else result for result in results]
        ordered = [by_key[""], *(by_key[key] for key in sorted(by_key) if key)]
        return results, write(ordered, held[1] if held else None, self.zone, moved), False


def _following(before, by_key: dict, held: set[str]) -> tuple[dict, dict[str, str], bool]:
    """The events of a resource whose series may have moved or changed its rule: its changed occurrences that
    were held follow their occurrence as the CRM's own do (crm.services), those the series no longer has go.
    Returns the events, the key each moved one was held under (by its new key), and whether any moved or went."""
    series = by_key[""]
    keys = sorted(key for key in by_key if key in held)
    if not keys:
        return by_key, {}, False
    try:
        old_start, new_start = _start(before), _start(series)
        if same_start(old_start, new_start) and normalized(before).rrule == normalized(series).rrule:
            return by_key, {}, False
        choices = {key: [shift_key(key, old_start=old_start, new_start=new_start),
                         shift_key(key, old_start=old_start, new_start=new_start, keep_date=True)] for key in keys}
        existing = keys_among([choice for pair in choices.values() for choice in pair], rrule=series.rrule,
                              exdates=[], start=new_start) if series.rrule else set()
    except (RecurrenceError, ValueError, OverflowError):
        choices, existing = dict.fromkeys(keys, []), set()  # occurrences that cannot be followed go
    following = {key: event for key, event in by_key.items() if key not in held}
    moved = {}
    for key in keys:
        new_key = next((choice for choice in choices[key] if choice in existing), None)
        if new_key is not None and new_key not in following:
            following[new_key] = replace(by_key[key], recurrence_id=new_key)
            if new_key != key:
                moved[new_key] = key
    return following, moved, bool(moved) or len(following) < len(by_key)


def _start(event):
    """A series' start as crm.recurrence has it: a date, or a time in the series' zone."""
    return event.start if event.all_day else event.start.astimezone(ZoneInfo(event.time_zone or "UTC"))


READ_ONLY = "the server refused the change (the calendar is read-only for this account)"
# The preconditions of a PUT a server may name (RFC 4791 5.3.2.1, RFC 4918 16), in words for the run's report.
REFUSALS = {
    "need-privileges": READ_ONLY,
    "supported-calendar-data": "the server does not take the event's calendar data (supported-calendar-data)",
    "valid-calendar-data": "the server found the event's iCalendar invalid (valid-calendar-data)",
    "valid-calendar-object-resource": "the server does not take the event as a calendar object: it breaks one "
                                      "of its rules for them (valid-calendar-object-resource)",
    "supported-calendar-component": "the calendar does not take events (supported-calendar-component)",
    "calendar-collection-location-ok": "the server takes no event at this place in the calendar "
                                       "(calendar-collection-location-ok)",
    "max-resource-size": "the event is larger than the server takes (max-resource-size)",
    "min-date-time": "the event is earlier than the server takes (min-date-time)",
    "max-date-time": "the event is later than the server takes (max-date-time)",
    "max-instances": "the series has more occurrences than the server takes (max-instances)",
    "max-attendees-per-instance": "the event has more attendees than the server takes (max-attendees-per-instance)",
    "no-uid-conflict": "another event of the calendar has the event's UID (no-uid-conflict)",
}


@dataclass(frozen=True)
class Refusal:
    precondition: str = ""  # the DAV:error element the server named, if any
    href: str = ""  # the resource it names (no-uid-conflict), as a path
    words: str = ""  # its DAV:responsedescription


def _refusal(response) -> Refusal:
    """What a refused request's body says (RFC 4918 16: a DAV:error naming the precondition that failed)."""
    if b"<" not in response.content[:200]:
        return Refusal()
    try:
        root = fromstring(response.content)
    except (ParseError, DefusedXmlException, ValueError):
        return Refusal()
    if root.tag != qname(DAV, "error"):
        return Refusal()
    named = [child for child in root if child.tag.startswith((f"{{{DAV}}}", f"{{{CALDAV}}}"))
             and child.tag != qname(DAV, "responsedescription")]  # SabreDAV adds elements of its own
    href = named[0].findtext(qname(DAV, "href")) if named else None
    return Refusal(named[0].tag.rpartition("}")[2] if named else "", path_of(href) if href else "",
                   " ".join((root.findtext(qname(DAV, "responsedescription")) or "").split())[:200])


def _failed(result: WriteResult, response) -> WriteResult:
    status = response.status_code
    if status == 404:
        return WriteResult(result.key, "gone", result.remote_id)
    if status == 507:
        raise ProviderUnavailable("The CalDAV server is out of space (507): the changes wait until it has room.")
    refusal = _refusal(response)
    if refusal.precondition:
        message = REFUSALS.get(refusal.precondition, f"the server refused the change ({refusal.precondition})")
    elif status == 403:  # no precondition named: a calendar this account may only read
        message = READ_ONLY
    elif status == 413:
        message = REFUSALS["max-resource-size"].replace(" (max-resource-size)", "")
    else:
        message = f"the server refused the change ({status})"
    if refusal.words and message != READ_ONLY:
        message += f": “{refusal.words}”"
    return WriteResult(result.key, "failed", result.remote_id, message=message)
