"""Who is busy when, as a given viewer may see it: the CRM's appointments and every registered source.

A few queries whatever the number of people and calendars: one for the CRM's rows in the window (series
with their overrides' keys and their people's ids), and what each source needs for all people at once.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import selectors
from crm.availability import sources as registry
from crm.availability.intervals import Busy, Slot, WorkingHours, aligned, clipped, free_slots, merged, overlapping
from crm.availability.sources import MISSING, OK, PENDING, SourceAnswer
from crm.models import Action, ActionStatus, User
from crm.models.actions import ALL_DAY_SLACK, Availability, Privacy

CRM = "CRM"
MAX_WINDOW = timedelta(days=62)  # Graph's getSchedule and calendarView limits; a page never needs more


class WindowTooLong(ValueError):
    pass


@dataclass
class Person:
    """One person's busy times in a window, sorted, and the answer of each calendar they came from."""

    user: User
    busy: list[Busy] = field(default_factory=list)
    sources: list[SourceAnswer] = field(default_factory=list)

    @property
    def unknown(self) -> list[SourceAnswer]:
        """The calendars whose busy times are not known (yet): never to be taken as free."""
        return [answer for answer in self.sources if answer.state != OK]

    def merged(self) -> list[tuple[datetime, datetime]]:
        return merged((item.start, item.end) for item in self.busy)


def zone_of(user: User) -> ZoneInfo:
    return ZoneInfo(user.time_zone or settings.TIME_ZONE)


def check_window(start: datetime, end: datetime):
    if end <= start:
        raise WindowTooLong(_("The window must end after it starts."))
    if end - start > MAX_WINDOW:
        raise WindowTooLong(_("Ask for at most %(days)s days at once.") % {"days": MAX_WINDOW.days})


def availability(*, viewer: User, people: list[User], start: datetime, end: datetime,
                 ignore_uid: str = "") -> list[Person]:
    """Each person's busy times meeting [start, end): busy CRM appointments (series expanded, all-day ones as
    the days they cover in that person's zone) and what every source answers. Details (subject, link) only
    where `viewer` may see them; a private appointment's only to its owner and participants. `ignore_uid`
    leaves out an appointment (the one being moved is not in its own way)."""
    check_window(start, end)
    found = {person.pk: Person(person) for person in people}
    for person in found.values():
        person.sources.append(SourceAnswer(CRM))
    # A time the CRM holds too (an event it imported from a calendar, or exported to it) is shown once, with
    # its details; so is the appointment being moved, not in its own way in a calendar it was written to.
    held = {person_id: set() for person_id in found}
    for person_id, item, ignored in _crm_busy(viewer, people, start, end, ignore_uid):
        held[person_id].add((item.start, item.end))
        if not ignored:
            found[person_id].busy.append(item)
    for source in registry.registered():
        for person_id, answers in source(people, start, end).items():
            for answer in answers:
                found[person_id].sources.append(_as_seen(answer, by_owner=person_id == viewer.pk))
                found[person_id].busy += [Busy(*interval, source=answer.name) for interval in answer.busy
                                          if interval[0] < end and interval[1] > start
                                          and interval not in held[person_id]]
    for person in found.values():
        person.busy.sort(key=lambda item: (item.start, item.end))
    return list(found.values())


def _as_seen(answer: SourceAnswer, *, by_owner: bool) -> SourceAnswer:
    """What others may know of someone's calendar: its kind, and whether it answered, not their address or
    why their account fails (that is for its owner to read, and fix)."""
    if by_owner:
        return answer
    answer.name = answer.public_name or answer.name
    if answer.state == MISSING:
        answer.reason = _("it could not be asked")
    elif answer.state == PENDING:
        answer.reason = _("being asked")
    return answer


