"""Writing events as Exchange does: single events, series masters, occurrences and exceptions.

Graph's handlers and the control API (a person editing in Outlook) both write through here, so
change numbers, change keys, series bookkeeping and notifications are the same for both.
Callers hold the store's lock.
"""

import copy
import re
import secrets
from datetime import datetime

from . import recurrence, subscriptions, times
from .errors import GraphError
from .store import graph_id, now_iso

WRITABLE = {"subject", "body", "start", "end", "isAllDay", "showAs", "sensitivity", "importance", "categories",
            "location", "attendees", "isReminderOn", "reminderMinutesBeforeStart", "recurrence",
            "singleValueExtendedProperties", "transactionId"}
# What each writable property must be, as Graph's OData reader insists (bool is not an int here).
SHAPES = {"subject": str, "body": dict, "start": dict, "end": dict, "isAllDay": bool, "showAs": str,
          "sensitivity": str, "importance": str, "categories": list, "location": dict, "attendees": list,
          "isReminderOn": bool, "reminderMinutesBeforeStart": int, "recurrence": (dict, type(None)),
          "singleValueExtendedProperties": list, "transactionId": str}
CHOICES = {"showAs": {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"},
           "sensitivity": {"normal", "personal", "private", "confidential"}, "importance": {"low", "normal", "high"}}
RESHAPING = ("recurrence", "start", "end", "isAllDay")  # a master change that regenerates its occurrences


def create(store, calendar, body: dict) -> dict:
    owner = store.users[calendar.owner]
    now = now_iso(store.clock())
    event = {"id": graph_id(), "createdDateTime": now, "categories": [], "iCalUId": _global_object_id(),
             "reminderMinutesBeforeStart": 15, "isReminderOn": True, "hasAttachments": False, "subject": "",
             "bodyPreview": "", "importance": "normal", "sensitivity": "normal", "isAllDay": False,
             "isCancelled": False, "isOrganizer": True, "showAs": "busy", "type": "singleInstance",
             "seriesMasterId": None, "originalStart": None, "recurrence": None,
             "body": {"contentType": "text", "content": ""}, "location": {"displayName": ""}, "attendees": [],
             "organizer": {"emailAddress": {"name": owner.name, "address": owner.email}}}
    _apply(event, body)
    event["webLink"] = f"https://outlook.office365.com/owa/?itemid={event['id']}&exvsurl=1&path=/calendar/item"
    store.touch(event)
    calendar.events[event["id"]] = event
    subscriptions.changed(store, calendar, event, "created")
    return event


def update(store, calendar, event: dict, body: dict) -> dict:
    if "transactionId" in body and body["transactionId"] != event.get("transactionId"):
        raise GraphError(400, "ErrorInvalidPropertyUpdateSentToServer", "transactionId cannot be changed.")
    if "recurrence" in body and event["type"] in ("occurrence", "exception"):
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. An occurrence or an "
                         "exception of a series cannot have its own recurrence.")
    changed = copy.deepcopy(event)
    _apply(changed, body)
    if event["type"] == "occurrence":
        changed["type"] = "exception"  # a changed occurrence is kept apart from its series from now on
    seq = store.touch(changed)
    calendar.events[changed["id"]] = changed
    if event["type"] == "seriesMaster" and (changed["type"] != "seriesMaster"
                                            or any(name in body for name in RESHAPING)):
        _forget_exceptions(store, calendar, event, seq)
        changed.pop("_cancelled", None)
        store.removed_from_views(calendar, event, seq)
    elif event["type"] == "singleInstance" and changed["type"] == "seriesMaster":
        store.removed_from_views(calendar, event, seq)  # views now show its occurrences instead
    subscriptions.changed(store, calendar, changed, "updated")
    return changed


def delete(store, calendar, event: dict):
    """Delete an event; for an occurrence or exception, cancel that one occurrence of its series."""
    seq = store.next_seq()
    if event["type"] in ("occurrence", "exception"):
        master = calendar.events[event["seriesMasterId"]]
        cancelled = [*master.get("_cancelled", ()), recurrence.stamp(datetime.fromisoformat(event["originalStart"]))]
        calendar.events[master["id"]] = {**master, "_cancelled": cancelled}
    else:
        _forget_exceptions(store, calendar, event, seq)
    calendar.events.pop(event["id"], None)
    store.removed_from_views(calendar, event, seq)
    subscriptions.changed(store, calendar, event, "deleted")


def _forget_exceptions(store, calendar, master, seq):
    for exception in [item for item in calendar.events.values() if item.get("seriesMasterId") == master["id"]]:
        del calendar.events[exception["id"]]
        store.removed_from_views(calendar, exception, seq)


def _apply(event, body):
    _check(body)
    for name, value in body.items():
        if name in WRITABLE and name not in ("start", "end", "recurrence"):
            event[name] = value
    if "body" in body:
        content = re.sub(r"<[^>]+>", " ", body["body"].get("content") or "")
        event["bodyPreview"] = " ".join(content.split())[:255]
    if "start" in body or "end" in body:
        _apply_times(event, body)
    if "start" not in event or "end" not in event:
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. Start and End are required.")
    if times.utc(event["end"]) < times.utc(event["start"]):
        raise GraphError(400, "ErrorInvalidRequest",
                         "Your request can't be completed. The end time can't be earlier than the start time.")
    if event.get("isAllDay") and not _whole_days(event):
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. For an all-day event, the "
                         "start and end times must be at midnight and span whole days.")
    if "recurrence" in body:
        _apply_recurrence(event, body["recurrence"])


