"""The CRM's calendars over CalDAV (RFC 4791, 6578, 6764), at /dav/, for the devices of each user.

    /dav/                                   the root: where the principal is
    /dav/principals/<username>/             the user: their calendar home, their address
    /dav/calendars/<username>/              the home: the calendars switched on for devices
    /dav/calendars/<username>/<key>/        a calendar (see devices.calendars)
    /dav/calendars/<username>/<key>/<name>  an event, or a series with its changed occurrences

Only device passwords open it (HTTP Basic); a user reaches their own paths only, and anything else is
"not found", whoever asks. Reads are the store's, writes go through crm.services (writes.py).
"""

import base64
import binascii
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, unquote, urlsplit

from django.http import HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from calendarsync.providers.caldav.dav import APPLE, CALSERVER
from crm.recurrence import EARLIEST_YEAR, LATEST_YEAR
from devices import calendars as device_calendars
from devices import free_busy, services
from devices.dav import store, writes
from devices.dav.xml import BadRequest, Multistatus, c, d, element, error, href, parse, requested_props

ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT"
DAV_HEADER = "1, 3, calendar-access"
REALM = 'Basic realm="CRM calendars", charset="UTF-8"'
REPORTS = (c("calendar-query"), c("calendar-multiget"), d("sync-collection"), c("free-busy-query"))
CALENDAR_DATA = c("calendar-data")
FREE_BUSY_OPEN = timedelta(days=366)
MAX_EXPAND = timedelta(days=3 * 366)  # expanded occurrences are written one by one: a window of years would
# answer a few series with megabytes


def prefix() -> str:
    return reverse("devices:dav-root")


@method_decorator(csrf_exempt, name="dispatch")
class DavView(View):
    http_method_names = ["options", "get", "head", "put", "delete", "propfind", "proppatch", "report"]

    def dispatch(self, request, path=""):
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request)
        if request.method == "OPTIONS" and not request.META.get("HTTP_AUTHORIZATION"):
            return self.options(request)  # what the server speaks is no secret
        if "\x00" in path or any(len(part) > 255 for part in path.split("/")):
            return HttpResponse("No such name here.", status=400, content_type="text/plain; charset=utf-8")
        try:
            user, device = self._authenticated(request)
        except services.Throttled as exc:
            return HttpResponse(str(exc), status=429, content_type="text/plain; charset=utf-8",
                                headers={"Retry-After": str(services.FAILURE_WINDOW)})
        if user is None:
            response = HttpResponse(status=401, content_type="text/plain; charset=utf-8",
                                    content=b"A device password of the CRM is needed (Preferences).")
            response["WWW-Authenticate"] = REALM
            return response
        self.user, self.origin = user, writes.origin_of(device)
        self.parts = [unquote(part) for part in path.split("/") if part]
        handler = getattr(self, request.method.lower())
        try:
            return handler(request)
        except BadRequest as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        except writes.Refused as exc:
            if exc.status == 412:
                return HttpResponse(exc.message, status=412, content_type="text/plain; charset=utf-8")
            condition = d(exc.condition) if exc.condition == "need-privileges" else c(exc.condition)
            return _xml(error(condition, message=exc.message), status=exc.status)

    def _authenticated(self, request):
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            username, _, secret = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        password = services.authenticate(username, secret, request.META.get("REMOTE_ADDR", ""))
        return (password.user, password.pk) if password is not None else (None, None)

    # Where a path leads

    def target(self):
        """(kind, calendar, name) of the path: "root", "principal", "home", "calendar", "object"; None when
        the path is not this user's or names nothing."""
        parts = self.parts
        if not parts:
            return "root", None, None
        if parts[0] not in ("principals", "calendars") or len(parts) < 2 or parts[1] != self.user.username:
            return None
        if parts[0] == "principals":
            return ("principal", None, None) if len(parts) == 2 else None
        if len(parts) == 2:
            return "home", None, None
        calendar = device_calendars.calendar_of(self.user, parts[2])
        if calendar is None or not calendar.synced or len(parts) > 4:
            return None
        return ("calendar", calendar, None) if len(parts) == 3 else ("object", calendar, parts[3])

    def paths(self):
        user = quote(self.user.username, safe="@.+-_")
        return {"principal": f"{prefix()}principals/{user}/", "home": f"{prefix()}calendars/{user}/"}

    def calendar_path(self, calendar) -> str:
        return f"{self.paths()['home']}{quote(calendar.key)}/"

    # Methods

    def options(self, request):
        response = HttpResponse(status=200)
        response["DAV"], response["Allow"] = DAV_HEADER, ALLOW
        return response

    def propfind(self, request):
        target = self.target()
        if target is None:
            return _not_found()
        kind, calendar, name = target
        root = parse(request.body)
        names = requested_props(root)
        depth = request.META.get("HTTP_DEPTH", "1")
        answer = Multistatus(minimal=_minimal(request),
                             names_only=root is not None and root.find(d("propname")) is not None)
        if kind == "object":
            listed = _with_bodies(calendar, names, named=[name])
            if name not in listed:
                return _not_found()
            self._object(answer, calendar, *listed[name], names)
            return _multistatus(answer)
        self._collection(answer, kind, calendar, names)
        if depth != "0":
            if kind == "home":
                for shown in device_calendars.calendars_of(self.user):
                    if shown.synced:
                        self._collection(answer, "calendar", shown, names)
            elif kind == "calendar":
                for entry, body in _with_bodies(calendar, names, store.entries(calendar)).values():
                    self._object(answer, calendar, entry, body, names)
        return _multistatus(answer)

    def proppatch(self, request):
        """Properties are the CRM's (a calendar's name and color come from its type or person): each asked
        change is refused, in the multistatus as RFC 4918 9.2 has it."""
        target = self.target()
        if target is None:
            return _not_found()
        root = parse(request.body)
        asked = [child.tag for block in (root if root is not None else []) for prop in block.findall(d("prop"))
                 for child in prop]
        answer = Multistatus()
        answer.add(request.path, {}, forbidden=asked)
        return _multistatus(answer)

    def report(self, request):
        target = self.target()
        if target is None:
            return _not_found()
        kind, calendar, _name = target
        root = parse(request.body)
        if root is None or root.tag not in REPORTS or kind != "calendar":
            return _xml(error(d("supported-report"), message="This report is not supported here."), status=403)
        if root.tag == c("free-busy-query"):
            return _free_busy(calendar, root)
        names = requested_props(root) or [d("getetag")]
        expand = _expand(root)  # checked before anything is read
        answer = Multistatus(minimal=_minimal(request))
        if root.tag == c("calendar-multiget"):
            wanted = [self._name_in(calendar, element.text or "") for element in root.findall(d("href"))]
            named = [name for name in wanted if name]
            listed = _with_bodies(calendar, names, named=named)
            for element_href, name in zip(root.findall(d("href")), wanted, strict=True):
                if name in listed:
                    self._object(answer, calendar, *listed[name], names, expand)
                else:
                    answer.gone((element_href.text or "").strip())
        elif root.tag == c("calendar-query"):
            window = _time_range(root)
            listed = {} if _only_other_components(root) else store.entries(
                calendar, store.uids_between(calendar, *window) if window else None)
            for entry, body in _with_bodies(calendar, names, listed).values():
                self._object(answer, calendar, entry, body, names, expand)
        else:
            token_element = root.find(d("sync-token"))
            token = (token_element.text or "").strip() if token_element is not None else ""
            try:
                if token:
                    present, removed, new_token = store.since(calendar, token)
                else:
                    present, removed, new_token = store.entries(calendar), set(), store.token(calendar)
            except store.InvalidToken:
                return _xml(error(d("valid-sync-token"), message="This sync token is not valid (any more): "
                                  "sync again from none."), status=403)
            base = self.calendar_path(calendar)
            for entry, body in _with_bodies(calendar, names, present).values():
                self._object(answer, calendar, entry, body, names)
            for name in sorted(removed):
                answer.gone(base + _quoted(name))
            answer.sync_token(new_token)
        return _multistatus(answer)

    def get(self, request):
        target = self.target()
        if target is None:
            return _not_found()
        kind, calendar, name = target
        if kind != "object":
            return HttpResponse("This is a CalDAV collection: add it in a calendar app.", status=200,
                                content_type="text/plain; charset=utf-8")
        found = store.bodies(calendar, [name])
        if name not in found:
            return _not_found()
        entry, body = found[name]
        if request.META.get("HTTP_IF_NONE_MATCH", "") == entry.etag:
            return HttpResponse(status=304, headers={"ETag": entry.etag})
        response = HttpResponse(body if request.method == "GET" else b"", content_type="text/calendar; charset=utf-8")
        response["ETag"], response["Last-Modified"] = entry.etag, format_datetime(entry.updated.astimezone(UTC),
                                                                                   usegmt=True)
        if request.method == "HEAD":
            response["Content-Length"] = str(len(body))
        return response

    head = get

    def put(self, request):
        target = self.target()
        if target is None or target[0] != "object":
            return _not_found() if target is None else HttpResponse(status=405, headers={"Allow": ALLOW})
        _kind, calendar, name = target
        if not calendar.writable:
            raise writes.Refused(403, "need-privileges", "This calendar is read-only for you.")
        if b"\x00" in request.body:
            raise writes.Refused(403, "valid-calendar-data", "The calendar data holds a NUL character.")
        content_type = request.META.get("CONTENT_TYPE", "text/calendar").split(";")[0].strip().lower()
        if content_type not in ("text/calendar", "application/octet-stream", ""):
            raise writes.Refused(415, "supported-calendar-data", "Send iCalendar (text/calendar).")
        current = store.entries(calendar, _uids(calendar, name)).get(name)
        failed = _precondition(request, current)
        if failed:
            return failed
        written = writes.put(calendar, name, current.uid if current else None, request.body, origin=self.origin,
                             holds=lambda: _precondition(request, store.entries(
                                 calendar, _uids(calendar, name)).get(name)) is None)
        entry = store.entries(calendar, _uids(calendar, name)).get(name)
        response = HttpResponse(status=201 if written.created else 204)
        if entry is not None and written.as_sent:  # RFC 4791 5.3.4: an ETag only for what is stored as sent
            response["ETag"] = entry.etag
        return response

    def delete(self, request):
        target = self.target()
        if target is None or target[0] != "object":
            return _not_found() if target is None else HttpResponse(status=405, headers={"Allow": ALLOW})
        _kind, calendar, name = target
        current = store.entries(calendar, _uids(calendar, name)).get(name)
        if current is None:
            return _not_found()
        if not calendar.writable:
            raise writes.Refused(403, "need-privileges", "This calendar is read-only for you.")
        failed = _precondition(request, current)
        if failed:
            return failed
        writes.delete(calendar, current.uid, origin=self.origin, holds=lambda: _precondition(request, store.entries(
            calendar, _uids(calendar, name)).get(name)) is None)
        return HttpResponse(status=204)

    # Properties

    def _collection(self, answer, kind, calendar, names):
        paths = self.paths()
        principal = [href(paths["principal"])]
        values = {
            d("current-user-principal"): principal,
            d("principal-URL"): principal,
            d("owner"): principal,
            d("principal-collection-set"): [href(f"{prefix()}principals/")],
        }
        if kind == "root":
            path = prefix()
            values[d("resourcetype")] = [element(d("collection"))]
        elif kind == "principal":
            path = paths["principal"]
            values.update({
                d("resourcetype"): [element(d("principal"))],
                d("displayname"): str(self.user),
                c("calendar-home-set"): [href(paths["home"])],
                c("calendar-user-address-set"): [href(f"mailto:{self.user.email}")] if self.user.email else None,
            })
        elif kind == "home":
            path = paths["home"]
            values.update({
                d("resourcetype"): [element(d("collection"))],
                d("displayname"): str(self.user),
                c("calendar-home-set"): [href(paths["home"])],
                d("current-user-privilege-set"): _privileges(writable=False),
            })
        else:
            path = self.calendar_path(calendar)
            token = store.token(calendar)
            values.update({
                d("resourcetype"): [element(d("collection")), element(c("calendar"))],
                d("displayname"): calendar.name,
                c("calendar-home-set"): [href(paths["home"])],
                c("calendar-description"): calendar.name,
                c("supported-calendar-component-set"): [element(c("comp"), name="VEVENT")],
                c("supported-calendar-data"): [element(c("calendar-data"), content_type="text/calendar",
                                                       version="2.0")],
                qname_apple("calendar-color"): calendar.color,
                qname_server("getctag"): token,
                d("sync-token"): token,
                d("current-user-privilege-set"): _privileges(writable=calendar.writable),
                d("supported-report-set"): [element(d("supported-report"), children=[element(d("report"), children=[
                    element(report)])]) for report in REPORTS],
                d("getcontenttype"): "text/calendar; charset=utf-8",
            })
        requested = names if names is not None else [name for name in values if values[name] is not None]
        found = {name: values[name] for name in requested if values.get(name) is not None}
        answer.add(path, found, [name for name in requested if name not in found])

    def _object(self, answer, calendar, entry, body, names, expand=None):
        if body is not None and expand is not None:
            body = store.expanded(body, *expand)
        values = {
            d("getetag"): entry.etag,
            d("getcontenttype"): "text/calendar; charset=utf-8; component=vevent",
            d("resourcetype"): [],
            d("getlastmodified"): format_datetime(entry.updated.astimezone(UTC), usegmt=True),
        }
        if body is not None:
            values[CALENDAR_DATA] = body.decode("utf-8", errors="replace")
            values[d("getcontentlength")] = str(len(body))
        requested = names if names is not None else list(values)
        found = {name: values[name] for name in requested if name in values}
        answer.add(self.calendar_path(calendar) + _quoted(entry.name), found,
                   [name for name in requested if name not in found])

    def _name_in(self, calendar, given: str) -> str | None:
        """The resource name an href gives in this calendar, or None (elsewhere)."""
        try:
            path = unquote(urlsplit(given.strip()).path)
        except ValueError:  # no URL at all
            return None
        base = unquote(self.calendar_path(calendar))
        name = path[len(base):] if path.startswith(base) else ""
        return name if name and "/" not in name else None


