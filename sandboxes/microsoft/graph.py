"""Microsoft Graph v1.0, the calendar part: /me, calendars and events, in Graph's JSON shapes.

Times are stored in UTC with the zone they were given in (originalStartTimeZone) and returned in
UTC, or in the zone `Prefer: outlook.timezone` names (IANA or Windows). Extended properties are
returned only when `$expand` asks for them, as Graph does.
"""

import re
import uuid
from urllib.parse import urlencode

from ..http import Request, Response
from . import events, recurrence, times
from .errors import GraphError, access_denied, not_found
from .paths import CAL, EVENT, ME, V1

EXTENDED = "singleValueExtendedProperties"
EXTENDED_FILTER = re.compile(  # the one $filter the sandbox understands: events tagged with a property
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id eq '([^']+)' and \1/value eq '([^']*)'\s*\)$",
    re.IGNORECASE)


def install(service):
    add = service.router.add
    add("GET", f"{V1}{ME}", lambda r: me(service, r), "me")
    add("GET", f"{V1}{ME}/calendars", lambda r: calendars(service, r), "calendars")
    add("GET", f"{V1}{ME}/outlook/masterCategories", lambda r: master_categories(service, r), "categories")
    add("GET", f"{V1}{ME}/calendar", lambda r: calendar(service, r), "calendar")
    add("GET", f"{V1}{ME}/calendars/{CAL}/events", lambda r: list_events(service, r), "events_list")
    add("GET", f"{V1}{ME}/events", lambda r: list_events(service, r), "events_list")
    add("POST", f"{V1}{ME}/calendars/{CAL}/events", lambda r: create_event(service, r), "events_create")
    add("POST", f"{V1}{ME}/events", lambda r: create_event(service, r), "events_create")
    add("GET", f"{V1}{ME}/events/{EVENT}", lambda r: get_event(service, r), "events_get")
    add("PATCH", f"{V1}{ME}/events/{EVENT}", lambda r: update_event(service, r), "events_update")
    add("DELETE", f"{V1}{ME}/events/{EVENT}", lambda r: delete_event(service, r), "events_delete")
    add("GET", f"{V1}{ME}/events/{EVENT}/instances", lambda r: instances(service, r), "events_instances")


def me(service, request):
    user = service.store.users[request.email]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#users/$entity", "id": user.oid,
                         "displayName": user.name, "mail": user.email, "userPrincipalName": user.email,
                         "givenName": user.name.split()[0], "surname": " ".join(user.name.split()[1:])})


def master_categories(service, request):
    """The mailbox's categories, which color its events."""
    user = service.store.users[request.email]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#users('{user.oid}')/outlook/"
                                           "masterCategories",
                         "value": [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user.oid}/{name}")),
                                    "displayName": name, "color": color}
                                   for name, color in user.categories.items()]})


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
    entry = access(service, request)
    wanted = tagged(request)
    found = [event for event in service.store.calendars[entry.calendar_id].events.values()
             if event["type"] in ("singleInstance", "seriesMaster") and wanted(event)]
    top, skip = query_int(request, "$top", 10, least=1), query_int(request, "$skip", 0)
    page = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)",
            "value": [present(event, request) for event in found[skip:skip + top]]}
    if skip + top < len(found):
        query = {name: request.arg(name) for name in ("$filter", "$expand") if request.arg(name)}
        page["@odata.nextLink"] = (f"{request.base_url}{request.path}?"
                                   + urlencode({**query, "$top": top, "$skip": skip + top}))
    return service.json(page)


def create_event(service, request):
    entry = access(service, request)
    if not entry.can_edit:
        raise access_denied()
    body = json_body(request)
    store = service.store
    calendar = store.calendars[entry.calendar_id]
    transaction = body.get("transactionId")
    if transaction is not None and not isinstance(transaction, str):
        raise GraphError(400, "RequestBodyRead", "Cannot convert the value of 'transactionId' to text.")
    known = store.transactions.setdefault(calendar.owner, {})
    if transaction and transaction in known:
        existing = store.find_event(request.email, known[transaction])[1]
        if existing is not None:  # a retried create: the same event, never a duplicate
            return service.json(present(existing, request), 201)
    event = events.create(store, calendar, body)
    if transaction:
        known[transaction] = event["id"]
    store.writes.append({"method": "create", "event": event["id"], "transactionId": transaction,
                         "mailed": _attendees(event)})
    return service.json(present(event, request), 201)


def get_event(service, request):
    return service.json(present(_event(service, request)[1], request))


