"""The calendar objects of a CRM calendar, as a CalDAV server serves them: names, ETags, bodies, what
changed since a sync token, what meets a time range. Reads only; a few queries per request whatever the
calendar's size (the listing of a whole calendar is one query, its bodies two more).

A resource is one single action or series with its overrides, all of one UID. Its name is the one a device
gave it when it created it there, else `<uid>.ics` (or `crm-<id>.ics` for a UID that makes no file name).
Its ETag is a digest of what its body is made of (the rows' last changes, their number, the device's body),
so listing ETags renders nothing. Its body is the device's own as long as the CRM holds the same events,
else the CRM's events written over it (mapping.write), so that alarms and other apps' properties stay.

Sync tokens (RFC 6578) are times: `urn:x-crm:sync:<epoch>:<microseconds>` says that every change up to then
was reported. A token is only ever a time older than SETTLE (a change being saved then has been committed
since), or the calendar's latest change when that is older: so a calendar where nothing changes keeps its
token, and a change committed late is still reported. The epoch is the calendar's: a change of what the
calendar holds other than by appointments (a type calendar switched) renews it and refuses older tokens.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.db.models import Count, Max, Q
from django.utils import timezone
from icalendar import Calendar as ICalendar

from calendarsync.appointments import event_of
from calendarsync.core.normalize import fingerprint
from calendarsync.providers.caldav.mapping import Unreadable, read, write
from calendarsync.providers.caldav.writes import SAFE_NAME, storable
from crm import selectors as crm_selectors
from crm.models import Action
from devices.calendars import Calendar
from devices.models import DeviceObject, DeviceRemoval

EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)  # an open range's ends
EXPANDED = timedelta(days=366)  # ranges up to this long are matched occurrence by occurrence
SETTLE = timedelta(minutes=5)  # longer than any transaction that saves actions
TOKEN = re.compile(r"urn:x-crm:sync:([a-z0-9-]+):(\d+):(\d{1,19})")
FORMAT = "1"  # renew when what a body holds changes for the same rows: every ETag changes with it


class InvalidToken(Exception):
    """A sync token this calendar did not give, or gave before its epoch changed (RFC 6578 3.2)."""


@dataclass(frozen=True)
class Entry:
    uid: str
    name: str
    etag: str
    updated: datetime


def name_for(uid: str, pk: int) -> str:
    return f"{uid}.ics" if SAFE_NAME.fullmatch(uid) and not uid.startswith(".") else f"crm-{pk}.ics"


def entries(calendar: Calendar, uids=None) -> dict[str, Entry]:
    """The calendar's resources (or those of these UIDs among them), by name, in two queries."""
    members = calendar.actions()
    if uids is not None:
        members = members.filter(uid__in=uids)
    rows = (Action.objects.filter(uid__in=members.values("uid")).values("uid")
            .annotate(changed=Max("updated_at"), count=Count("pk"), first=Max("pk", filter=Q(series__isnull=True)))
            .order_by())
    rows = list(rows)
    devices = {uid: (name, updated) for uid, name, updated in DeviceObject.objects.filter(
        user=calendar.viewer, uid__in=[row["uid"] for row in rows]).values_list("uid", "name", "updated_at")
    } if rows else {}
    found = {}
    for row in rows:
        name, device_updated = devices.get(row["uid"], (None, None))
        name = name or name_for(row["uid"], row["first"])
        seed = f"{FORMAT}|{row['uid']}|{row['changed'].isoformat()}|{row['count']}|{device_updated}"
        updated = max(row["changed"], device_updated) if device_updated else row["changed"]
        found[name] = Entry(row["uid"], name, f'"{hashlib.sha256(seed.encode()).hexdigest()[:32]}"', updated)
    return found


