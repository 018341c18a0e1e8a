"""Writing to an Outlook calendar in as few $batch requests as Graph allows.

Creates carry a transactionId, so a create retried after a lost answer finds the event it made.
Updates and deletions carry the ETag they were planned on (If-Match): a 412 is a "stale" result,
and the engine pulls before it tries again. Graph changes a series in ways Google does not:
- patching a master's times or rule makes Outlook rebuild its occurrences and drop their changes,
  so those are sent only when they really changed (the master is read first);
- a series holds no list of cancelled occurrences: each is deleted, by its own id;
- a changed occurrence is written by patching the occurrence, found by its original start.
Graph has no way to keep Outlook from e-mailing attendees when their organizer's event changes;
this module never writes attendees, and writes an event only when the CRM changed it.
"""

from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote

from calendarsync.core.event import CONTENT, key_instant
from calendarsync.core.normalize import normalized

from ..base import WriteResult
from .graph import LONGEST_VIEW, PAGE_SIZE, event_url, gone, instances_url
from .mapping import Unreadable, category_for, from_graph, key_of, storable, to_graph, transaction_id

RESHAPING = ("isAllDay", "start", "end", "recurrence")  # what makes Outlook rebuild a series


class Writer:
    def __init__(self, provider, calendar_id):
        self.provider, self.graph, self.calendar_id = provider, provider.graph, calendar_id
        self.rebuilt = set()  # keys of the series updates that made Outlook rebuild the series

    def write(self, writes) -> list[WriteResult]:
        results = {}
        occurrences = self._occurrence_ids([w for w in writes if w.kind == "create" and w.event.recurrence_id])
        series = [w for w in writes if w.kind == "update" and w.event.rrule and not w.event.recurrence_id]
        masters = dict(zip([w.key for w in series], self.provider.get_events([w.remote_id for w in series]),
                           strict=True))
        sending = []
        for write in writes:
            request = self._request(write, occurrences, masters.get(write.key), results)
            if request is not None:
                sending.append((write, request))
        answers = self.graph.batch([request for _, request in sending])
        for (write, _), answer in zip(sending, answers, strict=True):
            results[write.key] = self._result(write, answer)
        self._finish_replayed([(write, answer) for (write, _), answer in zip(sending, answers, strict=True)
                               if write.kind == "create" and answer.status in (200, 201)], results)
        self._cancel([write for write in writes if results[write.key].status == "ok" and write.kind != "delete"
                      and write.event.exdates and not write.event.recurrence_id], results)
        return [results[write.key] for write in writes]

    def _request(self, write, occurrences, master, results) -> dict | None:
        if write.kind == "create" and write.event.recurrence_id:
            occurrence_id = occurrences.get(write.key)
            if occurrence_id is None:  # the series or that occurrence is gone: the pull will tell
                results[write.key] = WriteResult(write.key, "gone", write.remote_id)
                return None
            return {"method": "PATCH", "url": event_url(occurrence_id), "body": self._new(write.event)}
        if write.kind == "create":
            body = {**self._new(write.event), "transactionId": transaction_id(self.calendar_id, write.event.uid)}
            return {"method": "POST", "url": f"me/calendars/{quote(self.calendar_id, safe='')}/events", "body": body}
        headers = {"If-Match": write.etag} if write.etag else {}
        if write.kind == "delete":
            return {"method": "DELETE", "url": event_url(write.remote_id), "headers": headers}
        body = to_graph(write.event)
        if write.before is not None and write.before.color != write.event.color:
            body.update(self._category(write.event))
        if master is not None:
            if master.status != 200:
                results[write.key] = self._result(write, master)
                return None
            if write.etag and master.body.get("@odata.etag") != write.etag:
                results[write.key] = WriteResult(write.key, "stale", write.remote_id, message="changed in Outlook")
                return None
            restored = write.before is not None and set(write.before.exdates) - set(write.event.exdates)
            if _same_shape(master.body, write.event) and not restored:
                body = {name: value for name, value in body.items() if name not in RESHAPING}
            else:  # Outlook rebuilds the series (the only way to bring a cancelled occurrence back)
                self.rebuilt.add(write.key)
        return {"method": "PATCH", "url": event_url(write.remote_id), "body": body, "headers": headers}

    def _new(self, event) -> dict:
        """What a new event (or occurrence) is written with: its color, if any, as a category."""
        return {**to_graph(event), **(self._category(event) if event.color else {})}

    def _category(self, event) -> dict:
        """The CRM's color as the category of the nearest color; the event's other categories go with a change
        of color (Graph replaces the list whole), and an event with no color has none of ours."""
        if not event.color:
            return {"categories": []}
        name = category_for(event.color, self.provider.palette())
        return {"categories": [name]} if name else {}

    def _result(self, write, answer) -> WriteResult:
        if answer.status in (200, 201, 204):
            if write.kind == "delete":
                return WriteResult(write.key, "ok", write.remote_id)
            return WriteResult(write.key, "ok", answer.body["id"], answer.body.get("@odata.etag", ""),
                               rebuilt=write.key in self.rebuilt)
        if gone(answer):
            return WriteResult(write.key, "gone", write.remote_id, message=answer.describe())
        if answer.status == 412:
            return WriteResult(write.key, "stale", write.remote_id, message="changed in Outlook meanwhile")
        if answer.status == 403:
            return WriteResult(write.key, "failed", write.remote_id,
                               message="Outlook refused the change (the calendar is read-only for this account)")
        return WriteResult(write.key, "failed", write.remote_id, message=answer.describe())

    def _finish_replayed(self, created, results):
        """A create retried after a lost answer gets the event made the first time, as it was then: make it
        what the retry meant."""
        stale = [(write, answer) for write, answer in created if not write.event.recurrence_id
                 and not _holds(answer.body, write.event)]
        requests_ = [{"method": "PATCH", "url": event_url(answer.body["id"]), "body": to_graph(write.event)}
                     for write, answer in stale]
        for (write, _), answer in zip(stale, self.graph.batch(requests_), strict=True):
            results[write.key] = self._result(write, answer)

    # Occurrences

    def _occurrence_ids(self, writes) -> dict[str, str]:
        """The id of the occurrence each write changes (by its series and original start), where it exists."""
        requests_ = [{"method": "GET", "url": instances_url(write.remote_id, *_around(write.event.recurrence_id)),
                      "headers": {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}} for write in writes]
        found = {}
        for write, answer in zip(writes, self.graph.batch(requests_), strict=True):
            for item in answer.body.get("value", []) if answer.status == 200 else []:  # else: gone, said later
                if key_of(item, write.event.time_zone) == write.event.recurrence_id:
                    found[write.key] = item["id"]
        return found

    def _cancel(self, writes, results):
        """Delete the occurrences of each series written that its exception dates cancel, then read the
        series' ETag again (deleting an occurrence changes its series). A deletion Graph refuses fails the
        series' write, which is then tried again."""
        asked, owners = [], []
        for write in writes:
            for start, end in _ranges(sorted(write.event.exdates)):
                asked.append((results[write.key].remote_id, start, end))
                owners.append(write)
        deletions, of = [], []
        for write, items in zip(owners, self.provider.instances(asked), strict=True):
            for item in items:
                key = key_of(item, write.event.time_zone)
                if key in write.event.exdates:
                    deletions.append({"method": "DELETE", "url": event_url(item["id"])})
                    of.append((write, key))
        if not deletions:
            return
        kept = {}  # write key -> the occurrences Graph would not delete, and why
        for (write, key), answer in zip(of, self.graph.batch(deletions), strict=True):
            if not (200 <= answer.status < 300 or gone(answer)):
                kept.setdefault(write.key, ({}, answer.describe()))[0][key] = True
        for write in writes:
            if write.key in kept:
                keys, why = kept[write.key]
                held = replace(write.event, exdates=tuple(sorted(set(write.event.exdates) - set(keys))))
                results[write.key] = replace(results[write.key], held=held,
                                             message=f"{len(keys)} cancelled occurrence(s) still in Outlook ({why})")
        ids = [results[write.key].remote_id for write in writes]
        for write, answer in zip(writes, self.provider.get_events(ids), strict=True):
            if answer.status == 200:
                results[write.key] = replace(results[write.key], etag=answer.body.get("@odata.etag", ""))


def _same_shape(master: dict, event) -> bool:
    """Whether the series already has these times and this rule, as Outlook holds them."""
    return _agrees(master, event, ("all_day", "start", "end", "time_zone", "rrule"))


def _holds(item: dict, event) -> bool:
    """Whether Outlook's event has the content of `event` (its cancellations and color written apart)."""
    return _agrees(item, event, [name for name in CONTENT if name not in ("exdates", "color")])


def _agrees(item: dict, event, names) -> bool:
    try:
        current = normalized(from_graph(item))
    except Unreadable:
        return False
    wanted = normalized(storable(event))
    return all(getattr(current, name) == getattr(wanted, name) for name in names)


def _ranges(keys):
    """Windows holding the occurrences of these keys (sorted), each as long as one request of Graph may ask."""
    ranges = []
    for key in keys:
        start, end = _around(key)
        if ranges and end - ranges[-1][0] <= LONGEST_VIEW:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _around(key: str) -> tuple[datetime, datetime]:
    """A window that holds the occurrence starting at `key`, whatever its length and zone."""
    moment = key_instant(key)
    return moment - timedelta(days=1), moment + timedelta(days=2)