def update_event(service, request):
    calendar, event, _ = _event(service, request, write=True)
    body = json_body(request)
    _check_etag(request, event)
    changed = events.update(service.store, calendar, event, body)
    service.store.writes.append({"method": "update", "event": changed["id"], "mailed": _attendees(changed)})
    return service.json(present(changed, request))


def delete_event(service, request):
    calendar, event, _ = _event(service, request, write=True)
    _check_etag(request, event)
    events.delete(service.store, calendar, event)
    service.store.writes.append({"method": "delete", "event": event["id"], "mailed": _attendees(event)})
    return Response(204, b"", {})


def instances(service, request):
    """The occurrences and exceptions of a series in a window, in start order."""
    calendar, master, _ = _event(service, request)
    if master["type"] != "seriesMaster":
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. The event is not the "
                         "master of a recurring series.")
    start, end = times.window(request)
    found = recurrence.live_occurrences(calendar.events, master, start, end) + [
        event for event in calendar.events.values()
        if event.get("seriesMasterId") == master["id"] and overlaps(event, start, end)]
    found.sort(key=lambda event: event["start"]["dateTime"])
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)",
                         "value": [present(event, request) for event in found]})


def _attendees(event):
    """Who Outlook e-mails about an organizer's write: every attendee; Graph has no switch to prevent it."""
    if not event.get("isOrganizer", True):
        return []
    return [(attendee.get("emailAddress") or {}).get("address") for attendee in event.get("attendees") or []
            if isinstance(attendee, dict)]


def present(event: dict, request: Request) -> dict:
    """The event as Graph returns it: times in the preferred zone, no bookkeeping, extensions on request."""
    zone, zone_name = response_zone(request)
    answer = {"@odata.etag": event["@odata.etag"]}
    answer.update({name: value for name, value in event.items()
                   if not name.startswith("_") and name not in ("@odata.etag", EXTENDED)})
    answer["start"], answer["end"] = (times.shown(times.utc(event[name]), zone, zone_name,
                                                  all_day=event.get("isAllDay", False)) for name in ("start", "end"))
    expanded = re.search(rf"{EXTENDED}(?:\(\$filter=id eq '([^']+)'\))?", request.arg("$expand") or "", re.I)
    if expanded and event.get(EXTENDED):
        answer[EXTENDED] = [item for item in event[EXTENDED]
                            if not expanded.group(1) or item.get("id", "").lower() == expanded.group(1).lower()]
    return answer


def tagged(request: Request):
    """A predicate for the request's $filter, which may only ask for an extended property's value."""
    text = request.arg("$filter")
    if not text:
        return lambda event: True
    found = EXTENDED_FILTER.match(text.strip())
    if found is None:
        raise GraphError(400, "ErrorInvalidUrlQueryFilter", f"The sandbox does not support this $filter: {text}")
    property_id, value = found.group(2).lower(), found.group(3)
    return lambda event: any(str(item.get("id", "")).lower() == property_id and item.get("value") == value
                             for item in event.get(EXTENDED) or ())


def overlaps(event, start, end):
    return times.overlaps(times.utc(event["start"]), times.utc(event["end"]), start, end)


def response_zone(request: Request):
    """The zone `Prefer: outlook.timezone` asks for, and its name as the client spelled it (UTC by default)."""
    found = re.search(r'outlook\.timezone="([^"]+)"', request.header("Prefer") or "")
    return (times.zone_named(found.group(1)), found.group(1)) if found else (times.UTC, "UTC")


def access(service, request):
    entry = service.store.access(request.email, request.params.get("cal"))
    if entry is None:
        raise not_found()
    return entry


def _event(service, request, *, write=False):
    calendar, event, entry = service.store.find_event(request.email, request.params["event"])
    if event is None:
        raise not_found()
    if write and not entry.can_edit:
        raise access_denied()
    return calendar, event, entry


def _check_etag(request, event):
    expected = (request.header("If-Match") or "").strip()
    if expected and expected != "*" and expected.removeprefix("W/") != event["@odata.etag"].removeprefix("W/"):
        raise GraphError(412, "ErrorIrresolvableConflict", "The send or update operation could not be performed "
                         "because the change key passed in the request does not match the current change key for "
                         "the item.")


def json_body(request):
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    return body


def query_int(request, name, default, *, least=0):
    """A whole-number query option ($top, $skip), ASCII digits only; anything else is a 400."""
    text = request.arg(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < least:
        raise GraphError(400, "BadRequest", f"Invalid value '{text}' for query option {name}.")
    return int(text)
