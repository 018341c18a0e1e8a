"""A device's writes (PUT, DELETE of a calendar object) as CRM changes, through crm.services with the
device's own origin: the sync then takes them to Google, Outlook and CalDAV accounts like any edit.

A PUT holds a whole resource: the series (or single event) and its changed occurrences. What it changes is
written group by group (the CRM keeps what it holds and the device did not change); an override the device
no longer has gives its occurrence back to the series; a cancelled occurrence is an EXDATE.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from calendarsync.appointments import action_fields, event_of
from calendarsync.core.normalize import fingerprint
from calendarsync.providers.caldav.mapping import NotAnEvent, Unreadable, read
from calendarsync.providers.caldav.writes import storable
from crm import recurrence
from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.models import Action, ActionType
from devices.calendars import Calendar, apart
from devices.dav.store import render
from devices.models import DeviceObject

ORIGIN = "devices"


class Refused(Exception):
    """A write the server does not take: its status, the DAV precondition it fails (or ""), and why."""

    def __init__(self, status: int, condition: str, message: str):
        super().__init__(message)
        self.status, self.condition, self.message = status, condition, message


@dataclass(frozen=True)
class Written:
    created: bool
    as_sent: bool  # the body served now is the one the device sent (its ETag may be given back)


def origin_of(device_pk: int) -> str:
    return f"{ORIGIN}:{device_pk}"


def put(calendar: Calendar, name: str, uid: str | None, body: bytes, *, origin: str, holds=None) -> Written:
    """Store the body at `name` in the calendar; `uid`, the UID held there now (None: a new resource);
    `holds()`, whether the request's preconditions still hold, asked once the appointment is locked (two
    devices writing over the same ETag: the second gets 412)."""
    try:
        found = read(body, calendar.viewer.time_zone or "UTC")
    except NotAnEvent as exc:
        raise Refused(403, "supported-calendar-component", _("Only events can be stored here.")) from exc
    except Unreadable as exc:
        raise Refused(403, "valid-calendar-data", _("The calendar data cannot be read: %(why)s.") % {
            "why": exc}) from exc
    if uid is not None and found.uid != uid:
        raise Refused(403, "no-uid-conflict", _("A resource keeps its UID: this one holds %(uid)s.") % {"uid": uid})
    with transaction.atomic():
        existing = Action.objects.select_for_update().filter(uid=found.uid, series__isnull=True).first()
        if uid is None and existing is not None:
            raise Refused(403, "no-uid-conflict", _("An appointment with this UID exists already."))
        if holds is not None and not holds():
            raise Refused(412, "", _("The resource changed since it was read."))
        editable = existing is None or crm_selectors.action_can_edit(user=calendar.viewer, action=existing)
        if not editable and not _holds_the_same(existing, found.events):
            raise Refused(403, "need-privileges", _("You may not change this appointment."))
        try:  # one who may not edit it stores only their own (an alarm on a meeting they take part in)
            series = _apply(calendar, existing, found.events, origin) if editable else existing
        except (ValidationError, crm_services.OccurrenceError, recurrence.RecurrenceError) as exc:
            raise Refused(403, "valid-calendar-data", _("The CRM cannot hold this event: %(why)s.") % {
                "why": "; ".join(getattr(exc, "messages", [str(exc)]))}) from exc
        DeviceObject.objects.update_or_create(user=calendar.viewer, uid=series.uid,
                                              defaults={"name": name, "body": body})
    rows = list(Action.objects.filter(uid=series.uid))
    return Written(created=existing is None, as_sent=render(rows, body) == body)


def delete(calendar: Calendar, uid: str, *, origin: str, holds=None) -> None:
    with transaction.atomic():
        action = Action.objects.select_for_update().filter(uid=uid, series__isnull=True).first()
        if action is None:
            return
        if holds is not None and not holds():
            raise Refused(412, "", _("The resource changed since it was read."))
        if not crm_selectors.action_can_edit(user=calendar.viewer, action=action):
            raise Refused(403, "need-privileges", _("You may not delete this appointment."))
        crm_services.action_delete(action=action, origin=origin)


def _apply(calendar: Calendar, existing: Action | None, events, origin) -> Action:
    master, overrides = events[0], events[1:]
    fields = action_fields(master, default_zone=calendar.viewer.time_zone)
    fields.pop("color")  # the device's COLOR is not the CRM's palette: the CRM's stays
    if existing is None:
        action_type = calendar.action_type or _default_type(calendar)
        series = crm_services.action_create(owner=calendar.subject, action_type=action_type, uid=master.uid,
                                            origin=origin, **fields)
    else:
        changed = {field: value for field, value in fields.items() if getattr(existing, field) != value}
        series = crm_services.action_update(action=existing, origin=origin, **changed) if changed else existing
    held = {override.recurrence_id: override for override in series.overrides.all()}
    for override in overrides:
        values = action_fields(override, default_zone=series.time_zone)
        for kept in ("color", "rrule", "exdates"):
            values.pop(kept)
        current = held.pop(override.recurrence_id, None)
        if current is None or any(getattr(current, field) != value for field, value in values.items()):
            crm_services.occurrence_update(series=series, recurrence_id=override.recurrence_id, origin=origin,
                                           **values)
    for key, override in held.items():
        if key in series.exdates:  # the device cancelled the changed occurrence (an EXDATE in its place)
            crm_services.action_delete(action=override, origin=origin)
        else:  # the occurrence is the series' own again
            crm_services.occurrence_reset(series=series, recurrence_id=key, origin=origin)
    return series


def _holds_the_same(series: Action, events) -> bool:
    """Whether a body holds the CRM's events of this series as they are (only what the CRM does not hold
    differs)."""
    rows = [series, *series.overrides.all()]
    held = sorted(fingerprint(storable(event_of(row))) for row in rows)
    return held == sorted(fingerprint(storable(event)) for event in events)


def _default_type(calendar: Calendar) -> ActionType:
    """What an event made in an agenda becomes: the first appointment type the user keeps in it."""
    kinds = list(ActionType.objects.filter(is_active=True).exclude(pk__in=apart(calendar.viewer))
                 .order_by("-is_appointment", "position", "name")[:1])
    if not kinds:
        raise Refused(403, "need-privileges", _("The CRM has no action type for new appointments yet."))
    return kinds[0]
