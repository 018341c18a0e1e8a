"""Which OAuth client and which URLs a provider uses: a real app, or the sandbox.

A real app's credentials come from the environment (CALENDARSYNC_<PROVIDER>_CLIENT_ID/SECRET) or
from a social application an administrator added in the admin. With none, the provider is offered
through its sandbox when CALENDARSYNC_<PROVIDER>_SANDBOX_URL is set, clearly labelled, and not at
all otherwise. An account remembers which of the two it was connected through.
"""

from dataclasses import dataclass

from calendarsync import app_settings

SANDBOX_CLIENT = ("sandbox-client", "sandbox-secret")  # any client is welcome at the sandboxes


@dataclass(frozen=True)
class Client:
    provider: str
    sandbox: bool
    client_id: str
    secret: str
    authorize_url: str = ""  # Google; Microsoft's sandbox (its consent page may be on plain http)
    token_url: str = ""
    userinfo_url: str = ""
    api_url: str = ""
    login_url: str = ""  # Microsoft: the authority is {login_url}/{tenant}
    graph_url: str = ""
    ca_bundle: str = ""  # the only CA trusted for TLS (the sandbox's test CA); empty: the system's CAs


def offered(provider: str) -> Client | None:
    """The client a new connection goes through, or None when the provider is not available."""
    credentials = _configured(provider)
    if credentials:
        return _real(provider, *credentials)
    if _sandbox_url(provider):
        return _sandbox(provider)
    return None


def client_for(provider: str, *, sandbox: bool) -> Client:
    """The client of an existing account (a sandbox account keeps its sandbox after a real app appears)."""
    if sandbox:
        return _sandbox(provider)
    return _real(provider, *(_configured(provider) or ("", "")))


def _configured(provider):
    name = provider.upper()
    client_id = getattr(app_settings, f"{name}_CLIENT_ID")
    if client_id:
        return client_id, getattr(app_settings, f"{name}_CLIENT_SECRET")
    from allauth.socialaccount.models import SocialApp  # the admin's social applications

    app = SocialApp.objects.filter(provider=provider).exclude(client_id="").first()
    return (app.client_id, app.secret) if app else None


def _sandbox_url(provider):
    return getattr(app_settings, f"{provider.upper()}_SANDBOX_URL").rstrip("/")


def _real(provider, client_id, secret):
    s = app_settings
    if provider == "google":
        return Client(provider, False, client_id, secret, authorize_url=s.GOOGLE_AUTHORIZE_URL,
                      token_url=s.GOOGLE_TOKEN_URL, userinfo_url=s.GOOGLE_USERINFO_URL, api_url=s.GOOGLE_API_URL)
    return Client(provider, False, client_id, secret, login_url=s.MICROSOFT_LOGIN_URL, graph_url=s.MICROSOFT_GRAPH_URL)


def _sandbox(provider):
    base = _sandbox_url(provider)
    if provider == "google":
        return Client(provider, True, *SANDBOX_CLIENT, authorize_url=f"{base}/o/oauth2/v2/auth",
                      token_url=f"{base}/token", userinfo_url=f"{base}/oauth2/v2/userinfo", api_url=base)
    consent = (app_settings.MICROSOFT_SANDBOX_CONSENT_URL or base).rstrip("/")
    return Client(provider, True, *SANDBOX_CLIENT, login_url=base, graph_url=base,
                  authorize_url=f"{consent}/{app_settings.MICROSOFT_TENANT}/oauth2/v2.0/authorize",
                  ca_bundle=app_settings.MICROSOFT_CA_BUNDLE)
