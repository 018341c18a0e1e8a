from .accounts import AccountProblem, AccountState, ExternalAccount, Provider
from .calendars import CalendarStatus, Direction, FirstSync, RemoteCalendar
from .links import EventLink
from .outbox import OutboxEntry
from .policies import SyncPolicy
from .runs import ConflictRecord, SyncRun, Trigger
from .trash import TrashedAction

__all__ = ["AccountProblem", "AccountState", "CalendarStatus", "ConflictRecord", "Direction", "EventLink",
           "ExternalAccount", "FirstSync", "OutboxEntry", "Provider", "RemoteCalendar", "SyncPolicy", "SyncRun",
           "TrashedAction", "Trigger"]
