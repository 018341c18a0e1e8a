"""The neutral event: what a CRM appointment and a remote event both carry, in one shape.

Timed events have aware UTC datetimes and the IANA zone they belong to; all-day events have dates
(the end exclusive, as in iCalendar) and no zone. A series carries its RRULE and the keys of its
cancelled occurrences; a changed occurrence is its own Event with the series' uid and the key of the
occurrence it replaces (`recurrence_id`), exactly as iCalendar, Google and Graph have them.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime


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
assert set(CONTENT) | {"uid", "recurrence_id"} == {field.name for field in fields(Event)}
