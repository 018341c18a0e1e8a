from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEPT_DAYS = 90  # how long removals are kept: a client that has not asked for longer starts its copy again


class RemovalReason(models.TextChoices):
    DELETED = "deleted", _("Deleted")
    CANCELLED = "cancelled", _("Occurrence cancelled")
    LEFT = "left", _("No longer theirs (owner changed, taken off the participants)")


class Removal(models.Model):
    """An action or an occurrence that left someone's view: what a client keeping a copy (the API's changes
    feed) must drop. A row per person who had it; those who see every agenda read everyone's deletions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    action_id = models.BigIntegerField(_("action"))
    uid = models.CharField(_("iCalendar UID"), max_length=255)
    series_id = models.BigIntegerField(_("series"), null=True, blank=True)
    recurrence_id = models.CharField(_("occurrence"), max_length=20, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=RemovalReason)
    removed_at = models.DateTimeField(_("removed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("removal")
        verbose_name_plural = _("removals")
        indexes = [models.Index(fields=["user", "removed_at"])]

    def __str__(self):
        return f"{self.reason} {self.uid} {self.recurrence_id}".strip()
