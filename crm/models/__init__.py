from .actions import Action, ActionStatus, ActionType, Availability, Privacy
from .directory import Company, Contact
from .removals import Removal, RemovalReason
from .users import Profile, User

__all__ = [
    "Action",
    "ActionStatus",
    "ActionType",
    "Availability",
    "Company",
    "Contact",
    "Privacy",
    "Profile",
    "Removal",
    "RemovalReason",
    "User",
]
