"""Microsoft Graph over one requests session: tokens through msal, retries as Graph asks, JSON batches.

Graph says when to come back (`Retry-After` on 429 and 503, also inside a batch, per request):
that is honoured up to a minute; a longer wait ends the run, to be retried by the next one.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import msal
import requests

from calendarsync import app_settings

from ..base import AuthorizationLost, ProviderUnavailable, Tokens, Usage

# Delegated permissions: calendars the user owns (read and write) and those shared with them (read), and the
# mailbox's category list (the colors of events: outlookCategory needs MailboxSettings.Read).
SCOPES = ["User.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "MailboxSettings.Read"]
TIMEOUT = 30
BATCH_SIZE = 20  # the most one $batch may hold
PAGE_SIZE = 1000  # Prefer: odata.maxpagesize; Graph pages calendar views by at most this many
LONGEST_VIEW = timedelta(days=1825)  # the longest time range a calendar view or instances request may ask for
ATTEMPTS = 6
LONGEST_WAIT = 60
TRANSIENT = {429, 500, 502, 503, 504}
LOST_GRANT = {"invalid_grant", "interaction_required", "consent_required"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    headers: dict

    @property
    def code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    def describe(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else ""
        return f"Microsoft Graph answered {self.status} {self.code}: {message}".rstrip(": ")


def session(ca_bundle="") -> requests.Session:
    """A session that trusts `ca_bundle` (the sandbox's test CA), or the system's CAs."""
    http = requests.Session()
    if ca_bundle:
        http.verify = ca_bundle
        http.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over `verify`
    return http


class Graph:
    def __init__(self, tokens: Tokens, client, on_tokens, usage: Usage, granted=None):
        self.tokens, self.client, self.on_tokens, self.usage = tokens, client, on_tokens, usage
        # A refresh asks for what the user consented to, no more: Microsoft refuses a wider one (AADSTS65001),
        # and an account connected before MailboxSettings.Read was asked for must keep syncing.
        self.scopes = [scope for scope in SCOPES if granted is None or scope in granted]
        self.http = session(client.ca_bundle)
        self.base = client.graph_url.rstrip("/") + "/v1.0"

    # Tokens

    def access_token(self, *, renew=False) -> str:
        if self.tokens.fresh() and not renew:
            return self.tokens.access_token
        try:
            authority = f"{self.client.login_url.rstrip('/')}/{app_settings.MICROSOFT_TENANT}"
            app = msal.ConfidentialClientApplication(
                self.client.client_id, client_credential=self.client.secret, http_client=self.http,
                instance_discovery=False, authority=authority,
                token_cache=msal.SerializableTokenCache())  # a cache per account and run: tokens live in the database
            result = app.acquire_token_by_refresh_token(self.tokens.refresh_token, scopes=self.scopes)
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"Microsoft could not be reached: {exc}") from exc
        if "access_token" not in result:
            if result.get("error") in LOST_GRANT:
                raise AuthorizationLost("revoked", result.get("error_description", result["error"]))
            raise ProviderUnavailable(f"Microsoft refused a token: {result.get('error_description', result)}")
        self.tokens = Tokens(result["access_token"], result.get("refresh_token") or self.tokens.refresh_token,
                             datetime.now(UTC) + timedelta(seconds=int(result.get("expires_in", 3600))))
        self.on_tokens(self.tokens)  # refresh tokens rotate: the new one must be kept
        return self.tokens.access_token

    # Requests

    def call(self, method, url, *, json=None, headers=None, attempts=ATTEMPTS) -> Answer:
        """One request (a relative `url` is under /v1.0), retried as Graph asks; any final answer is returned,
        except those about the account (raised) and transient failures that did not pass (raised)."""
        url = url if url.startswith("http") else f"{self.base}/{url.lstrip('/')}"
        renewed = False
        for attempt in range(attempts):
            answer = self._once(method, url, json, headers)
            if isinstance(answer, Answer) and answer.status == 401 and not renewed:
                renewed = True  # the token expired early, or the grant was revoked: a new token tells which
                answer = self._once(method, url, json, headers, renew=True)
            if not isinstance(answer, Answer):
                if attempt + 1 == attempts:
                    raise ProviderUnavailable(f"Microsoft Graph could not be reached: {answer}") from answer
                self.wait(_backoff(attempt))
                continue
            delay = retry_delay(answer, attempt)
            if delay is None or attempt + 1 == attempts:
                raise_for_account(answer)
                if answer.status in TRANSIENT:
                    raise ProviderUnavailable(unavailable(answer))
                return answer
            self.wait(delay)
        raise AssertionError("unreachable")

    def _once(self, method, url, json, headers, *, renew=False) -> Answer | requests.RequestException:
        self.usage.requests += 1
        try:
            response = self.http.request(method, url, json=json, timeout=TIMEOUT, headers={
                **(headers or {}), "Authorization": f"Bearer {self.access_token(renew=renew)}"})
        except requests.RequestException as exc:
            return exc
        return Answer(response.status_code, _json(response), dict(response.headers))

    def get(self, url, **headers) -> dict:
        answer = self.call("GET", url, headers=headers)
        if answer.status == 403:  # reading one's own calendars is refused only without the permission
            raise AuthorizationLost("scopes_missing", answer.describe())
        if answer.status != 200:
            raise ProviderUnavailable(answer.describe())
        return answer.body

    def pages(self, url="", *, first=None):
        """Every item of a listing, following `@odata.nextLink` (from `first`, a page already read, if given)."""
        page = first if first is not None else self.get(url, Prefer=f"odata.maxpagesize={PAGE_SIZE}")
        while True:
            yield from page.get("value", [])
            if not page.get("@odata.nextLink"):
                return
            page = self.get(page["@odata.nextLink"], Prefer=f"odata.maxpagesize={PAGE_SIZE}")

    def batch(self, requests_: list[dict]) -> list[Answer]:
        """Requests ({"method", "url", "body"?, "headers"?}) through $batch, 20 at a time; one answer each, in
        order. Requests Graph asked to retry are sent again, alone, after the longest wait it asked for."""
        answers: dict[int, Answer] = {}
        pending, attempt = list(range(len(requests_))), 0
        while pending:
            retry, wait = [], 0.0
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start:start + BATCH_SIZE]
                for index, answer in zip(chunk, self._send([requests_[i] for i in chunk]), strict=True):
                    delay = retry_delay(answer, attempt)
                    if delay is not None and attempt + 1 < ATTEMPTS:
                        retry.append(index)
                        wait = max(wait, delay)
                    else:
                        raise_for_account(answer)
                        answers[index] = answer
            if retry:
                self.wait(wait)
            pending, attempt = retry, attempt + 1
        return [answers[index] for index in range(len(requests_))]

    def _send(self, chunk) -> list[Answer]:
        body = {"requests": [{"id": str(number), "method": item["method"], "url": item["url"],
                              **({"body": item["body"]} if item.get("body") is not None else {}),
                              "headers": {**({"Content-Type": "application/json"} if item.get("body") is not None
                                             else {}), **item.get("headers", {})}}
                             for number, item in enumerate(chunk)]}
        answer = self.call("POST", "$batch", json=body)
        if answer.status != 200:
            raise ProviderUnavailable(answer.describe())
        by_id = {str(item.get("id")): item for item in answer.body.get("responses", [])}
        found = []
        for number in range(len(chunk)):
            item = by_id.get(str(number))
            if item is None:  # Graph lost it: as good as a transient failure
                found.append(Answer(503, {"error": {"code": "serviceNotAvailable", "message": "no answer"}}, {}))
            else:
                found.append(Answer(int(item.get("status", 500)), item.get("body") or {}, item.get("headers") or {}))
        return found

    def wait(self, seconds):
        time.sleep(seconds)


def retry_delay(answer: Answer, attempt) -> float | None:
    """Seconds to wait before trying again, or None when trying again cannot help."""
    if answer.status not in TRANSIENT:
        return None
    asked = {name.lower(): value for name, value in answer.headers.items()}.get("retry-after")
    if asked is not None and str(asked).strip().isdigit():
        seconds = int(str(asked).strip())
        return None if seconds > LONGEST_WAIT else float(seconds)
    return _backoff(attempt)


def gone(answer: Answer) -> bool:
    """Whether Graph says the event does not exist (a malformed id is one that never did)."""
    return answer.status in (404, 410) or (answer.status == 400 and answer.code == "ErrorInvalidIdMalformed")


def raise_for_account(answer: Answer):
    if answer.status == 401:
        raise AuthorizationLost("revoked", answer.describe())


def unavailable(answer: Answer) -> str:
    if answer.status == 429:
        return "Microsoft asked to slow down and kept refusing; the next sync will try again."
    return answer.describe()


def _backoff(attempt):
    return min(2 ** attempt, 32) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def _json(response):
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def event_url(remote_id) -> str:
    return f"me/events/{quote(remote_id, safe='')}"


def calendar_view_url(calendar_id, start: datetime, end: datetime) -> str:
    """The events of a calendar that meet [start, end), occurrences one by one."""
    query = urlencode({"startDateTime": iso(start), "endDateTime": iso(end)})
    return f"me/calendars/{quote(calendar_id, safe='')}/calendarView?{query}"


def instances_url(master_id, start: datetime, end: datetime) -> str:
    """The occurrences and exceptions of a series that meet [start, end)."""
    return f"{event_url(master_id)}/instances?{urlencode({'startDateTime': iso(start), 'endDateTime': iso(end)})}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
