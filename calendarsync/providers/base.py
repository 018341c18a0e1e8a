"""What every provider offers the rest of calendarsync, and the errors it may raise."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None

    def fresh(self) -> bool:
        """Usable for a while yet (two minutes of margin for the requests about to be made)."""
        soon = datetime.now(UTC) + timedelta(minutes=2)
        return bool(self.access_token and self.expires_at and self.expires_at > soon)


@dataclass(frozen=True)
class CalendarInfo:
    remote_id: str
    name: str
    color: str  # "#rrggbb", or "" when the provider gives none
    can_write: bool
    is_primary: bool
    owner_email: str = ""


class AuthorizationLost(Exception):
    """The provider no longer accepts the account's grant: the user must reconnect.

    `problem` is an AccountProblem value; the message is the provider's own words, for the log.
    """

    def __init__(self, problem, message=""):
        super().__init__(message or problem)
        self.problem = problem


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed; trying again later may work."""


class CalendarProvider:
    """The interface (issue 5 adds changes, writes and free/busy)."""

    scopes: list[str]
    required_scopes: set[str]

    def __init__(self, tokens: Tokens, client, on_tokens):
        """`client` is an oauth.clients.Client: the app and URLs the account was connected through."""
        self.tokens, self.client, self.on_tokens = tokens, client, on_tokens

    def list_calendars(self) -> list[CalendarInfo]:
        raise NotImplementedError

    @classmethod
    def missing_scopes(cls, granted: str) -> set[str]:
        return cls.required_scopes - set(granted.split())
