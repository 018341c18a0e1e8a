"""Busy times from outside the CRM, plugged in by the apps that know them (the CRM imports none of them).

A source is a callable `(users, start, end) -> {user id: [SourceAnswer]}`. It must answer from what it
already holds and never wait on a provider: what it does not hold yet it fetches in the background, and
says so (`pending`), so that nobody is shown *free* for a calendar nobody asked.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from crm.availability.intervals import Interval

OK, PENDING, MISSING = "ok", "pending", "missing"


@dataclass
class SourceAnswer:
    """One calendar's answer for one person: its busy intervals when `state` is ok; else why they are not
    known (`reason`). `requests` is what asking the provider took, `fetched_at` when it was asked."""

    name: str
    state: str = OK
    public_name: str = ""  # what others than its owner see it called (no address); `name` when empty
    busy: list[Interval] = field(default_factory=list)
    reason: str = ""
    requests: int = 0
    fetched_at: datetime | None = None


Source = Callable[[list, object, object], dict[int, list[SourceAnswer]]]
NotBusy = Callable[[list[int]], set[int]]
_sources: list[Source] = []
_not_busy: list[NotBusy] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def register_not_busy(rule: NotBusy) -> None:
    """A rule `(user ids) -> action ids` naming CRM appointments that do not make those people busy (imported
    from a calendar its owner said does not count)."""
    if rule not in _not_busy:
        _not_busy.append(rule)


def registered() -> list[Source]:
    return list(_sources)


def not_busy(person_ids: list[int]) -> set[int]:
    return set().union(*(rule(person_ids) for rule in _not_busy)) if _not_busy else set()
