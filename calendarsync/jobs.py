"""What pages, the API, the admin and the receivers queue for a worker; none of them calls a provider.

Tasks are named, not imported: what writes never imports the engine (tasks import the engine, which
imports services), so the task modules stay the top of the dependency graph. Queuing never fails a
request: with the broker down the change is still in the outbox, and the periodic pull sends it.
"""

import logging

from celery import current_app
from django.core.cache import cache

from calendarsync import app_settings
from calendarsync.models import Trigger

log = logging.getLogger(__name__)


def _queue(task, *args, countdown=None) -> bool:
    try:
        current_app.signature(f"calendarsync.tasks.{task}", args=args).apply_async(countdown=countdown)
    except Exception:  # the broker's own errors vary by transport; the work waits for the periodic pull
        log.exception("Could not queue %s%r", task, args)
        return False
    return True


def push_soon(calendar_id):
    """Queue a push; saves arriving before it starts ride along (one task per calendar per delay)."""
    delay = app_settings.PUSH_DELAY_SECONDS
    if cache.add(f"calendarsync:push:{calendar_id}", 1, timeout=delay):
        _queue("sync_calendar", calendar_id, Trigger.SAVE, countdown=delay)


def pull_soon(user_id):
    """The agenda was opened (G5): pull the user's calendars, at most every AGENDA_PULL_SECONDS."""
    if cache.add(f"calendarsync:agenda:{user_id}", 1, timeout=app_settings.AGENDA_PULL_SECONDS):
        _queue("pull_user", user_id)


def free_busy_soon(account_id, start, end, *, countdown=0.0):
    """Fetch an account's live free/busy for whole weeks [start, end): once while it is being fetched; after
    `countdown` seconds where the CRM is writing to it."""
    if cache.add(f"calendarsync:busy-queued:{account_id}:{start:%Y%m%d}:{end:%Y%m%d}", 1,
                 timeout=app_settings.FREE_BUSY_ERROR_SECONDS + int(countdown)):
        _queue("fetch_free_busy", account_id, start.isoformat(), end.isoformat(), countdown=countdown or None)


def sync_now(calendar_id, trigger=Trigger.MANUAL) -> bool:
    return _queue("sync_calendar", calendar_id, trigger)


def refresh_calendars(account_id, *, force=False) -> bool:
    """Read an account's calendars again: at most once per CALENDAR_REFRESH_SECONDS, unless `force`d (just
    connected, or asked for). Unforced, once per that delay at most: each page visit need not queue one."""
    key, delay = f"calendarsync:calendars:{account_id}", app_settings.CALENDAR_REFRESH_SECONDS
    if force:
        cache.set(key, 1, timeout=delay)  # the page the user lands on next need not queue another
    elif not cache.add(key, 1, timeout=delay):
        return False
    return _queue("refresh_calendars", account_id, force)
