from calendarsync import selectors


def sync_notices(request):
    """Accounts to reconnect and calendars paused by a permission, shown on every page until dealt with."""
    user = getattr(request, "user", None)
    return {"sync_notices": selectors.notices_for(user) if user is not None else []}
