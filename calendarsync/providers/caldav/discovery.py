"""Finding a user's calendars from a server's address, as CalDAV clients do: the well-known URL (RFC 6764),
the current user's principal, its calendar home, then the calendars in it (RFC 4791).

Each way it can fail is told apart (`DiscoveryError.problem`), so that the person connecting reads what to do:
a refused password, a certificate that cannot be verified, an address where nothing answers, a server that
is not a CalDAV server, one that holds no calendar there.
"""

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar

from ..base import AuthorizationLost, ProviderUnavailable, Usage
from .dav import (
    APPLE,
    CALDAV,
    DAV,
    AddressRefused,
    CertificateRefused,
    Dav,
    DavError,
    NotDav,
    Resource,
    origin,
    parse_multistatus,
    path_of,
    propfind_body,
    qname,
    serialize,
)

REDIRECTS = 5
TZID = re.compile(r"^TZID:(.+)$", re.MULTILINE)
CALENDAR_PROPS = [
    qname(DAV, "resourcetype"), qname(DAV, "displayname"), qname(APPLE, "calendar-color"),
    qname(CALDAV, "supported-calendar-component-set"), qname(DAV, "current-user-privilege-set"),
    qname(CALDAV, "calendar-timezone"),
]
WRITE_PRIVILEGES = ("write", "write-content", "all")
# What is asked where the service may be; discovery follows the redirects by hand (Dav follows none).
PRINCIPAL = serialize(propfind_body([qname(DAV, "current-user-principal")]))


# Why discovery failed (the account's problem, in calendarsync.models.AccountProblem's values).
REFUSED, CERTIFICATE, UNREACHABLE, NOT_CALDAV, NOT_FOUND, FORBIDDEN, INSECURE = (
    "revoked", "certificate", "unreachable", "not_caldav", "not_found", "forbidden_address", "insecure")


class DiscoveryError(Exception):
    """Why no calendar could be found: `problem` is one of the values above; the message is for the log."""

    def __init__(self, problem: str, message: str):
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Collection:
    """A calendar collection: its path, and what its properties say."""

    path: str
    name: str
    color: str
    can_write: bool
    time_zone: str  # the IANA name of its calendar-timezone (where floating times are), or ""


@dataclass(frozen=True)
class Found:
    base_url: str  # scheme and host the server answered at (after redirects)
    principal: str
    home: str
    calendars: list[Collection]


