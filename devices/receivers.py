"""What the sync tokens of devices' calendars need beyond the actions' own change times: the appointments
that left someone (deleted, given to another owner, a participant taken off), recorded in the change's
own transaction, and the bodies devices wrote, dropped with their appointment."""

from django.db.models.signals import m2m_changed, pre_delete, pre_save
from django.dispatch import receiver

from crm.models import Action
from devices.dav.store import name_for
from devices.models import DeviceObject, DeviceRemoval


def _removed(action, user_ids):
    """Removals for these users, each under the name their devices know the resource by."""
    user_ids = [pk for pk in user_ids if pk]
    if user_ids:
        named = dict(DeviceObject.objects.filter(uid=action.uid, user_id__in=user_ids).values_list("user_id", "name"))
        DeviceRemoval.objects.bulk_create([
            DeviceRemoval(uid=action.uid, name=named.get(pk) or name_for(action.uid, action.pk), user_id=pk)
            for pk in user_ids])


@receiver(pre_delete, sender=Action, dispatch_uid="devices.removals.deleted")
def action_deleting(sender, instance, **kwargs):
    if instance.series_id:
        return  # an override: its series changes with it
    _removed(instance, {instance.owner_id, *instance.participants.values_list("pk", flat=True)})
    DeviceObject.objects.filter(uid=instance.uid).delete()


@receiver(pre_save, sender=Action, dispatch_uid="devices.removals.owner")
def action_saving(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None or instance.series_id or instance._state.adding:
        return
    before = Action.objects.filter(pk=instance.pk).values_list("owner_id", flat=True).first()
    if before is not None and before != instance.owner_id:
        _removed(instance, [before])


@receiver(m2m_changed, sender=Action.participants.through, dispatch_uid="devices.removals.participants")
def participants_changing(sender, instance, action, pk_set, reverse, **kwargs):
    if reverse or not isinstance(instance, Action) or instance.series_id:
        return
    if action == "post_remove":
        _removed(instance, pk_set or ())
    elif action == "pre_clear":
        _removed(instance, instance.participants.values_list("pk", flat=True))
