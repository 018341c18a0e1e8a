"""What the CRM keeps to serve its calendars to devices.

A calendar is not a row: a user's own agenda, a colleague's, and their appointments of one action type are
views of the actions (see calendars.py). A DeviceCalendar row holds what a user chose for one of them (the
*Sync to devices* switch, the secrets of its feeds) and its epoch, which a change of what the view holds
renews, so that the sync tokens handed out before are refused and devices list the calendar again.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DevicePassword(models.Model):
    """A password for one device's calendar app: only these open /dav/ (never the login password). Its
    secret is shown once; what is kept is its SHA-256, as the secret is random and long (a slow hash would
    only slow every request a device makes)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_passwords")
    name = models.CharField(_("device"), max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=4)  # the secret's last characters, to tell passwords apart
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("device password")
        verbose_name_plural = _("device passwords")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name} (…{self.hint})"


class DeviceCalendar(models.Model):
    """A user's choices for one calendar the CRM serves them, by its key ("agenda", "user-<id>",
    "type-<id>"): synced to devices or not, its feed secrets, and its epoch."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_calendars")
    key = models.CharField(max_length=40)
    synced = models.BooleanField(_("sync to devices"), default=False)
    feed_secret = models.CharField(max_length=43, blank=True)  # the ICS feed's URL, with details
    busy_feed_secret = models.CharField(max_length=43, blank=True)  # ... with times only
    epoch = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="device_calendar_once_per_user")]

    def __str__(self):
        return f"{self.user} {self.key}"


class DeviceObject(models.Model):
    """A calendar object one user's device wrote, as it wrote it: its resource name (a device names new
    resources itself), and its body, served again to that user while the CRM holds the same, and otherwise
    the base the CRM's content is written over, so that what the CRM does not hold (their alarms, other
    apps' properties) stays. Another user (a participant) is served the CRM's own rendering."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    uid = models.CharField(max_length=255)
    name = models.CharField(max_length=255, db_index=True)  # unique within a calendar, not across users
    body = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "uid"], name="device_object_once_per_user")]

    def __str__(self):
        return self.name


class DeviceRemoval(models.Model):
    """An appointment that is no longer one of `user`'s: deleted, or they no longer own it or take part.
    Their calendars' sync tokens report it removed."""

    uid = models.CharField(max_length=255)
    name = models.CharField(max_length=255)  # its resource's name, as devices knew it
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.uid} left {self.user_id}"
