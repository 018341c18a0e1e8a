"""Sync one user's calendars, or one calendar, now: `manage.py sync --user alice [--dry-run]`."""

from django.core.management.base import BaseCommand, CommandError

from calendarsync import engine
from calendarsync.models import RemoteCalendar, Trigger

BAR = 30


class Command(BaseCommand):
    help = "Sync selected calendars now, showing the progress of remote writes."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username whose selected calendars to sync")
        parser.add_argument("--calendar", type=int, help="id of one remote calendar")
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")

    def handle(self, *args, user=None, calendar=None, dry_run=False, **options):
        if not user and not calendar:
            raise CommandError("Give --user or --calendar.")
        calendars = RemoteCalendar.objects.filter(selected=True).select_related("account")
        calendars = calendars.filter(pk=calendar) if calendar else calendars.filter(account__user__username=user)
        if not calendars:
            raise CommandError("No selected calendar matches.")
        for remote in calendars:
            self.stdout.write(f"{remote.account.email} / {remote.name}")
            try:
                run = engine.sync(remote.pk, trigger=Trigger.MANUAL, dry_run=dry_run, progress=self.progress)
            except engine.Busy:
                self.stdout.write("  busy: another worker is syncing it")
                continue
            if run is None:
                self.stdout.write("  not synced: paused, held, or its account needs reconnecting")
                continue
            self.stdout.write(f"\n  created {run.created}, updated {run.updated}, deleted {run.deleted}, "
                              f"conflicts {run.conflicts}, skipped {run.skipped}; {run.requests} requests, "
                              f"{run.seconds:.2f} s")
            for line in run.report:
                self.stdout.write(f"  {line}")
            if run.error:
                self.stderr.write(f"  {run.error}")

    def progress(self, done, total):
        filled = BAR * done // total if total else BAR
        self.stdout.write(f"\r  [{'#' * filled}{' ' * (BAR - filled)}] {done}/{total} written", ending="")
        self.stdout.flush()
