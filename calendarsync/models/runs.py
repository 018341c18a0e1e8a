from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Trigger(models.TextChoices):
    SAVE = "save", _("An appointment was saved")
    AGENDA = "agenda", _("The agenda was opened")
    SCHEDULE = "schedule", _("Periodic sync")
    MANUAL = "manual", _("Sync now")


class SyncRun(models.Model):
    """One sync of one calendar: what it did, what it cost, and what went wrong."""

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="runs")
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    dry_run = models.BooleanField(_("dry run"), default=False, help_text=_("Planned only; nothing was written."))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True,
                                       help_text=_("Empty while it runs, and for a run its worker never finished."))
    seconds = models.FloatField(_("duration (s)"), default=0)
    full = models.BooleanField(_("full listing"), default=False,
                               help_text=_("The whole calendar was read (first sync, or the provider asked for it)."))
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    conflicts = models.PositiveIntegerField(_("conflicts"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    requests = models.PositiveIntegerField(_("API requests"), default=0)
    error = models.TextField(_("error"), blank=True)
    report = models.JSONField(_("report"), default=list, blank=True,
                              help_text=_("One line per skipped event or planned operation (dry runs)."))

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.calendar} {self.started_at:%Y-%m-%d %H:%M}"


class ConflictRecord(models.Model):
    """Both sides changed the same fields of an appointment: the policy kept one, this keeps the other."""

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="conflicts")
    action = models.ForeignKey("crm.Action", verbose_name=_("appointment"), null=True, on_delete=models.SET_NULL,
                               related_name="+")
    subject = models.CharField(_("subject"), max_length=255)
    group = models.CharField(_("fields"), max_length=20)
    local = models.JSONField(_("CRM version"))
    remote = models.JSONField(_("remote version"))
    winner = models.CharField(_("kept"), max_length=10, choices=[("local", _("CRM")), ("remote", _("Remote"))])
    created_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    restored_at = models.DateTimeField(_("loser restored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.subject}: {self.group}"

    @property
    def kept_text(self):
        return _described(self.local if self.winner == "local" else self.remote)

    @property
    def set_aside_text(self):
        return _described(self.remote if self.winner == "local" else self.local)


def _described(values: dict) -> str:
    """A group's values for people: the filled ones, yes/no flags left out ("when" reads start, end, zone)."""
    return " · ".join(str(value) for value in values.values() if value not in ("", None, [], True, False)) or "—"
