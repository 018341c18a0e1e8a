"""calendarView and calendarView/delta: the events of a time window, and what changed in it.

Views list single events, occurrences and exceptions, never series masters. A delta round is a
chain of @odata.nextLink pages ending in an @odata.deltaLink. The tokens in those links carry
the window and a snapshot of the tenant's change number taken on the round's first page; the
round's items are computed then and kept while the client pages, so changes made meanwhile are
seen by the next round. A round that is no longer kept answers 410, as an old skiptoken may on
Graph: the client starts again, and nothing is silently skipped.
"""

import json
from datetime import datetime
from urllib.parse import urlencode

from ..pages import decode, encode, kept
from . import recurrence, times
from .errors import GraphError
from .graph import access, overlaps, present, query_int
from .paths import ME, V1

DEFAULT_PAGE, MAX_PAGE = 10, 1000  # the largest page the sandbox gives (Graph does not document one)
NOT_WITH_DELTA = ("$select", "$expand", "$filter", "$orderby", "$search")
TOKEN_FIELDS = {"cal": str, "start": str, "end": str, "snap": int, "off": int, "epoch": int}


def install(service):
    add = service.router.add
    add("GET", f"{V1}{ME}/calendarView", lambda r: calendar_view(service, r), "calendar_view")
    add("GET", f"{V1}{ME}/calendars/(?P<cal>[^/]+)/calendarView", lambda r: calendar_view(service, r),
        "calendar_view")
    add("GET", f"{V1}{ME}/calendarView/delta", lambda r: delta(service, r), "delta")
    add("GET", f"{V1}{ME}/calendars/(?P<cal>[^/]+)/calendarView/delta", lambda r: delta(service, r), "delta")


def in_window(calendar, start, end) -> list[dict]:
    """Single events, occurrences and exceptions overlapping [start, end), in start order."""
    found = []
    for event in calendar.events.values():
        if event["type"] == "seriesMaster":
            found += recurrence.live_occurrences(calendar.events, event, start, end)
        elif overlaps(event, start, end):
            found.append(event)
    found.sort(key=lambda event: event["start"]["dateTime"])
    return found


def calendar_view(service, request):
    start, end = times.window(request)
    entry = access(service, request)
    store = service.store
    key = json.dumps(["view", entry.calendar_id, start.isoformat(), end.isoformat(), store.change_seq])
    found = kept(store.kept_pages, key, lambda: in_window(store.calendars[entry.calendar_id], start, end))
    top, skip = _page_size(request), query_int(request, "$skip", 0)
    page = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)",
            "value": [present(event, request) for event in found[skip:skip + top]]}
    if skip + top < len(found):
        query = {"startDateTime": request.arg("startDateTime"), "endDateTime": request.arg("endDateTime"),
                 "$top": top, "$skip": skip + top}
        page["@odata.nextLink"] = f"{request.base_url}{request.path}?{urlencode(query)}"
    return service.json(page)


def delta(service, request):
    if any(name in request.query for name in NOT_WITH_DELTA):
        raise GraphError(400, "ErrorInvalidUrlQuery", "The following parameters are not supported with change "
                         "tracking over the 'Events' resource: '$orderby, $filter, $select, $expand, $search'.")
    store = service.store
    entry = access(service, request)
    token_text = request.arg("$skiptoken") or request.arg("$deltatoken")
    if token_text:
        token = _decode(token_text)
        if token is None or token["cal"] != entry.calendar_id or token["epoch"] != store.delta_epoch:
            _expired(store, request, token)
        if request.arg("$deltatoken"):  # a new round from where the last ended
            token = {**token, "since": token["snap"], "snap": store.change_seq, "off": 0}
    else:
        start, end = times.window(request)
        token = {"cal": entry.calendar_id, "start": start.isoformat(), "end": end.isoformat(), "since": None,
                 "snap": store.change_seq, "off": 0, "epoch": store.delta_epoch}
    key = json.dumps(["delta", *(token[name] for name in ("cal", "start", "end", "since", "snap", "epoch"))])
    if token["off"] and key not in store.kept_pages:
        _expired(store, request, token)
    items = kept(store.kept_pages, key, lambda: _changes(store.calendars[entry.calendar_id], token))
    size = _page_size(request)
    page_items = [{"@odata.type": "#microsoft.graph.event", **present(item, request)} if "@removed" not in item
                  else item for item in items[token["off"]:token["off"] + size]]
    answer = {"@odata.context": f"{request.base_url}{V1}/$metadata#Collection(event)", "value": page_items}
    if token["off"] + size < len(items):
        answer["@odata.nextLink"] = _link(request, "$skiptoken", {**token, "off": token["off"] + size})
    else:
        answer["@odata.deltaLink"] = _link(request, "$deltatoken", {**token, "off": 0})
        answer["value"] += json.loads(json.dumps(store.calendars[entry.calendar_id].raw_items))
    response = service.json(answer)
    response.headers["Preference-Applied"] = f"odata.maxpagesize={size}, odata.track-changes"
    return response