def uids_between(calendar: Calendar, start: datetime, end: datetime) -> set[str]:
    """The UIDs of the calendar's resources with an occurrence that meets [start, end) (RFC 4791 9.9: a
    series by its occurrences, a changed one where it was moved to), by the CRM's own expansion."""
    members = calendar.actions()
    rows = Action.objects.filter(Q(pk__in=members.values("pk")) | Q(series__in=members.values("pk")))
    start, end = max(start, EARLIEST), min(end, LATEST)
    if start >= end:
        return set()
    if end - start > EXPANDED:  # an open or long range (DAVx5 sends a start only): the indexed spans decide,
        # which a series meets when any occurrence may (what the expansion would find, but for an EXDATE)
        overlapping = crm_selectors.actions_overlapping(rows, start=start, end=end)
        return set(overlapping.values_list("uid", flat=True))
    zone = ZoneInfo(calendar.viewer.time_zone or "UTC")
    return {occurrence.action.uid for occurrence in crm_selectors.occurrences_between(
        actions=rows, start=start, end=end, zone=zone, read_only=True)}


def uid_named(calendar: Calendar, name: str) -> str | None:
    """The UID of the calendar's resource with this name, if it has one."""
    return uids_named(calendar, [name]).get(name)


def uids_named(calendar: Calendar, names) -> dict[str, str]:
    """The UIDs of the resources with these names among the calendar's (the name a device gave one, else
    the one the store gives it), in two queries at most. Another user's device may have given one of its
    own resources the same name: only this calendar's count."""
    names = list(dict.fromkeys(names))
    found = dict(DeviceObject.objects.filter(user=calendar.viewer, name__in=names,
                                             uid__in=calendar.actions().values("uid"))
                 .values_list("name", "uid")) if names else {}
    numbered = {}
    for name in names:
        stem = name.removesuffix(".ics")
        if name in found or not name.endswith(".ics"):
            continue
        if stem.startswith("crm-") and stem[4:].isdigit():
            numbered[int(stem[4:])] = name
        elif SAFE_NAME.fullmatch(stem):
            found[name] = stem
    if numbered:
        found.update((numbered[pk], uid) for pk, uid in Action.objects.filter(
            pk__in=list(numbered), series__isnull=True).values_list("pk", "uid"))
    return found


def bodies(calendar: Calendar, names: list[str]) -> dict[str, tuple[Entry, bytes]]:
    """The bodies of these resources of the calendar (those it holds), by name, in six queries at most."""
    known, asked = entries(calendar, set(uids_named(calendar, names).values())), set(names)
    wanted = {name: entry for name, entry in known.items() if name in asked}
    rows = Action.objects.filter(uid__in=[entry.uid for entry in wanted.values()]).order_by("recurrence_id", "pk")
    by_uid: dict[str, list[Action]] = {}
    for row in rows:
        by_uid.setdefault(row.uid, []).append(row)
    devices = dict(DeviceObject.objects.filter(user=calendar.viewer, uid__in=list(by_uid)).values_list("uid", "body"))
    return {name: (entry, render(by_uid[entry.uid], devices.get(entry.uid)))
            for name, entry in wanted.items() if entry.uid in by_uid}


def render(rows: list[Action], device_body) -> bytes:
    """A resource's body: the series (or single action) first, then its overrides."""
    rows = sorted(rows, key=lambda row: (bool(row.recurrence_id), row.recurrence_id))
    events = [storable(event_of(row)) for row in rows]
    existing = bytes(device_body) if device_body is not None else None
    if existing is not None:
        try:
            held = read(existing, rows[0].time_zone or "UTC").events
        except Unreadable:
            held = None
        if held is not None and sorted(map(fingerprint, map(storable, held))) == sorted(map(fingerprint, events)):
            return existing  # what the device wrote, as it wrote it
    return write(events, existing, rows[0].time_zone or "UTC", stamp=max(row.updated_at for row in rows))


