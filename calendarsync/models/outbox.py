from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEntry(models.Model):
    """An appointment changed in the CRM that a calendar has yet to receive.

    Written in the transaction of the change, so that no committed edit can be forgotten; one row
    per appointment and calendar, so that a burst of saves is one push. `action_id` is a plain
    number: the row must survive the appointment's deletion, which is itself something to push.
    """

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="outbox")
    action_id = models.BigIntegerField(_("action"))
    # Kept for after the appointment's deletion: a run that pushed it but died before keeping its link left
    # a remote event with this UID, which the next run must recognise rather than import (engine.reclaim).
    uid = models.CharField(_("UID"), max_length=255, blank=True)
    queued_at = models.DateTimeField(_("queued at"), auto_now=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        constraints = [models.UniqueConstraint(fields=["calendar", "action_id"], name="one_outbox_entry_per_action")]

    def __str__(self):
        return f"{self.action_id} → {self.calendar_id}"
