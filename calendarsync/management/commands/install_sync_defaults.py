from django.core.management.base import BaseCommand

from calendarsync.defaults import policies_install


class Command(BaseCommand):
    help = "Give the standard profiles (Sales, Manager, Technician) their default sync permissions, if they have none."

    def handle(self, *args, **options):
        created = policies_install()
        self.stdout.write(f"Sync permissions added to: {', '.join(created)}" if created else
                          "Every standard profile already has its sync permissions.")
