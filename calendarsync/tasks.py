"""Celery tasks: thin, idempotent, given ids. The engine does the work under the calendar's lease.

Nothing imports this module but Celery: the rest of the app queues these by name (calendarsync.jobs).
"""

import random
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from calendarsync import app_settings, engine, freebusy, jobs, selectors, services
from calendarsync.models import ExternalAccount, RemoteCalendar, SyncRun, TrashedAction, Trigger
from crm import services as crm_services

BUSY_RETRIES = 8  # waits doubling from PUSH_DELAY_SECONDS: about eight minutes in all


@shared_task(bind=True, max_retries=BUSY_RETRIES)
def sync_calendar(self, calendar_id, trigger=Trigger.MANUAL):
    """Sync one calendar. When another worker holds it, try again later; and a run that ends with changes
    queued while it ran queues their push itself, so none waits for the periodic pull."""
    try:
        run = engine.sync(calendar_id, trigger=trigger)
    except engine.Busy as exc:
        wait = app_settings.PUSH_DELAY_SECONDS * 2 ** self.request.retries + random.random()  # noqa: S311
        raise self.retry(countdown=wait) from exc
    if run is not None and run.queued_meanwhile:
        jobs.push_soon(calendar_id)
    return run.pk if run else None


@shared_task
def refresh_calendars(account_id, force=False):
    """Read an account's calendars again, off the page that noticed they were due (or the consent's return)."""
    account = ExternalAccount.objects.filter(pk=account_id).first()
    return account is not None and services.calendars_refresh(account, force=force)


@shared_task
def fetch_free_busy(account_id, start, end):
    """Live free/busy of an account's calendars the CRM does not import, for availability's short cache."""
    figures = freebusy.fetch(account_id, datetime.fromisoformat(start), datetime.fromisoformat(end))
    return figures and {"requests": figures["requests"], "seconds": figures["seconds"], "error": figures["error"]}


@shared_task
def pull_user(user_id):
    ids = list(selectors.calendars_to_pull().filter(account__user_id=user_id).values_list("pk", flat=True))
    for calendar_id in ids:
        sync_calendar.delay(calendar_id, Trigger.AGENDA)
    return len(ids)


@shared_task
def pull_all():
    """Celery beat's periodic pull, spread over a quarter of the period so as not to burst the providers."""
    spread = app_settings.PULL_MINUTES * 60 / 4
    ids = list(selectors.calendars_to_pull().values_list("pk", flat=True))
    for calendar_id in ids:
        sync_calendar.apply_async((calendar_id, Trigger.SCHEDULE), countdown=random.random() * spread)  # noqa: S311
    return len(ids)


@shared_task
def purge():
    """Forget appointments trashed, runs recorded and the CRM's removals, long enough ago (a calendar's last run
    stays)."""
    now = timezone.now()
    trashed = TrashedAction.objects.filter(trashed_at__lt=now - timedelta(days=app_settings.TRASH_DAYS)).delete()[0]
    runs = SyncRun.objects.filter(started_at__lt=now - timedelta(days=app_settings.RUNS_KEPT_DAYS)).exclude(
        pk__in=RemoteCalendar.objects.exclude(last_run=None).values("last_run")).delete()[0]
    return {"trashed": trashed, "runs": runs, "removals": crm_services.removals_purge()}

