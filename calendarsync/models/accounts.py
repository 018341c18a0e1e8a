from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calendarsync.fields import EncryptedTextField


class Provider(models.TextChoices):
    GOOGLE = "google", _("Google Calendar")
    MICROSOFT = "microsoft", _("Microsoft 365 / Outlook")
    CALDAV = "caldav", _("CalDAV (iCloud, Fastmail, Nextcloud, …)")


class AccountState(models.TextChoices):
    ACTIVE = "active", _("Active")
    RECONNECT = "reconnect", _("Reconnect needed")
    DISABLED = "disabled", _("Disabled by an administrator")


class AccountProblem(models.TextChoices):
    """Why an account needs reconnecting; each has a sentence for the user (selectors.problem_text)."""

    NONE = "", _("None")
    REVOKED = "revoked", _("Access was revoked or expired")
    SCOPES_MISSING = "scopes_missing", _("Calendar permission not granted")
    TOKEN_UNREADABLE = "token_unreadable", _("Stored credentials unreadable")
    UNREACHABLE = "unreachable", _("Provider unreachable")
    # Why a CalDAV server's address led to no calendar (the user gives the address again):
    CERTIFICATE = "certificate", _("Server certificate refused")
    NOT_FOUND = "not_found", _("No calendar at the address")
    NOT_CALDAV = "not_caldav", _("Not a CalDAV server")
    FORBIDDEN_ADDRESS = "forbidden_address", _("An address the CRM does not reach")
    INSECURE = "insecure", _("Sent from https to plain http")


class ExternalAccount(models.Model):
    """A Google, Microsoft or CalDAV account a user connected to sync calendars. Not a login identity.

    The refresh token (and the current access token) are kept encrypted; allauth only runs the
    OAuth dance and keeps nothing. A CalDAV account has no tokens: its app password is kept, encrypted,
    where a refresh token would be (the secret that gives access again), its user name as `username`, the
    address the user gave as `server_url`, and the calendar home discovery found there as `home_url`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="external_accounts")
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    remote_id = models.CharField(_("account id at the provider"), max_length=255)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    sandbox = models.BooleanField(_("sandbox"), default=False,
                                  help_text=_("Connected through a sandbox provider, not the real service."))
    refresh_token = EncryptedTextField(_("refresh token"), blank=True)
    access_token = EncryptedTextField(_("access token"), blank=True)
    access_token_expires_at = models.DateTimeField(_("access token expires at"), null=True, blank=True)
    scopes = models.TextField(_("granted scopes"), blank=True)
    username = models.CharField(_("user name"), max_length=254, blank=True, help_text=_("CalDAV: the login."))
    server_url = models.CharField(_("server address"), max_length=500, blank=True,
                                  help_text=_("CalDAV: the address the user gave (or the preset's)."))
    preset = models.CharField(_("preset"), max_length=20, blank=True,
                              help_text=_("CalDAV: the provider it was added as (iCloud, Fastmail, …), if any."))
    home_url = models.CharField(_("calendar home"), max_length=1000, blank=True, editable=False,
                                help_text=_("CalDAV: where its calendars are, found by discovery; empty until then."))
    state = models.CharField(_("state"), max_length=20, choices=AccountState.choices, default=AccountState.ACTIVE)
    problem = models.CharField(_("problem"), max_length=30, choices=AccountProblem.choices, blank=True)
    missing_scopes = models.TextField(_("missing scopes"), blank=True,
                                      help_text=_("The permissions the last consent left out, space separated."))
    connected_at = models.DateTimeField(_("connected at"), auto_now_add=True)
    calendars_refreshed_at = models.DateTimeField(_("calendars refreshed at"), null=True, blank=True)
    colors = models.JSONField(_("named colors"), default=dict, blank=True, editable=False,
                              help_text=_("The colors its events can take by name (Outlook's categories)."))

    class Meta:
        verbose_name = _("external account")
        verbose_name_plural = _("external accounts")
        ordering = ["user", "provider", "email"]
        constraints = [models.UniqueConstraint(fields=["user", "provider", "remote_id"],
                                               name="one_external_account_per_remote_account")]

    def __str__(self):
        if self.provider == Provider.CALDAV:  # "iCloud: ada@icloud.com", "CalDAV: ada (cloud.example.org)"
            if self.preset not in ("", "generic", "demo", "nextcloud", "bluemind"):
                return f"{self.name}: {self.username}"
            return f"CalDAV: {self.username} ({urlsplit(self.server_url).hostname or self.server_url})"
        return f"{self.get_provider_display()}: {self.email or self.remote_id}"

    @property
    def is_active(self):
        return self.state == AccountState.ACTIVE
