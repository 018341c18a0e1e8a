"""WebDAV and CalDAV over one requests session (RFC 4918, 4791, 6578): the requests a CalDAV client sends,
retried as servers ask, and their multistatus answers read into plain values. No iCalendar here.

Servers say when to come back (`Retry-After` on 503 and 429): that is honoured up to a minute; a longer wait,
or failures that do not pass, end the run, to be retried by the next one. XML from a server is parsed with
defusedxml: a server is not trusted to send sane entities.
"""

import ipaddress
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from ..base import AuthorizationLost, ProviderUnavailable, Usage

DAV, CALDAV = "DAV:", "urn:ietf:params:xml:ns:caldav"
CALSERVER, APPLE = "http://calendarserver.org/ns/", "http://apple.com/ns/ical/"
TIMEOUT = 30
ATTEMPTS = 5
LONGEST_WAIT = 60
TRANSIENT = {423, 429, 500, 502, 503, 504}  # 423: a resource locked a moment (Xandikos, by a concurrent write)


def qname(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


@dataclass
class Resource:
    """One <response> of a multistatus: its path (unquoted), the status of the response itself (for a
    sync-collection's removals: 404), and the properties found (qualified name -> element)."""

    href: str
    status: int = 200
    props: dict[str, Element] = field(default_factory=dict)

    def text(self, name: str) -> str:
        found = self.props.get(name)
        return "".join(found.itertext()).strip() if found is not None else ""

    def hrefs(self, name: str) -> list[str]:
        """The hrefs a property holds (current-user-principal, calendar-home-set), as paths."""
        found = self.props.get(name)
        return [path_of(href.text or "") for href in found.iter(qname(DAV, "href"))] if found is not None else []

    def has(self, name: str, child: str) -> bool:
        """Whether a property holds a `child` element anywhere (resourcetype/calendar, privilege/write)."""
        found = self.props.get(name)
        return found is not None and found.find(f".//{child}") is not None


@dataclass
class Multistatus:
    resources: list[Resource]
    sync_token: str = ""


class Unreachable(ProviderUnavailable):
    """Nothing answered at the server's address, however often asked."""


class CertificateRefused(ProviderUnavailable):
    """The server's certificate could not be verified."""


class NotDav(ProviderUnavailable):
    """The server answered with something other than a WebDAV multistatus."""


class DavError(ProviderUnavailable):
    """A request the server refused, with its status; `precondition` names the DAV error element it gave
    (valid-sync-token, number-of-matches-within-limits...)."""

    def __init__(self, message, status, precondition=""):
        super().__init__(message)
        self.status, self.precondition = status, precondition


class AddressRefused(ProviderUnavailable):
    """The server's name leads to an address the CRM may not reach (link-local, such as a cloud's metadata
    service, multicast, unspecified, or this machine where loopback is not allowed)."""


def address_guard(*, loopback: bool):
    """A check of host names, for Dav: each is resolved, and refused if any address it has is one of those.
    Private networks are allowed: an organisation's own Nextcloud or SOGo is often on one."""
    known = {}

    def check(host: str):
        if host not in known:
            try:
                addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
            except OSError:
                addresses = set()  # unresolvable: the request itself fails, in its own words
            known[host] = next((address for address in sorted(addresses) if _forbidden(address, loopback)), "")
        if known[host]:
            raise AddressRefused(f"{host} is {known[host]}, an address the CRM does not reach")
    return check


def _forbidden(address: str, loopback: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved or (
        ip.is_loopback and not loopback)


class Dav:
    """Requests to one CalDAV server as one user (HTTP Basic, or Digest where the server takes only that; an
    app password); usable from several threads at once (writes go concurrently), each with a session of its
    own."""

    def __init__(self, base_url: str, username: str, password: str, usage: Usage, *, verify=True,
                 attempts=ATTEMPTS, guard=None):
        """`guard(host)` raises AddressRefused for a host that may not be reached (see address_guard)."""
        self.base, self.usage, self.attempts, self.guard = origin(base_url), usage, attempts, guard
        self.credentials, self.verify = (username, password), verify
        self.auth = HTTPBasicAuth(username, password)
        self._local, self._counting = threading.local(), threading.Lock()

    @property
    def http(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            session = self._local.session = requests.Session()
            session.verify = self.verify
            session.headers["User-Agent"] = "crm-calendarsync"
        return self._local.session

    def url(self, path: str) -> str:
        """The URL of a path as this module keeps paths (unquoted): quoted again, so that a name holding `#`,
        `?` or `%` reaches the resource it names."""
        return urljoin(self.base, quote_path(path))

    # WebDAV

    def propfind(self, path: str, props: list[str], *, depth: int = 0) -> Multistatus:
        return self.multistatus("PROPFIND", path, propfind_body(props), depth=depth)

    def report(self, path: str, body: Element, *, depth: int | None = 1) -> Multistatus:
        return self.multistatus("REPORT", path, body, depth=depth)

    def multistatus(self, method: str, path: str, body: Element, *, depth: int | None) -> Multistatus:
        headers = {"Content-Type": 'application/xml; charset="utf-8"'}
        if depth is not None:
            headers["Depth"] = str(depth)
        response = self.request(method, path, data=serialize(body), headers=headers)
        if response.status_code != 207:
            raise refused(method, path, response)
        return parse_multistatus(response.content, method, path)

    # Resources

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def put(self, path: str, body: bytes, *, etag: str = "", create: bool = False) -> requests.Response:
        """PUT a calendar object: `create` only where none is (If-None-Match: *), else only over `etag`."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if create:
            headers["If-None-Match"] = "*"
        elif etag:
            headers["If-Match"] = etag
        return self.request("PUT", path, data=body, headers=headers)

    def delete(self, path: str, *, etag: str = "") -> requests.Response:
        return self.request("DELETE", path, headers={"If-Match": etag} if etag else {})

    # Transport

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request, retried as the server asks; a 401 is the account's (raised), transient failures
        that do not pass are raised, any other answer returned."""
        url = self.url(path)
        if self.guard is not None:
            self.guard(urlsplit(url).hostname or "")
        for attempt in range(self.attempts):
            with self._counting:
                self.usage.requests += 1
            try:
                response = self.http.request(method, url, timeout=TIMEOUT, allow_redirects=False, auth=self.auth,
                                             **kwargs)
            except requests.exceptions.SSLError as exc:
                raise CertificateRefused(f"The server's certificate could not be verified: {exc}") from exc
            except requests.RequestException as exc:
                if attempt + 1 == self.attempts:
                    raise Unreachable(f"The CalDAV server could not be reached: {exc}") from exc
                self.wait(_backoff(attempt))
                continue
            if response.status_code == 401 and self._digest_asked(response):
                continue
            if response.status_code == 401:
                raise AuthorizationLost("revoked", f"{method} {path} answered 401: the password was refused")
            delay = retry_delay(response, attempt)
            if delay is None:
                return response
            if attempt + 1 == self.attempts:
                raise ProviderUnavailable(f"The CalDAV server kept failing: {method} {path} answered "
                                          f"{response.status_code}")
            self.wait(delay)
        raise AssertionError("unreachable")

    def _digest_asked(self, response) -> bool:
        """A server that takes HTTP Digest only (SabreDAV can be set so; Baïkal is by default): from then on
        requests answer its challenges (requests keeps the nonce per thread)."""
        if isinstance(self.auth, HTTPDigestAuth) or "digest" not in response.headers.get("WWW-Authenticate",
                                                                                          "").lower():
            return False
        self.auth = HTTPDigestAuth(*self.credentials)
        return True

    def wait(self, seconds):
        time.sleep(seconds)


def propfind_body(props: list[str]) -> Element:
    body = Element(qname(DAV, "propfind"))
    wanted = SubElement(body, qname(DAV, "prop"))
    for name in props:
        SubElement(wanted, name)
    return body


def serialize(body: Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(body)


def parse_multistatus(content: bytes, method: str = "", path: str = "") -> Multistatus:
    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise NotDav(f"{method} {path} answered XML that cannot be read: {exc}") from exc
    if root.tag != qname(DAV, "multistatus"):
        raise NotDav(f"{method} {path} answered {root.tag}, not a multistatus")
    found = []
    for response in root.findall(qname(DAV, "response")):
        href = response.findtext(qname(DAV, "href"))
        if not href:
            continue
        resource = Resource(path_of(href), _status(response.findtext(qname(DAV, "status")), 200))
        for propstat in response.findall(qname(DAV, "propstat")):
            if _status(propstat.findtext(qname(DAV, "status")), 0) // 100 != 2:
                continue  # a property the resource lacks, or may not be read
            for prop in propstat.findall(qname(DAV, "prop")):
                resource.props.update((child.tag, child) for child in prop)
        found.append(resource)
    return Multistatus(found, (root.findtext(qname(DAV, "sync-token")) or "").strip())


def origin(url: str) -> str:
    """The scheme and host of a URL, as a base that paths are joined to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def quote_path(path: str) -> str:
    return quote(path, safe="/@:+,;=~!$&'()*")


def path_of(href: str) -> str:
    """An href as a path, unquoted: servers quote the same path differently (and some send whole URLs)."""
    return unquote(urlsplit(href.strip()).path) or "/"


def refused(method: str, path: str, response: requests.Response) -> DavError:
    precondition = ""
    if b"<" in response.content[:200]:
        try:
            root = fromstring(response.content)
        except (ParseError, DefusedXmlException, ValueError):
            root = None
        if root is not None and root.tag == qname(DAV, "error"):  # SabreDAV puts its own elements first
            known = [child.tag.rpartition("}")[2] for child in root if child.tag.startswith(f"{{{DAV}}}")
                     or child.tag.startswith(f"{{{CALDAV}}}")]
            precondition = known[0] if known else ""
    reason = f" ({precondition})" if precondition else ""
    return DavError(f"{method} {path} answered {response.status_code}{reason}", response.status_code, precondition)


def retry_delay(response: requests.Response, attempt: int) -> float | None:
    """Seconds to wait before trying again, or None when trying again cannot help."""
    if response.status_code not in TRANSIENT:
        return None
    asked = (response.headers.get("Retry-After") or "").strip()
    if asked.isdigit():
        return None if int(asked) > LONGEST_WAIT else float(asked)
    return _backoff(attempt)


def _status(line: str | None, default: int) -> int:
    """The code of an HTTP status line ("HTTP/1.1 404 Not Found")."""
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else default


def _backoff(attempt):
    return min(2 ** attempt, 16) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret
