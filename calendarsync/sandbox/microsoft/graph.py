"""Microsoft Graph v1.0, the calendar part: /me, calendars and events, in Graph's JSON shapes.

Times are stored in UTC with the zone they were given in (originalStartTimeZone) and returned in
UTC, or in the zone `Prefer: outlook.timezone` names (IANA or Windows). The zone names the API
takes follow CLDR's Windows-to-IANA table, as Outlook does.
"""

import copy
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from ..http import Request, Response
from .store import graph_id, now_iso

V1 = "/v1.0"
ME = r"(?:/me|/users/(?P<user>[^/]+))"
CAL = r"(?P<cal>[^/]+)"
EVENT = r"(?P<event>[^/]+)"
WRITABLE = {"subject", "body", "start", "end", "isAllDay", "showAs", "sensitivity", "importance", "categories",
            "location", "attendees", "isReminderOn", "reminderMinutesBeforeStart", "recurrence",
            "singleValueExtendedProperties", "transactionId"}
ICAL_UID_PREFIX = "040000008200E00074C5B7101A82E0080000000"  # how Outlook's iCalUIds begin
SHOW_AS = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}
SENSITIVITY = {"normal", "personal", "private", "confidential"}


class GraphError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def zone_named(name: str):
    """Return the zone for an IANA or Windows name, or raise GraphError."""
    try:
        return zoneinfo.ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphError(400, "ErrorTimeZoneNotSupportedException", f"A valid TimeZone value must be specified. "
                         f"The following TimeZone value is not supported: '{name}'.") from exc


def install(service):
    add = service.router.add
    add("GET", f"{V1}{ME}", lambda r: me(service, r), "me")
    add("GET", f"{V1}{ME}/calendars", lambda r: calendars(service, r), "calendars")
    add("GET", f"{V1}{ME}/calendar", lambda r: calendar(service, r), "calendar")
    add("GET", f"{V1}{ME}/calendars/{CAL}/events", lambda r: list_events(service, r), "events_list")
    add("GET", f"{V1}{ME}/events", lambda r: list_events(service, r), "events_list")
    add("POST", f"{V1}{ME}/calendars/{CAL}/events", lambda r: create_event(service, r), "events_create")
    add("POST", f"{V1}{ME}/events", lambda r: create_event(service, r), "events_create")
    add("GET", f"{V1}{ME}/events/{EVENT}", lambda r: get_event(service, r), "events_get")
    add("PATCH", f"{V1}{ME}/events/{EVENT}", lambda r: update_event(service, r), "events_update")
    add("DELETE", f"{V1}{ME}/events/{EVENT}", lambda r: delete_event(service, r), "events_delete")


def me(service, request):
    user = service.store.users[request.email]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#users/$entity", "id": user.oid,
                         "displayName": user.name, "mail": user.email, "userPrincipalName": user.email,
                         "givenName": user.name.split()[0], "surname": " ".join(user.name.split()[1:])})


def _calendar_json(service, entry):
    calendar = service.store.calendars[entry.calendar_id]
    owner = service.store.users[calendar.owner]
    return {"id": calendar.id, "name": calendar.name, "color": calendar.color, "hexColor": calendar.hex_color,
            "isDefaultCalendar": entry.is_default, "changeKey": calendar.id[-12:], "canShare": entry.can_edit,
            "canViewPrivateItems": entry.can_edit, "canEdit": entry.can_edit, "isRemovable": not entry.is_default,
            "isTallyingResponses": True, "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "owner": {"name": owner.name, "address": owner.email}}


def calendars(service, request):
    user = service.store.users[request.email]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#users('{user.oid}')/calendars",
                         "value": [_calendar_json(service, entry) for entry in user.calendars]})


def calendar(service, request):
    return service.json(_calendar_json(service, service.store.access(request.email)))


