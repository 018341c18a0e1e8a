"""The sandboxes, reset and peopled, for every calendarsync test; no real service ever reached."""

import pytest

from calendarsync import selectors
from calendarsync.models import SyncPolicy
from calendarsync.providers.microsoft.graph import session
from tests import factories


@pytest.fixture(autouse=True)
def _no_real_services(settings):
    """The real providers' URLs point at a closed loopback port: no test ever reaches Google or Microsoft."""
    nowhere = "http://127.0.0.1:9"
    for name in ("GOOGLE_API_URL", "GOOGLE_TOKEN_URL", "GOOGLE_USERINFO_URL", "MICROSOFT_LOGIN_URL",
                 "MICROSOFT_GRAPH_URL"):
        setattr(settings, f"CALENDARSYNC_{name}", nowhere)
    settings.CALENDARSYNC_GOOGLE_AUTHORIZE_URL = f"{nowhere}/o/oauth2/v2/auth"


GOOGLE_PEOPLE = [("ada@example.com", "Ada Lovelace"), ("ada.work@example.com", "Ada at work")]
MICROSOFT_PEOPLE = [("grace@example.com", "Grace Hopper"), ("alan@example.com", "Alan Turing")]


@pytest.fixture
def sandboxes(settings, google_server, microsoft_server, certificate):
    """Both sandboxes, reset, with people and calendars; the project pointed at them, no real client set."""
    ca = certificate
    web = session(ca)
    google, microsoft = google_server.base_url, microsoft_server.base_url
    for base in (google, microsoft):
        web.post(f"{base}/__sandbox__/reset").raise_for_status()
    for email, name in GOOGLE_PEOPLE:
        web.post(f"{google}/__sandbox__/users", json={"email": email, "name": name})
    web.post(f"{google}/__sandbox__/calendars", json={
        "id": "team@group.example.com", "summary": "Team", "owner": "ada.work@example.com", "color_id": "16",
        "share": [{"email": "ada@example.com", "role": "writer", "color_id": "16"}]})
    web.post(f"{google}/__sandbox__/calendars", json={
        "id": "holidays@group.example.com", "summary": "Holidays", "owner": "ada.work@example.com",
        "share": [{"email": "ada@example.com", "role": "reader", "color_id": "9"}]})
    for email, name in MICROSOFT_PEOPLE:
        web.post(f"{microsoft}/__sandbox__/users", json={"email": email, "name": name})
    web.post(f"{microsoft}/__sandbox__/calendars", json={
        "owner": "grace@example.com", "name": "Projects", "color": "lightGreen"})
    web.post(f"{microsoft}/__sandbox__/calendars", json={
        "owner": "alan@example.com", "name": "Alan's", "hex_color": "#f69a98",
        "share": [{"email": "grace@example.com", "can_edit": False}]})
    settings.CALENDARSYNC_GOOGLE_SANDBOX_URL = google
    settings.CALENDARSYNC_MICROSOFT_SANDBOX_URL = microsoft
    settings.CALENDARSYNC_MICROSOFT_CA_BUNDLE = ca
    for name in ("GOOGLE_CLIENT_ID", "MICROSOFT_CLIENT_ID"):
        setattr(settings, f"CALENDARSYNC_{name}", "")
    web.google, web.microsoft = google, microsoft
    return web


@pytest.fixture
def account(alice, sync_allowed):
    """An account of Alice's, made directly (no provider behind it): for the rules about calendars."""
    return factories.external_account(alice)


def paused(user, calendar):
    """Why the calendar is paused for its user, as every page and the API say it now."""
    user.refresh_from_db()
    return selectors.pause_reasons(user).get(calendar.pk, "")


@pytest.fixture
def sync_allowed(sales):
    """The Sales profile may sync everything (alice and bob are in it)."""
    return SyncPolicy.objects.create(profile=sales)
