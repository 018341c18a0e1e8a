"""Believable calendars for tests, benchmarks and the demo: a realistic mix of events.

About 2% recurring series (some with cancelled or moved instances), 10% all-day events, the
rest timed, in several zones, with a few placed on daylight-saving edges. Deterministic for a
given seed.
"""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .events import create, new_id
from .recurring import instances

ZONES = ["Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
SUBJECTS = ["Team sync", "Customer call", "Design review", "Lunch with Sam", "Budget planning", "1:1",
            "Dentist", "Quarterly review", "Workshop", "Flight to Berlin", "Interview", "Sprint demo"]
# Wall-clock times on daylight-saving changes: in a gap (they do not exist) or a fold (they happen twice).
DST_EDGES = [(zone, datetime.fromisoformat(local)) for zone, local in (
    ("Europe/Paris", "2026-03-29T02:30"), ("Europe/Paris", "2026-10-25T02:30"),
    ("America/New_York", "2026-03-08T02:30"), ("America/New_York", "2026-11-01T01:30"))]
RULES = ["FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=DAILY;COUNT=20", "FREQ=MONTHLY;BYDAY=2TU", "FREQ=WEEKLY;INTERVAL=2",
         "FREQ=YEARLY"]


def events(count: int, *, seed: int = 0, around: date | None = None) -> list[dict]:
    """Return `count` event bodies (masters, exceptions and singles together) for one calendar."""
    rng = random.Random(seed)
    around = around or date(2026, 11, 23)
    bodies = []
    while len(bodies) < count:
        roll = rng.random()
        if roll < 0.02 and count - len(bodies) >= 3:
            bodies.extend(_series(rng, around)[: count - len(bodies)])
        elif roll < 0.12:
            bodies.append(_all_day(rng, around))
        elif roll < 0.125:
            bodies.append(_timed(rng, *rng.choice(DST_EDGES)))
        else:
            zone = rng.choice(ZONES)
            moment = datetime.combine(around + timedelta(days=rng.randint(-180, 180)), datetime.min.time()).replace(
                hour=rng.randint(7, 19), minute=rng.choice([0, 15, 30, 45]))
            bodies.append(_timed(rng, zone, moment))
    return bodies


def _timed(rng, zone, local):
    start = local.replace(tzinfo=ZoneInfo(zone))
    end = start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 120]))
    return {"id": new_id(), "summary": rng.choice(SUBJECTS), "location": rng.choice(["", "Room 1", "Video call"]),
            "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": end.isoformat(), "timeZone": zone},
            "colorId": rng.choice([None, "1", "5", "9", "11"])}


def _all_day(rng, around):
    first = around + timedelta(days=rng.randint(-180, 180))
    last = first + timedelta(days=rng.choice([1, 1, 2, 3]))
    return {"id": new_id(), "summary": rng.choice(["Holiday", "Conference", "Off-site", "Public holiday"]),
            "start": {"date": first.isoformat()}, "end": {"date": last.isoformat()}}


def _series(rng, around):
    zone = rng.choice(ZONES)
    local = datetime.combine(around - timedelta(days=rng.randint(0, 120)), datetime.min.time()).replace(
        hour=rng.randint(8, 17))
    master = _timed(rng, zone, local)
    master["recurrence"] = [f"RRULE:{rng.choice(RULES)}"]
    # The second instance is cancelled, the third moved two hours later.
    second, third = (datetime.fromisoformat(found[1]["dateTime"]) for found in instances(master, None, None)[1:3])
    master["recurrence"].append(f"EXDATE;TZID={zone}:{second.strftime('%Y%m%dT%H%M%S')}")
    moved = {**_timed(rng, zone, third.replace(tzinfo=None) + timedelta(hours=2)),
             "id": f"{master['id']}_{third.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
             "recurringEventId": master["id"], "originalStartTime": {"dateTime": third.isoformat(), "timeZone": zone},
             "summary": master["summary"] + " (moved)"}
    return [master, moved]


def fill(store, calendar, count: int, *, seed: int = 0):
    """Add `count` seeded events to a calendar, as its owner would have created them."""
    with store.lock:
        for body in events(count, seed=seed):
            create(store, calendar, body, creator=calendar.owner)
