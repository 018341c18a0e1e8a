"""Busy times from a calendar's events, for providers whose service has no free/busy of its own to ask."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from calendarsync.core.normalize import rrule_text
from crm.recurrence import RecurrenceError, occurrence_key, occurrences_between


def busy_intervals(events, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The busy times of timed events (series expanded in their own zone, their changed occurrences in place
    of the occurrences they replace) that meet [start, end), sorted."""
    replaced = {(event.uid, event.recurrence_id) for event in events if event.recurrence_id}
    intervals = []
    for event in events:
        if not event.busy or event.all_day:
            continue
        if not event.rrule:
            if event.start < end and event.end > start:
                intervals.append((event.start, event.end))
            continue
        zone = ZoneInfo(event.time_zone or "UTC")  # expanded in its own zone: it keeps its hour over DST
        try:
            found = list(occurrences_between(rrule=rrule_text(event.rrule, event), exdates=list(event.exdates),
                                             start=event.start.astimezone(zone), end=event.end.astimezone(zone),
                                             window_start=start, window_end=end))
        except (RecurrenceError, ValueError, TypeError, OverflowError):
            continue  # a rule that cannot be expanded: its busy times are unknown, never invented
        intervals += [(begin.astimezone(UTC), stop.astimezone(UTC)) for begin, stop in found
                      if (event.uid, occurrence_key(begin)) not in replaced]
    return sorted(intervals)
