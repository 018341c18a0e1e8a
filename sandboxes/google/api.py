"""The Google sandbox service: OAuth token endpoint and Calendar API v3, over GoogleStore."""

from datetime import UTC

from ..http import Refused, Request, Response, Service, unlocked
from . import batch, control, oauth, push
from .events import (
    INSTANCE_ID,
    EventError,
    cancel,
    check_id,
    create,
    new_id,
    parse_moment,
    public,
    update,
    validate,
)
from .listing import SyncTokenExpired, list_events, parse_time
from .recurring import instance, instances, instant, is_instance
from .store import CALENDAR_COLORS, EVENT_COLORS, GoogleStore

API = "/calendar/v3"
CAL = r"(?P<cal>[^/]+)"
EVENT = r"(?P<event>[^/]+)"
WRITERS = ("owner", "writer")

# The scopes each method accepts, any one of them, as Calendar API v3's discovery document lists them
# (short names: https://www.googleapis.com/auth/<name>). Keyed by route name.
_READ_EVENTS = {"calendar", "calendar.app.created", "calendar.events", "calendar.events.freebusy",
                "calendar.events.owned", "calendar.events.owned.readonly", "calendar.events.public.readonly",
                "calendar.events.readonly", "calendar.readonly"}
_WRITE_EVENTS = {"calendar", "calendar.app.created", "calendar.events", "calendar.events.owned"}
SCOPES = {
    "calendar_list": {"calendar", "calendar.calendarlist", "calendar.calendarlist.readonly", "calendar.readonly"},
    "calendar_list_entry": {"calendar", "calendar.app.created", "calendar.calendarlist",
                            "calendar.calendarlist.readonly", "calendar.readonly"},
    "colors": {"calendar", "calendar.app.created", "calendar.calendarlist", "calendar.calendarlist.readonly",
               "calendar.events.freebusy", "calendar.events.owned", "calendar.events.owned.readonly",
               "calendar.events.public.readonly", "calendar.readonly"},
    **dict.fromkeys(["events_list", "events_get", "events_instances", "watch"], _READ_EVENTS),
    **dict.fromkeys(["events_insert", "events_import", "events_patch", "events_update", "events_delete"],
                    _WRITE_EVENTS),
    "freebusy": {"calendar", "calendar.events.freebusy", "calendar.freebusy", "calendar.readonly"},
    "channels_stop": {*_READ_EVENTS, "calendar.acls", "calendar.acls.readonly", "calendar.calendarlist",
                      "calendar.calendarlist.readonly", "calendar.settings", "calendar.settings.readonly"},
}