def discover(url: str, username: str, password: str, *, verify=True, guard=None) -> Found:
    """The calendars the user has at the server `url` (a host, or any URL under it: a principal, a home);
    `guard`, Dav's check of the hosts reached (redirects and the calendar home's host included)."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DiscoveryError(NOT_FOUND, f"{url!r} is not an http(s) address")
    dav = Dav(url, username, password, Usage(), verify=verify, attempts=2, guard=guard)
    try:
        return _discover(dav, url)
    except AuthorizationLost as exc:
        raise DiscoveryError(REFUSED, str(exc)) from exc
    except AddressRefused as exc:
        raise DiscoveryError(FORBIDDEN, str(exc)) from exc
    except CertificateRefused as exc:
        raise DiscoveryError(CERTIFICATE, str(exc)) from exc
    except NotDav as exc:
        raise DiscoveryError(NOT_CALDAV, str(exc)) from exc
    except DavError as exc:
        raise DiscoveryError(NOT_FOUND if exc.status in (403, 404, 410) else UNREACHABLE, str(exc)) from exc
    except ProviderUnavailable as exc:  # nothing answered, or the server kept failing: it may come back
        raise DiscoveryError(UNREACHABLE, str(exc)) from exc


def _discover(dav: Dav, url: str) -> Found:
    start = urlsplit(url).path or "/"
    context = _context(dav, start)
    principal = context.hrefs(qname(DAV, "current-user-principal"))
    principal_path = principal[0] if principal else context.href
    home = _home(dav, principal_path) or principal_path
    listing = dav.propfind(home, CALENDAR_PROPS, depth=1).resources
    if not any(resource.has(qname(DAV, "resourcetype"), qname(CALDAV, "calendar")) for resource in listing):
        raise DiscoveryError(NOT_FOUND, f"{home} holds no calendar collection")
    return Found(dav.base, principal_path, home, _calendars(listing))


def _home(dav: Dav, principal: str) -> str:
    """The principal's calendar home, whose host may be another one (iCloud keeps each user's calendars on a
    server of its own): the session moves there."""
    try:
        found = dav.propfind(principal, [qname(CALDAV, "calendar-home-set")]).resources
    except DavError:
        return ""
    homes = [href.text.strip() for resource in found if qname(CALDAV, "calendar-home-set") in resource.props
             for href in resource.props[qname(CALDAV, "calendar-home-set")].iter(qname(DAV, "href")) if href.text]
    if not homes:
        return ""
    target = urljoin(dav.url(principal), homes[0])
    _move(dav, target)
    return path_of(target)


def _move(dav: Dav, target: str):
    """Go on at another host, never from https to plain http (the password would then travel in clear)."""
    if dav.base.startswith("https:") and not target.startswith("https:"):
        raise DiscoveryError(INSECURE, f"{dav.base} sent us to {target}, which is not https")
    dav.base = origin(target)


def calendars_in(dav: Dav, home: str) -> list[Collection]:
    """The event calendars of a calendar home already found (a run's refresh of the list: one request)."""
    return _calendars(dav.propfind(home, CALENDAR_PROPS, depth=1).resources)


def _calendars(listing: list[Resource]) -> list[Collection]:
    found = [_collection(resource) for resource in listing if _is_event_calendar(resource)]
    return sorted(found, key=lambda collection: collection.name.casefold())


def _context(dav: Dav, start: str) -> Resource:
    """Where the server's CalDAV service is: the given path, or the well-known one, following redirects."""
    candidates = [start] if start not in ("", "/") else ["/.well-known/caldav", "/"]
    last = None
    for candidate in candidates:
        path = candidate
        for _ in range(REDIRECTS):
            response = dav.request("PROPFIND", path, data=PRINCIPAL, headers={
                "Depth": "0", "Content-Type": 'application/xml; charset="utf-8"'})
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                target = urljoin(dav.url(path), response.headers["Location"])
                _move(dav, target)
                path = path_of(target)
                continue
            break
        if response.status_code == 207:
            resources = parse_multistatus(response.content, "PROPFIND", path).resources
            if resources:
                return resources[0]
        last = response
    if last is not None and last.status_code in (200, 405, 501):
        raise DiscoveryError(NOT_CALDAV, f"PROPFIND {path} answered {last.status_code}")
    raise DiscoveryError(NOT_FOUND, f"PROPFIND {path} answered {last.status_code if last is not None else 'nothing'}")


def _is_event_calendar(resource: Resource) -> bool:
    """A calendar collection that may hold events (no component set: any component, RFC 4791 5.2.3)."""
    if not resource.has(qname(DAV, "resourcetype"), qname(CALDAV, "calendar")):
        return False
    components = resource.props.get(qname(CALDAV, "supported-calendar-component-set"))
    if components is None or not len(components):
        return True
    return any(component.get("name", "").upper() == "VEVENT" for component in components)


def _collection(resource: Resource) -> Collection:
    privileges = resource.props.get(qname(DAV, "current-user-privilege-set"))
    can_write = privileges is None or any(  # no privilege set: the server does not restrict (RFC 3744 5.4)
        privileges.find(f".//{qname(DAV, name)}") is not None for name in WRITE_PRIVILEGES)
    return Collection(path=resource.href, name=resource.text(qname(DAV, "displayname")) or _last(resource.href),
                      color=_color(resource.text(qname(APPLE, "calendar-color"))), can_write=can_write,
                      time_zone=_zone(resource.text(qname(CALDAV, "calendar-timezone"))))


def _color(text: str) -> str:
    """Apple's calendar-color is #RRGGBB or #RRGGBBAA: the CRM keeps #rrggbb."""
    text = text.strip()
    if len(text) in (7, 9) and text.startswith("#"):
        try:
            int(text[1:], 16)
        except ValueError:
            return ""
        return text[:7].lower()
    return ""


def _zone(text: str) -> str:
    """The zone a calendar-timezone names (a VCALENDAR holding one VTIMEZONE), when it is a known IANA zone.
    Its TZID line is read where the whole cannot be: a server may give the text back with its folded lines
    broken (Xandikos drops the space that begins each continuation)."""
    try:
        timezones = Calendar.from_ical(text).walk("VTIMEZONE") if text else []
        name = str(timezones[0]["TZID"]) if timezones else ""
    except (ValueError, KeyError):
        found = TZID.search(text)
        name = found.group(1).strip() if found else ""
    try:
        return ZoneInfo(name).key if name else ""
    except (ValueError, OSError, ZoneInfoNotFoundError):  # a folder of zones ("America") is an OSError
        return ""


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path
