import contextlib
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from sandboxes import caldav
from sandboxes.server import DEMO_PEOPLE, start_google, start_microsoft, start_plain_twin, stop


class Command(BaseCommand):
    help = ("Serve the sandbox Google Calendar and Microsoft 365 on loopback ports until interrupted, and with "
            "--demo a Radicale CalDAV server with the demo's people.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--google-port", type=int, default=8001)
        parser.add_argument("--microsoft-port", type=int, default=8002)
        parser.add_argument("--microsoft-consent-port", type=int, default=8003,
                            help="The Microsoft consent page on plain http too, for browsers (0: no).")
        parser.add_argument("--demo", action="store_true", help="Start with the demo's people and calendars.")
        parser.add_argument("--caldav-port", type=int, default=8004,
                            help="With --demo, the demo CalDAV server's port (0: none); its storage is kept in "
                                 "the state folder, or data/caldav-demo.")
        parser.add_argument("--tls-dir", default=None,
                            help="Where the Microsoft sandbox's test CA is kept (default: data/sandbox-tls).")
        parser.add_argument("--state-dir", default=None,
                            help="Load the sandboxes' state from this folder if it is there, save it on exit.")

    def handle(self, *args, host, google_port, microsoft_port, microsoft_consent_port, demo, caldav_port, tls_dir,
               state_dir, **options):
        stopped = threading.Event()
        for name in ("SIGTERM", "SIGHUP"):  # `make run` stops it with SIGTERM; a closed terminal sends SIGHUP
            signal.signal(getattr(signal, name), lambda *_: stopped.set())
        state = Path(state_dir) if state_dir else None
        if state:
            state.mkdir(parents=True, exist_ok=True)
        google = start_google(host, google_port, demo=demo, state_file=state and state / "google.json")
        microsoft = start_microsoft(Path(tls_dir) if tls_dir else settings.DATA_DIR / "sandbox-tls", host,
                                    microsoft_port, demo=demo, state_file=state and state / "microsoft.json")
        self.stdout.write(f"Sandbox Google Calendar on {google.base_url}")
        self.stdout.write(f"  control API: {google.base_url}/__sandbox__/")
        self.stdout.write(f"Sandbox Microsoft 365 on {microsoft.base_url} (identity and Graph)")
        self.stdout.write(f"  control API: {microsoft.base_url}/__sandbox__/   test CA: {microsoft.certificate}")
        twin = start_plain_twin(microsoft, host, microsoft_consent_port) if microsoft_consent_port else None
        if twin:
            self.stdout.write(f"  consent page for browsers: {twin.base_url}")
        if demo:
            self.stdout.write("  accounts: " + ", ".join(email for email, _, _ in DEMO_PEOPLE))
        radicale = None
        if demo and caldav_port:
            try:
                radicale = caldav.Radicale((state or settings.DATA_DIR) / "caldav-demo", host, caldav_port)
            except RuntimeError as exc:  # the others serve on: the demo can do without CalDAV
                self.stderr.write(f"The demo CalDAV server did not start: {exc}")
            else:
                self.stdout.write(f"Demo CalDAV server (Radicale) on {radicale.url}")
                self.stdout.write("  users: " + ", ".join(user for user, _, _ in caldav.PEOPLE) +
                                  f", password {caldav.PASSWORD}")
        try:
            with contextlib.suppress(KeyboardInterrupt):
                stopped.wait()
        finally:  # Radicale is a process of its own: it must not outlive the runner
            if radicale:
                radicale.stop()
        stop(google)
        stop(microsoft)
        if twin:
            twin.stop()
        if state:
            self.stdout.write(f"Sandbox state saved in {state}")
