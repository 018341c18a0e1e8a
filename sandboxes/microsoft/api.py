"""The Microsoft sandbox service: identity platform and Graph on one HTTPS port."""

import uuid

from ..http import Request, Response, Service
from . import batch, control, graph, identity, schedule, subscriptions, views
from .errors import GraphError
from .paths import V1
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
        subscriptions.install(self)
        schedule.install(self)
        batch.install(self)
        control.install(self)

    def handle(self, request: Request) -> Response:
        if request.path.startswith(V1):
            authorization = request.header("Authorization") or ""
            scheme, _, token = authorization.partition(" ")
            bearer = self.store.bearer(token) if scheme.lower() == "bearer" else None
            request.email, request.client_id, request.scopes = bearer or (None, None, None)
            if bearer is None:
                message = "Access token is empty." if not token else "Lifetime validation failed, the token is expired."
                response = self.error(401, message, "InvalidAuthenticationToken")
                response.headers["WWW-Authenticate"] = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
                return self._stamp(request, response)
        return self._stamp(request, super().handle(request))

    def dispatch(self, handler, request):
        """As every service does, and GraphError answers in Graph's error envelope."""
        try:
            _only_oneself(self.store, request)
            _permitted(request)
            return super().dispatch(handler, request)
        except GraphError as exc:
            response = self.error(exc.status, exc.message, exc.code)
            response.headers.update(exc.headers)
            return response

    def error(self, status, message, reason=""):
        return Response.json({"error": {"code": reason or "UnknownError", "message": message, "innerError": {
            "date": self.store.clock().strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4()),
            "client-request-id": str(uuid.uuid4())}}}, status)

    def fault_error(self, status):
        code, message = {429: ("ApplicationThrottled", "Application is over its MailboxConcurrency limit."),
                         503: ("serviceNotAvailable", "The service is currently unavailable."),
                         504: ("UnknownError", "")}.get(status, ("UnknownError", "Error"))
        return self.error(status, message, code)

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


# The delegated permissions each request needs, any one of them (Graph's permission tables; ReadWrite includes
# Read). Calendars shared with the caller need the .Shared permissions besides (not checked here).
READ_CALENDARS = {"Calendars.Read", "Calendars.ReadWrite"}
NEEDED = {
    "me": {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All"},
    "categories": {"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
    **dict.fromkeys(["calendars", "calendar", "events_list", "events_get", "events_instances", "calendar_view",
                     "delta", "subscriptions_create"], READ_CALENDARS),
    **dict.fromkeys(["events_create", "events_update", "events_delete"], {"Calendars.ReadWrite"}),
    "get_schedule": {"Calendars.ReadBasic", *READ_CALENDARS},
}


def _permitted(request):
    """403 ErrorAccessDenied for a token whose consent lacks what the request needs."""
    needed = NEEDED.get(request.route)
    if needed and getattr(request, "scopes", None) is not None and not needed & request.scopes:
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def _only_oneself(store, request):
    """/users/{id or e-mail}/... is the caller's own mailbox or nobody's: delegated tokens reach no further
    (calendars shared with the caller are reached through their own /me/calendars)."""
    asked = request.params.get("user")
    user = store.users.get(request.email) if asked else None
    if asked and (user is None or asked.lower() not in (user.oid, user.email.lower())):
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
