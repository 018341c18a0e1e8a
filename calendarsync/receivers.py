"""What calendarsync does when other parts of the project change."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from calendarsync import services
from calendarsync.models import SyncPolicy


@receiver([post_save, post_delete], sender=SyncPolicy)
def policy_changed(sender, instance, **kwargs):
    """A profile's sync permissions changed: pause or resume its users' calendars (Z4)."""
    profile_id = instance.profile_id
    transaction.on_commit(lambda: services.permissions_enforce(
        get_user_model().objects.filter(profile_id=profile_id)))


@receiver(post_save, sender=get_user_model())
def user_saved(sender, instance, created, **kwargs):
    """A user may have changed profile, or lost superuser status."""
    if not created and instance.external_accounts.exists():
        transaction.on_commit(lambda: services.permissions_enforce([instance]))
