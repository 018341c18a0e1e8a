from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ProfileBackend(ModelBackend):
    """Grant users the permissions of their profile, as if they were members of its group."""

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(
            Q(group__user=user_obj) | Q(group__profile__users=user_obj)
        ).distinct()
