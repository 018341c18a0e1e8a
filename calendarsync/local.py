"""The CRM side of a sync run: links, changed and candidate appointments, and the local writes.

Reads are a handful of queries per run whatever the number of events (ids are looked up in
chunks); imports are bulk inserts; other writes go through crm.services, announced with the
engine's origin so that the outbox does not send an import back where it came from.
"""

import logging
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from calendarsync.appointments import GROUP_FIELDS as FIELDS
from calendarsync.appointments import action_fields, event_of
from calendarsync.core.event import GROUPS, from_json, plain, to_json
from calendarsync.core.merge import settled
from calendarsync.core.normalize import normalized
from calendarsync.core.plan import Op
from calendarsync.models import ConflictRecord, EventLink, OutboxEntry, TrashedAction
from calendarsync.providers.base import Write
from calendarsync.services import default_action_types, outbox_add
from crm import recurrence
from crm import services as crm_services
from crm.models import Action, Contact

CHUNK = 1000  # ids per query
log = logging.getLogger(__name__)


def chunks(ids):
    """`ids` (a list) in slices of CHUNK: a query for each keeps its parameters few on every database."""
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]



def base_of(link, remote=None):
    """The content both sides last agreed on; `remote`, the remote event as now read, settles a write a dead
    run made but never recorded."""
    base = from_json(link.base) if link.base else None
    if link.pending and remote is not None:
        return settled(base, from_json(link.pending), remote)
    return base