def _crm_busy(viewer, people, start, end, ignore_uid):
    """(person id, Busy, whether it is the appointment left out) for each busy occurrence meeting the window."""
    zones = {person.pk: zone_of(person) for person in people}
    person_ids = list(zones)
    taking_part = Action.participants.through.objects.filter(user_id__in=person_ids).values("action_id")
    occurrences = _busy_occurrences(Action.objects.filter(
        Q(owner_id__in=person_ids) | Q(pk__in=taking_part) | Q(series__owner_id__in=person_ids)
        | Q(series_id__in=taking_part)), start, end)
    if not occurrences:
        return
    not_busy = registry.not_busy(person_ids)
    rows = {occurrence.action.pk for occurrence in occurrences}
    # Who is in an appointment is the series' people for an override, as everywhere (crm.selectors).
    involving = set(selectors.actions_involving(viewer).filter(pk__in=rows).values_list("pk", flat=True))
    sees_all = viewer.has_perm("crm.view_all_actions")
    for occurrence in occurrences:
        row = occurrence.action
        if row.pk in not_busy or row.series_id in not_busy:
            continue
        shown = row.pk in involving or (sees_all and row.privacy != Privacy.PRIVATE)
        for person_id in {row.owner_id, *row.participant_ids} & set(person_ids):
            begin, stop = _window(occurrence.start, occurrence.end, zones[person_id])
            if begin < end and stop > start or (begin == stop and start <= begin < end):
                yield person_id, Busy(begin, stop, CRM, subject=row.subject if shown else "",
                                      action_id=row.pk if shown else None,
                                      occurrence=occurrence.recurrence_id if shown and occurrence.is_generated
                                      else ""), bool(ignore_uid) and row.uid == ignore_uid


def busy_of(actions, start: datetime, end: datetime, zone) -> list[tuple[datetime, datetime]]:
    """The busy times of some actions (single ones and series, their overrides found with them) over
    [start, end), merged and clipped: a calendar's free/busy, all-day days read in `zone`."""
    rows = actions.values("pk")
    found = _busy_occurrences(Action.objects.filter(Q(pk__in=rows) | Q(series__in=rows)), start, end)
    return clipped(merged(_window(occurrence.start, occurrence.end, zone) for occurrence in found), start, end)


def _busy_occurrences(actions, start, end):
    """The occurrences of these rows that are busy and not cancelled, near [start, end): all-day dates are read
    in UTC over a window widened by the largest offset, and each person's zone then decides which meet it."""
    return selectors.occurrences_between(
        actions=actions.filter(availability=Availability.BUSY).exclude(status=ActionStatus.CANCELLED),
        start=start - ALL_DAY_SLACK, end=end + ALL_DAY_SLACK, zone=UTC, read_only=True)


def people_of(action: Action) -> list[User]:
    """Whose busy times an appointment may meet: its owner, then its participants."""
    return [action.owner, *action.participants.exclude(pk=action.owner_id)]


# Overlap warnings ---------------------------------------------------------------------------------

@dataclass
class Overlap:
    person: User
    busy: Busy | None = None  # None: one of the person's calendars could not be asked
    unknown: SourceAnswer | None = None

    @property
    def state(self) -> str:
        """busy, or the state of the calendar that could not say (pending, missing)."""
        return "busy" if self.busy is not None else self.unknown.state

    def text(self, zone) -> str:
        if self.busy is None and self.unknown.state == PENDING:
            return _("%(person)s: %(source)s is still being checked.") % {
                "person": self.person, "source": self.unknown.name}
        if self.busy is None:
            return _("%(person)s: %(source)s could not be checked (%(reason)s).") % {
                "person": self.person, "source": self.unknown.name, "reason": self.unknown.reason}
        what = f" ({self.busy.subject})" if self.busy.subject else ""
        where = "" if self.busy.source == CRM else _(" in %(source)s") % {"source": self.busy.source}
        return _("%(person)s is busy %(when)s%(what)s%(where)s.") % {
            "person": self.person, "when": span_text(self.busy.start, self.busy.end, zone), "what": what,
            "where": where}


def overlaps(*, viewer: User, people: list[User], start: datetime | date, end: datetime | date,
             ignore_uid: str = "") -> list[Overlap]:
    """What stands in the way of an appointment of these people at [start, end) (dates: all day, the days
    in each person's zone): who is busy when, and whose calendars could not be asked. Never a refusal."""
    return _overlaps(viewer, people, [(start, end)], ignore_uid)


