"""What a calendar holds and what changed in it, in as few requests as the server allows.

- changes since a sync token (RFC 6578 sync-collection): hrefs, ETags and bodies of what changed (the bodies
  asked for in the report itself, which saves the multiget where the server gives them), and what went; a
  first token from the collection's sync-token property;
- the resources whose time meets a window (RFC 4791 calendar-query with a time-range), hrefs and ETags only;
- every resource's ETag (one PROPFIND of depth 1): for servers without sync-collection, compared with the
  ETags known, behind the collection's CTag (getctag) that says whether anything changed at all;
- bodies, by calendar-multiget, many at a time; one GET only for a resource the multiget did not give.

Bodies come a chunk at a time, and while the caller parses one chunk the next ones are being asked for
(MULTIGET_AHEAD requests in flight at most, on threads of their own): the server's time and the wait for its
answers overlap with the parsing, which is this process's (threads share the interpreter: what overlaps is
the waiting, not two parses).
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from xml.etree.ElementTree import Element, SubElement

from icalendar import Calendar

from .dav import CALDAV, CALSERVER, DAV, Dav, DavError, qname, quote_path, serialize

MULTIGET_CHUNK = 100  # hrefs per calendar-multiget: large enough to be few, small enough for any server
NOT_OFFERED = {400, 403, 404, 405, 415, 501}  # how servers without free-busy-query refuse it
MULTIGET_AHEAD = 2  # multigets in flight while the caller reads: the server is never idle, nor flooded


class NoSyncCollection(Exception):
    """The server has no sync-collection report (supported-report, 405 or 501): its ETags will do."""


class TokenExpired(Exception):
    """The server no longer knows the sync token (403 or 409 with valid-sync-token, RFC 6578 3.2): only a
    full listing will do."""


@dataclass(frozen=True)
class Listing:
    etags: dict[str, str]  # href -> ETag of what exists (or changed)
    removed: frozenset[str] = frozenset()  # hrefs that went (sync-collection only)
    token: str = ""
    bodies: dict[str, bytes] = field(default_factory=dict)  # href -> iCalendar, where the report gave them


def sync_collection(dav: Dav, path: str, token: str, *, with_bodies: bool = False) -> Listing:
    """What changed in the collection since `token` ("" for everything), and the token to ask with next;
    `with_bodies`, their calendar data too (RFC 6578 3.2 takes any property; a member whose data the server
    leaves out is read by multiget, as without)."""
    body = Element(qname(DAV, "sync-collection"))
    SubElement(body, qname(DAV, "sync-token")).text = token
    SubElement(body, qname(DAV, "sync-level")).text = "1"
    prop = SubElement(body, qname(DAV, "prop"))
    SubElement(prop, qname(DAV, "getetag"))
    if with_bodies:
        SubElement(prop, qname(CALDAV, "calendar-data"))
    try:
        found = dav.report(path, body, depth=None)  # RFC 6578: the Depth header is not used
    except DavError as exc:
        if exc.precondition == "supported-report" or exc.status in (405, 501):
            raise NoSyncCollection(str(exc)) from exc
        if token and (exc.precondition == "valid-sync-token" or (exc.status in (403, 409) and not exc.precondition)):
            raise TokenExpired(str(exc)) from exc
        raise
    etags, removed, bodies = {}, set(), {}
    for resource in found.resources:
        if resource.href.rstrip("/") == path.rstrip("/"):
            continue  # the collection itself
        if resource.status == 404:
            removed.add(resource.href)
        elif resource.text(qname(DAV, "getetag")):
            etags[resource.href] = resource.text(qname(DAV, "getetag"))
            data = resource.props.get(qname(CALDAV, "calendar-data"))
            if data is not None and data.text:
                bodies[resource.href] = data.text.encode()
    return Listing(etags, frozenset(removed), found.sync_token, bodies)


def sync_token(dav: Dav, path: str) -> str:
    """The collection's DAV:sync-token property (RFC 6578 4), the token a sync-collection would end with,
    without the listing of every member that one from no token gives; "" where the server gives none."""
    try:
        found = dav.propfind(path, [qname(DAV, "sync-token")]).resources
    except DavError:
        return ""  # a server that will not say: the report will
    return found[0].text(qname(DAV, "sync-token")) if found else ""


def in_window(dav: Dav, path: str, window: tuple[datetime, datetime]) -> Listing:
    """The events whose time meets the window (a series, if any of its occurrences does), with ETags."""
    body = Element(qname(CALDAV, "calendar-query"))
    SubElement(SubElement(body, qname(DAV, "prop")), qname(DAV, "getetag"))
    calendar = SubElement(SubElement(body, qname(CALDAV, "filter")), qname(CALDAV, "comp-filter"), name="VCALENDAR")
    event = SubElement(calendar, qname(CALDAV, "comp-filter"), name="VEVENT")
    SubElement(event, qname(CALDAV, "time-range"), start=_utc(window[0]), end=_utc(window[1]))
    found = dav.report(path, body, depth=1)
    return Listing({resource.href: resource.text(qname(DAV, "getetag")) for resource in found.resources
                    if resource.href.rstrip("/") != path.rstrip("/") and resource.status == 200})


def free_busy(dav: Dav, path: str, window: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]] | None:
    """The collection's busy periods by free-busy-query (RFC 4791 7.10: one request, the server expanding the
    series), sorted; None where the server does not offer the report (it is optional)."""
    body = Element(qname(CALDAV, "free-busy-query"))
    SubElement(body, qname(CALDAV, "time-range"), start=_utc(window[0]), end=_utc(window[1]))
    response = dav.request("REPORT", path, data=serialize(body), headers={
        "Content-Type": 'application/xml; charset="utf-8"', "Depth": "1"})
    if response.status_code in NOT_OFFERED:
        return None
    if response.status_code != 200:
        raise DavError(f"REPORT free-busy-query {path} answered {response.status_code}")
    try:
        calendar = Calendar.from_ical(response.content)
    except ValueError:
        return None  # not a VCALENDAR: a server that answered something else than the report
    periods = []
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY", [])
        for value in values if isinstance(values, list) else [values]:
            if str(value.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            start, stop = value.dt
            periods.append((_aware(start), _aware(start + stop if isinstance(stop, timedelta) else stop)))
    return sorted(periods)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def every_etag(dav: Dav, path: str) -> Listing:
    """Every resource of the collection with its ETag, and the collection's CTag as the token."""
    found = dav.propfind(path, [qname(DAV, "getetag"), qname(DAV, "resourcetype"), qname(CALSERVER, "getctag")],
                         depth=1)
    etags, ctag = {}, ""
    for resource in found.resources:
        if resource.href.rstrip("/") == path.rstrip("/"):
            ctag = resource.text(qname(CALSERVER, "getctag"))
        elif not resource.has(qname(DAV, "resourcetype"), qname(DAV, "collection")):
            etags[resource.href] = resource.text(qname(DAV, "getetag"))
    return Listing(etags, token=ctag)


