from rest_framework import permissions

from crm import selectors


class ProfilePermissions(permissions.DjangoModelPermissions):
    """Allow what the user's profile allows on the model, reading included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class CanEditAction(permissions.BasePermission):
    """Let users change and delete only their own actions, unless their profile says otherwise."""

    message = "You can only change your own actions; your profile does not allow changing others'."

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or selectors.action_can_edit(user=request.user, action=obj)
