from django.db import models
from django.utils.translation import gettext_lazy as _

from calendarsync import app_settings


class SyncPolicy(models.Model):
    """What a profile's users may sync (Z4). A user without one may connect nothing."""

    profile = models.OneToOneField("crm.Profile", verbose_name=_("profile"), on_delete=models.CASCADE,
                                   related_name="sync_policy")
    allow_google = models.BooleanField(_("Google Calendar"), default=True)
    allow_microsoft = models.BooleanField(_("Microsoft 365 / Outlook"), default=True)
    allow_caldav = models.BooleanField(_("CalDAV (iCloud, Fastmail, Nextcloud, …)"), default=True)
    allow_import = models.BooleanField(_("import only"), default=True)
    allow_export = models.BooleanField(_("export only"), default=True)
    allow_both = models.BooleanField(_("two-way"), default=True)
    max_calendars = models.PositiveSmallIntegerField(
        _("calendars per account"), default=app_settings.DEFAULTS["MAX_CALENDARS_PER_ACCOUNT"],
        help_text=_("How many calendars of one account a user may select."))

    class Meta:
        verbose_name = _("sync permissions")
        verbose_name_plural = _("sync permissions")

    def __str__(self):
        return str(self.profile)
