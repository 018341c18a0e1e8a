"""One package per provider behind the small interface in base.py."""

from .base import AuthorizationLost, CalendarInfo, ProviderUnavailable, Tokens


def for_account(account, on_tokens):
    """The provider client for an external account; `on_tokens(Tokens)` is called when tokens change."""
    from calendarsync.oauth.clients import client_for

    tokens = Tokens(account.access_token, account.refresh_token, account.access_token_expires_at)
    granted = {scope.rsplit("/", 1)[-1] for scope in account.scopes.split()} if account.scopes else None
    return provider_class(account.provider)(tokens, client_for(account.provider, sandbox=account.sandbox), on_tokens,
                                            granted)


def provider_class(provider: str):
    from .google.provider import GoogleProvider
    from .microsoft.provider import MicrosoftProvider

    return {"google": GoogleProvider, "microsoft": MicrosoftProvider}[provider]


__all__ = ["AuthorizationLost", "CalendarInfo", "ProviderUnavailable", "Tokens", "for_account", "provider_class"]
