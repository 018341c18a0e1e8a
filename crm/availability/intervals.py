"""Busy time as plain intervals: merging, working hours and free slots. No Django, no database.

An interval is a (start, end) pair of aware datetimes, end exclusive. People are named by any hashable
key (the selectors use user ids).
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Busy:
    """A time someone is busy. `subject` is empty where the viewer may not know it; `source` says where the
    time comes from in words ("CRM", "Google: Work"); `action_id` is the CRM appointment, if the viewer may
    open it."""

    start: datetime
    end: datetime
    source: str
    subject: str = ""
    action_id: int | None = None
    occurrence: str = ""  # the key of a generated occurrence of that series


@dataclass(frozen=True)
class WorkingHours:
    """When someone works, in their own zone: ISO weekdays (Monday 1) and a daily span."""

    zone: str
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    start: time = time(9)
    end: time = time(17)

    def between(self, start: datetime, end: datetime) -> list[Interval]:
        """The working spans that meet [start, end), clipped to it. Each day's span is read in the person's
        zone, so that 09:00 stays 09:00 across a change of daylight saving time."""
        zone, found = ZoneInfo(self.zone), []
        day = start.astimezone(zone).date() - timedelta(days=1)
        while (begin := _at(day, self.start, zone)) < end:
            if day.isoweekday() in self.days and self.end > self.start:
                found += clipped([(begin, _at(day, self.end, zone))], start, end)
            day += timedelta(days=1)
        return found


def _at(day: date, moment: time, zone) -> datetime:
    """The instant a wall-clock time of a day shows in a zone (a time in a gap, moved forward as clocks)."""
    return datetime.combine(day, moment, zone).astimezone(UTC).astimezone(zone)


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined; empty ones dropped."""
    result: list[list[datetime]] = []
    for start, end in sorted(interval for interval in intervals if interval[1] > interval[0]):
        if result and start <= result[-1][1]:
            result[-1][1] = max(result[-1][1], end)
        else:
            result.append([start, end])
    return [(start, end) for start, end in result]


def clipped(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(begin, start), min(stop, end)) for begin, stop in intervals if begin < end and stop > start]


def overlapping(busy: Iterable[Busy], start: datetime, end: datetime) -> list[Busy]:
    """The busy times that meet [start, end) (an appointment of no length meets what holds its start)."""
    if start == end:
        return [item for item in busy if item.start <= start < item.end]
    return [item for item in busy if item.start < end and item.end > start]


@dataclass
class Slot:
    """A candidate time. `busy` and `away` are the people who are busy then or outside their working hours,
    `unsure` those one of whose calendars could not be asked."""

    start: datetime
    end: datetime
    busy: list = field(default_factory=list)
    away: list = field(default_factory=list)
    unsure: list = field(default_factory=list)

    @property
    def suits_everyone(self) -> bool:
        return not (self.busy or self.away or self.unsure)

    def rank(self):
        """Slots where everyone is free and known to be come first, then those fewer people miss; earliest first."""
        return len(self.busy) + len(self.away), len(self.unsure), self.start


def free_slots(*, busy: dict, hours: dict, unsure: Iterable, start: datetime, end: datetime,
               duration: timedelta, step: timedelta, limit: int = 10) -> list[Slot]:
    """The best `limit` slots of `duration` starting every `step` in [start, end), ranked (see Slot.rank).

    `busy` gives each person's busy intervals and `hours` their WorkingHours (a person without is available
    at any hour); `unsure` names the people whose answer is incomplete. A slot that suits nobody (everyone
    busy or away) is not offered.
    """
    people = list(busy.keys() | hours.keys())
    unsure = [person for person in people if person in set(unsure)]
    busy = {person: merged(busy.get(person, ())) for person in people}
    working = {person: merged(hours[person].between(start - timedelta(days=1), end + timedelta(days=1)))
               for person in people if person in hours}
    found = []
    moment = start.astimezone(UTC)  # stepped in UTC: across a change of clocks a slot keeps its length
    while moment + duration <= end:
        slot = Slot(moment, moment + duration, unsure=unsure)
        for person in people:
            if _meets(busy[person], slot.start, slot.end):
                slot.busy.append(person)
            elif person in working and not _within(working[person], slot.start, slot.end):
                slot.away.append(person)
        if len(slot.busy) + len(slot.away) < len(people):
            found.append(slot)
        moment += step
    return sorted(found, key=Slot.rank)[:limit]


def _meets(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    """Whether sorted, disjoint intervals meet [start, end): only the first one ending after `start` may."""
    index = bisect_right(intervals, start, key=lambda interval: interval[1])
    return index < len(intervals) and intervals[index][0] < end


def _within(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    index = bisect_right(intervals, start, key=lambda interval: interval[1])
    return index < len(intervals) and intervals[index][0] <= start and end <= intervals[index][1]


def aligned(moment: datetime, step: timedelta, zone) -> datetime:
    """The first instant at or after `moment` that falls on a multiple of `step` of the wall clock in `zone`
    (slots start at :00 and :30, not at the minute someone asked)."""
    local = moment.astimezone(zone)
    midnight = datetime.combine(local.date(), time.min, zone)
    minutes = -(-(local - midnight) // step)
    return (midnight + minutes * step).astimezone(zone)
