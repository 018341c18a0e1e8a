"""A real headless Chromium (Debian's, driven by Playwright) against the live test server."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from tests.calendarsync.conftest import (  # noqa: F401 - the sandboxes, for the connect flows
    sandboxes,
    sync_allowed,
)
from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    require(os.access(CHROMIUM, os.X_OK), "Chromium is missing (apt-get install chromium): browser tests skipped")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # alongside it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, eager_tasks):
    """A browser tab on the live server. What the server queues runs at once in it (`eager_tasks`): a worker
    thread could not share the in-memory test database; tests/calendarsync proves the requests do not wait."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900},
                                  timezone_id="Europe/Paris", locale="en-GB",
                                  ignore_https_errors=True)  # the Microsoft sandbox's test CA
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def signed_in(page, live_server):
    """Sign a user in by giving the browser a session cookie made by the test client."""
    def sign_in(user):
        client = Client()
        client.force_login(user)
        name = django_settings.SESSION_COOKIE_NAME
        page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": live_server.url}])
        return page
    return sign_in


@pytest.fixture
def screenshot(page):
    """Save a screenshot of the page under test-artifacts/ and return its path."""
    def take(name):
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path
    return take


def connect(page, provider, email):
    """On the settings page: connect a sandbox account through its consent screen, as a person would."""
    page.get_by_role("button", name=f"Connect {provider} (sandbox)").click()
    expect(page).to_have_title(re.compile(f"{provider.split()[0]} \\(sandbox\\)"))  # the provider's own page
    page.get_by_label(re.compile(re.escape(email))).check()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator(".message")).to_contain_text(f"{email} is connected")
