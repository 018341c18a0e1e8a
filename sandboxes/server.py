"""Start the sandboxes on loopback ports: from a saved state, with the demo's people, or empty."""

from pathlib import Path

from . import state
from .google import seed as google_seed
from .google.api import GoogleSandbox
from .http import SandboxServer
from .microsoft import seed as microsoft_seed
from .microsoft.api import MicrosoftSandbox
from .tls import ensure_certificate, server_context

# The CRM demo's people (crm/demo.py), each with a Google account of the same name.
DEMO_PEOPLE = [("marc@demo.example", "Marc Dubois", "Europe/Paris"),
               ("alice@demo.example", "Alice Martin", "Europe/Paris"),
               ("dana@demo.example", "Dana Smith", "America/New_York"),
               ("tom@demo.example", "Tom Becker", "Europe/Berlin")]


def start_google(host="127.0.0.1", port=0, *, demo=False, state_file: Path | None = None) -> SandboxServer:
    server = SandboxServer(GoogleSandbox(), host, port)
    _fill(server, demo and load_google_demo, state_file)
    return server


def start_microsoft(certificates: Path, host="127.0.0.1", port=0, *, demo=False,
                    state_file: Path | None = None) -> SandboxServer:
    """Serve the Microsoft sandbox over TLS with a test CA kept in `certificates` (clients must trust it)."""
    certificate, key = ensure_certificate(certificates)
    server = SandboxServer(MicrosoftSandbox(), host, port, ssl_context=server_context(certificate, key))
    server.certificate = certificate
    _fill(server, demo and load_microsoft_demo, state_file)
    return server


def start_plain_twin(server: SandboxServer, host="127.0.0.1", port=0) -> SandboxServer:
    """The same sandbox on plain http, for browsers: its consent page then shows without a certificate
    warning (MSAL and Graph clients keep the TLS port, as they must)."""
    twin = SandboxServer(server.service, host, port)
    twin.start()
    return twin


def _fill(server, load_demo, state_file):
    """Start from the saved state when there is one (it already holds the demo), else from the demo."""
    server.state_file = state_file
    if not (state_file and state.load(server.service.store, state_file)) and load_demo:
        load_demo(server.service.store)
    server.start()


def stop(server):
    """Stop serving and keep the state for next time, when the server was started with a state file."""
    server.stop()
    if server.state_file:
        state.save(server.service.store, server.state_file)


def load_microsoft_demo(store):
    """The same people in Outlook: believable default calendars and a shared, writable team calendar."""
    for index, (email, name, _) in enumerate(DEMO_PEOPLE):
        user = store.add_user(email, name)
        microsoft_seed.fill(store, store.calendars[user.calendars[0].calendar_id], 150, seed=100 + index)
    team = store.add_calendar("marc@demo.example", "Sales team", color="lightBlue", hex_color="#a6d1f5")
    for email, _, _ in DEMO_PEOPLE[1:]:
        store.share(team.id, email, can_edit=True)
    microsoft_seed.fill(store, team, 60, seed=110)


def load_google_demo(store):
    """People with a primary calendar of believable events, a shared team calendar and holidays."""
    for email, name, zone in DEMO_PEOPLE:
        store.add_user(email, name, zone)
    store.add_calendar("team@group.demo.example", "Sales team", "Europe/Paris", owner="marc@demo.example",
                       color_id="16")
    store.add_calendar("holidays@group.demo.example", "Public holidays", "Europe/Paris", owner="marc@demo.example",
                       color_id="9")
    for email, _, _ in DEMO_PEOPLE[1:]:
        store.share("team@group.demo.example", email, "writer", color_id="16")
        store.share("holidays@group.demo.example", email, "reader", color_id="9")
    for index, (email, _, _) in enumerate(DEMO_PEOPLE):
        google_seed.fill(store, store.calendars[email], 150, seed=index)
    google_seed.fill(store, store.calendars["team@group.demo.example"], 60, seed=10)
