from django.db import models
from django.utils.translation import gettext_lazy as _


class EventLink(models.Model):
    """One CRM action joined to one remote event of one remote calendar, with what both last agreed on.

    The link outlives its action: deleting an appointment leaves `action_id` pointing at nothing
    (no database constraint, nothing cascades), which is how the engine learns it must delete the
    remote event. It is dropped once the remote side has followed.
    """

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="links")
    action = models.ForeignKey("crm.Action", verbose_name=_("action"), on_delete=models.DO_NOTHING,
                               db_constraint=False, related_name="+")
    remote_id = models.CharField(_("event id at the provider"), max_length=1024)
    ical_uid = models.CharField(_("iCalendar UID"), max_length=1024, blank=True)
    etag = models.CharField(_("ETag"), max_length=255, blank=True)
    base = models.JSONField(_("last agreed content"), null=True, blank=True,
                            help_text=_("The normalised event both sides held after the last sync."))
    pending = models.JSONField(_("update under way"), null=True, blank=True,
                               help_text=_("What a run is writing to the remote event, until it records the "
                                           "write: a run that died meanwhile is known by what it wrote."))
    imported = models.BooleanField(_("came from the remote calendar"), default=False,
                                   help_text=_("Created in the CRM by sync, rather than exported from it."))
    synced_at = models.DateTimeField(_("synced at"), auto_now=True)

    class Meta:
        verbose_name = _("event link")
        verbose_name_plural = _("event links")
        constraints = [models.UniqueConstraint(fields=["calendar", "remote_id"], name="one_link_per_remote_event"),
                       models.UniqueConstraint(fields=["calendar", "action"], name="one_link_per_action_and_calendar")]

    def __str__(self):
        return f"{self.action_id} ↔ {self.remote_id}"
