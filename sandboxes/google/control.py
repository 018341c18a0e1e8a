"""The Google sandbox's control API, for tests and the demo: /__sandbox__/..., JSON, no auth.

It sets up people and calendars, acts as another person editing events, expires tokens,
injects faults and reports what was asked of the sandbox.
"""


from ..control import PREFIX, install_common
from ..http import Response
from . import seed
from .events import cancel, create, public, update, validate
from .store import GoogleStore


def install(service):
    add = service.router.add
    store = lambda: service.store  # noqa: E731 - reset swaps the store

    def add_user(request):
        data = request.json()
        user = store().add_user(data["email"], data.get("name", ""), data.get("time_zone", "Europe/Paris"))
        return Response.json({"email": user.email, "calendar": user.email})

    def add_calendar(request):
        data = request.json()
        calendar = store().add_calendar(data["id"], data.get("summary", data["id"]),
                                        data.get("time_zone", "Europe/Paris"), owner=data["owner"],
                                        color_id=str(data.get("color_id", "9")))
        for share in data.get("share", []):
            store().share(calendar.id, share["email"], share.get("role", "reader"), str(share.get("color_id", "7")))
        return Response.json({"id": calendar.id})

    def grant(request):
        data = request.json()
        return Response.json(store().issue_tokens(data["email"], data.get("client_id", "sandbox-client"),
                                                  data.get("scope", "https://www.googleapis.com/auth/calendar")))

    def remote_insert(request):
        """Create an event as the calendar's owner would in Google Calendar."""
        calendar = store().calendars.get(request.params["cal"])
        if calendar is None:
            return service.error(404, "Not Found", "notFound")
        events = request.json()
        events = events if isinstance(events, list) else [events]
        created = []
        for body in events:
            validate(body)  # an EventError answers in Google's shape (GoogleSandbox.dispatch)
            event = create(store(), calendar, body, creator=calendar.owner)
            created.append(public(event))
        return Response.json(created if len(created) != 1 else created[0])

    def seed_events(request):
        """Fill a calendar with a realistic mix of events: POST {"calendar", "count", "seed"}."""
        data = request.json()
        calendar = store().calendars.get(data.get("calendar", ""))
        if calendar is None:
            return service.error(404, "Not Found", "notFound")
        seed.fill(store(), calendar, int(data.get("count", 100)), seed=int(data.get("seed", 0)))
        return Response.json({"events": len(calendar.events)})

    def remote_change(request):
        """Change or delete an event as another person would (its etag and sequence move)."""
        calendar = store().calendars.get(request.params["cal"])
        event = service._find(calendar, request.params["event"]) if calendar else None  # instances too
        if event is None:
            return service.error(404, "Not Found", "notFound")
        if request.method == "DELETE":
            changed = cancel(store(), calendar, event)
        else:  # checked as the API checks it
            changed = update(store(), calendar, event, request.json() or {}, replace=False)
        return Response.json(public(changed))

    def remove_calendar(request):
        """Delete a calendar as its owner would: it leaves every list it was in."""
        if store().calendars.pop(request.params["cal"], None) is None:
            return service.error(404, "Not Found", "notFound")
        for user in store().users.values():
            user.calendars = [entry for entry in user.calendars if entry.calendar_id != request.params["cal"]]
        return Response(204, b"", {})

    def expire_sync_tokens(request):
        data = request.json() or {}
        for calendar in store().calendars.values():
            if not data.get("calendar") or calendar.id == data["calendar"]:
                calendar.epoch += 1
        return Response.json({"ok": True})

    def expire_access_tokens(request):
        store().expire_access_tokens((request.json() or {}).get("email"))
        return Response.json({"ok": True})

    def revoke(request):
        data = request.json() or {}
        store().revoke(email=data.get("email"), refresh_token=data.get("refresh_token"))
        return Response.json({"ok": True})

    def raw_items(request):
        """Have every listing of a calendar end with these items, as they are (DELETE: no more)."""
        calendar = store().calendars.get(request.params["cal"])
        if calendar is None:
            return service.error(404, "Not Found", "notFound")
        calendar.raw_items = [] if request.method == "DELETE" else list(request.json().get("items", []))
        return Response.json({"items": len(calendar.raw_items)})

    def empty_pages(request):
        """Answer the next `pages` listing pages of a calendar with no items but a nextPageToken."""
        calendar = store().calendars.get(request.params["cal"])
        if calendar is None:
            return service.error(404, "Not Found", "notFound")
        calendar.empty_pages = int((request.json() or {}).get("pages", 1))
        return Response.json({"pages": calendar.empty_pages})

    def channels(request):
        return Response.json({
            channel_id: {"deliveries": channel["deliveries"], "stopped": channel.get("stopped", False)}
            for channel_id, channel in store().channels.items()})

    add("POST", f"{PREFIX}/users", add_user)
    add("POST", f"{PREFIX}/calendars", add_calendar)
    add("POST", f"{PREFIX}/grants", grant)
    add("POST", f"{PREFIX}/seed", seed_events)
    add("POST", f"{PREFIX}/calendars/(?P<cal>[^/]+)/events", remote_insert)
    add("PATCH", f"{PREFIX}/calendars/(?P<cal>[^/]+)/events/(?P<event>[^/]+)", remote_change)
    add("DELETE", f"{PREFIX}/calendars/(?P<cal>[^/]+)/events/(?P<event>[^/]+)", remote_change)
    add("DELETE", f"{PREFIX}/calendars/(?P<cal>[^/]+)", remove_calendar)
    add("POST", f"{PREFIX}/calendars/(?P<cal>[^/]+)/raw-items", raw_items)
    add("DELETE", f"{PREFIX}/calendars/(?P<cal>[^/]+)/raw-items", raw_items)
    add("POST", f"{PREFIX}/calendars/(?P<cal>[^/]+)/empty-pages", empty_pages)
    add("POST", f"{PREFIX}/expire-sync-tokens", expire_sync_tokens)
    add("POST", f"{PREFIX}/expire-access-tokens", expire_access_tokens)
    add("POST", f"{PREFIX}/revoke", revoke)
    add("GET", f"{PREFIX}/channels", channels)
    install_common(service, reset=lambda: service.use_store(GoogleStore(clock=service.store.clock)),
                   report=lambda: {"writes": store().writes})
