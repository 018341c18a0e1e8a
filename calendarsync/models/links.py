from django.db import models
from django.utils.translation import gettext_lazy as _


class EventLink(models.Model):
    """One CRM action joined to one remote event of one remote calendar (the sync engine fills these)."""

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="links")
    action = models.ForeignKey("crm.Action", verbose_name=_("action"), on_delete=models.CASCADE,
                               related_name="+")
    remote_id = models.CharField(_("event id at the provider"), max_length=1024)
    imported = models.BooleanField(_("came from the remote calendar"), default=False,
                                   help_text=_("Created in the CRM by sync, rather than exported from it."))

    class Meta:
        verbose_name = _("event link")
        verbose_name_plural = _("event links")
        constraints = [models.UniqueConstraint(fields=["calendar", "remote_id"], name="one_link_per_remote_event"),
                       models.UniqueConstraint(fields=["calendar", "action"], name="one_link_per_action_and_calendar")]

    def __str__(self):
        return f"{self.action_id} ↔ {self.remote_id}"
