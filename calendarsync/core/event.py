"""The neutral event: what a CRM appointment and a remote event both carry, in one shape.

Timed events have aware UTC datetimes and the IANA zone they belong to; all-day events have dates
(the end exclusive, as in iCalendar) and no zone. A series carries its RRULE and the keys of its
cancelled occurrences; a changed occurrence is its own Event with the series' uid and the key of the
occurrence it replaces (`recurrence_id`), exactly as iCalendar, Google and Graph have them.
"""

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime

from crm.recurrence import parse_occurrence_key


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str = ""
    description: str = ""
    location: str = ""
    all_day: bool = False
    start: datetime | date | None = None
    end: datetime | date | None = None
    time_zone: str = ""
    rrule: str = ""
    exdates: tuple[str, ...] = ()
    recurrence_id: str = ""
    busy: bool = True
    private: bool = False
    color: str = ""  # "#rrggbb", or "" for the calendar's own
    # Who else takes part, as the provider lists them: (e-mail in lower case, name). Read when an event is
    # imported, never compared nor written: writing attendees would invite them (Graph always e-mails).
    attendees: tuple[tuple[str, str], ...] = ()


# Fields that change together: one side moving the start and the other the end must not make an
# event that ends before it starts, so "when" is merged as a whole, and so is the recurrence.
GROUPS: dict[str, tuple[str, ...]] = {
    "summary": ("summary",),
    "description": ("description",),
    "location": ("location",),
    "when": ("all_day", "start", "end", "time_zone"),
    "recurrence": ("rrule", "exdates"),
    "busy": ("busy",),
    "private": ("private",),
    "color": ("color",),
}
CONTENT = tuple(name for group in GROUPS.values() for name in group)
assert set(CONTENT) | {"uid", "recurrence_id", "attendees"} == {field.name for field in fields(Event)}


def to_json(event: Event) -> dict:
    """The event as plain JSON values (dates in ISO 8601), for storing a link's base."""
    return {name: plain(getattr(event, name)) for name in ("uid", "recurrence_id", *CONTENT)}


def plain(value):
    """A field's value as JSON has it: dates in ISO 8601, tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def from_json(data: dict) -> Event:
    known = {field.name for field in fields(Event)}
    values = {name: value for name, value in data.items() if name in known}
    parse = date.fromisoformat if values.get("all_day") else datetime.fromisoformat
    for name in ("start", "end"):
        if values.get(name):
            values[name] = parse(values[name])
    values["exdates"] = tuple(values.get("exdates", ()))
    return Event(**values)


def overlaps(event: Event, start: datetime, end: datetime) -> bool:
    """Whether the event's time meets [start, end). A series counts as soon as it starts before the
    window ends: whether its rule ended before the window starts is not worth an expansion here."""
    first = _instant(event.start)
    if first is None or first >= end:
        return False
    if event.rrule:
        return True
    last = _instant(event.end)
    return last is None or last > start


def _instant(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def known_exdates(event: Event, base: Event | None, covered: tuple[datetime, datetime]) -> Event:
    """The series with the exception dates its provider knows (those of occurrences starting within
    `covered`), and outside that span those it had when both sides last agreed: a provider that reads a
    series' cancellations over a limited span must not make the others look deleted."""
    if base is None or not event.rrule:
        return event
    inside = lambda key: covered[0] <= key_instant(key) < covered[1]  # noqa: E731
    kept = {key for key in event.exdates if inside(key)} | {key for key in base.exdates if not inside(key)}
    return replace(event, exdates=tuple(sorted(kept)))


def key_instant(key: str) -> datetime:
    """Where an occurrence key (crm.recurrence's) starts, in UTC; an all-day one at its date's midnight."""
    return _instant(parse_occurrence_key(key, all_day=len(key) == 8))
