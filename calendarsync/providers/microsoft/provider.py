"""Microsoft 365 / Outlook: tokens through msal, Graph over one requests session."""

from datetime import UTC, datetime, timedelta

import msal
import requests

from calendarsync import app_settings

from ..base import AuthorizationLost, CalendarInfo, CalendarProvider, ProviderUnavailable, Tokens

GRAPH = "https://graph.microsoft.com/"
# Delegated permissions: calendars the user owns (read and write) and those shared with them (read).
SCOPES = ["User.Read", "Calendars.ReadWrite", "Calendars.Read.Shared"]
TIMEOUT = 30
# Outlook's calendar color names, as its apps paint them.
COLORS = {"lightBlue": "#a6d1f5", "lightGreen": "#87d28e", "lightOrange": "#fcab73", "lightGray": "#c0c0c0",
          "lightYellow": "#f4e570", "lightTeal": "#7ed9d2", "lightPink": "#f8a5c2", "lightBrown": "#cdac8b",
          "lightRed": "#f69a98", "maxColor": "", "auto": ""}


def session(ca_bundle="") -> requests.Session:
    """A session that trusts `ca_bundle` (the sandbox's test CA), or the system's CAs."""
    http = requests.Session()
    if ca_bundle:
        http.verify = ca_bundle
        http.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over `verify`
    return http


class MicrosoftProvider(CalendarProvider):
    scopes = ["offline_access", *SCOPES]
    required_scopes = {"Calendars.ReadWrite", "Calendars.Read.Shared"}
    syncs_events = False  # events arrive with issue 6

    def __init__(self, tokens: Tokens, client, on_tokens):
        super().__init__(tokens, client, on_tokens)
        self.http = session(client.ca_bundle)

    @classmethod
    def missing_scopes(cls, granted: str) -> set[str]:
        short = {scope.removeprefix(GRAPH) for scope in granted.split()}  # Graph answers with full URIs
        return cls.required_scopes - short

    @property
    def _graph(self):
        return self.client.graph_url.rstrip("/") + "/v1.0"

    def _access_token(self) -> str:
        if self.tokens.fresh():
            return self.tokens.access_token
        try:
            app = msal.ConfidentialClientApplication(
                self.client.client_id, client_credential=self.client.secret, http_client=self.http,
                instance_discovery=False, authority=_authority(self.client))
            result = app.acquire_token_by_refresh_token(self.tokens.refresh_token, scopes=SCOPES)
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"Microsoft could not be reached: {exc}") from exc
        if "access_token" not in result:
            if result.get("error") in ("invalid_grant", "interaction_required", "consent_required"):
                raise AuthorizationLost("revoked", result.get("error_description", result["error"]))
            raise ProviderUnavailable(f"Microsoft refused a token: {result.get('error_description', result)}")
        self.tokens = Tokens(result["access_token"], result.get("refresh_token") or self.tokens.refresh_token,
                             datetime.now(UTC) + timedelta(seconds=int(result.get("expires_in", 3600))))
        self.on_tokens(self.tokens)
        return self.tokens.access_token

    def _get(self, url, **params):
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        try:
            response = self.http.get(url, params=params or None, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Microsoft Graph could not be reached: {exc}") from exc
        if response.status_code in (401, 403):
            code = _error_code(response)
            problem = "scopes_missing" if response.status_code == 403 or code == "ErrorAccessDenied" else "revoked"
            raise AuthorizationLost(problem, f"Graph answered {response.status_code} {code}")
        if response.status_code != 200:
            raise ProviderUnavailable(f"Microsoft Graph answered {response.status_code} {_error_code(response)}")
        return response.json()

    def list_calendars(self) -> list[CalendarInfo]:
        me = self._get(f"{self._graph}/me")
        mailbox = (me.get("mail") or me.get("userPrincipalName") or "").lower()
        found, url, params = [], f"{self._graph}/me/calendars", {"$top": "100"}
        while url:
            page = self._get(url, **params)
            for item in page.get("value", []):
                owner = ((item.get("owner") or {}).get("address") or "").lower()
                found.append(CalendarInfo(
                    remote_id=item["id"], name=item.get("name") or item["id"],
                    color=item.get("hexColor") or COLORS.get(item.get("color", ""), ""),
                    # Shared calendars are read-only here: the app asks for Calendars.Read.Shared only.
                    can_write=bool(item.get("canEdit")) and (not owner or owner == mailbox),
                    is_primary=bool(item.get("isDefaultCalendar")), owner_email=owner))
            url, params = page.get("@odata.nextLink"), {}
        return found


def _authority(client):
    return f"{client.login_url.rstrip('/')}/{app_settings.MICROSOFT_TENANT}"


def _error_code(response):
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