def _apply_times(event, body):
    """Store the instants (or, all day, the floating midnights) and the wall-clock times as given."""
    given = {name: times.parse(body[name], name) for name in ("start", "end") if name in body}
    zone_name = given["start"][1] if "start" in given else event.get("originalStartTimeZone", "UTC")
    zone = times.zone_named(zone_name)
    wall = {}
    for name in ("start", "end"):
        if name in given:
            moment, name_given, local = given[name]
            event[name] = times.floating(local) if event.get("isAllDay") else times.stored(moment)
            event[f"original{name.title()}TimeZone"] = name_given
            same_zone = times.zone_named(name_given) is zone
            wall[name] = local if same_zone else moment.astimezone(zone).replace(tzinfo=None, fold=0)
        elif name in event:
            kept = times.utc(event[name])
            wall[name] = kept.replace(tzinfo=None) if event.get("isAllDay") else \
                kept.astimezone(zone).replace(tzinfo=None, fold=0)
    if len(wall) == 2:
        event["_wall"] = {"zone": zone_name, "start": wall["start"].isoformat(), "end": wall["end"].isoformat()}


def _check(body):
    for name, kind in SHAPES.items():
        value = body.get(name)
        if name in body and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise GraphError(400, "RequestBodyRead", f"Cannot convert the value of '{name}' to the type it needs.")
        if name in CHOICES and name in body and value not in CHOICES[name]:
            raise GraphError(400, "ErrorInvalidParameter", f"Invalid value '{value}' for {name}.")
    nested = [("body", body.get("body"), ("content", "contentType")),
              ("location", body.get("location"), ("displayName",))]
    nested += [("attendees", attendee.get("emailAddress") if isinstance(attendee, dict) else None, ("address",))
               for attendee in body.get("attendees") or ()]
    nested += [("singleValueExtendedProperties", item, ("id", "value"))
               for item in body.get("singleValueExtendedProperties") or ()]
    for name, value, texts in nested:
        if value is None and name in ("body", "location"):
            continue
        if not isinstance(value, dict) or any(not isinstance(value.get(text, ""), str) for text in texts):
            raise GraphError(400, "RequestBodyRead", f"Cannot read '{name}': {', '.join(texts)} must be text.")
    if any(not isinstance(category, str) for category in body.get("categories") or ()):
        raise GraphError(400, "RequestBodyRead", "Cannot read 'categories': each must be text.")
    if "body" in body and body["body"].get("contentType", "text") not in ("text", "html"):
        raise GraphError(400, "ErrorInvalidParameter", "body.contentType is text or html.")


def _apply_recurrence(event, value):
    if value is None:
        event.update(recurrence=None, type="singleInstance")
        return
    event["recurrence"] = recurrence.normalized(value, event.get("originalStartTimeZone") or "UTC")
    event["type"] = "seriesMaster"
    first = recurrence.first(event)
    if first is None:
        raise GraphError(400, "ErrorPropertyValidationFailure", "At least one property failed validation. "
                         "The recurrence has no occurrence.")
    # Outlook moves the master to its first occurrence when the range starts on a day the pattern skips.
    place = times.floating if event.get("isAllDay") else times.stored
    event["start"], event["end"] = place(first.start), place(first.end)
    wall = event.get("_wall")
    if wall:
        length = datetime.fromisoformat(wall["end"]) - datetime.fromisoformat(wall["start"])
        event["_wall"] = {**wall, "start": first.local.isoformat(), "end": (first.local + length).isoformat()}


def _whole_days(event):
    """An all-day event's floating times are midnights a whole number of days apart."""
    start, end = (datetime.fromisoformat(event[name]["dateTime"]) for name in ("start", "end"))
    return (start.time(), end.time()) == (datetime.min.time(),) * 2 and end > start and (end - start).seconds == 0


def _global_object_id(uid=""):
    """An iCalUId shaped like Outlook's global object id: no occurrence date (bytes 16-19 are zero). A UID
    from another system (an invitation's) is kept inside after a "vCal-Uid" marker, as Exchange does."""
    data = bytes.fromhex(secrets.token_hex(16)) if not uid else b"vCal-Uid\x01\x00\x00\x00" + uid.encode() + b"\0"
    return (recurrence.GOID_CLASS + "00000000" + secrets.token_hex(8) + "0" * 16
            + len(data).to_bytes(4, "little").hex() + data.hex()).upper()


def invitation(store, calendar, body: dict) -> dict:
    """An event as a meeting invitation leaves it: with that meeting's "uid" and, given one, its "organizer"."""
    body = dict(body)
    uid, organizer = body.pop("uid"), body.pop("organizer", None)
    event = create(store, calendar, body)
    event.update(iCalUId=_global_object_id(uid), isOrganizer=False)
    if organizer:
        event["organizer"] = organizer
    return event
