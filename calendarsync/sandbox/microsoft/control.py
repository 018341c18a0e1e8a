"""The Microsoft sandbox's control API, for tests and the demo: /__sandbox__/..., JSON, no auth."""

from ..control import PREFIX, install_common
from ..http import Response
from .store import MicrosoftStore


def install(service):
    add = service.router.add

    def add_user(request):
        data = request.json()
        user = service.store.add_user(data["email"], data.get("name", ""))
        return Response.json({"email": user.email, "id": user.oid, "calendar": user.calendars[0].calendar_id})

    def add_calendar(request):
        data = request.json()
        calendar = service.store.add_calendar(data["owner"], data.get("name", "Calendar"),
                                              color=data.get("color", "auto"), hex_color=data.get("hex_color", ""))
        for share in data.get("share", []):
            service.store.share(calendar.id, share["email"], can_edit=share.get("can_edit", False))
        return Response.json({"id": calendar.id})

    def grant(request):
        data = request.json()
        issued = service.store.issue_tokens(data["email"], data.get("client_id", "sandbox-client"),
                                            data.get("scope", "https://graph.microsoft.com/Calendars.ReadWrite"))
        return Response.json({"access_token": issued["access"], "refresh_token": issued["refresh"]})

    def expire_delta_tokens(request):
        service.store.delta_epoch += 1
        return Response.json({"ok": True})

    def revoke(request):
        service.store.revoke((request.json() or {}).get("email"))
        return Response.json({"ok": True})

    def fresh_store():
        service.store = MicrosoftStore(clock=service.store.clock)

    add("POST", f"{PREFIX}/users", add_user)
    add("POST", f"{PREFIX}/calendars", add_calendar)
    add("POST", f"{PREFIX}/grants", grant)
    add("POST", f"{PREFIX}/revoke", revoke)
    add("POST", f"{PREFIX}/expire-delta-tokens", expire_delta_tokens)
    install_common(service, reset=fresh_store, report=lambda: {"writes": service.store.writes})
