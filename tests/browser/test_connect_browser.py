"""Connecting accounts in Chromium, through the sandboxes' consent screens, as a person would."""

import re

import pytest
from playwright.sync_api import expect

from calendarsync.models import ExternalAccount
from tests.browser.conftest import connect

pytestmark = pytest.mark.browser


def test_connect_google_then_choose_a_calendar(signed_in, alice, sync_allowed, sandboxes, appointment_type,
                                               screenshot):
    page = signed_in(alice)
    page.goto("/settings/sync/")
    connect(page, "Google Calendar", "ada@example.com")
    team = page.locator("[data-calendar=Team]")
    expect(team.locator(".indicator")).to_have_text("Not synced")
    team.locator("summary").click()
    team.get_by_label("Sync this calendar").check()
    team.get_by_role("button", name="Save").click()
    expect(page.locator(".message")).to_contain_text("Team is saved")
    expect(page.locator("[data-calendar=Team] .indicator")).to_have_text("Waiting for the first sync")
    expect(page.locator("[data-calendar=Holidays] .badge", has_text="read-only")).to_be_visible()
    screenshot("sync-settings")
    calendar = ExternalAccount.objects.get().calendars.get(name="Team")
    assert (calendar.selected, calendar.direction, list(calendar.action_types.all())) == (
        True, "both", [appointment_type])


def test_connect_microsoft_and_deny_google(signed_in, alice, sync_allowed, sandboxes):
    page = signed_in(alice)
    page.goto("/settings/sync/")
    connect(page, "Microsoft 365 / Outlook", "grace@example.com")
    expect(page.locator("[data-calendar=Projects] .type-dot")).to_have_attribute("style", re.compile("#87d28e"))

    page.get_by_role("button", name="Connect Google Calendar (sandbox)").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".message")).to_contain_text("Connection cancelled")
    assert list(ExternalAccount.objects.values_list("provider", flat=True)) == ["microsoft"]