def list_events(service, request):
    """singleInstance and seriesMaster events only, paged by $top/$skip with @odata.nextLink."""
    entry = _access(service, request)
    events = [event for event in service.store.calendars[entry.calendar_id].events.values()
              if event["type"] in ("singleInstance", "seriesMaster")]
    top, skip = _int(request.arg("$top"), 10), _int(request.arg("$skip"), 0)
    zone = _response_zone(request)
    page = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)",
            "value": [present(event, zone) for event in events[skip:skip + top]]}
    if skip + top < len(events):
        page["@odata.nextLink"] = f"{request.base_url}{request.path}?" + urlencode({"$top": top, "$skip": skip + top})
    return service.json(page)


def create_event(service, request):
    entry = _access(service, request)
    if not entry.can_edit:
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    body = _body(request)
    store = service.store
    calendar = store.calendars[entry.calendar_id]
    with store.lock:
        transaction = body.get("transactionId")
        if transaction and (calendar.owner, transaction) in store.transactions:
            existing = store.find_event(request.email, store.transactions[(calendar.owner, transaction)])[1]
            if existing is not None:  # a retried create: the same event, never a duplicate
                return service.json(present(existing, _response_zone(request)), 201)
        owner = store.users[calendar.owner]
        now = now_iso(store.clock())
        event = {"id": graph_id(), "createdDateTime": now, "categories": [],
                 "iCalUId": ICAL_UID_PREFIX + graph_id("")[:24], "reminderMinutesBeforeStart": 15,
                 "isReminderOn": True, "hasAttachments": False, "subject": "",
                 "bodyPreview": "", "importance": "normal", "sensitivity": "normal", "isAllDay": False,
                 "isCancelled": False, "isOrganizer": True, "showAs": "busy", "type": "singleInstance",
                 "seriesMasterId": None, "originalStart": None, "recurrence": None,
                 "body": {"contentType": "text", "content": ""}, "location": {"displayName": ""}, "attendees": [],
                 "organizer": {"emailAddress": {"name": owner.name, "address": owner.email}}}
        _apply(event, body)
        if event.get("recurrence"):
            event["type"] = "seriesMaster"
        event["webLink"] = f"https://outlook.office365.com/owa/?itemid={event['id']}&exvsurl=1&path=/calendar/item"
        store.touch(event)
        calendar.events[event["id"]] = event
        if transaction:
            store.transactions[(calendar.owner, transaction)] = event["id"]
        store.writes.append({"method": "create", "event": event["id"], "transactionId": transaction})
    return service.json(present(event, _response_zone(request)), 201)


def get_event(service, request):
    _, event, _ = _event(service, request)
    return service.json(present(event, _response_zone(request)))


def update_event(service, request):
    calendar, event, entry = _event(service, request, write=True)
    body = _body(request)
    if "transactionId" in body and body["transactionId"] != event.get("transactionId"):
        raise GraphError(400, "ErrorInvalidPropertyUpdateSentToServer", "transactionId cannot be changed.")
    with service.store.lock:
        _check_etag(request, event)
        changed = copy.deepcopy(event)
        _apply(changed, body)
        service.store.touch(changed)
        calendar.events[changed["id"]] = changed
        service.store.writes.append({"method": "update", "event": changed["id"]})
    return service.json(present(changed, _response_zone(request)))


def delete_event(service, request):
    calendar, event, _ = _event(service, request, write=True)
    with service.store.lock:
        _check_etag(request, event)
        del calendar.events[event["id"]]
        service.store.change_seq += 1
        calendar.removed[event["id"]] = service.store.change_seq
        service.store.writes.append({"method": "delete", "event": event["id"]})
    return Response(204, b"", {})


