from django.utils.functional import SimpleLazyObject

from calendarsync import selectors


def sync_notices(request):
    """Accounts to reconnect and calendars paused by a permission, shown on every page until dealt with."""
    user = getattr(request, "user", None)
    # Read only by pages that show them (not the admin's), once per page.
    return {"sync_notices": SimpleLazyObject(lambda: selectors.notices_for(user) if user is not None else [])}
