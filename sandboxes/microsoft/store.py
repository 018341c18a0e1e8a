"""The Microsoft sandbox's state: one tenant's users, calendars, events and OAuth grants, in memory.

Events are kept in Graph's JSON shape. Every change takes the next number of the tenant's change
sequence, the base of delta tokens.
"""

import base64
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import recurrence

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
ACCESS_TOKEN_SECONDS = 3599


def graph_id(prefix="AAMkAD") -> str:
    """An opaque id shaped like Outlook's (base64 of random bytes)."""
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode().rstrip("=")


def now_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


@dataclass
class Calendar:
    id: str
    name: str
    owner: str  # the owner's e-mail address
    color: str = "auto"
    hex_color: str = ""
    events: dict[str, dict] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)  # deleted event id -> change number, for delta
    replaced: list[tuple[int, dict]] = field(default_factory=list)  # (change number, a series as it was)
    # Items added, as they are, to the last page of every delta round: what the real service might send that this
    # one would never make (a control's fault, for robustness tests).
    raw_items: list = field(default_factory=list)


@dataclass
class CalendarAccess:
    calendar_id: str
    can_edit: bool
    is_default: bool = False


# The categories every Outlook mailbox starts with (its master category list), and their preset colors.
DEFAULT_CATEGORIES = {"Red category": "preset0", "Orange category": "preset1", "Yellow category": "preset3",
                      "Green category": "preset4", "Blue category": "preset7", "Purple category": "preset8"}


@dataclass
class User:
    email: str
    name: str
    oid: str
    calendars: list[CalendarAccess] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))  # name -> preset color


@dataclass
class Grant:
    oid: str
    client_id: str
    scope: str
    revoked: bool = False


def short_scopes(scope: str) -> set[str]:
    """Graph's permissions among `scope`, by their short names (Calendars.Read, not its URI)."""
    return {item.removeprefix("https://graph.microsoft.com/") for item in scope.split()} - {
        "openid", "profile", "email", "offline_access"}