class Side:
    def __init__(self, calendar, *, origin, report, storable, step, reached):
        """`storable` is the provider's: local events are compared as the provider can hold them. `step()` is a
        transaction of the run (fenced by its lease); `reached(stage)` is told when one has committed."""
        self.calendar, self.origin, self.report, self.storable = calendar, origin, report, storable
        self.step, self.reached = step, reached
        self.exact = {}  # local id -> the appointment as the CRM has it, where the provider holds it otherwise
        self.owner = calendar.account.user
        self.seen = {}  # local id -> the appointment as this run read it (what the plan was made from)
        self.times = {}  # local id -> when the appointment last changed, for "most recent wins"
        self.series_of = {}  # local id of an occurrence -> its series' id
        self.others = set()  # local ids of appointments another user owns (the same meeting, linked here too)
        self.imported_elsewhere = set()
        self.dropped = set()  # operations not carried out: refused here, or stale or failed remotely
        self.trashed = set()  # ids of series deleted by this run: their changed occurrences went with them
        self._new_links, self._changed_links = [], []
        self._series_remote = None  # read again after each flush of new links

    # Reads

    def links(self, remote_ids, action_ids) -> list[EventLink]:
        """The calendar's links touched by the changes; all of them when `remote_ids` is None (a full listing)."""
        links = EventLink.objects.filter(calendar=self.calendar)
        if remote_ids is None:
            return list(links)
        found = {}
        for ids, field in ((sorted(remote_ids), "remote_id"), (sorted(action_ids), "action_id")):
            for chunk in chunks(ids):
                found.update((link.pk, link) for link in links.filter(**{f"{field}__in": chunk}))
        return list(found.values())

    def linked_count(self) -> int:
        return EventLink.objects.filter(calendar=self.calendar).count()

    def changed(self, action_ids) -> dict:
        """The outbox's appointments as events, None for those deleted since; a series brings its occurrences."""
        found = self._events(Action.objects.filter(Q(pk__in=action_ids) | Q(series__in=action_ids)))
        return {pk: found.get(pk) for pk in action_ids} | found

    def current(self, links, changed_local, remote) -> dict:
        """The appointments of links changed remotely only, to merge with."""
        wanted = [link.action_id for link in links if link.remote_id in remote and link.action_id not in changed_local]
        found = {}
        for chunk in chunks(wanted):
            found.update(self._events(Action.objects.filter(pk__in=chunk)))
        return {str(pk): found.get(pk) for pk in wanted}

    def candidates(self, window, uids) -> dict:
        """Appointments a sync may pair with remote events or export: with a `window` (a full listing), the
        owner's, of the calendar's action types, in the window; and any with one of `uids` (the same meeting
        reached the CRM through another calendar); none already linked here."""
        unlinked = Action.objects.exclude(pk__in=EventLink.objects.filter(calendar=self.calendar).values("action_id"))
        found = {}
        if window is not None:
            start, end = window
            in_window = Q(span_start__lt=end) & (Q(span_end__isnull=True) | Q(span_end__gt=start))
            mine = Action.objects.filter(owner=self.owner, action_type__in=self.action_types,
                                         series__isnull=True).filter(in_window)
            found = self._events(unlinked.filter(Q(pk__in=mine.values("pk")) | Q(series__in=mine.values("pk"))))
        takes_part = Q(owner=self.owner) | Q(participants=self.owner)  # the same meeting, not any appointment
        for chunk in chunks(sorted(uids)):
            found |= self._events(unlinked.filter(takes_part, uid__in=chunk).distinct())
        self.imported_elsewhere = set()  # came from another calendar: not this one's to copy
        for chunk in chunks(sorted(found)):
            self.imported_elsewhere.update(EventLink.objects.filter(action_id__in=chunk, imported=True)
                                           .values_list("action_id", flat=True))
        return found

    def _events(self, actions) -> dict:
        found = {}
        for action in actions.only(*{name for names in FIELDS.values() for name in names}, "uid", "recurrence_id",
                                   "series_id", "updated_at", "owner_id"):
            found[action.pk] = self.seen[str(action.pk)] = self._event(action)
            self.times[str(action.pk)] = action.updated_at
            if action.owner_id != self.owner.pk:
                self.others.add(str(action.pk))
            if action.series_id:
                self.series_of[str(action.pk)] = action.series_id
        return found

    def _event(self, action):
        event = normalized(event_of(action))
        held = self.storable(event)
        if held.rrule != event.rrule:  # the provider's rule differs from the CRM's: kept to say how
            self.exact[str(action.pk)] = event
        return held

    # Local writes

    def apply(self, ops, links, meta, cancelled, *, pushes, remote=None):
        """Carry out the local operations, in two steps: imports with the pairs found, then merges, deletions
        and the occurrences cancelled remotely. `links` (remote id -> EventLink) follows along; `remote` holds
        the remote events as this run read them."""
        if any(op.kind in ("unlink", "create_local") or (op.local_id and op.remote_id and op.remote_id not in links)
               for op in ops):
            self._import(ops, links, meta)
        self.reached("imported")
        if cancelled or self._merging(ops, links, meta):
            with self.step():
                self._merge(ops, links, meta, remote or {})
                self.cancel_occurrences(cancelled, pushes=pushes)
        self.reached("merged")

    def _import(self, ops, links, meta):
        with self.step():
            for op in ops:
                if op.kind == "unlink":
                    self._unlink(links.pop(op.remote_id, None))
                elif op.local_id and op.remote_id and op.remote_id not in links:  # a pair matched on this sync
                    links[op.remote_id] = EventLink(calendar=self.calendar, action_id=int(op.local_id),
                                                    remote_id=op.remote_id, ical_uid=op.event.uid)
                    self._new_links.append(links[op.remote_id])
            self._create([op for op in ops if op.kind == "create_local"], links, meta)

    @staticmethod
    def _merging(ops, links, meta) -> bool:
        """Whether the merge step has anything to write: merges, deletions, new bases, or ETags that moved."""
        return any(op.kind in ("update_local", "trash_local", "link") for op in ops) or any(
            (item := meta.get(link.remote_id)) is not None and item.etag and item.etag != link.etag
            for link in links.values())

    def _merge(self, ops, links, meta, remote):
        pushed = {op.remote_id for op in ops if op.kind == "update_remote"}
        # Locked while merged into: a save arriving meanwhile waits for this step instead of being overwritten.
        fresh = Action.objects.select_for_update().in_bulk(
            [int(op.local_id) for op in ops if op.kind in ("update_local", "trash_local")])
        for op in ops:
            link = links.get(op.remote_id)
            if op.kind not in ("update_local", "trash_local"):
                if op.kind == "link":
                    link.base = to_json(op.event)
                    self._changed_links.append(link)
                continue
            try:  # one appointment that cannot take the change is skipped and reported, not the run
                with transaction.atomic():
                    if op.kind == "update_local":
                        # Merged both ways: until the push is recorded, what both sides agree on is the remote
                        # event as read (the CRM took its changes; its own are still to go out).
                        agreed = remote.get(op.remote_id) if op.remote_id in pushed else op.event
                        self._update(op, fresh.get(int(op.local_id)), link, agreed=agreed)
                    else:
                        self._trash(op, fresh.get(int(op.local_id)), links)
            except Exception as exc:
                log.exception("Change to appointment %s not applied", op.local_id)
                self._drop(op, _("it could not be applied (%(error)s)") % {"error": str(exc).strip()[:200]})
        for link in links.values():  # echoes of our own writes change nothing but the ETag
            item = meta.get(link.remote_id)
            if item is not None and item.etag and item.etag != link.etag:
                link.etag = item.etag
                self._changed_links.append(link)
        self.flush()

    def _create(self, ops, links, meta):
        kind = self._action_type()
        if kind is None and ops:
            for op in ops:
                self._drop(op, _("no action type to import it as: choose one for this calendar"))
            return
        seen, series_ops, occurrence_ops = set(), [], []
        for op in ops:
            identity = (op.event.uid, op.event.recurrence_id)
            if identity in seen:
                self._drop(op, _("another event of the calendar has the same UID"))
                continue
            seen.add(identity)
            (occurrence_ops if op.event.recurrence_id else series_ops).append(op)
        self._create_batch(series_ops, links, meta, lambda op: Action(
            uid=op.event.uid, action_type=kind, owner=self.owner, **action_fields(op.event)))
        series = self._series_by_remote_id({meta[op.remote_id].series_id for op in occurrence_ops}, links)

        def occurrence(op):
            parent = series.get(meta[op.remote_id].series_id)
            if parent is None:
                return None
            return Action(uid=parent.uid, series=parent, recurrence_id=op.event.recurrence_id,
                          action_type_id=parent.action_type_id, owner_id=parent.owner_id, **action_fields(op.event))
        self._create_batch(occurrence_ops, links, meta, occurrence)

    def _create_batch(self, ops, links, meta, build):
        taken = self._existing_uids(ops)
        actions, placed = [], []
        for op in ops:
            action = build(op)
            if action is None:
                self._drop(op, _("its series is not synced"))
            elif (op.event.uid, op.event.recurrence_id) in taken:
                self._drop(op, _("an appointment with its UID exists already and is not in this calendar"))
            else:
                actions.append(action)
                placed.append(op)
        refused = {id(action): reason for action, reason in crm_services.action_create_many(
            actions=actions, origin=self.origin)}
        made = []
        for op, action in zip(placed, actions, strict=True):
            if id(action) in refused:
                self._drop(op, refused[id(action)])
                continue
            made.append((action, op.event))
            link = EventLink(calendar=self.calendar, action=action, remote_id=op.remote_id, ical_uid=op.event.uid,
                             etag=meta[op.remote_id].etag, base=to_json(op.event), imported=True)
            links[op.remote_id] = link
            self._new_links.append(link)
        self._add_people(made)
        self.flush()

    def _add_people(self, made):
        """The attendees of imported events as the appointments' participants (CRM users) and contacts (the
        directory's), found by e-mail. Nobody is added to the directory: attendees it lacks stay out."""
        emails = sorted({person[0] for _action, event in made for person in event.attendees})
        users, contacts = {}, {}
        for chunk in chunks(emails):
            users.update(get_user_model().objects.annotate(address=Lower("email")).filter(address__in=chunk)
                         .values_list("address", "pk"))
            for address, pk in Contact.objects.annotate(address=Lower("email")).filter(address__in=chunk) \
                    .order_by("pk").values_list("address", "pk"):
                contacts.setdefault(address, pk)
        participants, listed = [], []
        oneself = {self.calendar.account.email.lower(), self.calendar.owner_email.lower()} - {""}
        for action, event in made:
            for email, _name in event.attendees:
                if email in oneself:  # the calendar's own mailbox, listed among an invitation's attendees
                    continue
                if email in users and users[email] != action.owner_id:
                    participants.append(Action.participants.through(action_id=action.pk, user_id=users[email]))
                elif email in contacts and email not in users:
                    listed.append(Action.contacts.through(action_id=action.pk, contact_id=contacts[email]))
        Action.participants.through.objects.bulk_create(participants, batch_size=1000, ignore_conflicts=True)
        Action.contacts.through.objects.bulk_create(listed, batch_size=1000, ignore_conflicts=True)

    def _existing_uids(self, ops):
        uids = sorted({op.event.uid for op in ops})
        taken = set()
        for chunk in chunks(uids):
            taken.update(Action.objects.filter(uid__in=chunk).values_list("uid", "recurrence_id"))
        return taken

    def _series_by_remote_id(self, remote_ids, links):
        known = {remote_id: links[remote_id].action_id for remote_id in remote_ids if remote_id in links}
        missing = [remote_id for remote_id in remote_ids if remote_id not in known]
        known.update(EventLink.objects.filter(calendar=self.calendar, remote_id__in=missing)
                     .values_list("remote_id", "action_id"))
        series = Action.objects.in_bulk(set(known.values()))
        return {remote_id: series[pk] for remote_id, pk in known.items() if pk in series}

    def _update(self, op, action, link, *, agreed):
        """Write the groups the merge changed, not the whole event: a group edited here since this run read
        the appointment is newer than the merge and stays (its outbox entry sends it at the next run)."""
        read = self.seen.get(op.local_id)
        if action is None or read is None:
            return
        now = self._event(action)
        fields = action_fields(op.event, default_zone=action.time_zone)
        changed = {name: fields[name] for group, names in FIELDS.items()
                   if _differ(op.event, read, group) and not _differ(now, read, group) for name in names}
        try:
            if changed:
                crm_services.action_update(action=action, origin=self.origin, **changed)
        except (ValidationError, crm_services.OccurrenceError, recurrence.RecurrenceError) as exc:
            self._drop(op, "; ".join(getattr(exc, "messages", [str(exc)])))
            return
        self.record_conflicts(op)
        if link is not None and agreed is not None:  # a worker that dies now leaves a base that tells true
            link.base = to_json(agreed)
            self._changed_links.append(link)

    def record_conflicts(self, op):
        """Keep the losing side of each conflict the operation settled, whichever side it wrote."""
        ConflictRecord.objects.bulk_create([
            ConflictRecord(calendar=self.calendar, action_id=int(op.local_id), subject=op.event.summary,
                           group=conflict.group, local=_json(conflict.local), remote=_json(conflict.remote),
                           winner=conflict.winner)
            for conflict in op.conflicts])

    def _trash(self, op, action, links):
        link = links.pop(op.remote_id, None)
        if action is not None and action.series_id in self.trashed:
            pass  # deleted with its series a moment ago (a provider may report both gone)
        elif action is not None and action.series_id:
            crm_services.action_delete(action=action, origin=self.origin)  # cancels the occurrence
        elif action is not None:
            rows = [action, *action.overrides.all()]
            TrashedAction.objects.create(
                calendar=self.calendar, owner_id=action.owner_id, subject=action.subject,
                starts=str(action.first_occurrence()[0])[:64], snapshot=serializers.serialize("python", rows))
            series_id = action.pk
            crm_services.action_delete(action=action, origin=self.origin)
            self.trashed.add(series_id)
        self._unlink(link)

    def overrides_again(self, series_ids) -> list[Op]:
        """The changed occurrences of series the provider rebuilt, to be written again as occurrences of the
        series (their links are replaced when they are written)."""
        overrides = list(Action.objects.filter(series_id__in=[int(pk) for pk in series_ids]))
        ops = []
        for action in overrides:
            self.series_of[str(action.pk)] = action.series_id
            ops.append(Op("create_remote", local_id=str(action.pk), event=self._event(action)))
        return ops

    def _unlink(self, link):
        if link is not None and link.pk:
            EventLink.objects.filter(pk=link.pk).delete()

    def cancel_occurrences(self, cancelled, *, pushes):
        """Occurrences cancelled remotely on their own: the local series loses them too (and, in a
        two-way calendar, the remote series gets them as exception dates at the next push)."""
        if not cancelled:
            return
        linked = EventLink.objects.filter(calendar=self.calendar)
        by_remote = {link.remote_id: link for link in linked.filter(
            remote_id__in={item.remote_id for item in cancelled} | {item.series_id for item in cancelled})}
        series_rows = Action.objects.in_bulk([link.action_id for link in by_remote.values()])
        for item in cancelled:
            own = by_remote.get(item.remote_id)
            series_link = by_remote.get(item.series_id)
            series = series_rows.get(series_link.action_id) if series_link else None
            if own is not None:
                self._unlink(own)
            if series is None or item.occurrence in series.exdates:
                continue
            try:
                crm_services.occurrence_cancel(series=series, recurrence_id=item.occurrence, origin=self.origin)
            except crm_services.OccurrenceError:
                continue  # an occurrence the local series does not have: nothing to cancel
            if pushes:
                outbox_add(series, [self.calendar.pk])

    # Remote writes and what they leave

    def write_for(self, op, links) -> Write | None:
        link = links.get(op.remote_id)
        if op.kind == "create_remote" and op.event.recurrence_id:
            series_id = self._series_remote_ids().get(self.series_of.get(op.local_id))
            if series_id is None:
                self._drop(op, _("its series is not in this calendar"))
                return None
            return Write("create", f"{op.event.uid}_{op.event.recurrence_id}", op.event, series_id)
        if op.kind == "create_remote":
            return Write("create", op.event.uid, op.event)
        if link is None:
            return None
        kind = "update" if op.kind == "update_remote" else "delete"
        return Write(kind, f"{kind}:{op.remote_id}", op.event, op.remote_id, link.etag, before=base_of(link))

    def _series_remote_ids(self) -> dict:
        """Remote ids of the series of the changed occurrences, in one query per batch: new occurrences are
        written after every other write, so their series' links exist by then."""
        if self._series_remote is None:
            self._series_remote = dict(EventLink.objects.filter(
                calendar=self.calendar, action_id__in=set(self.series_of.values())).values_list("action_id",
                                                                                              "remote_id"))
        return self._series_remote

    def intend(self, writes, links):
        """Before updates go out: keep on their links what is written (see EventLink.pending)."""
        intended = []
        for write in writes:
            link = links.get(write.remote_id)
            if write.kind == "update" and link is not None and link.pk:
                link.pending = to_json(write.event)
                intended.append(link)
        EventLink.objects.bulk_update(intended, ["pending"], batch_size=500)

    def written(self, op, write, result, links):
        if write.kind == "delete":
            link = links.pop(op.remote_id, None)
            base = base_of(link) if link is not None else None
            if base is not None and base.rrule and link.ical_uid:  # a series goes with its occurrences
                EventLink.objects.filter(calendar=self.calendar, ical_uid=link.ical_uid).delete()
            else:
                self._unlink(link)
            return
        link = links.get(result.remote_id)
        if link is None:
            if op.event.recurrence_id:  # an occurrence written again after its series was rebuilt: one link
                for remote_id in [remote_id for remote_id, old in links.items() if old.action_id == int(op.local_id)]:
                    del links[remote_id]
                EventLink.objects.filter(calendar=self.calendar, action_id=int(op.local_id)).delete()
            link = EventLink(calendar=self.calendar, action_id=int(op.local_id), remote_id=result.remote_id,
                             ical_uid=op.event.uid)
            links[result.remote_id] = link
            self._new_links.append(link)
        elif link.pk:
            self._changed_links.append(link)
        link.etag, link.base, link.pending = result.etag, to_json(result.held or op.event), None

    def flush(self):
        EventLink.objects.bulk_create(self._new_links, batch_size=500)
        changed = {id(link): link for link in self._changed_links if link.pk}
        EventLink.objects.bulk_update(list(changed.values()), ["etag", "base", "pending"], batch_size=500)
        self._new_links, self._changed_links, self._series_remote = [], [], None

    def clear_outbox(self, entries, *, stale, failed):
        """Drop the entries that went out, unless saved again since this run read them; a stale one is
        tried again at once, a failed one at the next runs (at most OUTBOX_ATTEMPTS), its error kept."""
        kept = stale | set(failed)
        read = {entry.pk: entry.queued_at for entry in entries if str(entry.action_id) not in kept}
        for chunk in chunks(sorted(read)):
            now = OutboxEntry.objects.select_for_update().filter(pk__in=chunk)
            OutboxEntry.objects.filter(pk__in=[pk for pk, queued in now.values_list("pk", "queued_at")
                                               if queued == read[pk]]).delete()
        by_error = {}
        for entry in entries:
            if str(entry.action_id) in failed:
                by_error.setdefault(failed[str(entry.action_id)], []).append(entry.pk)
        for error, ids in by_error.items():
            OutboxEntry.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1, last_error=error)

    @cached_property
    def action_types(self):
        """The kinds of action this calendar syncs (the appointment types unless it chose some)."""
        return list(self.calendar.action_types.all()) or default_action_types()

    def _action_type(self):
        """What an imported event becomes: the first appointment type of those the calendar syncs."""
        chosen = sorted(self.action_types, key=lambda kind: (not kind.is_appointment, kind.position))
        return chosen[0] if chosen else None

    def _drop(self, op, why):
        self.dropped.add(id(op))
        summary = op.event.summary if op.event else op.remote_id
        self.report(_("“%(summary)s” skipped: %(why)s") % {"summary": summary, "why": why})



def _differ(first, second, group) -> bool:
    return any(getattr(first, name) != getattr(second, name) for name in GROUPS[group])


def _json(values: dict) -> dict:
    return {name: plain(value) for name, value in values.items()}
