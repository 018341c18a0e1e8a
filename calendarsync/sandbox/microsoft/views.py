"""calendarView and calendarView/delta: the events of a time window, and what changed in it.

A delta round is a chain of @odata.nextLink pages ending in an @odata.deltaLink. The tokens in
those links carry the window and a snapshot of the tenant's change number taken on the round's
first page, so changes made while a client pages are seen by the next round, never lost.
Series are not expanded yet: single events only.
"""

import base64
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from .graph import ME, V1, GraphError, _access, _response_zone, present

DEFAULT_PAGE, MAX_PAGE = 10, 1000  # the largest page the sandbox gives (Graph does not document one)
NOT_WITH_DELTA = ("$select", "$expand", "$filter", "$orderby", "$search")


def install(service):
    add = service.router.add
    add("GET", f"{V1}{ME}/calendarView", lambda r: calendar_view(service, r), "calendar_view")
    add("GET", f"{V1}{ME}/calendars/(?P<cal>[^/]+)/calendarView", lambda r: calendar_view(service, r),
        "calendar_view")
    add("GET", f"{V1}{ME}/calendarView/delta", lambda r: delta(service, r), "delta")
    add("GET", f"{V1}{ME}/calendars/(?P<cal>[^/]+)/calendarView/delta", lambda r: delta(service, r), "delta")


def calendar_view(service, request):
    start, end = _window(request)
    entry = _access(service, request)
    events = [event for event in service.store.calendars[entry.calendar_id].events.values()
              if event["type"] == "singleInstance" and _overlaps(event, start, end)]
    events.sort(key=lambda event: event["start"]["dateTime"])
    zone = _response_zone(request)
    top = _page_size(request)
    skip = int(request.arg("$skip") or 0)
    page = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)",
            "value": [present(event, zone) for event in events[skip:skip + top]]}
    if skip + top < len(events):
        query = {"startDateTime": request.arg("startDateTime"), "endDateTime": request.arg("endDateTime"),
                 "$skip": skip + top}
        page["@odata.nextLink"] = f"{request.base_url}{request.path}?{urlencode(query)}"
    return service.json(page)


def delta(service, request):
    if any(name in request.query for name in NOT_WITH_DELTA):
        raise GraphError(400, "ErrorInvalidUrlQuery", "The following parameters are not supported with change "
                         "tracking over the 'Events' resource: '$orderby, $filter, $select, $expand, $search'.")
    store = service.store
    entry = _access(service, request)
    token_text = request.arg("$skiptoken") or request.arg("$deltatoken")
    if token_text:
        token = _decode(token_text)
        if token is None or token.get("cal") != entry.calendar_id or token.get("epoch") != store.delta_epoch:
            generation = token.get("since", 0) if isinstance(token, dict) else 0
            raise GraphError(410, "SyncStateNotFound", f"The sync state generation is not found; "
                             f"generation={generation};[highest={store.change_seq}].")
        start, end = (datetime.fromisoformat(token[name]) for name in ("start", "end"))
        if request.arg("$deltatoken"):  # a new round from where the last ended
            token = {**token, "since": token["snap"], "snap": store.change_seq, "off": 0}
    else:
        start, end = _window(request)
        token = {"cal": entry.calendar_id, "start": start.isoformat(), "end": end.isoformat(), "since": None,
                 "snap": store.change_seq, "off": 0, "epoch": store.delta_epoch}
    items = _changes(service, entry, token, start, end, _response_zone(request))
    size = _page_size(request)
    page_items = items[token["off"]:token["off"] + size]
    answer = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)", "value": page_items}
    if token["off"] + size < len(items):
        answer["@odata.nextLink"] = _link(request, "$skiptoken", {**token, "off": token["off"] + size})
    else:
        answer["@odata.deltaLink"] = _link(request, "$deltatoken", {**token, "off": 0})
    response = service.json(answer)
    response.headers["Preference-Applied"] = f"odata.maxpagesize={size}, odata.track-changes"
    return response


def _changes(service, entry, token, start, end, zone):
    """Every live event in the window (first round), or what changed since (later rounds)."""
    store, since, snap = service.store, token["since"], token["snap"]
    calendar = store.calendars[entry.calendar_id]
    items = []
    for event in calendar.events.values():
        if event["type"] != "singleInstance" or event["_seq"] > snap or (since is not None and event["_seq"] <= since):
            continue
        if _overlaps(event, start, end):
            items.append({"@odata.type": "#microsoft.graph.event", **present(event, zone)})
        elif since is not None:  # changed, and now outside the window: the client must forget it
            items.append(_removed(event["id"]))
    if since is not None:
        items += [_removed(event_id) for event_id, seq in calendar.removed.items() if since < seq <= snap]
    return items


def _removed(event_id):
    return {"@odata.type": "#microsoft.graph.event", "id": event_id, "@removed": {"reason": "deleted"}}


def _window(request):
    texts = request.arg("startDateTime"), request.arg("endDateTime")
    if not all(texts):
        raise GraphError(400, "ErrorInvalidParameter", "This request requires a time window specified by the query "
                         "string parameters StartDateTime and EndDateTime.")
    try:
        start, end = (datetime.fromisoformat(text.replace("Z", "+00:00")) for text in texts)
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", "The value of StartDateTime or EndDateTime is invalid.") from exc
    return tuple(moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in (start, end))


def _overlaps(event, start, end):
    event_start = datetime.fromisoformat(event["start"]["dateTime"]).replace(tzinfo=UTC)
    event_end = datetime.fromisoformat(event["end"]["dateTime"]).replace(tzinfo=UTC)
    return event_start < end and (event_end > start or (event_end == event_start and event_start >= start))


def _page_size(request):
    preference = request.header("Prefer") or ""
    for part in preference.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isdigit():
            return max(1, min(int(value), MAX_PAGE))
    top = request.arg("$top")
    return max(1, min(int(top), MAX_PAGE)) if top and top.isdigit() else DEFAULT_PAGE


def _link(request, name, token):
    encoded = base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{request.base_url}{request.path}?{urlencode({name: encoded})}"


def _decode(text):
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None
