"""The Google sandbox's state: users, calendars, events, OAuth grants, kept in memory.

Events are kept in Google's own JSON shape, one row per master, exception or cancelled instance,
as the Calendar API stores them. Every change takes the next number of its calendar's change
sequence; sync tokens and page tokens are built on it.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Google's event palette (colors.get), ids "1".."11".
EVENT_COLORS = {
    "1": "#a4bdfc", "2": "#7ae7bf", "3": "#dbadff", "4": "#ff887c", "5": "#fbd75b", "6": "#ffb878",
    "7": "#46d6db", "8": "#e1e1e1", "9": "#5484ed", "10": "#51b749", "11": "#dc2127",
}
CALENDAR_COLORS = {
    "1": "#ac725e", "2": "#d06b64", "3": "#f83a22", "4": "#fa573c", "5": "#ff7537", "6": "#ffad46",
    "7": "#42d692", "8": "#16a765", "9": "#7bd148", "10": "#b3dc6c", "11": "#fbe983", "12": "#fad165",
    "13": "#92e1c0", "14": "#9fe1e7", "15": "#9fc6e7", "16": "#4986e7", "17": "#9a9cff", "18": "#b99aff",
    "19": "#c2c2c2", "20": "#cabdbf", "21": "#cca6ac", "22": "#f691b2", "23": "#cd74e6", "24": "#a47ae2",
}
ACCESS_TOKEN_SECONDS = 3599


def now_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Calendar:
    id: str
    summary: str
    time_zone: str
    owner: str
    description: str = ""
    change_seq: int = 0
    epoch: int = 0  # bumped to invalidate every sync token of the calendar
    events: dict[str, dict] = field(default_factory=dict)  # id -> event JSON, with "_seq"
    # Items added, as they are, to the last page of every listing: what a real service might send that this one
    # would never make (a control's fault, for robustness tests).
    raw_items: list = field(default_factory=list)
    empty_pages: int = 0  # listing pages still to answer with no items but a nextPageToken, as Google may


@dataclass
class ListEntry:
    """One user's view of a calendar: their access role and colors."""

    calendar_id: str
    access_role: str  # owner | writer | reader | freeBusyReader
    color_id: str
    primary: bool = False
    selected: bool = True
    hidden: bool = False
    deleted: bool = False


@dataclass
class User:
    email: str
    name: str
    sub: str
    calendars: list[ListEntry] = field(default_factory=list)


@dataclass
class Grant:
    """A refresh token and what it allows."""

    email: str
    client_id: str
    scope: str
    revoked: bool = False