def ctag(dav: Dav, path: str) -> str:
    """The collection's CTag: it changes whenever anything in the collection does ("" if the server has none)."""
    found = dav.propfind(path, [qname(CALSERVER, "getctag")]).resources
    return found[0].text(qname(CALSERVER, "getctag")) if found else ""


def multiget(dav: Dav, path: str, hrefs: list[str]) -> dict[str, tuple[str, bytes]]:
    """The bodies of these resources (href -> (ETag, iCalendar bytes)), MULTIGET_CHUNK per request; a
    resource gone meanwhile is left out."""
    found = {}
    for chunk in _ahead(partial(_multiget, dav, path), _chunks(hrefs)):
        found.update(chunk)
    return found


def bodies(dav: Dav, path: str, hrefs: list[str], *, expected=None) -> tuple[dict[str, tuple[str, bytes]],
                                                                              dict[str, int]]:
    """The bodies of these resources by multiget, and for those it did not give that are `expected` (all by
    default), by GET: gone since they were listed, or named so that the server's multiget misreads them
    (Xandikos takes a `#` for a fragment). Returns the bodies found and the statuses of those that could not
    be read (a resource gone is in neither)."""
    found, failed = {}, {}
    for _chunk, (chunk_found, chunk_failed) in _bodies_in_turn(dav, path, hrefs, expected):
        found.update(chunk_found)
        failed.update(chunk_failed)
    return found, failed


