"""Start the sandboxes on loopback ports, empty or with the demo's people and calendars."""

from pathlib import Path

from .google.api import GoogleSandbox
from .google.seed import fill
from .http import SandboxServer
from .microsoft.api import MicrosoftSandbox
from .tls import ensure_certificate, server_context

# The CRM demo's people (crm/demo.py), each with a Google account of the same name.
DEMO_PEOPLE = [("marc@demo.example", "Marc Dubois", "Europe/Paris"),
               ("alice@demo.example", "Alice Martin", "Europe/Paris"),
               ("dana@demo.example", "Dana Smith", "America/New_York"),
               ("tom@demo.example", "Tom Becker", "Europe/Berlin")]


def start_google(host="127.0.0.1", port=0, *, demo=False) -> SandboxServer:
    server = SandboxServer(GoogleSandbox(), host, port)
    if demo:
        load_demo(server.service.store)
    server.start()
    return server


def start_microsoft(certificates: Path, host="127.0.0.1", port=0, *, demo=False) -> SandboxServer:
    """Serve the Microsoft sandbox over TLS with a test CA kept in `certificates` (clients must trust it)."""
    certificate, key = ensure_certificate(certificates)
    server = SandboxServer(MicrosoftSandbox(), host, port, ssl_context=server_context(certificate, key))
    server.certificate = certificate
    if demo:
        store = server.service.store
        for email, name, _ in DEMO_PEOPLE:
            store.add_user(email, name)
        team = store.add_calendar("marc@demo.example", "Sales team", color="lightBlue", hex_color="#a6d1f5")
        for email, _, _ in DEMO_PEOPLE[1:]:
            store.share(team.id, email, can_edit=True)
    server.start()
    return server


def load_demo(store):
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
        fill(store, store.calendars[email], 150, seed=index)
    fill(store, store.calendars["team@group.demo.example"], 60, seed=10)
