"""CRM actions as neutral events, and neutral events as the field values of CRM actions."""

from datetime import UTC

from django.conf import settings

from calendarsync.core.event import GROUPS, Event
from crm.models import Action, Availability, Privacy

# The Action fields each group of event fields is stored in.
GROUP_FIELDS = {
    "summary": ["subject"], "description": ["description"], "location": ["location"],
    "when": ["all_day", "start", "end", "start_date", "end_date", "time_zone"],
    "recurrence": ["rrule", "exdates"], "busy": ["availability"], "private": ["privacy"], "color": ["color"],
}
assert set(GROUP_FIELDS) == set(GROUPS)


def event_of(action: Action) -> Event:
    timed = not action.all_day
    return Event(
        uid=action.uid,
        summary=action.subject,
        description=action.description,
        location=action.location,
        all_day=action.all_day,
        start=action.start.astimezone(UTC) if timed else action.start_date,
        end=action.end.astimezone(UTC) if timed else action.end_date,
        time_zone=action.time_zone if timed else "",
        rrule=action.rrule,
        exdates=tuple(action.exdates) if action.rrule else (),
        recurrence_id=action.recurrence_id,
        busy=action.availability == Availability.BUSY,
        private=action.privacy == Privacy.PRIVATE,
        color=action.color,
    )


def action_fields(event: Event, *, default_zone: str = "") -> dict:
    """The Action field values an event sets (not its type, owner or series, which the caller knows)."""
    times = ({"start_date": event.start, "end_date": event.end, "start": None, "end": None} if event.all_day else
             {"start": event.start, "end": event.end, "start_date": None, "end_date": None})
    return {
        "subject": event.summary[:255] or "(no title)",
        "description": event.description,
        "location": event.location[:255],
        "all_day": event.all_day,
        **times,
        "time_zone": event.time_zone or default_zone or settings.TIME_ZONE,
        "rrule": event.rrule if not event.recurrence_id else "",
        "exdates": list(event.exdates) if event.rrule and not event.recurrence_id else [],
        "availability": Availability.BUSY if event.busy else Availability.FREE,
        "privacy": Privacy.PRIVATE if event.private else Privacy.NORMAL,
        "color": event.color,
    }