def each_body(dav: Dav, path: str, hrefs: list[str]) -> Iterator[tuple[str, bytes | None, int]]:
    """Each of these resources in turn, read as `bodies` reads them: (href, its body or None when it is gone,
    the status of a failed reading or 0). The next chunks are asked for while the caller handles this one."""
    for chunk, (found, failed) in _bodies_in_turn(dav, path, hrefs, None):
        for href in chunk:
            yield href, found[href][1] if href in found else None, failed.get(href, 0)


def _bodies_in_turn(dav, path, hrefs, expected) -> Iterator[tuple[list[str], tuple[dict, dict]]]:
    chunks = _chunks(hrefs)
    return zip(chunks, _ahead(partial(_chunk_bodies, dav, path, expected=expected), chunks), strict=True)


def _chunk_bodies(dav, path, hrefs, *, expected) -> tuple[dict[str, tuple[str, bytes]], dict[str, int]]:
    found, failed = _multiget(dav, path, hrefs), {}
    for href in hrefs:
        if href in found or (expected is not None and href not in expected):
            continue
        response = dav.get(href)
        if response.status_code == 200:
            found[href] = (response.headers.get("ETag", ""), response.content)
        elif response.status_code not in (404, 410):
            failed[href] = response.status_code
    return found, failed


def _multiget(dav: Dav, path: str, hrefs: list[str]) -> dict[str, tuple[str, bytes]]:
    """One calendar-multiget."""
    body = Element(qname(CALDAV, "calendar-multiget"))
    prop = SubElement(body, qname(DAV, "prop"))
    SubElement(prop, qname(DAV, "getetag"))
    SubElement(prop, qname(CALDAV, "calendar-data"))
    for href in hrefs:
        SubElement(body, qname(DAV, "href")).text = quote_path(href)
    found = {}
    for resource in dav.report(path, body, depth=None).resources:  # RFC 4791 7.9: no Depth
        data = resource.props.get(qname(CALDAV, "calendar-data"))
        if resource.status == 200 and data is not None and data.text:
            found[resource.href] = (resource.text(qname(DAV, "getetag")), data.text.encode())
    return found


def _chunks(hrefs: list[str]) -> list[list[str]]:
    return [hrefs[start:start + MULTIGET_CHUNK] for start in range(0, len(hrefs), MULTIGET_CHUNK)]


def _ahead(fetch: Callable, chunks: Iterable) -> Iterator:
    """fetch(chunk) for each chunk, in order, up to MULTIGET_AHEAD of them asked for before the caller takes
    the first one's result; a single chunk is fetched on the caller's thread. A failure is raised where its
    chunk's result is taken; what is in flight then is waited for, what is not yet asked for is not asked."""
    chunks = list(chunks)
    if len(chunks) < 2:
        yield from map(fetch, chunks)
        return
    pool = ThreadPoolExecutor(MULTIGET_AHEAD, thread_name_prefix="caldav-multiget")
    try:
        waiting = iter(chunks)
        pending = deque(pool.submit(fetch, chunk) for chunk in islice(waiting, MULTIGET_AHEAD))
        while pending:
            result = pending.popleft().result()
            pending.extend(pool.submit(fetch, chunk) for chunk in islice(waiting, 1))  # one in, one out
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
