"""The Microsoft sandbox's control API, for tests and the demo: /__sandbox__/..., JSON, no auth.

It sets up people and calendars, acts as a person editing in Outlook, expires tokens, fires
lifecycle notifications, injects faults and reports what was asked of the sandbox.
"""

from ..control import PREFIX, install_common
from ..http import Response, unlocked
from . import events, seed, subscriptions
from .store import MicrosoftStore

EVERYTHING_THE_APP_ASKS = "User.Read Calendars.ReadWrite Calendars.Read.Shared MailboxSettings.Read offline_access"


def install(service):
    add = service.router.add
    store = lambda: service.store  # noqa: E731 - reset swaps the store

    def add_user(request):
        data = request.json()
        user = store().add_user(data["email"], data.get("name", ""))
        return Response.json({"email": user.email, "id": user.oid, "calendar": user.calendars[0].calendar_id})

    def add_calendar(request):
        data = request.json()
        calendar = store().add_calendar(data["owner"], data.get("name", "Calendar"),
                                        color=data.get("color", "auto"), hex_color=data.get("hex_color", ""))
        for share in data.get("share", []):
            store().share(calendar.id, share["email"], can_edit=share.get("can_edit", False))
        return Response.json({"id": calendar.id})

    def grant(request):
        data = request.json()
        issued = store().issue_tokens(data["email"], data.get("client_id", "sandbox-client"),
                                      data.get("scope", EVERYTHING_THE_APP_ASKS))
        return Response.json({"access_token": issued["access"], "refresh_token": issued["refresh"]})

    def seed_events(request):
        """Fill a calendar with a realistic mix: POST {"calendar", "count", "seed"}."""
        data = request.json()
        calendar = store().calendars.get(data.get("calendar", ""))
        if calendar is None:
            return service.error(404, "No such calendar.", "ErrorItemNotFound")
        seed.fill(store(), calendar, int(data.get("count", 100)), seed=int(data.get("seed", 0)))
        return Response.json({"events": len(calendar.events)})

    def remote_insert(request):
        """Create events (one body or a list) as the calendar's owner would in Outlook; a body with a "uid"
        is an invitation to a meeting organized elsewhere, with that UID (and its "organizer")."""
        calendar = store().calendars.get(request.params["cal"])
        if calendar is None:
            return service.error(404, "No such calendar.", "ErrorItemNotFound")
        bodies = request.json()
        created = [events.invitation(store(), calendar, body) if body.get("uid")
                   else events.create(store(), calendar, body) for body in
                   (bodies if isinstance(bodies, list) else [bodies])]
        answer = [{"id": event["id"], "@odata.etag": event["@odata.etag"]} for event in created]
        return Response.json(answer if isinstance(bodies, list) else answer[0])

    def raw_items(request):
        """Have every delta round of a calendar end with these items, as they are (DELETE: no more)."""
        calendar = store().calendars.get(request.params["cal"])
        if calendar is None:
            return service.error(404, "No such calendar.", "ErrorItemNotFound")
        calendar.raw_items = [] if request.method == "DELETE" else list(request.json().get("items", []))
        return Response.json({"items": len(calendar.raw_items)})

    def remote_change(request):
        """Change or delete any event, occurrence or exception as another person would."""
        calendar, event = store().locate(request.params["event"])
        if event is None:
            return service.error(404, "The specified object was not found in the store.", "ErrorItemNotFound")
        if request.method == "DELETE":
            events.delete(store(), calendar, event)
            return Response(204, b"", {})
        changed = events.update(store(), calendar, event, request.json() or {})
        return Response.json({"id": changed["id"], "@odata.etag": changed["@odata.etag"]})

    def remove_calendar(request):
        """Delete a calendar as its owner would: it leaves every mailbox it was shared with."""
        if store().calendars.pop(request.params["cal"], None) is None:
            return service.error(404, "No such calendar.", "ErrorItemNotFound")
        for user in store().users.values():
            user.calendars = [entry for entry in user.calendars if entry.calendar_id != request.params["cal"]]
        return Response(204, b"", {})

    def expire_delta_tokens(request):
        """Expire every delta token; {"mode": "resync"} answers 410 resyncRequired with a Location."""
        store().delta_expiry = "resync" if (request.json() or {}).get("mode") == "resync" else "syncStateNotFound"
        store().delta_epoch += 1
        return Response.json({"ok": True})

    def expire_access_tokens(request):
        store().expire_access_tokens((request.json() or {}).get("email"))
        return Response.json({"ok": True})

    def revoke(request):
        store().revoke((request.json() or {}).get("email"))
        return Response.json({"ok": True})

    def settings(request):
        """Change the limits tests want short: {"subscription_max_minutes", "notification_retries"}."""
        data = request.json() or {}
        for name in ("subscription_max_minutes", "notification_retries"):
            if name in data:
                setattr(store(), name, int(data[name]))
        return Response.json({"ok": True})

    def subscription_list(request):
        return Response.json({item["id"]: {"resource": item["resource"], "deliveries": item["_deliveries"],
                                           "expirationDateTime": item["expirationDateTime"]}
                              for item in store().subscriptions.values()})

    @unlocked  # it waits on the application's web hook, which may call Graph meanwhile
    def lifecycle(request):
        """Send a lifecycle notification: POST {"event": one of subscriptions.LIFECYCLE_EVENTS}."""
        subscription = store().subscriptions.get(request.params["sub"])
        event = (request.json() or {}).get("event")
        if subscription is None or event not in subscriptions.LIFECYCLE_EVENTS:
            return service.error(400, f"Unknown subscription or lifecycle event {event!r}.", "BadRequest")
        subscriptions.lifecycle(store(), subscription, event)
        return Response.json({"ok": True})

    def report():
        sent = [delivery for item in store().subscriptions.values() for delivery in item["_deliveries"]]
        return {"writes": store().writes, "notifications_sent": sum(delivery["notifications"] for delivery in sent)}

    add("POST", f"{PREFIX}/users", add_user)
    add("POST", f"{PREFIX}/calendars", add_calendar)
    add("POST", f"{PREFIX}/grants", grant)
    add("POST", f"{PREFIX}/seed", seed_events)
    add("POST", f"{PREFIX}/calendars/(?P<cal>[^/]+)/events", remote_insert)
    add("PATCH", f"{PREFIX}/events/(?P<event>[^/]+)", remote_change)
    add("DELETE", f"{PREFIX}/events/(?P<event>[^/]+)", remote_change)
    add("DELETE", f"{PREFIX}/calendars/(?P<cal>[^/]+)", remove_calendar)
    add("POST", f"{PREFIX}/calendars/(?P<cal>[^/]+)/raw-items", raw_items)
    add("DELETE", f"{PREFIX}/calendars/(?P<cal>[^/]+)/raw-items", raw_items)
    add("POST", f"{PREFIX}/revoke", revoke)
    add("POST", f"{PREFIX}/expire-delta-tokens", expire_delta_tokens)
    add("POST", f"{PREFIX}/expire-access-tokens", expire_access_tokens)
    add("POST", f"{PREFIX}/settings", settings)
    add("GET", f"{PREFIX}/subscriptions", subscription_list)
    add("POST", f"{PREFIX}/subscriptions/(?P<sub>[^/]+)/lifecycle", lifecycle)
    install_common(service, reset=lambda: setattr(service, "store", MicrosoftStore(clock=service.store.clock)),
                   report=report)