def overlaps_of(*, viewer: User, action: Action, occurrence=None, horizon=timedelta(days=28)) -> list[Overlap]:
    """What stands in the way of a saved appointment: its owner's and participants' busy times that meet it
    (one occurrence; a series' occurrences over the next `horizon`). Nothing for a cancelled one."""
    row = occurrence.action if occurrence is not None else action
    if row.status == ActionStatus.CANCELLED:
        return []
    people = people_of(row)
    if occurrence is not None or not action.is_series:
        times = [(occurrence.start, occurrence.end) if occurrence is not None else action.first_occurrence()]
    else:
        first = action.first_occurrence()[0]
        begin = max(first if isinstance(first, datetime) else datetime.combine(first, time.min, action.zone),
                    timezone.now())  # what is ahead: a long-running series' past is not in anyone's way
        times = [(found.start, found.end) for found in selectors.occurrences_between(
            actions=Action.objects.filter(Q(pk=action.pk) | Q(series=action)), start=begin, end=begin + horizon,
            zone=action.zone) if found.action.status != ActionStatus.CANCELLED]
    return _overlaps(viewer, people, times, row.uid)


def _overlaps(viewer, people, times, ignore_uid) -> list[Overlap]:
    if not people or not times:
        return []
    windows = {person.pk: [_window(begin, stop, zone_of(person)) for begin, stop in times] for person in people}
    widest = (min(window[0] for each in windows.values() for window in each),
              max(window[1] for each in windows.values() for window in each))
    if widest[1] - widest[0] > MAX_WINDOW:
        return []  # a long appointment (a month's holiday) meets everything: no warning is worth giving
    found = []
    for person in availability(viewer=viewer, people=people, start=widest[0],
                               end=max(widest[1], widest[0] + timedelta(minutes=1)), ignore_uid=ignore_uid):
        met = {item: None for window in windows[person.user.pk] for item in overlapping(person.busy, *window)}
        found += [Overlap(person.user, item) for item in met]
        found += [Overlap(person.user, unknown=answer) for answer in person.unknown]
    return found


def _window(start, end, zone) -> tuple[datetime, datetime]:
    """An appointment's (or occurrence's) instants in UTC; an all-day one's days as `zone` has them."""
    if isinstance(start, datetime):
        return start.astimezone(UTC), end.astimezone(UTC)
    return tuple(datetime.combine(day, time.min, zone).astimezone(UTC) for day in (start, end))


def span_text(start: datetime, end: datetime, zone) -> str:
    start, end = start.astimezone(zone), end.astimezone(zone)
    last = end - timedelta(microseconds=1)
    if start.time() == time.min and end.time() == time.min:  # whole days
        days = f"{start:%a %d %b}" if last.date() == start.date() else f"{start:%a %d %b} – {last:%a %d %b}"
        return _("all day %(days)s") % {"days": days}
    if start.date() == last.date():
        return f"{start:%a %d %b} {start:%H:%M}–{end:%H:%M}"
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M}"


# Finding a time -----------------------------------------------------------------------------------

def working_hours(user: User) -> WorkingHours:
    return WorkingHours(str(zone_of(user)), frozenset(int(day) for day in user.work_days), user.work_start,
                        user.work_end)


def slots(*, viewer: User, people: list[User], duration: timedelta, start: datetime, end: datetime,
          step: timedelta = timedelta(minutes=30), limit: int = 10, ignore_uid: str = "") -> tuple[list[Slot], list]:
    """The first free times of `duration` for all these people within their working hours, ranked (those that
    suit everyone first), starting on the viewer's half hours; and the people's answers, so the caller can
    say what is not known."""
    found = availability(viewer=viewer, people=people, start=start, end=end, ignore_uid=ignore_uid)
    first = aligned(start, step, zone_of(viewer))
    offered = free_slots(busy={person.user.pk: person.merged() for person in found},
                         hours={person.user.pk: working_hours(person.user) for person in found},
                         unsure=[person.user.pk for person in found if person.unknown],
                         start=first, end=end, duration=duration, step=step, limit=limit)
    return offered, found
