"""The Microsoft sandbox service: identity platform and Graph on one HTTPS port."""

import uuid

from ..control import PREFIX, install_common
from ..http import Request, Response, Service
from . import batch, graph, identity, views
from .store import MicrosoftStore

GRAPH_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"


class MicrosoftSandbox(Service):
    """A stand-in for login.microsoftonline.com and graph.microsoft.com (calendar)."""

    def __init__(self, store: MicrosoftStore | None = None):
        super().__init__()
        self.store = store or MicrosoftStore()
        identity.install(self)
        graph.install(self)
        views.install(self)
        batch.install(self)
        self._install_control()

    def handle(self, request: Request) -> Response:
        if request.path.startswith(graph.V1):
            authorization = request.header("Authorization") or ""
            scheme, _, token = authorization.partition(" ")
            request.email = self.store.user_for_access_token(token) if scheme.lower() == "bearer" else None
            if request.email is None:
                message = "Access token is empty." if not token else "Lifetime validation failed, the token is expired."
                response = self.error(401, message, "InvalidAuthenticationToken")
                response.headers["WWW-Authenticate"] = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
                return self._stamp(request, response)
        try:
            response = super().handle(request)
        except graph.GraphError as exc:
            response = self.error(exc.status, exc.message, exc.code)
        return self._stamp(request, response)

    def error(self, status, message, reason=""):
        return Response.json({"error": {"code": reason or "UnknownError", "message": message, "innerError": {
            "date": self.store.clock().strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4()),
            "client-request-id": str(uuid.uuid4())}}}, status)

    def fault_response(self, fault):
        if fault.body is None:
            code, message = {429: ("ApplicationThrottled", "Application is over its MailboxConcurrency limit."),
                             503: ("serviceNotAvailable", "The service is currently unavailable."),
                             504: ("UnknownError", "")}.get(fault.status, ("UnknownError", "Error"))
            response = self.error(fault.status, message, code)
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        return super().fault_response(fault)

    def json(self, data, status=200):
        response = Response.json(data, status)
        response.headers["Content-Type"] = GRAPH_JSON
        return response

    def forget_history(self):
        self.store.writes.clear()

    def _stamp(self, request, response):
        request_id = request.header("client-request-id") or str(uuid.uuid4())
        response.headers.setdefault("request-id", str(uuid.uuid4()))
        response.headers.setdefault("client-request-id", request_id)
        return response

    def _install_control(self):
        add = self.router.add

        def reset(request):
            self.store = MicrosoftStore(clock=self.store.clock)
            self.faults.clear()
            self.counters.clear()
            return Response.json({"ok": True})

        def add_user(request):
            data = request.json()
            user = self.store.add_user(data["email"], data.get("name", ""))
            return Response.json({"email": user.email, "id": user.oid, "calendar": user.calendars[0].calendar_id})

        def add_calendar(request):
            data = request.json()
            calendar = self.store.add_calendar(data["owner"], data.get("name", "Calendar"),
                                               color=data.get("color", "auto"), hex_color=data.get("hex_color", ""))
            for share in data.get("share", []):
                self.store.share(calendar.id, share["email"], can_edit=share.get("can_edit", False))
            return Response.json({"id": calendar.id})

        def grant(request):
            data = request.json()
            issued = self.store.issue_tokens(data["email"], data.get("client_id", "sandbox-client"),
                                             data.get("scope", "https://graph.microsoft.com/Calendars.ReadWrite"))
            return Response.json({"access_token": issued["access"], "refresh_token": issued["refresh"]})

        def expire_delta_tokens(request):
            self.store.delta_epoch += 1
            return Response.json({"ok": True})

        def revoke(request):
            self.store.revoke((request.json() or {}).get("email"))
            return Response.json({"ok": True})

        add("POST", f"{PREFIX}/reset", reset)
        add("POST", f"{PREFIX}/users", add_user)
        add("POST", f"{PREFIX}/calendars", add_calendar)
        add("POST", f"{PREFIX}/grants", grant)
        add("POST", f"{PREFIX}/revoke", revoke)
        add("POST", f"{PREFIX}/expire-delta-tokens", expire_delta_tokens)
        install_common(self, report=lambda: {"writes": self.store.writes})
