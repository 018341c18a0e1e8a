"""The sync engine: the one place where the database, a provider and the pure core meet.

One run of one calendar, under its lease (calendarsync.lease), in rounds of:

1. pull what changed remotely since the cursor (everything in the window on a first sync, or
   when the provider forgot the cursor: then the linked events of the window it lacks are asked
   for one by one, as they were deleted or moved away);
2. read what changed locally: the calendar's outbox, and on a first sync the appointments it covers;
3. pair unlinked events that are the same appointment (P4), then ask `core.plan` what to do;
4. apply the local part (imports, then merges and deletions), send the remote part in batches, and
   record links with their new base after each batch;
5. clear the outbox entries that went out, then keep the cursor.

No transaction is open while a provider is called or waited for. Each step that writes is a short
transaction of its own, fenced by the lease, and the cursor moves only once what it covers is stored:
a worker stopped anywhere leaves nothing half-written, and the next run pulls again from the old
cursor and finds its own earlier work done (imports linked, echoes equal to their base, pushed
creates reclaimed by UID). A write the provider refused as stale is retried after a new pull, in the
same run. Provider trouble ends the run with its error in words; so does anything unexpected, its
traceback in the log. What was done is kept, and what was not stays in the outbox.
"""

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from calendarsync import app_settings, local, selectors, services
from calendarsync.core.event import known_exdates, overlaps, to_json
from calendarsync.core.normalize import clean, fingerprint, normalized
from calendarsync.core.plan import Direction, Link, Op, match, plan
from calendarsync.lease import Busy, Lease, LeaseLost
from calendarsync.models import EventLink, FirstSync, OutboxEntry, RemoteCalendar, SyncRun, Trigger
from calendarsync.providers import AuthorizationLost, ProviderUnavailable
from calendarsync.providers.base import unreadable
from crm.models import Action

__all__ = ["Busy", "sync"]
log = logging.getLogger(__name__)
ROUNDS = 3  # pulls per run: the first, then again after writes refused as stale
HORIZON_STEP = timedelta(days=1)  # how far the horizon moves on before what it reached is listed
# Where a run commits, in order; `reached(stage)` is called after each (a test stops a worker there).
STAGES = ("pulled", "imported", "merged", "pushed", "recorded", "outbox cleared", "cursor kept", "run recorded")


def reached(stage):
    """A run got past `stage` (one of STAGES): what it wrote so far is committed."""


def sync(calendar_id, *, trigger=Trigger.MANUAL, dry_run=False, progress=None) -> SyncRun | None:
    """Sync one calendar now; None when it is not to be synced (not selected, paused, held...). Raises Busy
    while another run holds it.

    `progress(done, total)` hears about remote writes. A dry run records its run and nothing else.
    """
    calendar = RemoteCalendar.objects.select_related("account__user").filter(pk=calendar_id).first()
    if calendar is None or not selectors.syncable(calendar):
        return None
    lease = Lease.claim(calendar_id)
    calendar.refresh_from_db(fields=["cursor", "window_start", "window_end", "hold", "deletions_confirmed"])
    died_at = None  # when the run whose worker died began: what it linked, its cursor may never tell of
    if lease.interrupted:
        dead = SyncRun.objects.filter(calendar=calendar, finished_at=None)
        died_at = min(dead.values_list("started_at", flat=True), default=None)
        dead.update(finished_at=timezone.now(), error=_("Interrupted: the worker running it stopped. The next run "
                                                        "(this one) took over where it was."))
    run = SyncRun.objects.create(calendar=calendar, trigger=trigger, dry_run=dry_run)
    run.queued_meanwhile = False
    started = time.monotonic()
    provider = services.provider_for(calendar.account)
    work = Run(calendar, provider, run, lease, progress, died_at=died_at)
    try:
        work.execute()
    except AuthorizationLost as exc:
        services.account_lost(calendar.account, exc.problem, str(exc))
        run.error = selectors.account_problem(calendar.account)
    except ProviderUnavailable as exc:
        run.error = str(exc)
    except LeaseLost:
        return _outlived(run, provider, started)
    except Exception:
        log.exception("Run %s of calendar %s failed", run.pk, calendar_id)
        run.error = _("The sync stopped on an unexpected error; the next run tries again. If this goes on, tell "
                      "your administrator: the details are in the server's log (run %(run)s).") % {"run": run.pk}
    try:
        with lease.step():
            _finish(run, provider, started)
            if not dry_run:
                fields = {"last_run": run, "error": run.error}
                if not run.error:
                    fields["last_synced_at"] = timezone.now()
                RemoteCalendar.objects.filter(pk=calendar_id).update(**fields)
    except LeaseLost:  # its work is done and committed, but the calendar is another run's to describe now
        return _outlived(run, provider, started, finished=True)
    reached("run recorded")
    lease.release()
    if not dry_run:  # for the task, not stored
        run.queued_meanwhile = any((entry.pk, entry.queued_at) not in work.read for entry in OutboxEntry.objects.filter(
            calendar=calendar, attempts__lt=app_settings.OUTBOX_ATTEMPTS))
    return run


