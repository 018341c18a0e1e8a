from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Provider


class Direction(models.TextChoices):
    IMPORT = "import", _("Import only: remote changes come into the CRM")
    EXPORT = "export", _("Export only: CRM changes go to the remote calendar")
    BOTH = "both", _("Two-way")


class FirstSync(models.TextChoices):
    FROM_NOW = "from_now", _("Only what is new or changed from now on")
    SINCE = "since", _("Everything since a date")


class CalendarStatus(models.TextChoices):
    """What the indicator shows, from the calendar's own state (selectors.calendar_status)."""

    OFF = "off", _("Not synced")
    PENDING = "pending", _("Waiting for the first sync")
    SYNCED = "synced", _("Synced")
    SYNCING = "syncing", _("Syncing")
    PAUSED = "paused", _("Paused")
    ERROR = "error", _("Error")
    GONE = "gone", _("Deleted remotely")


class RemoteCalendar(models.Model):
    """One calendar of an external account, as last listed, and how the user wants it synced."""

    account = models.ForeignKey("calendarsync.ExternalAccount", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="calendars")
    remote_id = models.CharField(_("calendar id at the provider"), max_length=500)
    name = models.CharField(_("name"), max_length=255)
    color = models.CharField(_("color"), max_length=7, blank=True, help_text=_("#rrggbb, as the provider shows it"))
    can_write = models.BooleanField(_("writable"), default=False)
    is_primary = models.BooleanField(_("primary"), default=False)
    owner_email = models.CharField(_("owner"), max_length=254, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 help_text=_("Where its floating times are (CalDAV's calendar-timezone); empty: UTC."))
    gone_at = models.DateTimeField(_("deleted remotely at"), null=True, blank=True)

    selected = models.BooleanField(_("selected for sync"), default=False)
    enabled = models.BooleanField(_("sync on"), default=True, help_text=_("Off: kept selected, but paused."))
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.BOTH)
    action_types = models.ManyToManyField("crm.ActionType", verbose_name=_("action types that sync"), blank=True,
                                          related_name="+")
    first_sync = models.CharField(_("first sync covers"), max_length=10, choices=FirstSync.choices,
                                  default=FirstSync.FROM_NOW)
    first_sync_since = models.DateField(_("since"), null=True, blank=True)
    is_destination = models.BooleanField(_("destination for new appointments"), default=False)
    counts_busy = models.BooleanField(
        _("counts in availability"), null=True, blank=True,
        help_text=_("Whether its events make its owner busy. Empty: the account's own calendars do, others "
                    "(colleagues', holidays, subscriptions) do not."))

    lease_owner = models.CharField(_("run by"), max_length=100, blank=True, editable=False,
                                   help_text=_("The worker whose run holds the calendar now."))
    lease_expires_at = models.DateTimeField(_("held until"), null=True, blank=True, editable=False,
                                            help_text=_("Unless renewed: a stopped worker's lease runs out."))
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    error = models.TextField(_("current error"), blank=True, help_text=_("What happened and how to fix it."))
    cursor = models.TextField(_("sync cursor"), blank=True, editable=False,
                              help_text=_("The provider's token for changes since the last sync; empty: list all."))
    window_start = models.DateTimeField(_("synced since"), null=True, blank=True, editable=False,
                                        help_text=_("Where the synced period starts, fixed by the first sync."))
    window_end = models.DateTimeField(_("synced until"), null=True, blank=True, editable=False,
                                      help_text=_("How far ahead the last listing reached; the horizon moves on."))
    hold = models.TextField(_("held because"), blank=True,
                            help_text=_("Sync stopped by itself (too many deletions at once) until the user resumes."))
    held_by_admin = models.BooleanField(_("paused by an administrator"), default=False, editable=False,
                                        help_text=_("Only an administrator resumes it."))
    deletions_confirmed = models.BooleanField(_("deletions confirmed"), default=False, editable=False,
                                              help_text=_("The user resumed a held calendar: its next run may delete."))
    last_run = models.ForeignKey("calendarsync.SyncRun", verbose_name=_("last run"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = _("remote calendar")
        verbose_name_plural = _("remote calendars")
        ordering = ["account", "-is_primary", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "remote_id"], name="one_row_per_remote_calendar")]

    def __str__(self):
        return self.name

    @property
    def counts_for_availability(self) -> bool:
        if self.counts_busy is not None:
            return self.counts_busy
        account = self.account
        own = bool(self.owner_email) and self.owner_email.lower() == account.email.lower()
        return self.is_primary or own or (account.provider == Provider.CALDAV and self.can_write)
