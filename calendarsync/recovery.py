"""Undoing what a sync decided: putting back the version a conflict's policy set aside, and bringing back
an appointment deleted remotely from the trash. Both are ordinary CRM edits afterwards, so they reach
the calendars like any other save.
"""

from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendarsync.appointments import GROUP_FIELDS, action_fields, event_of
from calendarsync.core.event import from_json, to_json
from calendarsync.models import ConflictRecord, Direction, TrashedAction
from calendarsync.services import Invalid, Refused, origin_of, outbox_add
from crm import services as crm_services
from crm.models import Action
from crm.recurrence import RecurrenceError
from crm.services import OccurrenceError
from crm.signals import ORIGIN_CRM


def conflict_restore(user, record: ConflictRecord) -> Action:
    """Give the appointment the values the policy did not keep, for the fields in conflict."""
    if record.calendar.account.user_id != user.pk or (record.action and record.action.owner_id != user.pk):
        raise Refused(_("This conflict is not yours."))
    if record.restored_at:
        raise Invalid(_("This version was restored already."))
    action = Action.objects.filter(pk=record.action_id).first()
    if action is None:
        raise Invalid(_("The appointment no longer exists."))
    loser = record.remote if record.winner == "local" else record.local
    event = from_json({**to_json(event_of(action)), **loser})
    fields = {name: value for name, value in action_fields(event, default_zone=action.time_zone).items()
              if name in GROUP_FIELDS[record.group]}
    with transaction.atomic():
        try:
            crm_services.action_update(action=action, **fields)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages)) from exc
        except (RecurrenceError, OccurrenceError) as exc:
            raise Invalid(str(exc)) from exc
        record.restored_at = timezone.now()
        record.save(update_fields=["restored_at"])
    return action


def trash_restore(user, trashed: TrashedAction) -> Action:
    """Bring an appointment deleted remotely back into the CRM, with its occurrences, participants and
    contacts, and back into the calendar it was deleted from (when that calendar receives CRM changes)."""
    if trashed.owner_id != user.pk:
        raise Refused(_("This appointment is not yours."))
    rows = list(serializers.deserialize("python", trashed.snapshot, ignorenonexistent=True))
    main, overrides = rows[0], rows[1:]
    action = main.object
    action.pk = None
    back = trashed.calendar is not None and trashed.calendar.direction != Direction.IMPORT
    # Announced as that calendar's own, so that it goes back there and nowhere else (queued below).
    origin = origin_of(trashed.calendar_id) if back else ORIGIN_CRM
    try:
        with transaction.atomic():
            crm_services.action_save(action=action, participants=main.m2m_data.get("participants"),
                                     contacts=main.m2m_data.get("contacts"), origin=origin)
            for row in overrides:
                row.object.pk, row.object.series = None, action
                row.object.compute_span()
            Action.objects.bulk_create([row.object for row in overrides])
            if back:
                outbox_add(action, [trashed.calendar_id])
            trashed.delete()
    except (ValidationError, IntegrityError) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        raise Invalid(_("It cannot be restored: %(why)s") % {"why": " ".join(messages)}) from exc
    return action