def _outlived(run, provider, started, *, finished=False):
    """The run lost its lease (it stalled past it and another run claimed the calendar): it records itself
    and leaves the calendar, its lease and its state to the run that holds it now."""
    log.warning("Run %s of calendar %s outlived its lease; another run took over", run.pk, run.calendar_id)
    if not finished:
        run.error = _("Stopped: this run took longer than its lease and another run took the calendar over.")
    _finish(run, provider, started)
    return run


def _finish(run, provider, started):
    run.report += [clean(notice) for notice in dict.fromkeys(provider.notices)]
    run.requests, run.seconds = provider.usage.requests, round(time.monotonic() - started, 3)
    run.finished_at = timezone.now()
    run.save()


class Run:
    """The work of one run, its figures kept on `run` (a SyncRun, saved by the caller)."""

    def __init__(self, calendar, provider, run, lease, progress=None, died_at=None):
        self.calendar, self.provider, self.run, self.lease, self.progress = calendar, provider, run, lease, progress
        self.died_at = died_at
        now = timezone.now()
        self.first = calendar.window_start is None
        self.window = (calendar.window_start or _window_start(calendar, now),
                       now + timedelta(days=app_settings.HORIZON_DAYS))
        self.direction = Direction(calendar.direction)
        self.read = set()  # (id, queued_at) of the outbox entries this run saw
        self.vanished = set()  # remote ids a write found deleted: the next round plans them as deletions
        self.unreadable = set()  # remote ids of events skipped as unreadable: neither deleted nor changed
        self.rewritten = 0  # changed occurrences written again after the provider rebuilt their series
        self.side = local.Side(calendar, origin=services.origin_of(calendar.pk), report=self.skip,
                               storable=provider.storable, step=lease.step, reached=reached)

    def execute(self):
        for _round in range(ROUNDS):
            if not self.round():
                break

    def round(self) -> bool:
        """One pull, plan and apply; returns whether writes were refused as stale (pull again)."""
        self.lease.keep()
        changes = self.provider.changes(self.calendar.remote_id, self.calendar.cursor, self.window)
        self.run.full = self.run.full or changes.full
        remote, meta, cancelled = {}, {}, []
        self.take(changes.events, remote, meta, cancelled)
        horizon = self.calendar.window_end
        if changes.full or horizon is None:
            horizon = self.window[1]
        elif self.window[1] - horizon >= HORIZON_STEP:  # events the horizon reached: a cursor may never tell
            self.take(self.provider.listing(self.calendar.remote_id, (horizon, self.window[1])), remote, meta,
                      cancelled)
            horizon = self.window[1]
        remote.update({remote_id: None for remote_id in self.vanished if remote_id not in remote})
        if self.died_at is not None and not changes.full:
            self.recheck_links_of_the_dead_run(remote, meta, cancelled)
        outbox = list(OutboxEntry.objects.filter(calendar=self.calendar, attempts__lt=app_settings.OUTBOX_ATTEMPTS))
        self.read.update((entry.pk, entry.queued_at) for entry in outbox)
        changed_local = self.side.changed({entry.action_id for entry in outbox})
        links = self.side.links(None if changes.full else set(remote), set(changed_local))
        self.follow_restored(links, remote, changed_local)
        by_remote = {link.remote_id: link for link in links}
        bases = {link.remote_id: local.base_of(link, remote.get(link.remote_id)) for link in links}
        self.settle([link for link in links if link.pending and remote.get(link.remote_id)], bases)
        for remote_id, item in meta.items():
            if item.covered and remote.get(remote_id) is not None:
                remote[remote_id] = known_exdates(remote[remote_id], bases.get(remote_id), item.covered)
        missing = [remote_id for remote_id, base in bases.items()
                   if remote_id not in remote and remote_id not in self.unreadable and self.listed(base)]
        if changes.full and missing:  # deleted, or moved out of the window: a full listing cannot tell
            self.take(self.provider.fetch(self.calendar.remote_id, missing), remote, meta, cancelled)
        reached("pulled")
        held = self.unreadable_links(links, changed_local)
        if held:
            links = [link for link in links if link.remote_id not in self.unreadable]
            by_remote = {link.remote_id: link for link in links}
        pairs = self.reclaim(remote, meta, changed_local, by_remote, outbox)
        pairs += self.pair(remote, changed_local, by_remote, pairs, full=changes.full)
        result = plan(
            [Link(str(link.action_id), link.remote_id, bases[link.remote_id]) for link in links] + pairs,
            {str(pk): event for pk, event in changed_local.items()}, remote,
            direction=self.direction, local_times=self.side.times,
            current_local=self.side.current(links, changed_local, remote),
            current_remote={remote_id: base for remote_id, base in bases.items() if remote_id not in remote},
            remote_times={remote_id: item.updated for remote_id, item in meta.items()},
            max_trash_share=1.0 if self.calendar.deletions_confirmed else app_settings.MASS_DELETE_SHARE,
            min_links_for_guard=app_settings.MASS_DELETE_MIN_LINKS,
            linked=len(links) if changes.full else self.side.linked_count())
        if result.paused:
            self.run.error = _("Held: %(what)s. If that is right, resume sync of this calendar; otherwise check "
                               "the calendar at the provider.") % {"what": result.paused}
            if not self.run.dry_run:
                with self.lease.step():
                    RemoteCalendar.objects.filter(pk=self.calendar.pk).update(hold=self.run.error)
            return False
        ops = [self.theirs(op, remote) for op in result.ops if self.wanted(op, meta)]
        ops = [op for op in ops if op is not None]
        if self.run.dry_run:
            self.run.report += [f"{op.kind} {op.local_id or op.remote_id} {op.event.summary if op.event else ''}"
                                .strip() for op in ops]
            self.count(ops)
            return False
        self.side.apply(ops, by_remote, meta, cancelled if self.direction.pulls else [], pushes=self.direction.pushes,
                        remote=remote)
        stale, failed = self.push([op for op in ops if op.kind.endswith("_remote")], by_remote)
        failed.update(held)
        if outbox or failed:
            with self.lease.step():
                self.side.clear_outbox(outbox, stale=stale, failed=failed)
        reached("outbox cleared")
        cursor = self.provider.cursor_after_writes(changes.cursor)
        kept = (self.calendar.cursor, self.calendar.window_start, self.calendar.window_end)
        if kept != (cursor, self.window[0], horizon) or self.calendar.deletions_confirmed:
            with self.lease.step():  # only now: what the cursor covers is stored
                RemoteCalendar.objects.filter(pk=self.calendar.pk).update(
                    cursor=cursor, window_start=self.window[0], window_end=horizon, deletions_confirmed=False)
        calendar = self.calendar
        calendar.cursor, calendar.window_start, calendar.window_end = cursor, self.window[0], horizon
        calendar.deletions_confirmed = False
        reached("cursor kept")
        self.count(ops)
        return bool(stale)

    def follow_restored(self, links, remote, changed_local):
        """An appointment deleted here while its event changed in this calendar comes back (the deletion gives
        way to the edit); when it came back already through another calendar, as an appointment of the same
        UID, the link follows that one, and the merge weighs this event's changes and that appointment's
        against what both last agreed on, instead of importing a second copy (which the UID refuses)."""
        orphans = [link for link in links if link.ical_uid and link.action_id in changed_local
                   and changed_local[link.action_id] is None and remote.get(link.remote_id) is not None
                   and not remote[link.remote_id].recurrence_id]  # a series or single event: by its UID
        if not orphans or self.run.dry_run:
            return
        back = {event.uid: pk for pk, event in self.side.candidates(None, {link.ical_uid for link in orphans}).items()
                if not event.recurrence_id}
        for link in orphans:
            pk = back.get(link.ical_uid)
            if pk is None:
                continue
            with self.lease.step():
                EventLink.objects.filter(pk=link.pk).update(action_id=pk)
            del changed_local[link.action_id]
            link.action_id = pk
            changed_local[pk] = self.side.seen[str(pk)]

    def recheck_links_of_the_dead_run(self, remote, meta, cancelled):
        """A run that died after linking events but before keeping its cursor pulls again from the old cursor,
        and a server may leave out of that report an event made after it and deleted since (RFC 6578 3.5.2
        asks only for members that existed): what the dead run linked is read again, once."""
        recent = [remote_id for remote_id in EventLink.objects.filter(
            calendar=self.calendar, synced_at__gte=self.died_at).values_list("remote_id", flat=True)
            if remote_id not in remote]
        self.died_at = None
        if recent:
            self.take(self.provider.fetch(self.calendar.remote_id, recent), remote, meta, cancelled)

    def settle(self, links, bases):
        """Keep as agreed what a dead run's updates wrote and the calendar now shows (local.base_of)."""
        if links and not self.run.dry_run:
            with self.lease.step():
                for link in links:
                    agreed = bases[link.remote_id]
                    link.base, link.pending = (to_json(agreed) if agreed else link.base), None
                EventLink.objects.bulk_update(links, ["base", "pending"])

    def unreadable_links(self, links, changed_local) -> dict:
        """Leave out of this round the appointments whose remote event could not be read: not deleted (a full
        listing lacks it), not overwritten. Their own changes wait in the outbox, with why."""
        why = _("its event in the calendar cannot be read; see the skipped events")
        held = {str(link.action_id): why for link in links if link.remote_id in self.unreadable}
        for pk in held:
            changed_local.pop(int(pk), None)
        return held

    def reclaim(self, remote, meta, changed_local, by_remote, outbox):
        """Pair the remote events a run pushed but did not live to link (it died before committing) with
        their appointments, by UID: the outbox still holds them. One deleted since is deleted remotely too,
        the event being as that run wrote it; one still linked elsewhere finds it again by its write's key.
        A series and its changed occurrences share a UID: a remote series pairs with the series only."""
        linked = {link.action_id for link in by_remote.values()}
        by_uid = {}
        for entry in outbox:
            if entry.uid:
                by_uid.setdefault(entry.uid, []).append(entry.action_id)
        pairs = []
        for remote_id, event in remote.items():
            if event is None or event.recurrence_id or remote_id in by_remote or event.uid not in by_uid:
                continue
            ids = by_uid[event.uid]
            alive = [pk for pk in ids if changed_local.get(pk) is not None]
            if not alive:
                by_remote[remote_id] = EventLink(calendar=self.calendar, action_id=ids[0], remote_id=remote_id,
                                                 ical_uid=event.uid, etag=meta[remote_id].etag)
                pairs.append(Link(str(ids[0]), remote_id, event))
                continue
            series = [pk for pk in alive if not changed_local[pk].recurrence_id and pk not in linked]
            if series:
                pairs.append(Link(str(series[0]), remote_id, None))
        return pairs

    def pair(self, remote, changed_local, by_remote, reclaimed, *, full):
        """Match unlinked remote events with unlinked appointments: on a full listing (a first sync, a reset,
        a lost cursor) by UID or content, among the owner's appointments of the window; on any listing by
        UID, among all (the same meeting reached the CRM through another calendar: one appointment, linked
        to both)."""
        taken = {pair.remote_id for pair in reclaimed}
        unlinked = {remote_id: event for remote_id, event in remote.items()
                    if event is not None and remote_id not in by_remote and remote_id not in taken}
        if not unlinked and not full:
            return []
        taken = {int(pair.local_id) for pair in reclaimed}
        candidates = {pk: event for pk, event in self.side.candidates(
            self.window if full else None, {event.uid for event in unlinked.values()}).items() if pk not in taken}
        pairs = match({str(pk): event for pk, event in candidates.items()}, unlinked, by_content=full)
        for pair in pairs:
            changed_local[int(pair.local_id)] = candidates[int(pair.local_id)]
        exporting = self.direction.pushes and self.calendar.is_destination and full
        if self.first and self.calendar.first_sync == FirstSync.SINCE and exporting:
            paired = {int(pair.local_id) for pair in pairs}
            changed_local.update({pk: event for pk, event in candidates.items()
                                  if pk not in paired and pk not in self.side.imported_elsewhere})
        return pairs

    def take(self, items, remote, meta, cancelled):
        """Sort what the provider said: events (None: deleted), occurrences cancelled on their own, and
        unreadable events, reported and skipped: whatever one holds, it never stops the run."""
        for item in items:
            try:
                if not _storable_ids(item):
                    self.skip(_("A remote event was skipped: its id, ETag or UID cannot be stored (%(id)s)") % {
                        "id": repr(str(item.remote_id)[:80])})
                elif item.problem:
                    self.unreadable.add(item.remote_id)
                    self.skip(_("Remote event %(id)s skipped: %(problem)s") % {"id": item.remote_id,
                                                                              "problem": item.problem})
                elif item.event is None and item.occurrence:
                    cancelled.append(item)
                else:
                    remote[item.remote_id] = self.readable(item.event)
                    meta[item.remote_id] = item
            except Exception as exc:
                log.info("Remote event %r unreadable", item.remote_id, exc_info=True)
                remote.pop(item.remote_id, None)
                self.unreadable.add(item.remote_id)
                self.skip(_("Remote event %(id)s skipped: %(problem)s") % {
                    "id": str(item.remote_id)[:200], "problem": unreadable(exc)})

    def readable(self, event):
        """The remote event as the plan compares it; raises if anything the run does with it cannot be done."""
        if event is None:
            return None
        event = self.provider.storable(normalized(event))
        fingerprint(event)
        overlaps(event, *self.window)
        return event

    def listed(self, base) -> bool:
        """Whether a full listing of the window should have held this linked event (a day wider on each
        side: all-day events are bounded in the calendar's zone)."""
        start, end = self.window
        return base is not None and overlaps(base, start - timedelta(days=1), end + timedelta(days=1))

    def wanted(self, op, meta) -> bool:
        """Leave out remote events the calendar's choices exclude: beyond the horizon, before the synced
        period, and on a first sync "from now on", everything that exists already (P2)."""
        if op.kind != "create_local":
            return True
        if self.first and self.calendar.first_sync == FirstSync.FROM_NOW:
            return False
        event = op.event
        if event.recurrence_id:
            return True  # follows its series, which is checked on its own
        start, end = self.window
        if not overlaps(event, start, end):
            return False
        updated = meta[op.remote_id].updated
        return self.calendar.first_sync == FirstSync.SINCE or updated is None or updated >= self.calendar.window_start

    def theirs(self, op, remote):
        """An appointment another user owns is linked here as the same meeting (one appointment, not two),
        and only that: this calendar neither changes it nor is changed by it; deleted here, it is unlinked."""
        if op.local_id not in self.side.others or op.kind in ("link", "unlink"):
            return op
        if op.kind == "trash_local":
            return Op("unlink", local_id=op.local_id, remote_id=op.remote_id)
        if op.remote_id and remote.get(op.remote_id) is not None:  # linked as this calendar has it
            return Op("link", local_id=op.local_id, remote_id=op.remote_id, event=remote[op.remote_id])
        return None

    def push(self, ops, links):
        """Send the remote operations in the provider's batches; return the local ids to pull and try again
        (changed remotely meanwhile) and those that failed, with why."""
        stale, failed = set(), {}
        # Changed occurrences go after their series': a new one is written as an occurrence of its series'
        # remote event, and a series the provider rebuilds has them all written again.
        series = [op for op in ops if not (op.event and op.event.recurrence_id)]
        occurrences = [op for op in ops if op.event and op.event.recurrence_id]
        size = self.provider.write_batch
        done, total = 0, len(ops)
        while series or occurrences:
            if series:
                chunk, series = series[:size], series[size:]
            else:
                chunk, occurrences = occurrences[:size], occurrences[size:]
            chunk = [(op, write) for op in chunk if (write := self.side.write_for(op, links))]
            if any(write.kind == "update" for _, write in chunk):
                with self.lease.step():  # what goes out is known, should this worker die before recording it
                    self.side.intend([write for _, write in chunk], links)
            if chunk:
                self.lease.keep()
            results = self.provider.write(self.calendar.remote_id, [write for _, write in chunk]) if chunk else []
            reached("pushed")
            if chunk:
                with self.lease.step():
                    occurrences, total = self.recorded(chunk, results, links, stale, failed, occurrences, total)
            reached("recorded")
            done += len(chunk)
            if self.progress:
                self.progress(min(done, total), total)
        return stale, failed

    def recorded(self, chunk, results, links, stale, failed, occurrences, total):
        """Keep what one batch of writes did: links and their base, or why a write is to be tried again. Returns
        the occurrences still to write (a series the provider rebuilt has its changed ones written again)."""
        for (op, write), result in zip(chunk, results, strict=True):
            if write.kind == "delete" and result.status == "gone":  # deleted already (an earlier attempt, another
                result = replace(result, status="ok")  # client, or with its series): what was asked is done
            occurrence = write.kind == "create" and op.event.recurrence_id
            if result.status == "stale" or (result.status == "gone" and write.kind != "delete"
                                            and not occurrence):
                stale.add(op.local_id)  # the pull shows what changed, and the plan's rules decide again
                if result.status == "gone" and write.kind == "update":
                    self.vanished.add(op.remote_id)  # a deletion the pull may not show (an old cursor)
                self.side.dropped.add(id(op))
            elif result.status in ("failed", "gone"):  # gone: the series has no such occurrence there
                why = result.message or _("its series has no such occurrence in this calendar")
                failed[op.local_id] = why
                self.side.dropped.add(id(op))
                self.skip(_("%(summary)s not written to the calendar: %(why)s") % {
                    "summary": op.event.summary if op.event else op.remote_id, "why": why})
            else:
                self.written(op, write, result, links, failed)
                if result.rebuilt:  # its changed occurrences are written again, once each
                    again = self.side.overrides_again([op.local_id])
                    rewritten = {again_op.local_id for again_op in again}
                    replaced = {other.local_id for other in occurrences if other.local_id in rewritten}
                    occurrences = [other for other in occurrences if other.local_id not in rewritten] + again
                    total += len(rewritten - replaced)
                    self.rewritten += len(rewritten - replaced)  # those replaced count as what they were
        self.side.flush()
        return occurrences, total

    def written(self, op, write, result, links, failed):
        """Record a write the provider made. Made otherwise than asked (`result.held`: a cancelled occurrence
        it could not delete, say), the link keeps what the provider holds and the change stays in the
        outbox, to be tried again."""
        self.side.written(op, write, result, links)
        self.side.record_conflicts(op)
        exact = self.side.exact.get(op.local_id)
        note = self.provider.inexact(exact) if exact and write.kind != "delete" else ""
        if note:  # written as closely as the provider allows; the CRM keeps its own
            self.run.report.append(note)
        if result.message:
            failed[op.local_id] = result.message
            self.skip(_("%(summary)s written in part: %(why)s") % {"summary": op.event.summary, "why": result.message})

    def count(self, ops):
        kinds = [op.kind for op in ops if id(op) not in self.side.dropped]
        self.run.created += kinds.count("create_local") + kinds.count("create_remote")
        self.run.updated += kinds.count("update_local") + kinds.count("update_remote") + self.rewritten
        self.rewritten = 0
        self.run.deleted += kinds.count("trash_local") + kinds.count("delete_remote")
        self.run.conflicts += sum(len(op.conflicts) for op in ops)

    def skip(self, line):
        self.run.skipped += 1
        self.run.report.append(clean(line))


def _storable_ids(item) -> bool:
    """Whether what identifies a remote event fits the database as it is: it cannot be cleaned, it names it."""
    uid = item.event.uid if item.event else ""
    return all(clean(text) == text and len(text) <= field.max_length for text, field in (
        (item.remote_id, EventLink.remote_id.field), (item.etag or "", EventLink.etag.field),
        (uid, Action.uid.field)))


def _window_start(calendar, now):
    if calendar.first_sync == FirstSync.SINCE and calendar.first_sync_since:
        return datetime.combine(calendar.first_sync_since, datetime.min.time(), UTC)
    return now

