from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    """The CRM's own calendars on people's devices: a CalDAV server, ICS feeds, device passwords."""

    name = "devices"
    verbose_name = _("Calendars on devices")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from devices import receivers  # noqa: F401 - connects the change log to the CRM's signals
