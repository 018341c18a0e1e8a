"""Reacting to CRM changes: each one goes in the outbox of the calendars that must receive it, in the
change's own transaction, and a push is queued for after the commit."""

from django.dispatch import receiver

from calendarsync import freebusy, jobs, selectors, services
from crm.signals import action_deleted, action_saved, agenda_opened, colors_wanted


@receiver(action_saved, dispatch_uid="calendarsync.outbox.saved")
def appointment_saved(sender, action, created, origin, follows=None, **kwargs):
    if created and origin.startswith(services.origin_of("")):
        return  # imported just now: linked to its calendar only, with its base
    if follows is not None:
        return  # its series is in the outbox already, and brings its occurrences along
    queue(action, selectors.push_targets(action), origin)


@receiver(action_deleted, dispatch_uid="calendarsync.outbox.deleted")
def appointment_deleted(sender, action, action_id, origin, **kwargs):
    queue(action, selectors.linked_push_targets([action_id]), origin, action_id=action_id)
    services.forget_deleted(action, action_id, origin=origin)


def queue(action, calendar_ids, origin, action_id=None):
    not_back = [pk for pk in calendar_ids if origin != services.origin_of(pk)]  # not back where it came from
    services.outbox_add(action, not_back, action_id=action_id)
    if not_back:  # what was fetched of their free/busy no longer holds (a cache mark, no provider call)
        freebusy.calendars_written(not_back)


@receiver(agenda_opened, dispatch_uid="calendarsync.agenda_opened")
def agenda_opened_pull(sender, user, **kwargs):
    jobs.pull_soon(user.pk)


@receiver(colors_wanted, dispatch_uid="calendarsync.colors_wanted")
def calendar_colors(sender, owner, **kwargs):
    return selectors.named_colors(owner)
