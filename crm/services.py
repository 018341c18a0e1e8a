"""Writes to the CRM domain. Every change to actions goes through here, and announces itself.

Keyword-only functions named <entity>_<verb>. Each validates with the model's own rules
(`full_clean`), writes in one transaction, and sends crm.signals.action_saved/action_deleted.
Permission checks belong to the callers (pages, API, admin), which know who is asking.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import recurrence
from crm.models import Action, Company, Contact
from crm.signals import ORIGIN_CRM, action_deleted, action_saved

# Fields an override copies from its series when it is first created.
SERIES_FIELDS = (
    "action_type_id", "subject", "description", "location", "all_day", "time_zone", "owner_id",
    "company_id", "status", "color", "availability", "privacy",
)


class OccurrenceError(ValueError):
    """An occurrence key that the series does not have."""


def company_save(*, company: Company, **fields) -> Company:
    """Create or change a company."""
    return _save_record(company, fields)


def contact_save(*, contact: Contact, **fields) -> Contact:
    """Create or change a contact."""
    return _save_record(contact, fields)


def _save_record(record, fields):
    for name, value in fields.items():
        setattr(record, name, value)
    record.full_clean()
    record.save()
    return record


def action_create(*, participants=(), contacts=(), origin=ORIGIN_CRM, **fields) -> Action:
    """Create an action (single or series) from model field values."""
    action = Action(**fields)
    return action_save(action=action, participants=participants, contacts=contacts, origin=origin)


def action_update(*, action: Action, participants=None, contacts=None, origin=ORIGIN_CRM, **fields) -> Action:
    """Change fields of an action; for a series, of the whole series (see action_save)."""
    for name, value in fields.items():
        setattr(action, name, value)
    return action_save(action=action, participants=participants, contacts=contacts, origin=origin)


def action_save(*, action: Action, participants=None, contacts=None, origin=ORIGIN_CRM) -> Action:
    """Validate and save an action built or changed by the caller (the admin uses this too).

    When a series moves in time, changes zone or switches between all-day and timed, its
    cancelled occurrences and overrides move with it, each keeping its place in the series.
    When its rule changes, the overrides of occurrences that no longer exist are deleted, as in
    calendar apps; removing the rule makes it a single action.
    """
    created = action.pk is None
    before = None if created else Action.objects.filter(pk=action.pk, rrule__gt="").first()
    with transaction.atomic():
        if before is not None:
            _move_exdates(action, before)
        _validate(action)
        action.compute_span()
        action.save()
        if before is not None:
            _follow_series(action, before, origin)
        if participants is not None:
            action.participants.set(participants)
        if contacts is not None:
            action.contacts.set(contacts)
        action_saved.send(sender=Action, action=action, created=created, origin=origin)
    return action


def action_delete(*, action: Action, origin=ORIGIN_CRM) -> None:
    """Delete an action; a series goes with all its overrides, an override cancels its occurrence."""
    if action.series_id:
        occurrence_cancel(series=action.series, recurrence_id=action.recurrence_id, origin=origin)
    else:
        _delete(action, origin)


def occurrence_update(
    *, series: Action, recurrence_id: str, participants=None, contacts=None, origin=ORIGIN_CRM, **fields
) -> Action:
    """Change one occurrence of a series: create its override, or update the existing one."""
    override = series.overrides.filter(recurrence_id=recurrence_id).first()
    if override is None:
        override = _new_override(series, recurrence_id)
        participants = series.participants.all() if participants is None else participants
        contacts = series.contacts.all() if contacts is None else contacts
    fields.pop("owner", None)  # an occurrence belongs to its series' owner
    for name, value in fields.items():
        setattr(override, name, value)
    return action_save(action=override, participants=participants, contacts=contacts, origin=origin)


def occurrence_cancel(*, series: Action, recurrence_id: str, origin=ORIGIN_CRM) -> None:
    """Cancel one occurrence of a series (an EXDATE), dropping its override if it had one."""
    override = series.overrides.filter(recurrence_id=recurrence_id).first()
    if override is None:
        _check_occurrence(series, recurrence_id)
    with transaction.atomic():
        if override is not None:
            _delete(override, origin)
        series.exdates = sorted({*series.exdates, recurrence_id})
        action_save(action=series, origin=origin)


def action_move(*, action: Action, start, recurrence_id: str = "", origin=ORIGIN_CRM) -> Action:
    """Move an action, one occurrence of a series, or a whole series, keeping its duration.

    `start` is an aware datetime for timed actions and a date for all-day ones.
    """
    if recurrence_id:
        current = action.overrides.filter(recurrence_id=recurrence_id).first()
        current = current or _new_override(action, recurrence_id)
        current_start, current_end = current.first_occurrence()
        times = _times(current.all_day, start, start + (current_end - current_start))
        return occurrence_update(series=action, recurrence_id=recurrence_id, origin=origin, **times)
    first_start, first_end = action.first_occurrence()
    return action_update(
        action=action, origin=origin, **_times(action.all_day, start, start + (first_end - first_start))
    )


def _validate(action: Action) -> None:
    action.full_clean(exclude=["span_start", "span_end"])


def _delete(action: Action, origin) -> None:
    action_id = action.pk
    with transaction.atomic():
        action.delete()
        action_deleted.send(sender=Action, action=action, action_id=action_id, origin=origin)


def _times(all_day, start, end):
    if all_day:
        return {"start_date": start, "end_date": end, "start": None, "end": None}
    return {"start": start, "end": end, "start_date": None, "end_date": None}


def _new_override(series: Action, recurrence_id: str) -> Action:
    _check_occurrence(series, recurrence_id)
    first_start, first_end = series.first_occurrence()
    original = recurrence.parse_occurrence_key(recurrence_id, all_day=series.all_day)
    if not series.all_day:
        original = original.astimezone(series.zone)
    override = Action(uid=series.uid, series=series, recurrence_id=recurrence_id)
    for name in SERIES_FIELDS:
        setattr(override, name, getattr(series, name))
    for name, value in _times(series.all_day, original, original + (first_end - first_start)).items():
        setattr(override, name, value)
    return override


def _check_occurrence(series: Action, recurrence_id: str) -> None:
    try:
        found = series.is_series and recurrence.is_occurrence(
            rrule=series.rrule, exdates=series.exdates, start=series.first_occurrence()[0], key=recurrence_id,
        )
    except recurrence.RecurrenceError as exc:
        raise OccurrenceError(str(exc)) from exc
    if not found:
        raise OccurrenceError(_("“%(key)s” is not an occurrence of this series.") % {"key": recurrence_id})


def _moved(action: Action, before: Action) -> bool:
    return action.is_series and not recurrence.same_start(action.first_occurrence()[0], before.first_occurrence()[0])


def _move_exdates(action: Action, before: Action) -> None:
    """Re-key the cancelled occurrences of a series that moved, before the model checks them."""
    keys, action.exdates = action.exdates, []
    try:
        _validate(action)  # the new times must be sound before anything is computed from them
    finally:
        action.exdates = keys
    if _moved(action, before):
        old_start, new_start = before.first_occurrence()[0], action.first_occurrence()[0]
        action.exdates = [recurrence.shift_key(key, old_start=old_start, new_start=new_start) for key in keys]


def _follow_series(series: Action, before: Action, origin) -> None:
    """Bring the overrides of a changed series along: new keys, new owner, gone when orphaned."""
    overrides = sorted(Action.objects.filter(series=series), key=lambda row: row.recurrence_id)
    if not overrides:
        return
    if _moved(series, before):
        old_start, new_start = before.first_occurrence()[0], series.first_occurrence()[0]

        def shift(key):
            return recurrence.shift_key(key, old_start=old_start, new_start=new_start)

        # Walk against the direction of the move, so that no new key collides with one that
        # another override still holds (uid + recurrence_id is unique).
        if shift(overrides[0].recurrence_id) > overrides[0].recurrence_id:
            overrides.reverse()
        for override in overrides:
            override.recurrence_id = shift(override.recurrence_id)
            override.save(update_fields=["recurrence_id", "updated_at"])
    first_start = series.first_occurrence()[0] if series.is_series else None
    for override in overrides:
        if first_start is None or not recurrence.is_occurrence(
                rrule=series.rrule, exdates=[], start=first_start, key=override.recurrence_id):
            _delete(override, origin)
    series.overrides.exclude(owner_id=series.owner_id).update(owner_id=series.owner_id, updated_at=timezone.now())
