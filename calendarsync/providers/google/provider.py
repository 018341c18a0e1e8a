"""Google Calendar through google-api-python-client (built from its bundled discovery document, so the
base URL is a setting) and google-auth for the refresh."""

import json
import os
import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property

import googleapiclient
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from ..base import (
    AuthorizationLost,
    CalendarInfo,
    CalendarProvider,
    Changes,
    FreeBusy,
    ProviderUnavailable,
    RemoteEvent,
    Tokens,
    Write,
    WriteResult,
    unreadable,
)
from .mapping import Unreadable, event_id, from_google, instance_id, occurrence_of, storable, to_google

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
TIMEOUT = 30
PAGE_SIZE = 2500  # the most events.list gives per page
BATCH_SIZE = 50  # Google advises against larger batches of writes
FREEBUSY_CALENDARS = 50  # the most freebusy.query answers for at once
ATTEMPTS = 6  # tries of one request that Google asks to slow down or failed transiently
LONGEST_WAIT = 60  # seconds; a longer Retry-After ends the run, to be retried by the next one
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "usageLimits"}
TRANSIENT = {429, 500, 502, 503, 504}
_discovery = None


def discovery_document(api_url):
    """Google's bundled Calendar v3 discovery document, pointed at `api_url` (the real service or the sandbox)."""
    global _discovery
    if _discovery is None:
        path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache/documents/calendar.v3.json")
        with open(path) as document:
            _discovery = json.load(document)
    return {**_discovery, "rootUrl": api_url.rstrip("/") + "/"}  # batches follow the root URL too


class SyncTokenExpired(Exception):
    """410: the sync token is no longer valid; only a full listing will do."""