def qname_apple(name):
    return f"{{{APPLE}}}{name}"


def qname_server(name):
    return f"{{{CALSERVER}}}{name}"


def _quoted(name: str) -> str:
    return quote(name, safe="@:+,;=~!$&'()*")  # as RFC 3986 allows in a segment: UIDs keep their @


def _minimal(request) -> bool:
    """Prefer: return=minimal (RFC 8144; Apple's clients, also as return-minimal) or Brief: t."""
    prefer = request.META.get("HTTP_PREFER", "").replace(" ", "").lower()
    return "return=minimal" in prefer or "return-minimal" in prefer or request.META.get("HTTP_BRIEF", "") == "t"


def _uids(calendar, name):
    uid = store.uid_named(calendar, name)
    return {uid} if uid else set()


def _with_bodies(calendar, names, listed=None, *, named=None) -> dict:
    """name -> (entry, body or None) for these resources (`listed` entries, or the `named` ones the calendar
    holds), their bodies read only when the request asks for calendar-data or a length."""
    if _wants_body(names):
        return store.bodies(calendar, list(listed) if listed is not None else named)
    if listed is None:
        listed = store.entries(calendar, set(store.uids_named(calendar, named).values()))
    return {name: (entry, None) for name, entry in listed.items()}


def _wants_body(names) -> bool:
    return names is not None and (CALENDAR_DATA in names or d("getcontentlength") in names)


