"""One package per provider behind the small interface in base.py."""

from .base import AuthorizationLost, CalendarInfo, ProviderUnavailable, Tokens


def for_account(account, on_tokens):
    """The provider client for an external account; `on_tokens(Tokens)` is called when tokens change."""
    from calendarsync.oauth.clients import client_for

    tokens = Tokens(account.access_token, account.refresh_token, account.access_token_expires_at)
    granted = {scope.rsplit("/", 1)[-1] for scope in account.scopes.split()} if account.scopes else None
    return provider_class(account.provider)(tokens, client_for(account.provider, sandbox=account.sandbox), on_tokens,
                                            granted)


def for_caldav(account, zones: dict[str, str], *, verify, guard):
    """The client of a CalDAV account whose calendar home is known; `zones`: each calendar's zone by path;
    `verify` and `guard`, Dav's TLS verification and check of the hosts it reaches."""
    from .base import Usage
    from .caldav.dav import Dav, path_of
    from .caldav.provider import CalDAVProvider

    dav = Dav(account.home_url, account.username, account.refresh_token, Usage(), verify=verify, guard=guard)
    return CalDAVProvider(dav, path_of(account.home_url), zones)


def provider_class(provider: str):
    from .caldav.provider import CalDAVProvider
    from .google.provider import GoogleProvider
    from .microsoft.provider import MicrosoftProvider

    return {"google": GoogleProvider, "microsoft": MicrosoftProvider, "caldav": CalDAVProvider}[provider]


__all__ = ["AuthorizationLost", "CalendarInfo", "ProviderUnavailable", "Tokens", "for_account", "for_caldav",
           "provider_class"]