class GoogleSandbox(Service):
    """A stand-in for accounts.google.com's token endpoint and the Calendar API v3."""

    def __init__(self, store: GoogleStore | None = None):
        super().__init__()
        self.use_store(store or GoogleStore())
        add = self.router.add
        add("POST", "/token", self.token)
        add("GET", f"{API}/users/me/calendarList", self.calendar_list)
        add("GET", f"{API}/users/me/calendarList/{CAL}", self.calendar_list_entry)
        add("GET", f"{API}/colors", self.colors)
        add("GET", f"{API}/calendars/{CAL}/events", self.events_list)
        add("POST", f"{API}/calendars/{CAL}/events", self.events_insert)
        add("POST", f"{API}/calendars/{CAL}/events/import", self.events_import)
        add("GET", f"{API}/calendars/{CAL}/events/{EVENT}/instances", self.events_instances)
        add("GET", f"{API}/calendars/{CAL}/events/{EVENT}", self.events_get)
        add("PATCH", f"{API}/calendars/{CAL}/events/{EVENT}", self.events_patch)
        add("PUT", f"{API}/calendars/{CAL}/events/{EVENT}", self.events_update)
        add("DELETE", f"{API}/calendars/{CAL}/events/{EVENT}", self.events_delete)
        add("POST", f"{API}/freeBusy", self.freebusy)
        add("POST", f"{API}/calendars/{CAL}/events/watch", lambda request: push.watch(self, request), "watch")
        add("POST", f"{API}/channels/stop", lambda request: push.stop(self, request), "channels_stop")
        # Unlocked: each part takes the lock as it runs, so a slow part does not hold up everyone else.
        add("POST", "/batch/calendar/v3", unlocked(lambda request: batch.handle(self, request)), "batch")
        oauth.install(self)
        control.install(self)

    def forget_history(self):
        self.store.writes.clear()

    def use_store(self, store: GoogleStore):
        """Serve from `store`, and tell its watchers about its changes."""
        self.store = store
        store.on_change = lambda calendar_id: push.changed(store, calendar_id)

    # Errors in Google's envelope -----------------------------------------------------------

    def error(self, status, message, reason="", location=None, domain="global"):
        detail = {"domain": domain, "reason": reason or "backendError", "message": message}
        if location:
            detail.update(locationType="parameter" if location not in ("If-Match", "Authorization") else "header",
                          location=location)
        return Response.json({"error": {"errors": [detail], "code": status, "message": message}}, status)

    def fault_error(self, status):
        if status in (403, 429):
            return self.error(status, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
        if status >= 500:
            return self.error(status, "Backend Error", "backendError")
        return super().fault_error(status)

    def insufficient_scopes(self, request):
        """403 for a live token whose grant lacks every scope the method accepts, as Google answers it."""
        accepted = SCOPES.get(request.route)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        granted = self.store.scopes_of(token) if accepted and scheme.lower() == "bearer" else None
        if granted is None or granted & accepted or self.store.user_for_access_token(token) is None:
            return None
        message = "Request had insufficient authentication scopes."
        response = Response.json({"error": {
            "code": 403, "message": message, "status": "PERMISSION_DENIED",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "googleapis.com",
                         "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                         "metadata": {"service": "calendar-json.googleapis.com"}}]}}, 403)
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="'
            + " ".join(f"https://www.googleapis.com/auth/{name}" for name in sorted(accepted)) + '"')
        return response

    def dispatch(self, handler, request):
        """As every service does, and an event the API refuses answers in Google's error envelope."""
        refused = self.insufficient_scopes(request)
        if refused is not None:
            return refused
        try:
            return super().dispatch(handler, request)
        except EventError as exc:
            return self.error(exc.status, exc.message, exc.reason, exc.location,
                              domain="calendar" if exc.reason == "timeRangeEmpty" else "global")
        except SyncTokenExpired:
            return self.error(410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired",
                              "syncToken", domain="calendar")

    # OAuth ---------------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        form = request.form()
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            grant = self.store.grants.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked:
                return Response.json(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400)
            if form.get("client_id") and form["client_id"] != grant.client_id:
                return Response.json({"error": "unauthorized_client", "error_description": "Unauthorized"}, 401)
            return Response.json(self.store.issue_tokens(grant.email, grant.client_id, grant.scope, refresh=False,
                                                         grant_token=form["refresh_token"]))
        if grant_type == "authorization_code":
            return oauth.exchange_code(self, form)
        return Response.json({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, 400)

    def _user(self, request):
        authorization = request.header("Authorization") or request.header("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        email = self.store.user_for_access_token(token) if scheme.lower() == "bearer" else None
        return email

    def _unauthorized(self):
        response = self.error(401, "Invalid Credentials", "authError", "Authorization")
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return response

    def _calendar(self, request, *, write=False):
        """Return (email, calendar) for the request, or refuse it."""
        email = self._user(request)
        if email is None:
            raise Refused(self._unauthorized())
        entry = self.store.entry(email, request.params["cal"])
        if entry is None:
            raise Refused(self.error(404, "Not Found", "notFound"))
        if write and entry.access_role not in WRITERS:
            raise Refused(self.error(403, "You need to have writer access to this calendar.", "requiredAccessLevel"))
        return email, self.store.calendars[entry.calendar_id]

    # Calendar list -------------------------------------------------------------------------

    def calendar_list(self, request):
        email = self._user(request)
        if email is None:
            return self._unauthorized()
        items = [self._entry_json(entry) for entry in self.store.users[email].calendars if not entry.deleted]
        return Response.json({"kind": "calendar#calendarList", "etag": self.store.next_etag(),
                              "nextSyncToken": "calendarList", "items": items})

    def calendar_list_entry(self, request):
        email = self._user(request)
        if email is None:
            return self._unauthorized()
        entry = self.store.entry(email, request.params["cal"])
        if entry is None:
            return self.error(404, "Not Found", "notFound")
        return Response.json(self._entry_json(entry))

    def _entry_json(self, entry):
        calendar = self.store.calendars[entry.calendar_id]
        answer = {"kind": "calendar#calendarListEntry", "etag": f'"{calendar.epoch}{calendar.change_seq}"',
                  "id": calendar.id, "summary": calendar.summary, "description": calendar.description,
                  "timeZone": calendar.time_zone, "colorId": entry.color_id,
                  "backgroundColor": CALENDAR_COLORS.get(entry.color_id, "#9fe1e7"), "foregroundColor": "#000000",
                  "selected": entry.selected, "accessRole": entry.access_role,
                  "defaultReminders": [{"method": "popup", "minutes": 10}] if entry.access_role in WRITERS else []}
        if entry.primary:
            answer["primary"] = True
        if entry.hidden:
            answer["hidden"] = True
        return answer

    def colors(self, request):
        if self._user(request) is None:
            return self._unauthorized()
        def palette(colors):
            return {key: {"background": value, "foreground": "#1d1d1d"} for key, value in colors.items()}

        return Response.json({"kind": "calendar#colors", "updated": "2012-02-14T00:00:00.000Z",
                              "calendar": palette(CALENDAR_COLORS), "event": palette(EVENT_COLORS)})

    def freebusy(self, request):
        """Busy periods of opaque, live events (series expanded), clipped to the range and merged."""
        email = self._user(request)
        if email is None:
            return self._unauthorized()
        body = self._body(request)
        time_min, time_max = parse_time({"t": [body.get("timeMin", "")]}, "t"), parse_time(
            {"t": [body.get("timeMax", "")]}, "t")
        if time_min is None or time_max is None or time_max <= time_min:
            return self.error(400, "The specified time range is empty.", "timeRangeEmpty", "timeMax", "calendar")
        items = body.get("items") or []
        if len(items) > 50:
            return self.error(400, "Too many calendars requested.", "tooManyCalendarsRequested")
        answer = {}
        for item in items:
            entry = self.store.entry(email, item.get("id", ""))
            if entry is None:
                answer[item.get("id", "")] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            calendar = self.store.calendars[entry.calendar_id]
            answer[item["id"]] = {"busy": busy_periods(calendar, time_min, time_max, self.store.kept_pages)}
        return Response.json({"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"],
                              "calendars": answer})

    # Events --------------------------------------------------------------------------------

    def events_list(self, request):
        _, calendar = self._calendar(request)
        return Response.json(list_events(calendar, request.query, self.store.kept_pages))

    def events_get(self, request):
        _, calendar = self._calendar(request)
        event = self._find(calendar, request.params["event"])
        if event is None:
            return self.error(404, "Not Found", "notFound")
        if request.header("If-None-Match") == event["etag"]:
            return Response(304, b"", {"ETag": event["etag"]})
        return self._event_response(event)

    def events_instances(self, request):
        _, calendar = self._calendar(request)
        master = calendar.events.get(request.params["event"])
        if master is None:
            return self.error(404, "Not Found", "notFound")
        time_min, time_max = parse_time(request.query, "timeMin"), parse_time(request.query, "timeMax")
        show_deleted = request.arg("showDeleted") == "true"
        items = []
        for stamp, start, end in instances(master, time_min, time_max) if master.get("recurrence") else []:
            stored = calendar.events.get(f"{master['id']}_{stamp}")
            if stored is None:
                items.append(public(instance(master, stamp, start, end)))
            elif stored.get("status") != "cancelled" or show_deleted:
                items.append(public(stored))
        return Response.json({"kind": "calendar#events", "summary": calendar.summary,
                              "timeZone": calendar.time_zone, "items": items})

    def events_insert(self, request, *, importing=False):
        email, calendar = self._calendar(request, write=True)
        body = self._body(request)
        if importing:
            if not body.get("iCalUID"):
                raise EventError(400, "required", "Missing iCalUID.")
            existing = next((event for event in calendar.events.values()
                             if event.get("iCalUID") == body["iCalUID"] and not event.get("recurringEventId")), None)
            if existing is not None:
                return self._write(request, calendar, existing, body, replace=True, method="import")
        event_id = body.get("id") or new_id()
        check_id(event_id)
        if event_id in calendar.events:
            return self.error(409, "The requested identifier already exists.", "duplicate")
        validate(body)
        event = create(self.store, calendar, {**body, "id": event_id}, creator=email)
        self.store.log_write("import" if importing else "insert", calendar.id, event_id, request.arg("sendUpdates"))
        return self._event_response(event)

    def events_import(self, request):
        return self.events_insert(request, importing=True)

    def events_patch(self, request):
        return self._change(request, replace=False, method="patch")

    def events_update(self, request):
        return self._change(request, replace=True, method="update")

    def events_delete(self, request):
        _, calendar = self._calendar(request, write=True)
        event = self._find(calendar, request.params["event"])
        if event is None:
            return self.error(404, "Not Found", "notFound")
        if event.get("status") == "cancelled" and event["id"] in calendar.events:
            return self.error(410, "Resource has been deleted", "deleted")
        precondition = self._precondition(request, event)
        if precondition is not None:
            return precondition
        cancel(self.store, calendar, event)
        self.store.log_write("delete", calendar.id, event["id"], request.arg("sendUpdates"))
        return Response(204, b"", {})

    def _change(self, request, *, replace, method):
        _, calendar = self._calendar(request, write=True)
        body = self._body(request)
        event = self._find(calendar, request.params["event"])
        if event is None:
            return self.error(404, "Not Found", "notFound")
        precondition = self._precondition(request, event)
        if precondition is not None:
            return precondition
        return self._write(request, calendar, event, body, replace=replace, method=method)

    def _write(self, request, calendar, event, body, *, replace, method):
        changed = update(self.store, calendar, event, body, replace=replace)
        self.store.log_write(method, calendar.id, changed["id"], request.arg("sendUpdates"))
        return self._event_response(changed)

    def _find(self, calendar, event_id):
        """Return the stored event, or, for an instance id of a recurring event, a new exception
        (stored only once a write changes it)."""
        if event_id in calendar.events:
            return calendar.events[event_id]
        found = INSTANCE_ID.match(event_id)
        master = calendar.events.get(found.group("master")) if found else None
        if master is None or not master.get("recurrence") or not is_instance(master, found.group("stamp")):
            return None
        return instance(master, found.group("stamp"))

    def _precondition(self, request, event):
        expected = request.header("If-Match")
        if expected and expected != "*" and expected != event.get("etag"):
            return self.error(412, "Precondition Failed", "conditionNotMet", "If-Match")
        return None

    def _body(self, request):
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise Refused(self.error(400, "Parse Error", "parseError")) from exc
        if not isinstance(body, dict):
            raise Refused(self.error(400, "Bad Request", "badRequest"))
        return body

    def _event_response(self, event):
        return Response.json(public(event), ETag=event["etag"])


def busy_periods(calendar, time_min, time_max, cache):
    periods = []
    query = {"singleEvents": ["true"], "timeMin": [time_min.isoformat()], "timeMax": [time_max.isoformat()],
             "maxResults": ["2500"]}
    while True:
        page = list_events(calendar, query, cache)
        for event in page["items"]:
            if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                continue
            start, end = instant(parse_moment(event["start"], "start")), instant(parse_moment(event["end"], "end"))
            periods.append((max(start, time_min), min(end, time_max)))
        if "nextPageToken" not in page:
            break
        query["pageToken"] = [page["nextPageToken"]]
    merged = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return [{"start": start.astimezone(UTC).strftime(stamp), "end": end.astimezone(UTC).strftime(stamp)}
            for start, end in merged]

