"""A calendar's lease: the one worker that runs it, and until when.

A run claims its calendar with a lease instead of holding a row lock for its whole length: the lease
names its owner and expires, and the run renews it before each provider call and in each step that
writes. A worker that dies simply stops renewing; once the lease has run out, the next run claims the
calendar and finishes the work (every step it left done is committed, every step it did not is
still to do).

Each writing step is a short transaction that begins by renewing the lease. The renewal is an UPDATE
of the calendar's row, so it holds that row until the step commits: a run that lost its lease (it
stalled past the expiry and another claimed the calendar) finds out before it writes anything, and
no two runs' steps ever interleave.
"""

import os
import socket
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendarsync import app_settings
from calendarsync.models import RemoteCalendar


class Busy(Exception):
    """Another worker holds this calendar's lease."""


class LeaseLost(Exception):
    """This run's lease ran out and another run took the calendar over."""


class Lease:
    def __init__(self, calendar_id, owner, *, interrupted):
        self.calendar_id, self.owner = calendar_id, owner
        self.interrupted = interrupted  # the previous holder never released it: its run was cut short
        self.renewed = time.monotonic()

    @classmethod
    def claim(cls, calendar_id) -> "Lease":
        """Take the calendar's lease if it is free or has expired; raise Busy otherwise."""
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        now = timezone.now()
        free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
        rows = RemoteCalendar.objects.filter(pk=calendar_id)
        previous = rows.filter(free).values_list("lease_owner", flat=True).first()
        # One UPDATE decides: on PostgreSQL, a concurrent claim waits for the row and then finds it taken.
        if previous is None or not rows.filter(free).update(lease_owner=owner, lease_expires_at=_until(now)):
            raise Busy(calendar_id)
        return cls(calendar_id, owner, interrupted=bool(previous))

    def renew(self):
        """Keep the calendar for another LEASE_SECONDS; raise LeaseLost if another run holds it now."""
        if not RemoteCalendar.objects.filter(pk=self.calendar_id, lease_owner=self.owner).update(
                lease_expires_at=_until(timezone.now())):
            raise LeaseLost(self.calendar_id)
        self.renewed = time.monotonic()

    def keep(self):
        """Before a provider call: renew, unless that was done a moment ago (a tenth of the lease)."""
        if time.monotonic() - self.renewed > app_settings.LEASE_SECONDS / 10:
            self.renew()

    @contextmanager
    def step(self):
        """One short transaction of the run, fenced by the lease (see the module's docstring)."""
        with transaction.atomic():
            self.renew()
            yield

    def release(self):
        RemoteCalendar.objects.filter(pk=self.calendar_id, lease_owner=self.owner).update(
            lease_owner="", lease_expires_at=None)


def _until(now):
    return now + timedelta(seconds=app_settings.LEASE_SECONDS)