class MicrosoftStore:
    STATE = {"users": dict[str, User], "calendars": dict[str, Calendar], "grants": dict[str, Grant],
             "access_tokens": dict[str, tuple], "transactions": dict[str, dict[str, str]],
             "change_seq": int, "delta_epoch": int, "subscriptions": dict[str, dict]}  # what a snapshot keeps

    def __init__(self, clock=None):
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.users: dict[str, User] = {}  # by e-mail
        self.calendars: dict[str, Calendar] = {}
        # token -> (e-mail, expires at, client id, the scopes granted, short names, space separated)
        self.access_tokens: dict[str, tuple] = {}
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, dict] = {}
        self.transactions: dict[str, dict[str, str]] = {}  # mailbox owner -> transactionId -> event id
        self.change_seq = 0
        self.delta_epoch = 0  # bumped to expire every delta token
        self.delta_expiry = "syncStateNotFound"  # or "resync": 410 with a Location to start again from
        self.kept_pages: dict[str, list] = {}  # a delta round's or a view's items, while a client pages
        self.writes: list[dict] = []
        self.subscriptions: dict[str, dict] = {}
        self.subscription_max_minutes = 10080  # Outlook events; older documentation said 4230
        self.notification_retries = 3

    def add_user(self, email, name="") -> User:
        with self.lock:
            user = User(email=email, name=name or email.split("@")[0].title(), oid=str(uuid.uuid4()))
            self.users[email] = user
            self.add_calendar(email, "Calendar", default=True)
            return user

    def add_calendar(self, owner, name, *, default=False, color="auto", hex_color="") -> Calendar:
        with self.lock:
            calendar = Calendar(id=graph_id("AAMkAGI"), name=name, owner=owner, color=color, hex_color=hex_color)
            self.calendars[calendar.id] = calendar
            self.users[owner].calendars.append(CalendarAccess(calendar.id, can_edit=True, is_default=default))
            return calendar

    def share(self, calendar_id, email, *, can_edit=False):
        with self.lock:
            self.users[email].calendars.append(CalendarAccess(calendar_id, can_edit=can_edit))

    def access(self, email, calendar_id=None) -> CalendarAccess | None:
        user = self.users.get(email)
        if user is None:
            return None
        if calendar_id is None:
            return next((entry for entry in user.calendars if entry.is_default), None)
        return next((entry for entry in user.calendars if entry.calendar_id == calendar_id), None)

    def find_event(self, email, event_id):
        """Return (calendar, event, access) for an event the user can see, or (None, None, None)."""
        user = self.users.get(email)
        for entry in user.calendars if user else []:
            calendar = self.calendars[entry.calendar_id]
            event = self.event_in(calendar, event_id)
            if event is not None:
                return calendar, event, entry
        return None, None, None

    def locate(self, event_id):
        """Return (calendar, event) wherever the event is, or (None, None)."""
        for calendar in self.calendars.values():
            event = self.event_in(calendar, event_id)
            if event is not None:
                return calendar, event
        return None, None

    @staticmethod
    def event_in(calendar, event_id) -> dict | None:
        """The stored event, or the occurrence computed from its series master; None when it is not there."""
        if event_id in calendar.events:
            return calendar.events[event_id]
        occurrence = recurrence.parse_occurrence_id(event_id)
        master = calendar.events.get(occurrence[0]) if occurrence else None
        if master is None or master["type"] != "seriesMaster":
            return None
        found = recurrence.at(master, occurrence[1])
        if found is None or recurrence.stamp(found.original_start) in master.get("_cancelled", ()):
            return None
        return recurrence.occurrence(master, found)

    def restored(self):
        self.delta_epoch += 1
        self.kept_pages.clear()

    def next_seq(self) -> int:
        self.change_seq += 1
        return self.change_seq

    def removed_from_views(self, calendar, event: dict, seq: int):
        """Remember for delta that an event, or every occurrence of a series as it was, left the views
        with change `seq` (the same number as the write that caused it, so a round sees both or neither)."""
        if event["type"] == "seriesMaster":
            calendar.replaced.append((seq, event))
        else:
            calendar.removed[event["id"]] = seq

    def touch(self, event: dict) -> int:
        """Give a changed event the next change number and a new change key; return the number."""
        change_key = base64.b64encode(secrets.token_bytes(12)).decode()
        event.update({"_seq": self.next_seq(), "changeKey": change_key, "@odata.etag": f'W/"{change_key}"',
                      "lastModifiedDateTime": now_iso(self.clock())})
        return event["_seq"]

    # OAuth -----------------------------------------------------------------------------------

    def issue_tokens(self, email, client_id, scope) -> dict:
        with self.lock:
            access = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
            self.access_tokens[access] = (email, time.time() + ACCESS_TOKEN_SECONDS, client_id,
                                          " ".join(sorted(short_scopes(scope))))
            refresh = "0.A" + secrets.token_urlsafe(48)
            self.grants[refresh] = Grant(self.users[email].oid, client_id, scope)
            return {"access": access, "refresh": refresh}

    def bearer(self, token) -> tuple[str, str, set | None] | None:
        """(e-mail, client id, scopes) of a live access token (scopes None: a token saved before they were kept)."""
        with self.lock:
            found = self.access_tokens.get(token)
            if found is None or found[1] < time.time():
                return None
            return found[0], found[2], set(found[3].split()) if len(found) > 3 else None

    def email_for_oid(self, oid) -> str | None:
        return next((user.email for user in self.users.values() if user.oid == oid), None)

    def expire_access_tokens(self, email=None):
        with self.lock:
            for token, (owner, _, *rest) in list(self.access_tokens.items()):
                if email is None or owner == email:
                    self.access_tokens[token] = (owner, 0, *rest)

    def revoke(self, email=None):
        with self.lock:
            for grant in self.grants.values():
                if email is None or self.email_for_oid(grant.oid) == email:
                    grant.revoked = True
            self.expire_access_tokens(email)
