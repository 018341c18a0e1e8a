from django.apps import AppConfig


class CalendarSyncConfig(AppConfig):
    name = "calendarsync"
    verbose_name = "Calendar sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from calendarsync import checks, receivers  # noqa: F401 - registers them
