"""The planner: from what changed on each side since the last sync, the operations that make them agree.

It only decides. The engine reads the snapshots (links with their base, the changed local
appointments, the changed remote events), asks `plan`, and carries the operations out. Rules:

- An edit is never lost: a deletion on one side of an event edited on the other gives way to the
  edit (the event is recreated where it was deleted).
- Import-only calendars never receive writes and a local deletion does not reach them; export-only
  calendars never change the CRM, and what is deleted remotely is put back.
- A run that would move more than a share of a calendar's linked events to the trash stops and
  says so instead (a provider answering with an empty calendar must not empty the CRM).
"""

import enum
from dataclasses import dataclass, field

from .event import Event
from .merge import Conflict, Policy, merge
from .normalize import fingerprint, normalized


class Direction(enum.Enum):
    IMPORT = "import"
    EXPORT = "export"
    BOTH = "both"

    @property
    def pushes(self):
        return self is not Direction.IMPORT

    @property
    def pulls(self):
        return self is not Direction.EXPORT


@dataclass(frozen=True)
class Link:
    local_id: str
    remote_id: str
    base: Event | None  # what both sides last agreed on; None for a pair matched on a first sync


@dataclass(frozen=True)
class Op:
    """One operation. `kind` says which side is written and how; `event` is what it must hold."""

    kind: str  # create_remote, update_remote, delete_remote, create_local, update_local, trash_local, link, unlink
    local_id: str = ""
    remote_id: str = ""
    event: Event | None = None
    conflicts: tuple[Conflict, ...] = ()


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)
    paused: str = ""  # why nothing was planned (too many deletions)

    def of(self, kind) -> list[Op]:
        return [op for op in self.ops if op.kind == kind]


def plan(links: list[Link], local: dict[str, Event | None], remote: dict[str, Event | None], *,
         direction: Direction, policy: Policy = Policy.MOST_RECENT, local_times: dict | None = None,
         remote_times: dict | None = None, current_local: dict | None = None, current_remote: dict | None = None,
         max_trash_share: float = 0.5, min_links_for_guard: int = 10, linked: int | None = None) -> Plan:
    """`local` and `remote` hold what changed since the last sync (None: deleted), by id.

    `current_local` / `current_remote` give the unchanged side of a link that changed on one side
    only (its current content, for merging); `*_times` the moment each change was made. `links` may
    be only those touched; `linked` is then how many the calendar has in all, for the guard.
    """
    local_times, remote_times = local_times or {}, remote_times or {}
    current_local, current_remote = current_local or {}, current_remote or {}
    result = Plan()
    linked_local = {link.local_id: link for link in links}
    linked_remote = {link.remote_id: link for link in links}
    for link in _touched(links, local, remote):
        result.ops += _reconcile(link, local, remote, current_local, current_remote, direction, policy,
                                 local_times, remote_times)
    for local_id, event in local.items():
        if local_id not in linked_local and event is not None and direction.pushes:
            result.ops.append(Op("create_remote", local_id=local_id, event=normalized(event)))
    for remote_id, event in remote.items():
        if remote_id not in linked_remote and event is not None and direction.pulls:
            result.ops.append(Op("create_local", remote_id=remote_id, event=normalized(event)))
    trashed, linked = len(result.of("trash_local")), len(links) if linked is None else linked
    if linked >= min_links_for_guard and trashed > max_trash_share * linked:
        return Plan(paused=f"{trashed} of {linked} linked events would be deleted in the CRM")
    return result


def _touched(links, local, remote):
    return [link for link in links if link.local_id in local or link.remote_id in remote]


def _reconcile(link, local, remote, current_local, current_remote, direction, policy, local_times, remote_times):
    ids = {"local_id": link.local_id, "remote_id": link.remote_id}
    mine = local[link.local_id] if link.local_id in local else current_local.get(link.local_id)
    theirs = remote[link.remote_id] if link.remote_id in remote else current_remote.get(link.remote_id)
    if mine is None and theirs is None:
        return [Op("unlink", **ids)]
    if mine is None:  # deleted in the CRM
        if not direction.pushes:
            return [Op("unlink", **ids)]  # an import-only calendar is never touched
        if direction.pulls and _edited(theirs, link.base):
            return [Op("unlink", **ids), Op("create_local", remote_id=link.remote_id, event=normalized(theirs))]
        return [Op("delete_remote", **ids)]
    if theirs is None:  # deleted remotely
        if not direction.pulls or _edited(mine, link.base):
            if not direction.pushes:
                return [Op("unlink", **ids)]
            return [Op("unlink", **ids), Op("create_remote", local_id=link.local_id, event=normalized(mine))]
        return [Op("trash_local", **ids)]
    # A one-way calendar's source always wins, and what it overrides is no conflict: it is the setting.
    one_way = {Direction.IMPORT: Policy.REMOTE_WINS, Direction.EXPORT: Policy.LOCAL_WINS}
    merged = merge(link.base, mine, theirs, policy=one_way.get(direction, policy),
                   local_changed_at=local_times.get(link.local_id), remote_changed_at=remote_times.get(link.remote_id))
    return _writes(ids, link.base, merged.event, local_write=direction.pulls and merged.local_changed,
                   remote_write=direction.pushes and merged.remote_changed,
                   conflicts=merged.conflicts if direction is Direction.BOTH else ())


def _writes(ids, base, event, *, local_write, remote_write, conflicts=()):
    ops = []
    if local_write:
        ops.append(Op("update_local", event=event, conflicts=conflicts, **ids))
    if remote_write:
        ops.append(Op("update_remote", event=event, conflicts=() if local_write else conflicts, **ids))
    if ops or (base is not None and fingerprint(base) == fingerprint(event)):
        return ops
    return [Op("link", event=event, **ids)]  # both sides agree on something new: only the base moves


def _edited(event, base) -> bool:
    return base is None or fingerprint(event) != fingerprint(base)


def match(local: dict[str, Event], remote: dict[str, Event], *, by_content: bool = True) -> list[Link]:
    """Pair the events of a first sync that are the same appointment: same uid first, then (`by_content`)
    same summary, start and end (P4: connecting twice or after a reset creates no duplicate). Each event
    pairs once."""
    pairs, taken = [], set()
    by_uid = {(event.uid, event.recurrence_id): remote_id for remote_id, event in remote.items() if event.uid}
    same_content = {}
    for remote_id, event in remote.items():
        same_content.setdefault(_identity(event), []).append(remote_id)
    for local_id, event in local.items():
        remote_id = by_uid.get((event.uid, event.recurrence_id))
        if (remote_id is None or remote_id in taken) and by_content:
            remote_id = next((candidate for candidate in same_content.get(_identity(event), ())
                              if candidate not in taken), None)
        if remote_id is not None and remote_id not in taken:
            taken.add(remote_id)
            pairs.append(Link(local_id, remote_id, None))
    return pairs


def _identity(event: Event) -> tuple:
    event = normalized(event)
    return event.summary.casefold(), event.start, event.end, event.recurrence_id
