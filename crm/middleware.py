import zoneinfo

from django.utils import timezone


def activate_user_time_zone(user):
    """Read and show dates and times in the user's own zone (the site's default without one)."""
    name = getattr(user, "time_zone", "")
    if name:
        timezone.activate(zoneinfo.ZoneInfo(name))
    else:
        timezone.deactivate()


class UserTimeZoneMiddleware:
    """Activate the signed-in user's time zone for pages (the API does it after token auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_user_time_zone(request.user)
        return self.get_response(request)
