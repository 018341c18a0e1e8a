from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrashedAction(models.Model):
    """An appointment deleted in a remote calendar, kept whole so that it can be restored (for 30 days)."""

    calendar = models.ForeignKey("calendarsync.RemoteCalendar", verbose_name=_("deleted in"), null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="+")
    subject = models.CharField(_("subject"), max_length=255)
    starts = models.CharField(_("when"), max_length=64, blank=True)
    snapshot = models.JSONField(_("content"), encoder=DjangoJSONEncoder,
                                help_text=_("The appointment, its occurrences and relations."))
    trashed_at = models.DateTimeField(_("deleted at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("deleted appointment")
        verbose_name_plural = _("deleted appointments (trash)")
        ordering = ["-trashed_at", "-pk"]

    def __str__(self):
        return self.subject