def present(event: dict, zone) -> dict:
    """The event as Graph returns it: times in `zone` with seven fractional digits, no bookkeeping."""
    answer = {"@odata.etag": event["@odata.etag"]}
    answer.update({name: value for name, value in event.items() if not name.startswith("_") and name != "@odata.etag"})
    for name in ("start", "end"):
        moment = datetime.fromisoformat(event[name]["dateTime"]).replace(tzinfo=UTC).astimezone(zone)
        answer[name] = {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": _zone_label(zone)}
    return answer


def _apply(event, body):
    for name, value in body.items():
        if name not in WRITABLE:
            continue
        if name in ("start", "end"):
            continue
        event[name] = value
    if "showAs" in body and body["showAs"] not in SHOW_AS:
        raise GraphError(400, "ErrorInvalidParameter", f"Invalid value '{body['showAs']}' for showAs.")
    if "sensitivity" in body and body["sensitivity"] not in SENSITIVITY:
        raise GraphError(400, "ErrorInvalidParameter", f"Invalid value '{body['sensitivity']}' for sensitivity.")
    if isinstance(body.get("body"), dict):
        content = re.sub(r"<[^>]+>", " ", body["body"].get("content") or "")
        event["bodyPreview"] = " ".join(content.split())[:255]
    for name in ("start", "end"):
        if name in body:
            moment, zone_name = _parse_time(body[name], name)
            event[name] = {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}
            event[f"original{name.title()}TimeZone"] = zone_name
    if "start" not in event or "end" not in event:
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. Start and End are required.")
    start = datetime.fromisoformat(event["start"]["dateTime"])
    end = datetime.fromisoformat(event["end"]["dateTime"])
    if end < start:
        raise GraphError(400, "ErrorInvalidRequest",
                         "Your request can't be completed. The end time can't be earlier than the start time.")
    if event.get("isAllDay") and not _midnights(body, event):
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. For an all-day event, the "
                         "start and end times must be at midnight and span whole days.")


def _midnights(body, event):
    for name in ("start", "end"):
        given = body.get(name) or {}
        local = datetime.fromisoformat(str(given.get("dateTime", "")).rstrip("Z")) if given else None
        if local is not None and (local.hour, local.minute, local.second) != (0, 0, 0):
            return False
    start = datetime.fromisoformat(event["start"]["dateTime"])
    end = datetime.fromisoformat(event["end"]["dateTime"])
    return (end - start) % timedelta(days=1) < timedelta(hours=2)  # whole days, give or take a DST hour


def _parse_time(value, name):
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise GraphError(400, "ErrorInvalidRequest", f"Your request can't be completed. {name} is required.")
    zone_name = value.get("timeZone") or "UTC"
    zone = zone_named(zone_name)
    try:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00")[:26])
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidRequest", f"Cannot convert the literal '{value['dateTime']}'.") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)), zone_name


def _response_zone(request: Request):
    preference = request.header("Prefer") or ""
    found = re.search(r'outlook\.timezone="([^"]+)"', preference)
    return zone_named(found.group(1)) if found else UTC


def _zone_label(zone):
    return "UTC" if zone in (UTC, zoneinfo.ZoneInfo("UTC")) else str(zone)


def _access(service, request):
    calendar_id = request.params.get("cal")
    entry = service.store.access(request.email, calendar_id)
    if entry is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    return entry


def _event(service, request, *, write=False):
    calendar, event, entry = service.store.find_event(request.email, request.params["event"])
    if event is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if write and not entry.can_edit:
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    return calendar, event, entry


def _check_etag(request, event):
    expected = (request.header("If-Match") or "").strip()
    if expected and expected != "*" and expected.removeprefix("W/") != event["@odata.etag"].removeprefix("W/"):
        raise GraphError(412, "ErrorIrresolvableConflict", "The send or update operation could not be performed "
                         "because the change key passed in the request does not match the current change key for "
                         "the item.")


def _body(request):
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    return body


def _int(text, default):
    try:
        return max(0, int(text)) if text is not None else default
    except ValueError as exc:
        raise GraphError(400, "BadRequest", f"Invalid value '{text}' for query option.") from exc
