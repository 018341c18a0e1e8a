"""What calendarsync does when other parts of the project change."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from calendarsync import services
from calendarsync.models import SyncPolicy


@receiver([post_save, pre_delete], sender=SyncPolicy)
def policy_changed(sender, instance, **kwargs):
    """A profile's sync permissions changed or go away (with their profile, maybe): pause or resume its users'
    calendars (Z4). The users are read now, while a deleted profile still holds them."""
    user_ids = list(get_user_model().objects.filter(profile_id=instance.profile_id).values_list("pk", flat=True))
    transaction.on_commit(lambda: services.permissions_enforce(get_user_model().objects.filter(pk__in=user_ids)))


@receiver(post_save, sender=get_user_model())
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    """A user may have changed profile, or lost superuser status (a login's last_login alone changes neither)."""
    if update_fields is not None and not {"profile", "is_superuser"} & set(update_fields):
        return
    if not created and instance.external_accounts.exists():
        transaction.on_commit(lambda: services.permissions_enforce([instance]))