def _privileges(*, writable: bool):
    granted = ["read", "read-current-user-privilege-set"] + (
        ["write", "write-content", "write-properties", "bind", "unbind"] if writable else [])
    return [element(d("privilege"), children=[element(d(name))]) for name in granted]


def _precondition(request, current):
    """412 where If-Match or If-None-Match does not hold for the resource as it is (None: absent)."""
    if_match = request.META.get("HTTP_IF_MATCH")
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None and current is not None and (
            if_none_match.strip() == "*" or current.etag in _tags(if_none_match)):
        return HttpResponse(status=412)
    if if_match is not None and (current is None or (if_match.strip() != "*" and current.etag not in _tags(
            if_match))):
        return HttpResponse(status=412)
    return None


def _free_busy(calendar, root) -> HttpResponse:
    """RFC 4791 7.10: the calendar's busy times over the asked range, as one VFREEBUSY (busy only: neither
    subjects nor which appointment)."""
    found = root.find(c("time-range"))
    if found is None or not (found.get("start") or found.get("end")):
        raise BadRequest("A free-busy-query needs a time-range (RFC 4791 7.10).")
    # An open side (RFC 4791 9.9) is bounded: a year from the other.
    start, end = _moment(found.get("start"), None), _moment(found.get("end"), None)
    start, end = start or end - FREE_BUSY_OPEN, end or start + FREE_BUSY_OPEN
    if not (start.year >= EARLIEST_YEAR and end.year <= LATEST_YEAR) or not timedelta(0) < end - start <= MAX_EXPAND:
        raise BadRequest(f"A free-busy-query's range must end after it starts, within {MAX_EXPAND.days} days, "
                         f"between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
    body = free_busy.vfreebusy(calendar.actions(), start, end, calendar.subject)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _time_range(root):
    """The time range of a calendar-query's VEVENT filter, as (start, end), None for none (RFC 4791 9.9:
    a missing end is the end of time, a missing start the beginning)."""
    found = root.find(f"{c('filter')}/{c('comp-filter')}/{c('comp-filter')}/{c('time-range')}")
    if found is None:
        return None
    return (_moment(found.get("start"), datetime.min.replace(tzinfo=UTC)),
            _moment(found.get("end"), datetime.max.replace(tzinfo=UTC)))


def _moment(text, default):
    if not text:
        return default
    try:
        return datetime.strptime(text.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadRequest(f"A time-range needs UTC times such as 20261201T000000Z, not {text!r}.") from exc


def _expand(root):
    """The window of a calendar-data's <expand> (RFC 4791 9.6.5), or None: the resource as it is."""
    found = root.find(f"{d('prop')}/{CALENDAR_DATA}/{c('expand')}")
    if found is None:
        return None
    if not found.get("start") or not found.get("end"):
        raise BadRequest("An expand needs both its start and its end (RFC 4791 9.6.5).")
    start, end = _moment(found.get("start"), None), _moment(found.get("end"), None)
    if not timedelta(0) < end - start <= MAX_EXPAND:
        raise BadRequest(f"An expand spans at most {MAX_EXPAND.days} days, after its start.")
    return start, end


def _only_other_components(root) -> bool:
    """A query for to-dos or journals only: a calendar of events has none."""
    inner = root.findall(f"{c('filter')}/{c('comp-filter')}/{c('comp-filter')}")
    return bool(inner) and all(found.get("name", "").upper() != "VEVENT" for found in inner)


def _multistatus(answer) -> HttpResponse:
    return _xml(answer.bytes(), status=207)


def _xml(content: bytes, status: int) -> HttpResponse:
    return HttpResponse(content, status=status, content_type='application/xml; charset="utf-8"')


def _not_found() -> HttpResponse:
    return HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")


def well_known(request):
    """RFC 6764 5: the context path of the CalDAV service."""
    response = HttpResponse(status=301)
    response["Location"] = prefix()
    return response

