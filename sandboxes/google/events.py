"""Google Calendar event rules: validation of a body, ids, and the fields a write may set."""

import copy
import re
import secrets
import string
import zoneinfo
from datetime import date, datetime

from .store import EVENT_COLORS, now_rfc3339

ID_PATTERN = re.compile(r"^[a-v0-9]{5,1024}$")
INSTANCE_ID = re.compile(r"^(?P<master>[a-v0-9]{5,1024})_(?P<stamp>\d{8}(T\d{6}Z)?)$")
SERVER_FIELDS = {"kind", "etag", "htmlLink", "created", "updated", "creator", "organizer", "sequence",
                 "eventType", "_seq", "iCalUID", "recurringEventId", "originalStartTime"}
CLIENT_FIELDS = {"id", "summary", "description", "location", "colorId", "start", "end", "endTimeUnspecified",
                 "recurrence", "transparency", "visibility", "attendees", "guestsCanModify",
                 "guestsCanInviteOthers", "guestsCanSeeOtherGuests", "extendedProperties", "source", "status",
                 "reminders", "anyoneCanAddSelf", "locked", "attachments", "conferenceData"}


class EventError(ValueError):
    """A body Google would refuse: (status, reason, message, location)."""

    def __init__(self, status, reason, message, location=None):
        super().__init__(message)
        self.status, self.reason, self.message, self.location = status, reason, message, location


def new_id() -> str:
    alphabet = string.digits + "abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def check_id(event_id: str):
    if not ID_PATTERN.match(event_id):
        raise EventError(400, "invalid", "Invalid resource id value.")


def parse_moment(value: dict, name: str) -> date | datetime:
    """Read an EventDateTime ({date} or {dateTime, timeZone}) as a date or an aware datetime."""
    if not isinstance(value, dict):
        raise EventError(400, "required", f"Missing {name} time.")
    if "date" in value and value["date"]:
        try:
            return date.fromisoformat(value["date"])
        except (TypeError, ValueError) as exc:
            raise EventError(400, "invalid", f"Invalid {name} date.") from exc
    try:
        moment = datetime.fromisoformat(str(value.get("dateTime")).replace("Z", "+00:00"))
    except ValueError as exc:
        raise EventError(400, "invalid", f"Invalid {name} time.") from exc
    zone_name = value.get("timeZone")
    if zone_name:
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise EventError(400, "timeZoneNotFound", f"Invalid time zone definition for {name} time.") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
    if moment.tzinfo is None:
        raise EventError(400, "invalid", f"Missing time zone definition for {name} time.")
    return moment


def validate(event: dict):
    """Refuse what Google refuses on insert, update and import."""
    for name in ("start", "end"):
        if name not in event:
            raise EventError(400, "required", f"Missing {name} time.")
    start, end = parse_moment(event["start"], "start"), parse_moment(event["end"], "end")
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise EventError(400, "invalid", "Start and end times must either both be date or both be dateTime.")
    if end < start:
        raise EventError(400, "timeRangeEmpty", "The specified time range is empty.", "end")
    if event.get("recurrence"):
        if not isinstance(event["recurrence"], list) or not all(isinstance(line, str) for line in event["recurrence"]):
            raise EventError(400, "invalid", "Invalid recurrence rule.")
        if isinstance(start, datetime) and not event["start"].get("timeZone"):
            raise EventError(400, "invalid", "Missing time zone definition for start time.")
    color = event.get("colorId")
    if color is not None and str(color) not in EVENT_COLORS:
        raise EventError(400, "invalid", "Invalid color id.")
    properties = (event.get("extendedProperties") or {})
    if not isinstance(properties, dict):
        raise EventError(400, "invalid", "Invalid extended properties.")
    for scope in ("private", "shared"):
        values = properties.get(scope) or {}
        # Google drops keys over 44 characters and truncates values over 1024, silently.
        properties[scope] = {str(key): str(value)[:1024] for key, value in values.items() if len(str(key)) <= 44}
    if properties:
        event["extendedProperties"] = {scope: values for scope, values in properties.items() if values}


def create(store, calendar, body: dict, *, creator: str) -> dict:
    """Store a new event with the fields Google manages (created, iCalUID, etag, ...) and return it.

    An exception (a body with recurringEventId) shares its master's iCalUID, as Google's do.
    """
    event_id = body.get("id") or new_id()
    master_id = body.get("recurringEventId") or event_id
    event = {"kind": "calendar#event", "id": event_id, "status": "confirmed",
             "created": now_rfc3339(store.clock()), "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
             "creator": {"email": creator, "self": True}, "organizer": {"email": calendar.id, "self": True},
             "iCalUID": body.get("iCalUID") or f"{master_id}@google.com", "sequence": 0, "eventType": "default",
             "reminders": {"useDefault": True}}
    for name in ("recurringEventId", "originalStartTime"):  # set once, when an exception is made
        if body.get(name):
            event[name] = body[name]
    apply_patch(event, body)
    store.touch(calendar, event)
    calendar.events[event_id] = event
    return event


def update(store, calendar, event: dict, body: dict, *, replace: bool) -> dict:
    """Change an event as patch (or, `replace`, update) does: a new copy, checked, stored with a new etag.

    Copies, never changes in place: listings being paged through keep the rows they began with.
    """
    changed = copy.deepcopy(event)
    (replace_body if replace else apply_patch)(changed, body)
    if replace and event.get("status") == "cancelled" and "status" not in body:
        changed["status"] = "confirmed"
    validate(changed)
    store.touch(calendar, changed, bump_updated=not set(body) <= {"reminders"})  # reminders are the user's own
    calendar.events[changed["id"]] = changed
    return changed


def cancel(store, calendar, event: dict) -> dict:
    """Delete an event (a cancelled instance, for an instance of a series), as a new copy."""
    cancelled = {**event, "status": "cancelled"}
    store.touch(calendar, cancelled)
    calendar.events[cancelled["id"]] = cancelled
    return cancelled


def apply_patch(stored: dict, patch: dict):
    """Patch semantics: present fields replace (arrays wholesale), null clears, the rest stays."""
    for name, value in patch.items():
        if name in SERVER_FIELDS or name == "id":
            continue
        if value is None:
            stored.pop(name, None)
        else:
            stored[name] = value


def replace_body(stored: dict, body: dict):
    """Update semantics: the client fields become exactly the body's."""
    for name in [name for name in stored if name in CLIENT_FIELDS and name != "id"]:
        del stored[name]
    apply_patch(stored, body)


def minimal_tombstone(event: dict) -> dict:
    """What an incremental sync shows of a cancelled event when details are not asked for."""
    kept = {"kind", "etag", "id", "status", "recurringEventId", "originalStartTime"}
    return {name: value for name, value in event.items() if name in kept}


def public(event: dict) -> dict:
    """The event as the API returns it (without the sandbox's bookkeeping)."""
    answer = dict(event)
    answer.pop("_seq", None)
    return answer
