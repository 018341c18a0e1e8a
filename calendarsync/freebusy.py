"""Live free/busy of the calendars the CRM does not import, as a source of crm.availability.

No page waits on a provider: `answers` reads a short cache and queues a fetch of what it does not hold,
saying *pending* meanwhile (never *free*). A fetch asks each account once for all its calendars where the
provider allows it (Google's freebusy.query, one Graph `$batch`; CalDAV, a free-busy-query per calendar).
What is fetched is kept by account and UTC week, so that a day, a week and a fortnight share it.
"""

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from calendarsync import app_settings, jobs, selectors, services
from calendarsync.models import Direction, EventLink, ExternalAccount, FirstSync, RemoteCalendar
from calendarsync.providers import AuthorizationLost, ProviderUnavailable
from crm.availability.intervals import merged
from crm.availability.sources import MISSING, PENDING, SourceAnswer

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)
MONDAY = datetime(2001, 1, 1, tzinfo=UTC)
SETTLE_SECONDS = 5  # after a push is due, before its calendar is asked again


def live_calendars(users) -> dict[int, list[RemoteCalendar]]:
    """Per user id, the calendars whose events make them busy and whose busy times the CRM does not hold (not
    imported, or imported only from now on, or not yet, or not now: its account or its sync failing): one
    query for all."""
    found = defaultdict(list)
    for calendar in RemoteCalendar.objects.filter(account__user__in=users, gone_at__isnull=True).select_related(
            "account").order_by("account_id", "name", "pk"):
        if calendar.counts_for_availability and not _imported(calendar):
            found[calendar.account.user_id].append(calendar)
    return found


def _imported(calendar) -> bool:
    return (calendar.selected and calendar.enabled and not calendar.hold and calendar.direction != Direction.EXPORT
            and calendar.first_sync == FirstSync.SINCE and calendar.last_synced_at is not None
            and not calendar.error and calendar.account.is_active)


def not_busy(user_ids) -> set[int]:
    """The appointments imported from calendars that do not make their owner busy (a colleague's, holidays):
    a rule of crm.availability. One query, and one more where there are such calendars."""
    calendars = [calendar.pk for calendar in RemoteCalendar.objects.filter(
        account__user__in=user_ids, selected=True).select_related("account") if not calendar.counts_for_availability]
    if not calendars:
        return set()
    return set(EventLink.objects.filter(calendar__in=calendars, imported=True).values_list("action_id", flat=True))


def calendars_written(calendar_ids) -> None:
    """The CRM is writing to these calendars: what was fetched of their accounts no longer holds (an
    appointment moved would still be in its old place there). Asked again once the push is out."""
    settled = time.time() + app_settings.PUSH_DELAY_SECONDS + SETTLE_SECONDS
    accounts = set(RemoteCalendar.objects.filter(pk__in=calendar_ids).values_list("account_id", flat=True))
    cache.set_many({_generation_key(account_id): settled for account_id in accounts}, timeout=None)


def source_name(calendar) -> str:
    return f"{calendar.account.get_provider_display()}: {calendar.name}"


def answers(users, start: datetime, end: datetime) -> dict[int, list[SourceAnswer]]:
    """Each user's live calendars' answers for [start, end), from the cache; what it lacks is queued."""
    by_account = defaultdict(list)
    for calendars in live_calendars(users).values():
        for calendar in calendars:
            by_account[calendar.account].append(calendar)
    weeks = _weeks(start, end)
    generations = _generations(by_account)
    held = _held(generations, weeks)
    missing = {account: [week for week in weeks if not _covers(held.get((account.pk, week)), calendars)]
               for account, calendars in by_account.items() if account.is_active}
    for account, absent in missing.items():
        if absent:
            jobs.free_busy_soon(account.pk, absent[0], absent[-1] + WEEK,
                                countdown=max(0.0, generations[account.pk] - time.time()))
    if any(missing.values()):  # a worker in this process (tests, a shell) may have fetched them meanwhile
        held |= _held({account_id: generations[account_id] for account_id in
                       {account.pk for account, absent in missing.items() if absent}}, weeks)
    found = defaultdict(list)
    for account, calendars in by_account.items():
        for calendar in calendars:
            found[account.user_id].append(_answer(account, calendar, [held.get((account.pk, week)) for week in weeks],
                                                  start, end))
    return found


