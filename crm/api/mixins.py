from crm.middleware import activate_user_time_zone


class UserTimeZoneMixin:
    """Activate the user's zone once DRF has authenticated them (tokens come after middleware)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        activate_user_time_zone(request.user)
