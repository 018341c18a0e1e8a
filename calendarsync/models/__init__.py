from .accounts import AccountProblem, AccountState, ExternalAccount, Provider
from .calendars import CalendarStatus, Direction, FirstSync, RemoteCalendar
from .links import EventLink
from .policies import SyncPolicy

__all__ = ["AccountProblem", "AccountState", "CalendarStatus", "Direction", "EventLink", "ExternalAccount",
           "FirstSync", "Provider", "RemoteCalendar", "SyncPolicy"]
