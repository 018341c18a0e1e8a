"""Graph events <-> neutral events, both ways, with no HTTP.

A series is its master (`seriesMaster`, with a patternedRecurrence); Graph lists its occurrences
and exceptions, never the master, and keeps no list of cancelled occurrences: the provider finds
those by comparing the rule with the occurrences Graph still has. A changed occurrence
(`exception`) is its own event, keyed by its `originalStart`. Outlook gives events no color of their
own: its color is that of its first colored category, and the CRM's color is written as the category of
the nearest color.
"""

import hashlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from calendarsync.core.event import Event
from calendarsync.core.normalize import rrule_text
from crm.recurrence import occurrence_key

from ..colors import nearest
from .recurrence import Unexpressible, simplified, to_pattern, to_rrule
from .zones import UnknownZone, iana

TAG = "calendarsync"  # transactionIds of the events this module created begin with it
# Outlook's category colors (preset0 to preset24), as its apps paint them.
PRESETS = ["#e7a1a2", "#f9ba89", "#f7dd8f", "#fcfa90", "#78d168", "#9fdcc9", "#c6d2b0", "#9db7e8", "#b5a1e2",
           "#daaec2", "#dad9dc", "#6b7994", "#bfbfbf", "#6f6f6f", "#4f4f4f", "#c11a25", "#e2620d", "#c79930",
           "#b9b300", "#368f2b", "#329b7a", "#778b45", "#2858a5", "#5c3fa3", "#93446b"]
GOID_CLASS = bytes.fromhex("040000008200E00074C5B7101A82E008")  # how Exchange's global object ids begin
VCAL_UID = b"vCal-Uid\x01\x00\x00\x00"  # then a UID from another calendar system, as text


class Unreadable(ValueError):
    """An event this module cannot understand; it is skipped and reported, never guessed."""


def transaction_id(calendar_id: str, uid: str) -> str:
    """Graph's idempotency key for creating the event `uid` in a calendar: a retried create finds the event
    it made. It names the calendar (the key is unique per mailbox, which may hold several calendars we
    write to) and carries the UID, which Graph does not let a client set, so that it can be read back."""
    calendar = hashlib.sha256(calendar_id.encode()).hexdigest()[:8]
    return f"{TAG}:{calendar}:{uid}"


def uid_of(item: dict) -> str:
    """The event's iCalendar UID: the CRM's own for events this module made (Graph lets no client set one),
    else the UID its invitation carried, as every other calendar knows it."""
    tag, _, rest = (item.get("transactionId") or "").partition(":")
    if tag == TAG and ":" in rest:
        return rest.split(":", 1)[1]
    return ical_uid(item.get("iCalUId") or "") or f"{item['id']}@outlook.com"


def ical_uid(global_id: str) -> str:
    """Graph's iCalUId is Exchange's global object id in hex (MS-OXCICAL). A meeting organized elsewhere keeps
    its UID inside, after a "vCal-Uid" marker; one organized in Outlook is known elsewhere by the id itself,
    without an occurrence's date. Any other text is the UID as it is."""
    try:
        raw = bytes.fromhex(global_id)
    except ValueError:
        return global_id
    if not raw.startswith(GOID_CLASS) or len(raw) < 40:
        return global_id
    data = raw[40:40 + int.from_bytes(raw[36:40], "little")]
    if data.startswith(VCAL_UID):
        return data[len(VCAL_UID):].rstrip(b"\0").decode("utf-8", "replace")
    return (raw[:16] + bytes(4) + raw[20:]).hex().upper()


def palette_of(categories: list[dict]) -> dict[str, str]:
    """The mailbox's categories that have a color: name -> #rrggbb."""
    found = {}
    for category in categories:
        preset = str(category.get("color") or "")
        if preset.startswith("preset") and preset[6:].isdigit() and int(preset[6:]) < len(PRESETS):
            found[category.get("displayName") or ""] = PRESETS[int(preset[6:])]
    return found


