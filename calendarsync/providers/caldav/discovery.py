"""Finding a user's calendars from a server's address, as CalDAV clients do: the well-known URL (RFC 6764),
the current user's principal, its calendar home, then the calendars in it (RFC 4791).

Each way it can fail has its own sentence for the person connecting: a refused password, a certificate that
cannot be verified, an address where nothing answers, a server that is not a CalDAV server.
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
    CertificateRefused,
    Dav,
    DavError,
    NotDav,
    Resource,
    Unreachable,
    origin,
    parse_multistatus,
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


class DiscoveryError(Exception):
    """Why no calendar could be found, in a sentence for the person connecting."""


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


def discover(url: str, username: str, password: str, *, verify=True) -> Found:
    """The calendars the user has at the server `url` (a host, or any URL under it: a principal, a home)."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DiscoveryError("Give the server's address, starting with https://.")
    dav = Dav(url, username, password, Usage(), verify=verify, attempts=2)  # someone is waiting for the answer
    try:
        return _discover(dav, url)
    except AuthorizationLost as exc:
        raise DiscoveryError("The server refused this user name and password. If the account has two-step "
                             "verification, make an app password and enter that.") from exc
    except ProviderUnavailable as exc:
        raise DiscoveryError(_sentence(exc, url)) from exc


def _discover(dav: Dav, url: str) -> Found:
    start = urlsplit(url).path or "/"
    context = _context(dav, start)
    principal = context.hrefs(qname(DAV, "current-user-principal"))
    principal_path = principal[0] if principal else context.href
    home = _first(dav, principal_path, qname(CALDAV, "calendar-home-set")) or principal_path
    listing = dav.propfind(home, CALENDAR_PROPS, depth=1).resources
    if not any(resource.has(qname(DAV, "resourcetype"), qname(CALDAV, "calendar")) for resource in listing):
        raise DiscoveryError("The server answered, but holds no calendar for this user at that address.")
    return Found(dav.base, principal_path, home, _calendars(listing))


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
                dav.base, path = origin(target), urlsplit(target).path or "/"
                continue
            break
        if response.status_code == 207:
            resources = parse_multistatus(response.content, "PROPFIND", path).resources
            if resources:
                return resources[0]
        last = response
    if last is not None and last.status_code in (200, 405, 501):
        raise DiscoveryError("A web server answered at that address, but not a CalDAV server: check the "
                             "address (your provider's help names it).")
    raise DiscoveryError(f"No calendar server was found at that address (it answered {last.status_code}): "
                         "check the address.")


def _first(dav: Dav, path: str, prop: str) -> str:
    try:
        found = dav.propfind(path, [prop]).resources
    except DavError:
        return ""
    return next((href for resource in found for href in resource.hrefs(prop)), "")


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
    except (ValueError, ZoneInfoNotFoundError):
        return ""


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _sentence(exc: ProviderUnavailable, url: str) -> str:
    host = urlsplit(url).hostname
    if isinstance(exc, CertificateRefused):
        return (f"The connection to {host} is not secure: its certificate could not be verified. Check the "
                "address; a server with a certificate of its own needs it trusted first.")
    if isinstance(exc, Unreachable):
        return f"Nothing answered at {host}: check the address, and that the server is up."
    if isinstance(exc, NotDav):
        return "A web server answered at that address, but not a CalDAV server: check the address."
    return f"The server could not list the calendars ({exc}); try again later."