class GoogleProvider(CalendarProvider):
    scopes = ["openid", "email", "profile", CALENDAR_SCOPE]
    required_scopes = {CALENDAR_SCOPE}
    write_batch = BATCH_SIZE

    def _credentials(self) -> Credentials:
        expiry = self.tokens.expires_at.astimezone(UTC).replace(tzinfo=None) if self.tokens.expires_at else None
        credentials = Credentials(self.tokens.access_token or None, refresh_token=self.tokens.refresh_token,
                                  token_uri=self.client.token_url, client_id=self.client.client_id,
                                  client_secret=self.client.secret, expiry=expiry)
        if not self.tokens.fresh():
            try:
                credentials.refresh(Request())
            except (RefreshError, TransportError) as exc:
                raise _refresh_failure(exc) from exc
            self.tokens = Tokens(credentials.token, credentials.refresh_token or self.tokens.refresh_token,
                                 credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None)
            self.on_tokens(self.tokens)
        return credentials

    @cached_property
    def _service(self):
        """One client per provider object: built (and the token refreshed) on first use."""
        http = AuthorizedHttp(self._credentials(), http=httplib2.Http(timeout=TIMEOUT))
        return build_from_document(discovery_document(self.client.api_url), http=http)

    def storable(self, event):
        return storable(event)

    # Changes

    def changes(self, calendar_id, cursor, window):
        if cursor:
            try:
                return self._listing(calendar_id, {"syncToken": cursor}, full=False)
            except SyncTokenExpired:
                pass  # Google forgot where we were: read everything again, deleting nothing for it
        return self._listing(calendar_id, _window_query(window), full=True)

    def listing(self, calendar_id, window):
        return self._listing(calendar_id, _window_query(window), full=True).events

    def _listing(self, calendar_id, query, *, full):
        events = self._service.events()
        request = events.list(calendarId=calendar_id, maxResults=PAGE_SIZE, singleEvents=False, **query)
        items, cursor, zone = [], "", "UTC"
        while request is not None:
            page = self._execute(request, expired=SyncTokenExpired)
            items += page.get("items", [])
            zone = page.get("timeZone") or zone
            cursor = page.get("nextSyncToken", cursor)
            request = events.list_next(request, page)
        return Changes(_remote_events(items, zone), cursor, full)

    def fetch(self, calendar_id, remote_ids):
        found, events = [], self._service.events()
        for start in range(0, len(remote_ids), BATCH_SIZE):
            chunk = remote_ids[start:start + BATCH_SIZE]
            answers = self._send([events.get(calendarId=calendar_id, eventId=remote_id) for remote_id in chunk])
            for remote_id, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, HttpError) and answer.status_code in (404, 410):
                    found.append(RemoteEvent(remote_id))
                elif isinstance(answer, dict):
                    found += _remote_events([answer], "UTC")  # events we wrote carry their own zone
        return found

    # Writes

    def write(self, calendar_id, writes):
        results, pending, attempt = {}, list(writes), 0
        while pending:
            retry, wait = [], 0.0
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start:start + BATCH_SIZE]
                for write, outcome in zip(chunk, self._batch(calendar_id, chunk), strict=True):
                    delay = _retry_delay(outcome, attempt) if isinstance(outcome, HttpError) else None
                    if delay is not None and attempt + 1 < ATTEMPTS:
                        retry.append(write)
                        wait = max(wait, delay)
                    else:
                        results[write.key] = self._result(calendar_id, write, outcome)
            if retry:
                self._wait(wait)
            pending, attempt = retry, attempt + 1
        return [results[write.key] for write in writes]

    def _batch(self, calendar_id, writes):
        """One batch request; returns per write the answer's JSON (None for a deletion) or its HttpError."""
        return self._send([self._request(calendar_id, write) for write in writes])

    def _send(self, requests):
        """Requests in one batch; the answer of each (JSON, None for no content, or its HttpError)."""
        answers = {}
        batch = self._service.new_batch_http_request(
            callback=lambda request_id, response, error: answers.__setitem__(request_id, error or response))
        for index, request in enumerate(requests):
            batch.add(request, request_id=str(index))
        self._execute(batch)
        return [answers.get(str(index)) for index in range(len(requests))]

    def _request(self, calendar_id, write: Write):
        events = self._service.events()
        if write.kind == "create" and write.event.recurrence_id:  # an occurrence of a series we hold
            occurrence = instance_id(write.remote_id, write.event.recurrence_id)
            return events.patch(calendarId=calendar_id, eventId=occurrence,
                                body=to_google(write.event, creating=True), sendUpdates="none")
        if write.kind == "create":
            body = {**to_google(write.event, creating=True), "id": event_id(write.key)}
            return events.insert(calendarId=calendar_id, body=body, sendUpdates="none")
        if write.kind == "update":
            request = events.patch(calendarId=calendar_id, eventId=write.remote_id, body=to_google(write.event),
                                   sendUpdates="none")
        else:
            request = events.delete(calendarId=calendar_id, eventId=write.remote_id, sendUpdates="none")
        if write.etag:
            request.headers["If-Match"] = write.etag
        return request

    def _result(self, calendar_id, write, outcome) -> WriteResult:
        if not isinstance(outcome, HttpError):
            if write.kind == "delete":
                return WriteResult(write.key, "ok", write.remote_id)
            if outcome.get("status") == "cancelled":  # a patch of a deleted event leaves it deleted
                return WriteResult(write.key, "gone", write.remote_id)
            return WriteResult(write.key, "ok", outcome["id"], outcome.get("etag", ""))
        status = outcome.status_code
        if write.kind == "create" and status == 409:
            # Created by an earlier attempt whose answer was lost (or deleted since): make it what we meant.
            request = self._service.events().patch(calendarId=calendar_id, eventId=event_id(write.key),
                                                   body=to_google(write.event, creating=True), sendUpdates="none")
            answer = self._execute(request)
            return WriteResult(write.key, "ok", answer["id"], answer.get("etag", ""))
        if status in (404, 410):
            return WriteResult(write.key, "gone", write.remote_id, message=str(outcome.reason))
        if status == 412:
            return WriteResult(write.key, "stale", write.remote_id, message="changed in Google meanwhile")
        _raise_for_account(outcome)
        return WriteResult(write.key, "failed", write.remote_id, message=f"Google answered {status}: {outcome.reason}")

    # Free/busy

    def free_busy(self, calendar_ids, start, end):
        """freebusy.query: up to 50 calendars in one request; a calendar Google does not answer for says why."""
        found = {}
        for first in range(0, len(calendar_ids), FREEBUSY_CALENDARS):
            chunk = calendar_ids[first:first + FREEBUSY_CALENDARS]
            body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "items": [{"id": cid} for cid in chunk]}
            answer = self._execute(self._service.freebusy().query(body=body)).get("calendars", {})
            for cid in chunk:
                item = answer.get(cid)
                if item is None or item.get("errors"):
                    reasons = ", ".join(error.get("reason", "") for error in (item or {}).get("errors", []))
                    found[cid] = FreeBusy(problem=f"Google did not answer for it ({reasons or 'no answer'})")
                    continue
                found[cid] = FreeBusy(tuple(sorted((_parse_rfc3339(busy["start"]), _parse_rfc3339(busy["end"]))
                                                   for busy in item.get("busy", []))))
        return found

    # Requests

    def _execute(self, request, *, expired=None, attempts=ATTEMPTS):
        """Send one request (or batch), waiting as Google asks on rate limits and transient failures."""
        for attempt in range(attempts):
            self.usage.requests += 1
            try:
                return request.execute()
            except HttpError as exc:
                if exc.status_code == 410 and expired is not None:
                    raise expired(str(exc)) from exc
                delay = _retry_delay(exc, attempt)
                if delay is None or attempt + 1 == attempts:
                    _raise_for_account(exc)
                    raise ProviderUnavailable(_describe(exc)) from exc
            except (RefreshError, TransportError) as exc:  # AuthorizedHttp refreshing after a 401
                raise _refresh_failure(exc) from exc
            except (OSError, httplib2.HttpLib2Error) as exc:
                if attempt + 1 == attempts:
                    raise ProviderUnavailable(f"Google could not be reached: {exc}") from exc
                delay = _backoff(attempt)
            self._wait(delay)
        raise AssertionError("unreachable")

    def _wait(self, seconds):
        time.sleep(seconds)

    def list_calendars(self) -> list[CalendarInfo]:
        calendars = self._service.calendarList()
        found, request = [], calendars.list(maxResults=250, showHidden=True)
        while request is not None:
            page = self._execute(request, attempts=3)  # a page may be waiting on it: give up sooner
            found += [_calendar(item) for item in page.get("items", []) if not item.get("deleted")]
            request = calendars.list_next(request, page)
        return found


