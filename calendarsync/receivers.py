"""Reacting to CRM changes: each one goes in the outbox of the calendars that must receive it, in the
change's own transaction, and a push is queued for after the commit."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from calendarsync import selectors, tasks
from calendarsync.engine import ORIGIN_PREFIX, origin_of
from calendarsync.models import OutboxEntry
from crm.signals import action_deleted, action_saved, agenda_opened


@receiver(action_saved, dispatch_uid="calendarsync.outbox.saved")
def appointment_saved(sender, action, created, origin, follows=None, **kwargs):
    if created and origin.startswith(ORIGIN_PREFIX):
        return  # imported just now: linked to its calendar only, with its base
    if follows is not None:
        return  # its series is in the outbox already, and brings its occurrences along
    queue(action, selectors.push_targets(action), origin)


@receiver(action_deleted, dispatch_uid="calendarsync.outbox.deleted")
def appointment_deleted(sender, action, action_id, origin, **kwargs):
    queue(action, selectors.linked_push_targets([action_id]), origin, action_id=action_id)


def queue(action, calendar_ids, origin, action_id=None):
    """`action_id`: for a deleted appointment, whose instance has lost its primary key."""
    action_id = action_id or action.pk
    calendar_ids = [pk for pk in calendar_ids if origin != origin_of(pk)]  # not back where it came from
    OutboxEntry.objects.bulk_create([OutboxEntry(calendar_id=pk, action_id=action_id, uid=action.uid)
                                     for pk in calendar_ids],
                                    update_conflicts=True, unique_fields=["calendar", "action_id"],
                                    update_fields=["uid", "queued_at", "attempts", "last_error"])  # new tries
    for pk in calendar_ids:
        transaction.on_commit(partial(tasks.push_soon, pk))


@receiver(agenda_opened, dispatch_uid="calendarsync.agenda_opened")
def agenda_opened_pull(sender, user, **kwargs):
    tasks.pull_soon(user.pk)