def category_for(color: str, palette: dict[str, str]) -> str:
    """The category whose color is nearest `color` ("" for none, or when no category has a color)."""
    return nearest(color, palette)


def from_graph(item: dict, *, uid: str = "", exdates=(), palette=None) -> Event:
    """The neutral event for a single event, a series master or an exception (with its series' `uid`); its color
    is that of its first category with one, in the mailbox's `palette`."""
    all_day = bool(item.get("isAllDay"))
    recurrence = item.get("recurrence") if item.get("type") == "seriesMaster" else None
    try:
        start, end = moment_of(item["start"], all_day, item), moment_of(item["end"], all_day, item)
    except (KeyError, TypeError, ValueError, UnknownZone) as exc:
        raise Unreadable(f"its start or end cannot be read ({exc})") from exc
    zone = _event_zone(item, recurrence, all_day)
    rrule = ""
    if recurrence:
        try:
            rrule = simplified(to_rrule(recurrence, all_day=all_day), _local_day(start, zone))
        except (Unexpressible, KeyError, TypeError, ValueError) as exc:
            raise Unreadable(str(exc)) from exc
    event = Event(
        uid=uid or uid_of(item),
        summary=item.get("subject") or "",
        description=body_text(item.get("body") or {}),
        location=((item.get("location") or {}).get("displayName") or ""),
        all_day=all_day,
        start=start,
        end=end,
        time_zone=zone,
        rrule=rrule,
        exdates=tuple(sorted(exdates)),
        recurrence_id=occurrence_of(item, zone) if item.get("type") in ("exception", "occurrence") else "",
        busy=item.get("showAs", "busy") != "free",
        private=item.get("sensitivity") in ("private", "confidential", "personal"),
        color=next((palette[name] for name in item.get("categories") or () if name in (palette or {})), ""),
        attendees=_people(item),
    )
    return replace(event, rrule=rrule_text(rrule, event)) if rrule else event  # UNTIL placed in its zone


def _people(item) -> tuple[tuple[str, str], ...]:
    """The attendees, and the organizer when it is someone else (an invitation), rooms left out."""
    people = [person for person in item.get("attendees") or () if person.get("type") != "resource"]
    if item.get("isOrganizer") is False and item.get("organizer"):
        people.insert(0, item["organizer"])
    found = {}
    for person in people:
        address = (person.get("emailAddress") or {}).get("address") or ""
        if address:
            found.setdefault(address.lower(), (person.get("emailAddress") or {}).get("name") or "")
    return tuple(found.items())