def expanded(body: bytes, start: datetime, end: datetime) -> bytes:
    """A resource's body as RFC 4791 9.6.5 expands it for [start, end): one VEVENT per occurrence, each
    with its RECURRENCE-ID, times in UTC, no rule, no time zone (recurring-ical-events does the expanding)."""
    calendar = ICalendar.from_ical(body)
    found = ICalendar()
    for name in ("VERSION", "PRODID"):
        if name in calendar:
            found[name] = calendar[name]
    for occurrence in recurring_ical_events.of(calendar).between(start, end):
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            moment = occurrence.get(name)
            if moment is not None and isinstance(moment.dt, datetime):
                occurrence.pop(name)
                occurrence.add(name, moment.dt.astimezone(UTC))
        found.add_component(occurrence)
    return found.to_ical()


def token(calendar: Calendar, now: datetime | None = None) -> str:
    """The calendar's sync token now (its CTag too)."""
    now = now or timezone.now()
    latest = latest_change(calendar)
    settled = now - SETTLE
    moment = latest if latest is not None and latest < settled else settled
    return f"urn:x-crm:sync:{calendar.key}:{calendar.epoch}:{int(moment.timestamp() * 1_000_000)}"


def since(calendar: Calendar, sync_token: str) -> tuple[dict[str, Entry], set[str], str]:
    """What changed in the calendar since a token it gave: its resources changed or added (by name), the
    names of those that left it, and the token to ask with next."""
    moment = _moment(calendar, sync_token)
    new_token = token(calendar)
    changed, removals, written = _changes(calendar, moment)
    present = entries(calendar, changed | set(removals) | written) if changed or removals or written else {}
    staying = {entry.uid for entry in present.values()}
    moved = changed - staying  # still the subject's, in another of their calendars (a type kept apart)
    names = dict(DeviceObject.objects.filter(user=calendar.viewer, uid__in=moved).values_list("uid", "name")) \
        if moved else {}
    first = dict(Action.objects.filter(uid__in=moved, series__isnull=True).values_list("uid", "pk")) if moved else {}
    removed = {names.get(uid) or name_for(uid, first[uid]) for uid in moved if uid in first}
    removed |= {name for uid, name in removals.items() if uid not in staying}
    return present, removed, new_token


def _moment(calendar: Calendar, sync_token: str) -> datetime:
    found = TOKEN.fullmatch(sync_token.strip())
    if not found or found[1] != calendar.key or int(found[2]) != calendar.epoch:
        raise InvalidToken(sync_token)
    try:
        moment = datetime.fromtimestamp(int(found[3]) / 1_000_000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken(sync_token) from exc
    if moment > timezone.now():
        raise InvalidToken(sync_token)
    return moment


def _subject_actions(calendar: Calendar):
    return crm_selectors.actions_involving(calendar.subject)


def _changes(calendar: Calendar, moment: datetime) -> tuple[set[str], dict[str, str], set[str]]:
    """Since `moment`: the UIDs of the subject's actions that changed, the names of those that left them
    (by UID), and the UIDs of the bodies devices wrote: what a device may hold and must hear about. Bounded
    by the changes, not by the calendar: each is an indexed range."""
    changed = set(_subject_actions(calendar).filter(updated_at__gt=moment).values_list("uid", flat=True))
    removals = dict(DeviceRemoval.objects.filter(user=calendar.subject, at__gt=moment).values_list("uid", "name"))
    written = set(_device_objects(calendar).filter(updated_at__gt=moment).values_list("uid", flat=True))
    return changed, removals, written


def _device_objects(calendar: Calendar):
    """The bodies the viewer's devices wrote for the subject's appointments (others' move no token here)."""
    return DeviceObject.objects.filter(user=calendar.viewer, uid__in=_subject_actions(calendar).values("uid"))


def latest_change(calendar: Calendar) -> datetime | None:
    """The latest change that may matter to the calendar: of its subject's actions, the removals, the
    devices' bodies."""
    moments = [
        _subject_actions(calendar).aggregate(latest=Max("updated_at"))["latest"],
        DeviceRemoval.objects.filter(user=calendar.subject).aggregate(latest=Max("at"))["latest"],
        _device_objects(calendar).aggregate(latest=Max("updated_at"))["latest"],
    ]
    moments = [moment for moment in moments if moment is not None]
    return max(moments) if moments else None
