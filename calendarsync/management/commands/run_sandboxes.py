import contextlib
import signal
import threading

from django.core.management.base import BaseCommand

from calendarsync.sandbox.server import DEMO_PEOPLE, start_google


class Command(BaseCommand):
    help = "Serve the sandbox Google Calendar on a loopback port until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--google-port", type=int, default=8001)
        parser.add_argument("--demo", action="store_true", help="Start with the demo's people and calendars.")

    def handle(self, *args, host, google_port, demo, **options):
        google = start_google(host, google_port, demo=demo)
        self.stdout.write(f"Sandbox Google Calendar on {google.base_url}")
        self.stdout.write(f"  control API: {google.base_url}/__sandbox__/")
        if demo:
            self.stdout.write("  accounts: " + ", ".join(email for email, _, _ in DEMO_PEOPLE))
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
        google.stop()
