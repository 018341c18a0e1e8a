"""What every provider offers the rest of calendarsync, and the errors it may raise.

Providers speak in `core.Event`s: each maps its own resource to and from that neutral shape, and
owns its protocol (paging, cursors, batching, preconditions, retries). The engine never sees HTTP.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from calendarsync.core.event import Event


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
    time_zone: str = ""  # an IANA name: where the calendar's floating times are (CalDAV), "" for UTC or none


@dataclass(frozen=True)
class FreeBusy:
    """One calendar's busy times over a window, sorted; `problem` says why they are not known (then `busy` is
    empty and means nothing: never *free*)."""

    busy: tuple[tuple[datetime, datetime], ...] = ()
    problem: str = ""


class AuthorizationLost(Exception):
    """The provider no longer accepts the account's grant: the user must reconnect.

    `problem` is an AccountProblem value; the message is the provider's own words, for the log.
    """

    def __init__(self, problem, message=""):
        super().__init__(message or problem)
        self.problem = problem


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed; trying again later may work."""


@dataclass(frozen=True)
class RemoteEvent:
    """One changed remote event. `event` None: deleted. A cancelled occurrence of a series that has
    no event of its own names its series and occurrence key. `problem`: unreadable, to be skipped."""

    remote_id: str
    etag: str = ""
    event: Event | None = None
    updated: datetime | None = None
    series_id: str = ""
    occurrence: str = ""
    problem: str = ""
    covered: tuple[datetime, datetime] | None = None  # a series: the span its exception dates are known over


def unreadable(exc: Exception) -> str:
    """Why an event could not be read, for the run's report (a `RemoteEvent.problem`)."""
    if isinstance(exc, OverflowError):
        return "its dates are beyond what a calendar can hold"
    return f"it cannot be read ({type(exc).__name__}: {exc})"[:300]


@dataclass
class Changes:
    """What changed since a cursor, or everything in the window when `full` (no cursor, or it expired:
    deletions are then not reported; the engine infers them from what is missing)."""

    events: list[RemoteEvent]
    cursor: str
    full: bool


@dataclass(frozen=True)
class Write:
    """One remote write. `key` identifies it in the results and makes a retried create harmless
    (the event's id is derived from it, or it is sent as the provider's idempotency key)."""

    kind: str  # "create", "update" or "delete"
    key: str
    event: Event | None = None
    remote_id: str = ""  # the event written; for a new occurrence of a series, the series
    etag: str = ""  # the precondition: the write fails with "stale" if the event changed since
    before: Event | None = None  # an update's event as the provider last held it (the link's base)


@dataclass(frozen=True)
class WriteResult:
    key: str
    status: str  # "ok"; "gone" (deleted remotely); "stale" (changed remotely: pull, then retry); "failed"
    remote_id: str = ""
    etag: str = ""
    message: str = ""
    rebuilt: bool = False  # a series the provider rebuilt, dropping its changed occurrences: write them again
    held: Event | None = None  # "ok", but the provider holds this instead of what was asked (`message` says why)


@dataclass
class Usage:
    requests: int = 0  # HTTP requests made (a batch counts once)


class CalendarProvider:
    """The interface every provider implements."""

    scopes: list[str]
    required_scopes: set[str]

    write_batch: int  # writes per request

    def __init__(self, tokens: Tokens, client, on_tokens, granted: set[str] | None = None):
        """`client` is an oauth.clients.Client: the app and URLs the account was connected through; `granted`, the
        scopes its consent gave (their short names), None when unknown."""
        self.tokens, self.client, self.on_tokens, self.granted = tokens, client, on_tokens, granted
        self.usage = Usage()
        self.notices = []  # what a run should say about the account, beside its figures

    def list_calendars(self) -> list[CalendarInfo]:
        raise NotImplementedError

    def changes(self, calendar_id: str, cursor: str, window: tuple[datetime, datetime]) -> Changes:
        """Events changed since `cursor`; with no cursor, or an expired one, every event of the window."""
        raise NotImplementedError

    def listing(self, calendar_id: str, window: tuple[datetime, datetime]) -> list[RemoteEvent]:
        """Every event of the window as it is now, the cursor left alone: what the moving horizon reached,
        which a cursor reported (if at all) when it was still beyond the window."""
        raise NotImplementedError

    def fetch(self, calendar_id: str, remote_ids: list[str]) -> list[RemoteEvent]:
        """These events as they are now, deleted ones (or unknown ids) with `event` None: what a full
        listing did not show may have been deleted, or moved out of the window."""
        raise NotImplementedError

    def write(self, calendar_id: str, writes: list[Write]) -> list[WriteResult]:
        """Carry out writes in as few requests as the provider allows; one result per write, in order."""
        raise NotImplementedError

    def free_busy(self, calendar_ids: list[str], start: datetime, end: datetime) -> dict[str, FreeBusy]:
        """The busy times of each calendar over [start, end), in as few requests as the provider allows (one
        where it can answer for several calendars at once); a calendar it could not answer for has a problem."""
        raise NotImplementedError

    def cursor_after_writes(self, cursor: str) -> str:
        """The cursor to keep once the run's writes are done: the one `changes` gave, unless the provider must
        remember something of what it wrote (CalDAV: what it created after the cursor's token)."""
        return cursor

    def inexact(self, event: Event) -> str:
        """What of the event this provider cannot hold as it is, in words for the user ("" for nothing worth
        saying): said when the event is written, while the CRM keeps its own."""
        return ""

    def color_names(self) -> dict[str, str]:
        """The colors events can take here by name beyond the CRM's own palette (Google's), name -> #rrggbb:
        Outlook's categories. A color among these goes out as that name and comes back the same."""
        return {}

    def storable(self, event: Event) -> Event:
        """The event as this provider can hold it (a palette color for an exact one, say): comparing this,
        not the original, keeps a value the provider rounds from looking changed at every sync."""
        return event

    @classmethod
    def missing_scopes(cls, granted: str) -> set[str]:
        return cls.required_scopes - set(granted.split())
