"""Three-way merge of one event, group of fields by group of fields, against what both sides last agreed on.

A group changed on one side only takes that side. Changed on both sides to different values, it is
a conflict: the policy picks the winner (by default the most recent change), and the loser is
returned so that it can be kept and restored. Without a base (two events matched on a first sync),
the empty event stands in for it: a group one side leaves empty takes the other side's values, and
any other difference is a conflict.
"""

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from .event import GROUPS, Event
from .normalize import normalized

EMPTY = Event(uid="")  # what a pair without a base is compared with


class Policy(enum.Enum):
    MOST_RECENT = "most_recent"  # the side changed last wins; on a tie, the remote side
    LOCAL_WINS = "local_wins"
    REMOTE_WINS = "remote_wins"


@dataclass(frozen=True)
class Conflict:
    group: str  # a key of GROUPS
    local: dict  # the group's values on each side
    remote: dict
    winner: str  # "local" or "remote"


@dataclass(frozen=True)
class Merged:
    event: Event
    conflicts: tuple[Conflict, ...]
    local_changed: bool  # whether the result differs from each side: what must be written where
    remote_changed: bool


def settled(base: Event | None, written: Event, remote: Event) -> Event | None:
    """The base after a write that was made but never recorded (its worker died): each group the remote
    event holds as it was written is agreed on, as the recorded write would have made it; the others keep
    the old base, so the remote's own changes there still count as changes."""
    if base is None:
        return None
    written, remote = normalized(written), normalized(remote)
    values = {}
    for names in GROUPS.values():
        if _values(written, names) == _values(remote, names):
            values.update(_values(written, names))
    return replace(normalized(base), **values)


def merge(base: Event | None, local: Event, remote: Event, *, local_changed_at: datetime | None = None,
          remote_changed_at: datetime | None = None, policy: Policy = Policy.MOST_RECENT) -> Merged:
    base, local, remote = (normalized(event) if event else None for event in (base, local, remote))
    values, conflicts = {}, []
    for group, names in GROUPS.items():
        mine, theirs = _values(local, names), _values(remote, names)
        agreed = _values(base or EMPTY, names)
        if mine == theirs:
            values.update(mine)
        elif agreed == mine:
            values.update(theirs)
        elif agreed == theirs:
            values.update(mine)
        else:
            winner = _winner(policy, local_changed_at, remote_changed_at)
            values.update(mine if winner == "local" else theirs)
            conflicts.append(Conflict(group, mine, theirs, winner))
    result = replace(local, **values)
    differs = lambda side: any(getattr(side, name) != value for name, value in values.items())  # noqa: E731
    return Merged(result, tuple(conflicts), local_changed=differs(local), remote_changed=differs(remote))


def _values(event, names):
    return {name: getattr(event, name) for name in names}


def _winner(policy, local_changed_at, remote_changed_at):
    if policy is Policy.LOCAL_WINS:
        return "local"
    if policy is Policy.REMOTE_WINS:
        return "remote"
    if local_changed_at and remote_changed_at and local_changed_at > remote_changed_at:
        return "local"
    return "remote"
