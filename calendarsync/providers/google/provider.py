"""Google Calendar through google-api-python-client (built from its bundled discovery document, so the
base URL is a setting) and google-auth for the refresh."""

import json
import os
from datetime import UTC

import googleapiclient
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from ..base import AuthorizationLost, CalendarInfo, CalendarProvider, ProviderUnavailable, Tokens

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
TIMEOUT = 30
_discovery = None


def _document(api_url):
    global _discovery
    if _discovery is None:
        path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache/documents/calendar.v3.json")
        with open(path) as document:
            _discovery = json.load(document)
    return {**_discovery, "rootUrl": api_url.rstrip("/") + "/"}  # batches follow the root URL too


class GoogleProvider(CalendarProvider):
    scopes = ["openid", "email", "profile", CALENDAR_SCOPE]
    required_scopes = {CALENDAR_SCOPE}

    def _credentials(self) -> Credentials:
        expiry = self.tokens.expires_at.astimezone(UTC).replace(tzinfo=None) if self.tokens.expires_at else None
        credentials = Credentials(self.tokens.access_token or None, refresh_token=self.tokens.refresh_token,
                                  token_uri=self.client.token_url, client_id=self.client.client_id,
                                  client_secret=self.client.secret, expiry=expiry)
        if not self.tokens.fresh():
            try:
                credentials.refresh(Request())
            except RefreshError as exc:
                if "invalid_grant" in str(exc):  # revoked, expired or withdrawn: only the user can fix it
                    raise AuthorizationLost("revoked", str(exc)) from exc
                raise ProviderUnavailable(f"Google refused a token refresh: {exc}") from exc
            except TransportError as exc:
                raise ProviderUnavailable(f"Google could not be reached: {exc}") from exc
            self.tokens = Tokens(credentials.token, credentials.refresh_token or self.tokens.refresh_token,
                                 credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None)
            self.on_tokens(self.tokens)
        return credentials

    def _service(self):
        http = AuthorizedHttp(self._credentials(), http=httplib2.Http(timeout=TIMEOUT))
        return build_from_document(_document(self.client.api_url), http=http)

    def list_calendars(self) -> list[CalendarInfo]:
        service = self._service()
        found, request = [], service.calendarList().list(maxResults=250, showHidden=True)
        try:
            while request is not None:
                page = request.execute(num_retries=3)
                found += [_calendar(item) for item in page.get("items", []) if not item.get("deleted")]
                request = service.calendarList().list_next(request, page)
        except HttpError as exc:
            if exc.status_code in (401, 403) and "insufficient" in str(exc).lower():
                raise AuthorizationLost("scopes_missing", str(exc)) from exc
            if exc.status_code == 401:
                raise AuthorizationLost("revoked", str(exc)) from exc
            raise ProviderUnavailable(f"Google answered {exc.status_code}: {exc.reason}") from exc
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise ProviderUnavailable(f"Google could not be reached: {exc}") from exc
        return found


def _calendar(item) -> CalendarInfo:
    return CalendarInfo(remote_id=item["id"], name=item.get("summaryOverride") or item.get("summary") or item["id"],
                        color=item.get("backgroundColor", ""), can_write=item.get("accessRole") in ("owner", "writer"),
                        is_primary=bool(item.get("primary")), owner_email=item["id"] if item.get("primary") else "")