def _calendar(item) -> CalendarInfo:
    return CalendarInfo(remote_id=item["id"], name=item.get("summaryOverride") or item.get("summary") or item["id"],
                        color=item.get("backgroundColor", ""), can_write=item.get("accessRole") in ("owner", "writer"),
                        is_primary=bool(item.get("primary")), owner_email=item["id"] if item.get("primary") else "")


def _remote_events(items, zone) -> list[RemoteEvent]:
    """Map a listing. A cancelled occurrence whose series is in the same listing becomes one of the
    series' exception dates instead of a change of its own."""
    items = [item for item in items if isinstance(item, dict)]
    live_series = {item["id"] for item in items if isinstance(item.get("id"), str) and item.get("recurrence")
                   and item.get("status") != "cancelled"}
    folded, found = {}, []
    for item in items:
        if not isinstance(item.get("id"), str) or not item["id"]:
            found.append(RemoteEvent(str(item.get("id", "")), problem="it has no id"))
            continue
        series_id = item.get("recurringEventId", "")
        if not isinstance(series_id, str):
            found.append(RemoteEvent(item["id"], problem="its series id cannot be read"))
            continue
        try:
            if item.get("status") != "cancelled":
                found.append(RemoteEvent(item["id"], item.get("etag", ""), from_google(item, zone),
                                         _parse_rfc3339(item.get("updated")), series_id=series_id))
            elif series_id in live_series:
                folded.setdefault(series_id, set()).add(occurrence_of(item))
                found.append(RemoteEvent(item["id"], item.get("etag", "")))  # its exception, if one was synced, goes
            elif series_id:
                found.append(RemoteEvent(item["id"], item.get("etag", ""), series_id=series_id,
                                         occurrence=occurrence_of(item)))
            else:
                found.append(RemoteEvent(item["id"], item.get("etag", "")))
        except Unreadable as exc:
            found.append(RemoteEvent(item["id"], problem=str(exc)))
        except Exception as exc:  # anything else Google may send: that event is skipped, never the listing
            found.append(RemoteEvent(item["id"], problem=unreadable(exc)))
    return [_cancelling(remote, folded[remote.remote_id]) if remote.remote_id in folded and remote.event else remote
            for remote in found]


def _cancelling(remote, keys):
    return replace(remote, event=replace(remote.event, exdates=tuple(sorted({*remote.event.exdates, *keys}))))


def _refresh_failure(exc):
    if isinstance(exc, RefreshError) and "invalid_grant" in str(exc):  # revoked, expired or withdrawn
        return AuthorizationLost("revoked", str(exc))
    if isinstance(exc, RefreshError):
        return ProviderUnavailable(f"Google refused a token refresh: {exc}")
    return ProviderUnavailable(f"Google could not be reached: {exc}")


def _reasons(error: HttpError) -> set:
    """The error's reasons, from `errors` and from `details` (the client keeps only the latter when both are
    there, as in Google's newer answers: "ACCESS_TOKEN_SCOPE_INSUFFICIENT" beside "insufficientPermissions")."""
    try:
        body = json.loads(error.content).get("error", {})
        listed = [*body.get("errors", []), *body.get("details", [])]
    except (ValueError, TypeError, AttributeError):
        listed = error.error_details if isinstance(error.error_details, list) else []
    return {detail.get("reason") for detail in listed if isinstance(detail, dict)}


def _retry_delay(error: HttpError, attempt) -> float | None:
    """Seconds to wait before trying again, or None when trying again cannot help."""
    reasons = _reasons(error)
    if error.status_code not in TRANSIENT and not (error.status_code == 403 and reasons & RATE_REASONS):
        return None
    asked = (error.resp or {}).get("retry-after")
    if asked and str(asked).isdigit():
        if int(asked) > LONGEST_WAIT:
            return None
        return float(asked)
    return _backoff(attempt)


def _backoff(attempt):
    return min(2 ** attempt, 32) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def _raise_for_account(error: HttpError):
    if error.status_code in (401, 403) and "insufficient" in str(error).lower():
        raise AuthorizationLost("scopes_missing", str(error))
    if error.status_code == 401:
        raise AuthorizationLost("revoked", str(error))


def _describe(error: HttpError) -> str:
    reasons = _reasons(error)
    if error.status_code == 403 and reasons & QUOTA_REASONS:
        return ("Google's usage limit for this application is used up; sync resumes by itself when Google "
                "allows it again (an administrator can ask Google for a higher quota).")
    if error.status_code == 429 or reasons & RATE_REASONS:
        return "Google asked to slow down and kept refusing; the next sync will try again."
    return f"Google answered {error.status_code}: {error.reason}"


def _window_query(window) -> dict:
    start, end = window
    return {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end)}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
