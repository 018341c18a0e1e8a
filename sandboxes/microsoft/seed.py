"""Believable Outlook calendars for tests, benchmarks and the demo: a realistic mix of events.

About 2% recurring series, each with one cancelled and one moved occurrence, 10% all-day
events, the rest timed, in zones named the Windows way (as Outlook clients send them) or the
IANA way, a few on daylight-saving edges. The same seed gives the same events (ids and change
keys are random, as Outlook's are).
"""

import random
from datetime import UTC, date, datetime, timedelta

from . import events, recurrence, times

ZONES = ["Romance Standard Time", "GMT Standard Time", "Eastern Standard Time", "Tokyo Standard Time",
         "AUS Eastern Standard Time", "Europe/Berlin", "America/Chicago"]
SUBJECTS = ["Team sync", "Customer call", "Design review", "Lunch with Sam", "Budget planning", "1:1",
            "Dentist", "Quarterly review", "Workshop", "Flight to Berlin", "Interview", "Sprint demo"]
# Wall-clock times on daylight-saving changes: in a gap (they do not exist) or a fold (they happen twice).
DST_EDGES = [("Romance Standard Time", "2026-03-29T02:30"), ("Romance Standard Time", "2026-10-25T02:30"),
             ("Eastern Standard Time", "2026-03-08T02:30"), ("Eastern Standard Time", "2026-11-01T01:30")]
PATTERNS = [
    ({"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]}, {"type": "noEnd"}),
    ({"type": "daily", "interval": 1}, {"type": "numbered", "numberOfOccurrences": 20}),
    ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "second"}, {"type": "noEnd"}),
    ({"type": "weekly", "interval": 2, "daysOfWeek": ["friday"]}, {"type": "endDate", "days": 180}),
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}, {"type": "numbered", "numberOfOccurrences": 12}),
]


def fill(store, calendar, count: int, *, seed: int = 0, around: date | None = None):
    """Add about `count` events (series masters and their exceptions count one each) as the owner would."""
    rng = random.Random(seed)
    around = around or date(2026, 11, 23)
    made = 0
    with store.lock:
        while made < count:
            roll = rng.random()
            if roll < 0.02 and count - made >= 2:
                _series(store, calendar, rng, around)
                made += 2
                continue
            if roll < 0.12:
                body = _all_day(rng, around)
            elif roll < 0.125:
                zone, local = rng.choice(DST_EDGES)
                body = _timed(rng, zone, datetime.fromisoformat(local))
            else:
                local = datetime.combine(around + timedelta(days=rng.randint(-180, 180)), datetime.min.time())
                body = _timed(rng, rng.choice(ZONES), local.replace(hour=rng.randint(7, 19),
                                                                   minute=rng.choice([0, 15, 30, 45])))
            events.create(store, calendar, body)
            made += 1


def _timed(rng, zone, local):
    # The length is counted in real time, so an event starting in a DST gap still ends after it starts;
    # an end in the repeated hour of a fold cannot be written as wall-clock time, so it is given in UTC.
    start = local.replace(tzinfo=times.zone_named(zone))
    end = start.astimezone(UTC) + timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 120]))
    wall = end.astimezone(start.tzinfo).replace(tzinfo=None, fold=0)  # as the text will read
    end_zone = zone if wall.replace(tzinfo=start.tzinfo).astimezone(UTC) == end else "UTC"
    return {"subject": rng.choice(SUBJECTS), "location": {"displayName": rng.choice(["", "Room 1", "Teams"])},
            "start": {"dateTime": local.isoformat(), "timeZone": zone},
            "end": {"dateTime": (wall if end_zone == zone else end.replace(tzinfo=None)).isoformat(),
                    "timeZone": end_zone},
            "showAs": rng.choice(["busy", "busy", "busy", "tentative", "free", "oof"]),
            "categories": rng.choice([[], [], ["Blue category"], ["Red category"]])}


def _all_day(rng, around):
    first = around + timedelta(days=rng.randint(-180, 180))
    last = first + timedelta(days=rng.choice([1, 1, 2, 3]))
    return {"subject": rng.choice(["Holiday", "Conference", "Off-site", "Public holiday"]), "isAllDay": True,
            "showAs": "free", "start": {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{last.isoformat()}T00:00:00", "timeZone": "UTC"}}


def _series(store, calendar, rng, around):
    """A series whose second occurrence is cancelled and third moved two hours later."""
    first_day = around - timedelta(days=rng.randint(0, 120))
    body = _timed(rng, rng.choice(ZONES), datetime.combine(first_day, datetime.min.time()).replace(
        hour=rng.randint(8, 17)))
    pattern, span = rng.choice(PATTERNS)
    span = {"type": span["type"], "startDate": first_day.isoformat(),
            "numberOfOccurrences": span.get("numberOfOccurrences", 0),
            "endDate": (first_day + timedelta(days=span.get("days", 0))).isoformat()}
    master = events.create(store, calendar, {**body, "recurrence": {"pattern": pattern, "range": span}})
    start = times.utc(master["start"])
    upcoming = recurrence.expand(master, start, start + timedelta(days=800))[1:3]
    second, third = (recurrence.occurrence(master, found) for found in upcoming)
    events.delete(store, calendar, second)
    zone_name = master["originalStartTimeZone"]
    moved = {name: times.shown(times.utc(third[name]) + timedelta(hours=2), times.zone_named(zone_name), zone_name)
             for name in ("start", "end")}
    events.update(store, calendar, third, {**moved, "subject": master["subject"] + " (moved)"})
