from django.core.management.base import BaseCommand

from crm import defaults


class Command(BaseCommand):
    help = "Create the standard action types and profiles (Sales, Technician, Manager) that are missing."

    def handle(self, *args, **options):
        defaults.action_types_install()
        for name in defaults.PROFILES:
            defaults.profile_install(name)
        self.stdout.write(self.style.SUCCESS(f"Action types and profiles ready: {', '.join(defaults.PROFILES)}."))
