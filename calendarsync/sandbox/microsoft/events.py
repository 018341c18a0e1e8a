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
SHOW_AS = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}
SENSITIVITY = {"normal", "personal", "private", "confidential"}
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
    store.touch(changed)
    calendar.events[changed["id"]] = changed
    reshaped = changed["type"] != "seriesMaster" or any(name in body for name in RESHAPING)
    if event["type"] == "seriesMaster" and reshaped:
        _forget_exceptions(store, calendar, event)
        changed.pop("_cancelled", None)
        store.removed_from_views(calendar, event)
    elif event["type"] == "singleInstance" and changed["type"] == "seriesMaster":
        store.removed_from_views(calendar, event)  # views now show its occurrences instead
    subscriptions.changed(store, calendar, changed, "updated")
    return changed


def delete(store, calendar, event: dict):
    """Delete an event; for an occurrence or exception, cancel that one occurrence of its series."""
    if event["type"] in ("occurrence", "exception"):
        master = calendar.events[event["seriesMasterId"]]
        cancelled = [*master.get("_cancelled", ()), recurrence.stamp(datetime.fromisoformat(event["originalStart"]))]
        calendar.events[master["id"]] = {**master, "_cancelled": cancelled}
    else:
        _forget_exceptions(store, calendar, event)
    calendar.events.pop(event["id"], None)
    store.removed_from_views(calendar, event)
    subscriptions.changed(store, calendar, event, "deleted")


def _forget_exceptions(store, calendar, master):
    for exception in [item for item in calendar.events.values() if item.get("seriesMasterId") == master["id"]]:
        del calendar.events[exception["id"]]
        store.removed_from_views(calendar, exception)


def _apply(event, body):
    for name, value in body.items():
        if name in WRITABLE and name not in ("start", "end", "recurrence"):
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
            moment, zone_name = times.parse(body[name], name)
            event[name] = times.stored(moment)
            event[f"original{name.title()}TimeZone"] = zone_name
    if "start" not in event or "end" not in event:
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. Start and End are required.")
    if times.utc(event["end"]) < times.utc(event["start"]):
        raise GraphError(400, "ErrorInvalidRequest",
                         "Your request can't be completed. The end time can't be earlier than the start time.")
    if event.get("isAllDay") and not _midnights(body, event):
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. For an all-day event, the "
                         "start and end times must be at midnight and span whole days.")
    if "recurrence" in body:
        _apply_recurrence(event, body["recurrence"])


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
    event["start"], event["end"] = times.stored(first.start), times.stored(first.end)


def _midnights(body, event):
    for name in ("start", "end"):
        given = body.get(name)
        if isinstance(given, dict) and given.get("dateTime"):
            local = times.parse(given, name)[0]
            if (local.hour, local.minute, local.second) != (0, 0, 0):
                return False
    length = times.utc(event["end"]) - times.utc(event["start"])
    return length.total_seconds() % 86400 in (0, 3600, 82800)  # whole days, give or take a DST hour


def _global_object_id():
    """An iCalUId shaped like Outlook's global object id: no occurrence date (bytes 16-19 are zero)."""
    return (recurrence.GOID_CLASS + "00000000" + secrets.token_hex(8) + "0" * 16 + "10000000"
            + secrets.token_hex(16)).upper()
