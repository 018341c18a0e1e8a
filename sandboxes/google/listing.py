"""events.list: filters, expansion, pages and sync tokens, following the Calendar API's rules."""

import hashlib
import json
from datetime import UTC, datetime

from ..pages import decode, encode, kept
from .events import EventError, minimal_tombstone, parse_moment, public
from .recurring import instance, instances, instant

# Parameters a syncToken cannot be combined with.
NOT_WITH_SYNC_TOKEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty", "timeMin",
                       "timeMax", "updatedMin")
# Parameters that shape the result, and so must stay the same across the pages of one listing.
SHAPING = ("singleEvents", "showDeleted", "maxResults", "syncToken", "orderBy", "q", "iCalUID", "timeMin",
           "timeMax", "updatedMin", "privateExtendedProperty", "sharedExtendedProperty")


def query_key(query: dict) -> str:
    shaping = {name: sorted(query.get(name, [])) for name in SHAPING}
    return hashlib.sha1(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def parse_time(query, name) -> datetime | None:
    values = query.get(name)
    if not values:
        return None
    try:
        moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError as exc:
        raise EventError(400, "badRequest", "Bad Request") from exc
    if moment.tzinfo is None:
        raise EventError(400, "badRequest", "Bad Request")
    return moment


def list_events(calendar, query: dict, cache: dict) -> dict:
    """Return the events.list answer for one calendar, or raise EventError / SyncTokenExpired.

    The rows of a listing are computed on its first page and kept in `cache` for the next ones.
    """
    def arg(name, default=None):
        return (query.get(name) or [default])[0]

    sync_token = arg("syncToken")
    if sync_token and any(name in query for name in NOT_WITH_SYNC_TOKEN):
        raise EventError(400, "invalid", "Sync token cannot be combined with the given filtering parameters.")
    try:
        max_results = max(1, min(int(arg("maxResults", 250)), 2500))
    except ValueError as exc:
        raise EventError(400, "invalid", "Invalid value for maxResults.") from exc
    single = arg("singleEvents") == "true"
    show_deleted = arg("showDeleted")
    if arg("orderBy") == "startTime" and not single:
        raise EventError(400, "invalid", "The requested ordering is not available for the particular query.")
    time_min, time_max = parse_time(query, "timeMin"), parse_time(query, "timeMax")
    if time_min and time_max and time_max <= time_min:
        raise EventError(400, "timeRangeEmpty", "The specified time range is empty.", "timeMax")
    updated_min = parse_time(query, "updatedMin")

    key = query_key(query)
    page = decode(arg("pageToken")) if arg("pageToken") else {"q": key, "snap": calendar.change_seq, "off": 0}
    if page is None or page.get("q") != key:
        raise EventError(400, "invalid", "Invalid page token; the other parameters must not change between pages.")
    since = _since(calendar, sync_token) if sync_token else None

    def compute():
        rows = [event for event in calendar.events.values()
                if event["_seq"] <= page["snap"] and (since is None or event["_seq"] > since)]
        if since is None and updated_min is None:
            rows = [event for event in rows if _shown(event, single, show_deleted == "true")]
        if updated_min is not None:
            rows = [event for event in rows if datetime.fromisoformat(event["updated"].replace("Z", "+00:00"))
                    >= updated_min]
        rows = _filter(rows, query, arg)
        if single:
            rows = _expand(calendar, rows, time_min, time_max, show_deleted == "true" or since is not None)
        elif time_min or time_max:
            rows = [event for event in rows if _overlaps(event, time_min, time_max)]
        if arg("orderBy") == "startTime":
            rows.sort(key=lambda event: _start_instant(event))
        elif arg("orderBy") == "updated":
            rows.sort(key=lambda event: event["updated"])
        return rows

    rows = kept(cache, (calendar.id, calendar.epoch, key, page["snap"], since), compute)

    offset = page["off"]
    items = rows[offset:offset + max_results]
    answer = {"kind": "calendar#events", "summary": calendar.summary, "timeZone": calendar.time_zone,
              "accessRole": "owner", "defaultReminders": [], "etag": f'"{calendar.change_seq}"'}
    if calendar.empty_pages > 0:  # "the result page may be empty while nextPageToken is present"
        calendar.empty_pages -= 1
        return {**answer, "items": [], "nextPageToken": encode({**page, "empty": calendar.empty_pages})}
    if offset + max_results < len(rows):
        answer["nextPageToken"] = encode({"q": key, "snap": page["snap"], "off": offset + max_results})
    else:
        answer["nextSyncToken"] = encode({"cal": calendar.id, "seq": page["snap"], "epoch": calendar.epoch})
    strip = since is not None and show_deleted == "false"
    answer["items"] = [minimal_tombstone(event) if strip and event.get("status") == "cancelled" else public(event)
                       for event in items]
    if "nextSyncToken" in answer:
        answer["items"] += json.loads(json.dumps(calendar.raw_items))
    return answer


class SyncTokenExpired(Exception):
    """The token is too old, invalidated or not one of ours: a full sync is required (410)."""


def _since(calendar, token) -> int:
    data = decode(token)
    if not isinstance(data, dict) or data.get("cal") != calendar.id or data.get("epoch") != calendar.epoch:
        raise SyncTokenExpired
    if not isinstance(data.get("seq"), int) or data["seq"] < 0:
        raise SyncTokenExpired
    return data["seq"]


def _shown(event, single, show_deleted):
    if event.get("status") != "cancelled" or show_deleted:
        return True
    # Without showDeleted, cancelled instances of recurring events still appear (not when expanded).
    return bool(event.get("recurringEventId")) and not single


def _filter(rows, query, arg):
    if arg("iCalUID"):
        rows = [event for event in rows if event.get("iCalUID") == arg("iCalUID")]
    for scope, name in (("private", "privateExtendedProperty"), ("shared", "sharedExtendedProperty")):
        for constraint in query.get(name, []):
            key, _, value = constraint.partition("=")
            rows = [event for event in rows
                    if (event.get("extendedProperties") or {}).get(scope, {}).get(key) == value]
    if arg("q"):
        words = arg("q").lower()
        rows = [event for event in rows if words in " ".join(
            str(event.get(field, "")) for field in ("summary", "description", "location")).lower()]
    return rows


def _expand(calendar, rows, time_min, time_max, with_cancelled):
    """Replace masters by their instances; exceptions stand for the instance they change."""
    exceptions = {(event["recurringEventId"], event["id"]) for event in calendar.events.values()
                  if event.get("recurringEventId")}
    expanded = []
    for event in rows:
        if event.get("recurrence") and not event.get("recurringEventId"):
            if event.get("status") == "cancelled":
                continue
            expanded += [instance(event, stamp, start, end)
                         for stamp, start, end in instances(event, time_min, time_max)
                         if (event["id"], f"{event['id']}_{stamp}") not in exceptions]
        elif (event.get("status") != "cancelled" or with_cancelled) and (
                not (time_min or time_max) or _overlaps(event, time_min, time_max)):
            expanded.append(event)
    return expanded


def _overlaps(event, time_min, time_max):
    if "start" not in event:
        return True
    if event.get("recurrence") and not event.get("recurringEventId"):
        return bool(instances(event, time_min, time_max))
    start, end = _start_instant(event), instant(parse_moment(event["end"], "end"))
    return (time_max is None or start < time_max) and (time_min is None or end > time_min)


def _start_instant(event):
    return instant(parse_moment(event["start"], "start")) if "start" in event else datetime.min.replace(tzinfo=UTC)
