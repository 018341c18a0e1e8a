"""Writes to the CRM domain. Every change to actions goes through here, and announces itself.

Keyword-only functions named <entity>_<verb>. Each validates with the model's own rules
(`full_clean`), writes in one transaction, and sends crm.signals.action_saved/action_deleted.
Permission checks belong to the callers (pages, API, admin), which know who is asking.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import recurrence
from crm.models import Action, Company, Contact, Removal, RemovalReason, removals
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


def action_create_many(*, actions: list[Action], origin=ORIGIN_CRM) -> list[tuple[Action, str]]:
    """Create many new actions in a few queries, for an import of thousands; announce each.

    Each is validated as action_save would; those refused come back with the reason, and the
    others are saved. The caller ensures what only the database can see at this scale: that no
    two share a UID and occurrence, that the related rows it gives exist, and that overrides'
    series are saved first (as overrides).
    """
    valid, refused = [], []
    unchecked = ["span_start", "span_end", "action_type", "owner", "company", "series"]  # one query each
    for action in actions:
        try:
            action.full_clean(exclude=unchecked, validate_unique=False, validate_constraints=False)
            action.compute_span()
        except (ValidationError, recurrence.RecurrenceError, ValueError, OverflowError) as exc:
            refused.append((action, "; ".join(getattr(exc, "messages", [str(exc)]))))
        else:
            valid.append(action)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Action.objects.bulk_create(valid, batch_size=500)
        except DatabaseError:  # one row the database refuses: save one by one, to refuse that one only
            valid = _create_each(valid, refused)
        for action in valid:
            action_saved.send(sender=Action, action=action, created=True, origin=origin)
    return refused


def _create_each(actions, refused) -> list[Action]:
    saved = []
    for action in actions:
        action.pk, action._state.adding = None, True  # a batch rolled back may have numbered it
        try:
            with transaction.atomic():
                action.save(force_insert=True)
        except DatabaseError as exc:
            refused.append((action, str(exc).strip().splitlines()[0][:200]))
        else:
            saved.append(action)
    return saved


def action_update(*, action: Action, participants=None, contacts=None, origin=ORIGIN_CRM, **fields) -> Action:
    """Change fields of an action; for a series, of the whole series (see action_save)."""
    for name, value in fields.items():
        setattr(action, name, value)
    return action_save(action=action, participants=participants, contacts=contacts, origin=origin)


def action_save(*, action: Action, participants=None, contacts=None, origin=ORIGIN_CRM) -> Action:
    """Validate and save an action built or changed by the caller (the admin uses this too).

    A changed series stays whole. When its start, zone, kind (all-day or timed) or rule changes,
    each cancelled occurrence and override follows its occurrence (see _series_rekeying); those
    the series no longer has are dropped, overrides with an announcement, as calendar apps do.
    Removing the rule makes it a single action. Overrides always belong to their series' owner.
    """
    created = action.pk is None
    if action.series_id:
        action.owner_id = action.series.owner_id
    # Who had it before, where that may change (an override is in its series' people's agendas, whatever its own).
    had = None if created or action.series_id else _people_before(action, participants)
    before = None if created else Action.objects.filter(pk=action.pk, rrule__gt="").first()
    # Cancelled occurrences the caller left alone are the stored, valid keys of the old timing: set
    # them aside while the new timing is validated, then bring them along (given ones are checked).
    kept = before is not None and action.exdates == before.exdates
    if kept:
        action.exdates = []
    with transaction.atomic():
        try:
            _validate(action)
        except ValidationError:
            if kept:
                action.exdates = before.exdates  # the caller's object stays as it was
            raise
        overrides = list(Action.objects.filter(series=action)) if before is not None else []  # read once
        rekey = _series_rekeying(action, before, overrides) if before is not None else None
        if kept:
            action.exdates = sorted(key for key in map(rekey or (lambda key: key), before.exdates) if key)
        action.compute_span()
        action.save()
        if before is not None:
            _follow_series(action, overrides, rekey, origin)
        if participants is not None:
            action.participants.set(participants)
        if contacts is not None:
            action.contacts.set(contacts)
        if had is not None:  # those no longer in it: their copies must drop it
            owner_before, taking_part = had
            now = taking_part if participants is None else {getattr(person, "pk", person) for person in participants}
            _removed(action, {owner_before, *taking_part} - {action.owner_id, *now}, RemovalReason.LEFT)
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
        _removed(series, _people_of(series.pk), RemovalReason.CANCELLED, recurrence_id=recurrence_id)


def occurrence_reset(*, series: Action, recurrence_id: str, origin=ORIGIN_CRM) -> None:
    """Give one occurrence back to its series: its override goes, the occurrence stays as the series has it."""
    override = series.overrides.filter(recurrence_id=recurrence_id).first()
    if override is None:
        return
    with transaction.atomic():
        _delete(override, origin)
        action_save(action=series, origin=origin)  # announced whole, without the override


def action_move(*, action: Action, start, recurrence_id: str = "", origin=ORIGIN_CRM) -> Action:
    """Move an action, one occurrence of a series, or a whole series, keeping its duration.

    `start` is an aware datetime for timed actions and a date for all-day ones.
    """
    if recurrence_id:
        # An occurrence nobody changed yet lasts as long as its series (occurrence_update checks the key).
        current = action.overrides.filter(recurrence_id=recurrence_id).first() or action
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
        _removed(action, _people_of(action_id), RemovalReason.DELETED)
        action.delete()
        action_deleted.send(sender=Action, action=action, action_id=action_id, origin=origin)


def removals_purge() -> int:
    """Forget removals older than the changes feed keeps them (its older cursors are refused)."""
    return Removal.objects.filter(removed_at__lt=timezone.now() - timedelta(days=removals.KEPT_DAYS)).delete()[0]


def _people_of(action_id) -> set[int]:
    """Who has an action in their agenda: its owner and participants (an override's: its series')."""
    row = Action.objects.filter(pk=action_id).values("owner_id", "series_id").first()
    if row is None:
        return set()
    holder = row["series_id"] or action_id
    return {row["owner_id"], *Action.participants.through.objects.filter(action_id=holder).values_list(
        "user_id", flat=True)}


def _people_before(action, participants):
    """(owner id, participant ids) as stored, where the save may take someone out of the action: participants
    given, or the owner changed; else None (one query to tell)."""
    owner_id = Action.objects.filter(pk=action.pk).values_list("owner_id", flat=True).first()
    if participants is None and owner_id == action.owner_id:
        return None
    return owner_id, set(Action.participants.through.objects.filter(action_id=action.pk).values_list(
        "user_id", flat=True))


def _removed(action, user_ids, reason, *, recurrence_id=""):
    """Tell the copies of those people (the API's changes feed) that the action or occurrence left them."""
    Removal.objects.bulk_create([Removal(
        user_id=user_id, action_id=action.pk, uid=action.uid, series_id=action.series_id,
        recurrence_id=recurrence_id or action.recurrence_id, reason=reason) for user_id in user_ids])


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


def _series_rekeying(series: Action, before: Action, overrides: list[Action]):
    """Return key -> new key (None: gone) for a validated series whose timing or rule changed, else None.

    An exception keeps its occurrence: moved with the whole series when the series still has
    that occurrence (a daily series moved by a day), otherwise on its own day at the new time
    of day (a series on fixed weekdays whose first date moved). One expansion answers for all.
    """
    old_start = before.first_occurrence()[0]
    new_start = series.first_occurrence()[0] if series.is_series else None
    if new_start is not None and recurrence.same_start(old_start, new_start) and series.rrule == before.rrule:
        return None
    if new_start is None:
        return lambda key: None
    known = set(before.exdates) | {override.recurrence_id for override in overrides}
    choices = {key: [recurrence.shift_key(key, old_start=old_start, new_start=new_start),
                     recurrence.shift_key(key, old_start=old_start, new_start=new_start, keep_date=True)]
               for key in known}
    existing = recurrence.keys_among([choice for pair in choices.values() for choice in pair],
                                     rrule=series.rrule, exdates=[], start=new_start)
    mapping = {key: next((choice for choice in pair if choice in existing), None) for key, pair in choices.items()}
    return mapping.get


def _follow_series(series: Action, overrides: list[Action], rekey, origin) -> None:
    """Bring a saved series' overrides along: new keys, gone when orphaned, the series' owner."""
    changed = {}
    if rekey is not None:
        staying = []
        for override in overrides:
            if rekey(override.recurrence_id) is None:
                _delete(override, origin)
            else:
                staying.append(override)
        overrides = staying
        moving = [override for override in overrides if rekey(override.recurrence_id) != override.recurrence_id]
        if moving:
            # Two passes, so that no new key ever collides with one another override still holds.
            final = {override.pk: rekey(override.recurrence_id) for override in moving}
            now = timezone.now()
            for override in moving:
                override.recurrence_id, override.updated_at = f"~{override.pk}", now
            Action.objects.bulk_update(moving, ["recurrence_id"])
            for override in moving:
                override.recurrence_id = final[override.pk]
            Action.objects.bulk_update(moving, ["recurrence_id", "updated_at"])
            changed.update((override.pk, override) for override in moving)
    stale = [override for override in overrides if override.owner_id != series.owner_id]
    for override in stale:
        override.owner_id, override.updated_at = series.owner_id, timezone.now()
    Action.objects.bulk_update(stale, ["owner", "updated_at"])
    changed.update((override.pk, override) for override in stale)
    for override in changed.values():
        action_saved.send(sender=Action, action=override, created=False, origin=origin, follows=series)
