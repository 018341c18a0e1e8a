from django.apps import AppConfig


class CalendarSyncConfig(AppConfig):
    name = "calendarsync"
    verbose_name = "Calendar sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The tasks are registered in every process, not only in workers: what is queued by name
        # (calendarsync.jobs) then runs in the caller's process where a test asks for that.
        from calendarsync import checks, freebusy, receivers, tasks  # noqa: F401 - registers them
        from crm.availability import sources

        sources.register(freebusy.answers)  # the busy times of calendars the CRM does not import
        sources.register_not_busy(freebusy.not_busy)  # ... and not those of calendars that do not count