class GoogleStore:
    """Everything the Google sandbox knows; callers hold `lock` across a read-modify-write."""

    STATE = {"users": dict[str, User], "calendars": dict[str, Calendar], "grants": dict[str, Grant],
             "access_tokens": dict[str, tuple], "channels": dict[str, dict],
             "_etag": int}  # what a snapshot keeps

    def __init__(self, clock=None):
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.users: dict[str, User] = {}
        self.calendars: dict[str, Calendar] = {}
        # token -> (email, expires at in epoch seconds, scope, the refresh token of its grant)
        self.access_tokens: dict[str, tuple] = {}
        self.grants: dict[str, Grant] = {}  # refresh token -> grant
        self.codes: dict[str, dict] = {}  # authorization code -> request it answers
        self.channels: dict[str, dict] = {}  # channel id -> watch
        self.writes: list[dict] = []  # every write with its sendUpdates, for tests to read
        self.on_change = lambda calendar_id: None  # push notifications hook in here
        self.kept_pages: dict = {}  # listings being paged through (sandbox/pages.py)
        self._etag = int(time.time() * 1_000_000)

    def restored(self):
        for calendar in self.calendars.values():
            calendar.epoch += 1
        self.kept_pages.clear()

    # People and calendars -------------------------------------------------------------------

    def add_user(self, email, name="", time_zone="Europe/Paris") -> User:
        with self.lock:
            user = User(email=email, name=name or email.split("@")[0].title(), sub=str(abs(hash(email)))[:21])
            self.users[email] = user
            self.add_calendar(email, email, time_zone, owner=email, primary=True, color_id="14")
            return user

    def add_calendar(self, calendar_id, summary, time_zone, *, owner, primary=False, color_id="9") -> Calendar:
        with self.lock:
            calendar = Calendar(id=calendar_id, summary=summary, time_zone=time_zone, owner=owner)
            self.calendars[calendar_id] = calendar
            self.users[owner].calendars.append(ListEntry(calendar_id, "owner", color_id, primary=primary))
            return calendar

    def share(self, calendar_id, email, access_role, color_id="7"):
        with self.lock:
            self.users[email].calendars.append(ListEntry(calendar_id, access_role, color_id))

    def entry(self, email, calendar_id) -> ListEntry | None:
        user = self.users.get(email)
        if user is None:
            return None
        if calendar_id == "primary":
            calendar_id = email
        return next((entry for entry in user.calendars if entry.calendar_id == calendar_id and not entry.deleted),
                    None)

    # Versions -------------------------------------------------------------------------------

    def next_etag(self) -> str:
        with self.lock:
            self._etag += 1
            return f'"{self._etag}"'

    def touch(self, calendar: Calendar, event: dict, *, bump_updated=True):
        """Give a changed event its new etag, `updated` stamp and change number."""
        calendar.change_seq += 1
        event["_seq"] = calendar.change_seq
        event["etag"] = self.next_etag()
        if bump_updated:
            event["updated"] = now_rfc3339(self.clock())
        self.on_change(calendar.id)

    def log_write(self, method, calendar_id, event_id, send_updates):
        self.writes.append({"method": method, "calendar": calendar_id, "event": event_id,
                            "sendUpdates": send_updates})

    # OAuth ---------------------------------------------------------------------------------

    def issue_tokens(self, email, client_id, scope, refresh=True, grant_token="") -> dict:
        """A new access token (and a new grant with its refresh token, unless refreshing `grant_token`)."""
        with self.lock:
            answer = {"expires_in": ACCESS_TOKEN_SECONDS, "token_type": "Bearer", "scope": scope}
            if refresh:
                grant_token = "1//" + secrets.token_urlsafe(32)
                self.grants[grant_token] = Grant(email, client_id, scope)
                answer["refresh_token"] = grant_token
            access = "ya29." + secrets.token_urlsafe(24)
            self.access_tokens[access] = (email, time.time() + ACCESS_TOKEN_SECONDS, scope, grant_token)
            return {"access_token": access, **answer}

    def user_for_access_token(self, token) -> str | None:
        with self.lock:
            found = self.access_tokens.get(token)
            if found is None or found[1] < time.time():
                return None
            return found[0]

    def scopes_of(self, token) -> set[str] | None:
        """What a live access token was granted, in short names ("calendar.readonly"); None: not known."""
        found = self.access_tokens.get(token)
        if found is None or len(found) < 3:
            return None
        return {scope.rsplit("/", 1)[-1] for scope in found[2].split()}

    def expire_access_tokens(self, email=None, grant_token=None):
        with self.lock:
            for token, (owner, _, *rest) in list(self.access_tokens.items()):
                of_grant = rest[1:] == [grant_token]
                if of_grant if grant_token is not None else email is None or owner == email:
                    self.access_tokens[token] = (owner, 0, *rest)

    def revoke(self, email=None, refresh_token=None):
        """Revoke one grant (by its refresh token) and its access tokens, or every grant of a person."""
        with self.lock:
            for token, grant in self.grants.items():
                if token == refresh_token or (refresh_token is None and (email is None or grant.email == email)):
                    grant.revoked = True
            if refresh_token is not None:
                self.expire_access_tokens(grant_token=refresh_token)
            else:
                self.expire_access_tokens(email)