def _answer(account, calendar, entries, start, end) -> SourceAnswer:
    name, public = source_name(calendar), account.get_provider_display()
    if not account.is_active:
        return SourceAnswer(name, MISSING, public_name=public, reason=selectors.account_problem(account))
    if not all(_covers(entry, [calendar]) for entry in entries):
        return SourceAnswer(name, PENDING, public_name=public, reason=_("asking %(provider)s") % {"provider": public})
    fetches = {id(entry): entry for entry in entries}.values()
    answer = SourceAnswer(name, public_name=public, requests=sum(entry["requests"] for entry in fetches),
                          fetched_at=min(entry["fetched_at"] for entry in fetches))
    for entry in entries:
        problem = entry["error"] or entry["calendars"][calendar.remote_id]["problem"]
        if problem:
            answer.state, answer.reason, answer.busy = MISSING, problem, []
            return answer
        answer.busy += [(begin, stop) for begin, stop in entry["calendars"][calendar.remote_id]["busy"]
                        if begin < end and stop > start]
    answer.busy = merged(answer.busy)  # a time kept in two weeks' entries is one again
    return answer


def fetch(account_id: int, start: datetime, end: datetime) -> dict | None:
    """Ask the provider for the account's live calendars over whole weeks [start, end), and keep the answer
    (an error too, for a shorter while, so that pages say what is missing rather than ask again at once)."""
    account = ExternalAccount.objects.filter(pk=account_id).select_related("user").first()
    if account is None or not account.is_active:
        return None
    calendars = live_calendars([account.user]).get(account.user_id, [])
    calendars = [calendar for calendar in calendars if calendar.account_id == account.pk]
    if not calendars:
        return None
    generation = _generations([account.pk])[account.pk]  # a write meanwhile makes this answer stale, unread
    began, provider, error, found = time.perf_counter(), services.provider_for(account), "", {}
    try:
        found = provider.free_busy([calendar.remote_id for calendar in calendars], start, end)
    except AuthorizationLost as exc:
        services.account_lost(account, exc.problem, str(exc))
        error = selectors.account_problem(account)
    except ProviderUnavailable as exc:
        error = _("%(provider)s could not be asked: %(reason)s") % {"provider": account.get_provider_display(),
                                                                     "reason": exc}
    except Exception:  # anything a provider sends: this source is missing, never the page
        log.exception("Free/busy of account %s could not be read", account.pk)
        error = _("%(provider)s sent an answer that could not be read.") % {"provider": account.get_provider_display()}
    figures = {"requests": provider.usage.requests, "seconds": round(time.perf_counter() - began, 3),
               "fetched_at": timezone.now(), "error": error}
    for week in _weeks(start, end):
        entry = figures | {"calendars": {cid: {"busy": [(max(begin, week), min(stop, week + WEEK))
                                                        for begin, stop in answer.busy
                                                        if begin < week + WEEK and stop > week],
                                               "problem": answer.problem} for cid, answer in found.items()}}
        for calendar in calendars:
            entry["calendars"].setdefault(calendar.remote_id, {"busy": [], "problem": _("no answer for it")})
        if error:
            entry["calendars"] = {calendar.remote_id: {"busy": [], "problem": error} for calendar in calendars}
        cache.set(_key(account.pk, generation, week), entry, timeout=app_settings.FREE_BUSY_ERROR_SECONDS if error
                  else app_settings.FREE_BUSY_SECONDS)
    return figures


def _weeks(start, end) -> list[datetime]:
    first = MONDAY + (start - MONDAY) // WEEK * WEEK
    return [first + number * WEEK for number in range(-(-(end - first) // WEEK))]


def _key(account_id, generation, week) -> str:
    return f"calendarsync:busy:{account_id}:{generation}:{week:%Y%m%d}"


def _generation_key(account_id) -> str:
    return f"calendarsync:busy-generation:{account_id}"


def _generations(accounts) -> dict[int, float]:
    """Each account's generation: when the CRM last wrote to it (plus the push's delay), 0 if not lately."""
    ids = [getattr(account, "pk", account) for account in accounts]
    found = cache.get_many([_generation_key(account_id) for account_id in ids])
    return {account_id: found.get(_generation_key(account_id), 0) for account_id in ids}


def _held(generations: dict[int, float], weeks) -> dict:
    keys = {_key(account_id, generation, week): (account_id, week) for account_id, generation in generations.items()
            for week in weeks}
    return {keys[key]: entry for key, entry in cache.get_many(list(keys)).items()}


def _covers(entry, calendars) -> bool:
    return entry is not None and all(calendar.remote_id in entry["calendars"] for calendar in calendars)