def _expired(store, request, token):
    """Graph's two ways of saying a delta token is no longer good (store.delta_expiry picks one)."""
    if store.delta_expiry == "resync" and token is not None:  # restart with the round's first request
        query = urlencode({"startDateTime": token["start"], "endDateTime": token["end"]})
        raise GraphError(410, "resyncRequired", "The delta token is no longer valid, and the app must reset the "
                         "sync state.", {"Location": f"{request.base_url}{request.path}?{query}"})
    generation = (token or {}).get("since") or 0
    raise GraphError(410, "SyncStateNotFound", f"The sync state generation is not found; "
                     f"generation={generation};[highest={store.change_seq}].")


def _changes(calendar, token):
    """Every live event in the window (first round), or what changed since (later rounds).

    A series that changed shows all its occurrences again; one that was reshaped or deleted also
    sends @removed for the occurrences it no longer has.
    """
    since, snap = token["since"], token["snap"]
    start, end = (datetime.fromisoformat(token[name]) for name in ("start", "end"))
    changed = lambda seq: seq <= snap and (since is None or seq > since)  # noqa: E731
    items = []
    for event in calendar.events.values():
        if not changed(event["_seq"]):
            continue
        if event["type"] == "seriesMaster":
            items += recurrence.live_occurrences(calendar.events, event, start, end)
        elif overlaps(event, start, end):
            items.append(event)
        elif since is not None:  # changed, and now outside the window: the client must forget it
            items.append(_removed(event["id"]))
    if since is None:
        return items
    shown = {item["id"] for item in items}
    gone = [event_id for event_id, seq in calendar.removed.items() if changed(seq)]
    for seq, old in calendar.replaced:
        if changed(seq):
            gone += [recurrence.occurrence_id(old["id"], found.original_start)
                     for found in recurrence.expand(old, start, end)]
    return items + [_removed(event_id) for event_id in dict.fromkeys(gone) if event_id not in shown]


def _removed(event_id):
    return {"@odata.type": "#microsoft.graph.event", "id": event_id, "@removed": {"reason": "deleted"}}


def _page_size(request):
    preference = request.header("Prefer") or ""
    for part in preference.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isascii() and value.isdigit() and len(value) < 10:
            return max(1, min(int(value), MAX_PAGE))
    return min(query_int(request, "$top", DEFAULT_PAGE, least=1), MAX_PAGE)


def _link(request, name, token):
    return f"{request.base_url}{request.path}?{urlencode({name: encode(token)})}"


def _decode(text):
    """A token of ours, checked field by field; None for anything else (forged, truncated, foreign)."""
    data = decode(text)
    try:
        if data is None or any(type(data.get(name)) is not kind for name, kind in TOKEN_FIELDS.items()):
            return None
        if data.get("since") is not None and type(data["since"]) is not int:
            return None
        start, end = (datetime.fromisoformat(data[name]) for name in ("start", "end"))
    except (ValueError, TypeError):
        return None
    aware = start.tzinfo is not None and end.tzinfo is not None
    return data if aware and times.EARLIEST <= start <= times.LATEST and times.EARLIEST <= end <= times.LATEST \
        else None
