"""One spelling for one meaning, so that a change is a change of content, never of formatting.

Providers reformat what they store (line endings, trailing spaces, RRULE part order, microseconds,
upper-case colors); comparing normalised events and their fingerprints keeps such echoes from
counting as edits.
"""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.recurrence import RecurrenceError, normalize_rrule

from .event import CONTENT, Event, plain

# What no database keeps (PostgreSQL refuses NUL and unpaired surrogates in text) and no person typed: the
# C0 controls but tab and line breaks, DEL, and lone surrogates. Removed from all text on the way in.
_UNSTORABLE = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xD800, 0xE000)])


def clean(text: str) -> str:
    return text.translate(_UNSTORABLE)


def normalized(event: Event) -> Event:
    return replace(
        event,
        uid=clean(event.uid).strip(),
        summary=_line(event.summary),
        description="\n".join(line.rstrip() for line in clean(event.description).replace("\r\n", "\n")
                              .replace("\r", "\n").strip().split("\n")),
        location=_line(event.location),
        recurrence_id=clean(event.recurrence_id),
        attendees=tuple((clean(email), clean(name)) for email, name in event.attendees),
        start=_moment(event.start, event.all_day),
        end=_moment(event.end, event.all_day),
        time_zone="" if event.all_day else event.time_zone,
        rrule=rrule_text(event.rrule, event),
        exdates=tuple(sorted(set(event.exdates))),
        color=event.color.lower(),
    )


def fingerprint(event: Event) -> str:
    """A hash of the normalised content (not the uid): equal fingerprints, nothing to sync."""
    event = normalized(event)
    content = {name: plain(getattr(event, name)) for name in CONTENT}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def rrule_text(text: str, event: Event) -> str:
    """The rule as the CRM stores it (crm.recurrence.normalize_rrule: one part order, UNTIL in UTC for
    timed series), so that a provider's spelling of the same rule is not an edit. A rule the CRM would
    refuse is only cleaned up; the engine reports such an event instead of syncing it."""
    text = text.strip()
    if not text or event.start is None:
        return text.removeprefix("RRULE:").upper()
    zone = ZoneInfo(event.time_zone) if event.time_zone and not event.all_day else UTC
    start = event.start.astimezone(zone) if isinstance(event.start, datetime) else event.start
    try:
        return normalize_rrule(text, start=start, zone=zone)
    except (RecurrenceError, ValueError, ZoneInfoNotFoundError):
        return text.removeprefix("RRULE:").upper()


def _line(text: str) -> str:
    return " ".join(clean(text).split())


def _moment(value, all_day):
    if value is None or all_day or not isinstance(value, datetime):
        return value.date() if isinstance(value, datetime) and all_day else value
    return value.astimezone(UTC).replace(microsecond=0)
