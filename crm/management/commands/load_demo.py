from django.core.management.base import BaseCommand

from crm import demo


class Command(BaseCommand):
    help = "Load the demo users, companies, contacts and a month of appointments (once)."

    def handle(self, *args, **options):
        if demo.demo_is_loaded():
            self.stdout.write("Demo data is already loaded.")
        else:
            users = demo.demo_load()
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo for {len(users)} users."))
        self.stdout.write(
            "\nSign in at http://127.0.0.1:8000/ as one of:\n"
            f"  marc  / {demo.DEMO_PASSWORD}   Manager, Europe/Paris (sees everyone's agenda)\n"
            f"  alice / {demo.DEMO_PASSWORD}   Sales, Europe/Paris\n"
            f"  dana  / {demo.DEMO_PASSWORD}   Sales, America/New_York\n"
            f"  tom   / {demo.DEMO_PASSWORD}   Technician, Europe/Berlin\n"
            "  admin / admin  the Django admin at http://127.0.0.1:8000/admin/\n"
        )
