"""Google Calendar events <-> neutral events, both ways, with no HTTP.

A master carries `recurrence` lines (RRULE, EXDATE); a changed occurrence is its own event with
`recurringEventId` and `originalStartTime`, whose key is the occurrence key the CRM uses; a
cancelled occurrence is a cancelled event of that shape. Colors are Google's event palette.
"""

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendarsync.core.event import Event
from crm.recurrence import occurrence_key

from ..colors import nearest

# Google's event colors by colorId: the name and the color Google Calendar shows them with (the CRM's palette
# is the same), and the older color colors.get still answers for each, the same for every account. An id is
# read as its shown color; a color is written as the id it names, either way, else the nearest shown one.
COLORS = {
    "1": ("Lavender", "#7986cb", "#a4bdfc"), "2": ("Sage", "#33b679", "#7ae7bf"),
    "3": ("Grape", "#8e24aa", "#dbadff"), "4": ("Flamingo", "#e67c73", "#ff887c"),
    "5": ("Banana", "#f6bf26", "#fbd75b"), "6": ("Tangerine", "#f4511e", "#ffb878"),
    "7": ("Peacock", "#039be5", "#46d6db"), "8": ("Graphite", "#616161", "#e1e1e1"),
    "9": ("Blueberry", "#3f51b5", "#5484ed"), "10": ("Basil", "#0b8043", "#51b749"),
    "11": ("Tomato", "#d50000", "#dc2127"),
}
PALETTE = {color_id: shown for color_id, (_, shown, _) in COLORS.items()}
_BY_COLOR = {color.lower(): color_id for color_id, (_, *colors) in COLORS.items() for color in colors}
TAG = "calendarsync"  # private extended property marking the events this module wrote


class Unreadable(ValueError):
    """An event this module cannot understand; it is skipped and reported, never guessed."""


def event_id(key: str) -> str:
    """A Google event id derived from `key` (base32hex, as Google requires): inserting twice with it
    gives 409 instead of a second event."""
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()[:40]


def instance_id(series_id: str, occurrence: str) -> str:
    """The id Google gives an occurrence of a series, whether or not it was ever changed."""
    return f"{series_id}_{occurrence}"


def nearest_color(color: str) -> str:
    """The colorId of a #rrggbb color: the one it names, else the nearest ("" for none)."""
    return _BY_COLOR.get(color.lower()) or nearest(color, PALETTE)


def from_google(item: dict, default_zone: str) -> Event:
    """The neutral event for a live Google event (not a cancelled one)."""
    try:
        all_day = "date" in item["start"]
        zone = item["start"].get("timeZone") or default_zone
        start, end = _moment(item["start"], all_day), _moment(item["end"], all_day)
    except (KeyError, TypeError, ValueError) as exc:
        raise Unreadable(f"its start or end cannot be read ({exc})") from exc
    rrule, exdates = _recurrence(item.get("recurrence") or [], all_day, zone)
    return Event(
        uid=item.get("iCalUID") or f"{item['id']}@google.com",
        summary=item.get("summary", ""),
        description=item.get("description", ""),
        location=item.get("location", ""),
        all_day=all_day,
        start=start,
        end=end,
        time_zone="" if all_day else _zone_name(zone),
        rrule=rrule,
        exdates=exdates,
        recurrence_id=occurrence_of(item),
        busy=item.get("transparency", "opaque") != "transparent",
        private=item.get("visibility") in ("private", "confidential"),
        color=PALETTE.get(str(item.get("colorId", "")), ""),
        attendees=tuple((person["email"].lower(), person.get("displayName", "")) for person in item.get("attendees", ())
                        if person.get("email") and not person.get("self") and not person.get("resource")),
    )


def occurrence_of(item: dict) -> str:
    """The occurrence key of a changed or cancelled occurrence ("" for other events)."""
    original = item.get("originalStartTime")
    if not item.get("recurringEventId") or not original:
        return ""
    try:
        return occurrence_key(_moment(original, "date" in original))
    except (KeyError, TypeError, ValueError) as exc:
        raise Unreadable(f"its original start cannot be read ({exc})") from exc


def to_google(event: Event, *, creating: bool = False) -> dict:
    """The fields this module syncs, for a patch: whatever else the event has at Google (attendees,
    reminders, conference data, other apps' properties) stays as it is. `creating` adds what a new event
    (or occurrence, or one brought back) needs: our tag, its UID, and a confirmed status."""
    body = {
        "summary": event.summary,
        "description": event.description,
        "location": event.location,
        "start": _google_time(event.start, event),
        "end": _google_time(event.end, event),
        "transparency": "opaque" if event.busy else "transparent",
        "visibility": "private" if event.private else "default",
        "colorId": nearest_color(event.color) or None,
    }
    if not event.recurrence_id:  # null clears the rule of a series that became a single event
        body["recurrence"] = ([f"RRULE:{event.rrule}", *(_exdate(key, event) for key in sorted(event.exdates))]
                              if event.rrule else None)
    if creating:
        body.update(extendedProperties={"private": {TAG: "1"}}, status="confirmed")
        if not event.recurrence_id:
            body["iCalUID"] = event.uid
    return body


def storable(event: Event) -> Event:
    """The event as Google can hold it: its color becomes the nearest palette color."""
    return replace(event, color=PALETTE[nearest_color(event.color)]) if event.color else event


def _moment(value: dict, all_day: bool):
    if all_day:
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(value.get("timeZone") or "UTC"))
    return moment.astimezone(UTC)


def _zone_name(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Unreadable(f"its time zone “{zone}” is unknown") from exc
    return zone


def _recurrence(lines, all_day, zone):
    rrule, exdates = "", set()
    for line in lines:
        name, _, value = line.partition(":")
        kind = name.split(";")[0].upper()
        if kind == "RRULE":
            if rrule:
                raise Unreadable("it has several RRULEs")
            rrule = value
        elif kind == "EXDATE":
            tzid = next((part.split("=", 1)[1] for part in name.split(";")[1:] if part.upper().startswith("TZID=")),
                        zone)
            exdates.update(_exdate_key(text.strip(), tzid, all_day) for text in value.split(","))
        else:
            raise Unreadable(f"its recurrence uses {kind}, which the CRM cannot store")
    return rrule, tuple(sorted(exdates))


def _exdate_key(text, tzid, all_day):
    try:
        if all_day or len(text) == 8:
            return text[:8]
        moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")  # noqa: DTZ007 - zone added below
        return occurrence_key(moment.replace(tzinfo=UTC if text.endswith("Z") else ZoneInfo(_zone_name(tzid))))
    except ValueError as exc:
        raise Unreadable(f"its EXDATE “{text}” cannot be read") from exc


def _exdate(key, event):
    if event.all_day:
        return f"EXDATE;VALUE=DATE:{key}"
    return f"EXDATE:{key}"


def _google_time(value, event):
    if event.all_day:
        return {"date": value.isoformat()}
    zone = event.time_zone or "UTC"
    return {"dateTime": value.astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}