def occurrence_of(item: dict, zone: str = "") -> str:
    """The occurrence key of an occurrence or exception: its original start, for all-day series the date it
    has in its own zone (Graph gives the instant: local midnight in UTC)."""
    try:
        original = graph_instant(item["originalStart"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Unreadable(f"its original start cannot be read ({exc})") from exc
    if not item.get("isAllDay"):
        return occurrence_key(original)
    return occurrence_key(_local_date(original, zone or item.get("originalStartTimeZone")))


def key_of(item: dict, zone: str = "") -> str:
    """The occurrence key of an occurrence or exception, "" when it cannot be read."""
    try:
        return occurrence_of(item, zone)
    except Unreadable:
        return ""


def to_graph(event: Event) -> dict:
    """The properties this module syncs, for a create or a patch: whatever else the event has in
    Outlook (attendees, categories, reminders, online meeting) stays as it is."""
    zone = "UTC" if event.all_day else (event.time_zone or "UTC")
    body = {
        "subject": event.summary,
        "body": {"contentType": "text", "content": event.description},
        "location": {"displayName": event.location},
        "isAllDay": event.all_day,
        "start": _graph_time(event.start, zone),
        "end": _graph_time(event.end, zone),
        "showAs": "busy" if event.busy else "free",
        "sensitivity": "private" if event.private else "normal",
    }
    if not event.recurrence_id:  # null turns a series that became a single event back into one
        body["recurrence"] = pattern_of(event)[0] if event.rrule else None
    return body


def pattern_of(event: Event) -> tuple[dict, list[str]]:
    start = event.start if event.all_day else event.start.astimezone(ZoneInfo(event.time_zone or "UTC"))
    return to_pattern(event.rrule, start, event.time_zone or "UTC")


def storable(event: Event, palette=None) -> Event:
    """The event as Outlook holds it: the color of the category nearest its own (none without colored
    categories), and its rule as Graph's pattern has it."""
    if event.rrule and not event.recurrence_id:
        try:
            rrule = simplified(to_rrule(pattern_of(event)[0], all_day=event.all_day), _local_day(event.start,
                                                                                           event.time_zone))
        except (Unexpressible, ValueError, KeyError):
            rrule = event.rrule  # the CRM refuses such rules: the write reports it
        event = replace(event, rrule=rrule_text(rrule, event))
    name = category_for(event.color, palette or {})
    return replace(event, color=palette[name] if name else "")


def body_text(body: dict) -> str:
    """An event's body as plain text: Outlook keeps HTML, the CRM plain text."""
    content = body.get("content") or ""
    if (body.get("contentType") or "text").lower() != "html":
        return content
    reader = _Text()
    reader.feed(content)
    reader.close()
    return reader.text()


class _Text(HTMLParser):
    """HTML to text as a reader sees it: blocks and <br> are line breaks, head and style are not text."""

    BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote"}
    HIDDEN = {"head", "style", "script", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))

    def text(self):
        lines = [line.strip() for line in "".join(self.parts).replace("\xa0", " ").split("\n")]  # refs converted
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _local_day(start, zone) -> date:
    return start.astimezone(ZoneInfo(zone or "UTC")).date() if isinstance(start, datetime) else start


def _event_zone(item, recurrence, all_day):
    if all_day:
        return ""
    if recurrence:
        name = (recurrence.get("range") or {}).get("recurrenceTimeZone") or item.get("originalStartTimeZone")
        try:
            return iana(name or "UTC")
        except UnknownZone as exc:  # a series is expanded in its zone: without it, its times would drift
            raise Unreadable(f"its time zone “{name}” is unknown") from exc
    try:
        return iana(item.get("originalStartTimeZone") or "UTC")
    except UnknownZone:
        return ""  # a single event keeps its instants; the CRM shows it in the owner's zone


def moment_of(value: dict, all_day: bool, item: dict):
    """A dateTimeTimeZone as an instant in UTC, or, for an all-day event, as its date."""
    moment = datetime.fromisoformat(_iso(value["dateTime"]))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(iana(value.get("timeZone") or "UTC")))
    if all_day:
        return _local_date(moment, item.get("originalStartTimeZone"))
    return moment.astimezone(UTC)


def _local_date(moment: datetime, zone_name) -> date:
    """The date of an all-day event's midnight: as written when it is a midnight (Graph's floating times),
    else the date that instant has in the event's own zone."""
    if moment.time() == datetime.min.time():
        return moment.date()
    try:
        return moment.astimezone(ZoneInfo(iana(zone_name or "UTC"))).date()
    except UnknownZone as exc:
        raise Unreadable(f"its time zone “{zone_name}” is unknown") from exc


def graph_instant(text: str) -> datetime:
    """A time Graph gives in UTC (seven fractional digits, an offset or none) as an aware datetime."""
    moment = datetime.fromisoformat(_iso(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(text: str) -> str:
    """Graph's seven fractional digits, cut to the six Python reads."""
    return re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))


def _graph_time(value, zone):
    """Wall-clock time in the event's zone, as Outlook shows it; in UTC for the second pass of an hour that
    a DST change repeats, which wall-clock time cannot name."""
    if not isinstance(value, datetime):
        return {"dateTime": datetime.combine(value, datetime.min.time()).isoformat(), "timeZone": zone}
    local = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, fold=0)  # as the text will be read
    if local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) != value.astimezone(UTC):
        return {"dateTime": value.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}
    return {"dateTime": local.isoformat(), "timeZone": zone}
