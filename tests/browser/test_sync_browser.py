"""What a person sees running the product: connect Google or Outlook, or add a CalDAV account, choose a
calendar, and watch edits flow both ways."""


import pytest
from playwright.sync_api import expect

from calendarsync.models import ExternalAccount, RemoteCalendar, SyncRun
from tests import caldav_servers
from tests.browser.conftest import connect
from tests.calendarsync.sync.conftest import GRACE, PRIMARY, CalDAVServer, Google, Outlook, by_summary

pytestmark = pytest.mark.browser


def choose(page, name):
    """Sync the calendar both ways since 2026-11-01, new appointments going there, as a person sets it."""
    card = page.locator(f'[data-calendar="{name}"]')
    card.locator("summary").click()
    card.get_by_label("Sync this calendar").check()
    card.get_by_label("New CRM appointments go to this calendar").check()
    card.get_by_label("Everything since a date").check()
    card.get_by_label("Since", exact=True).fill("2026-11-01")
    card.get_by_role("button", name="Save").click()
    expect(page.locator(".message")).to_contain_text("is saved")


def test_edits_flow_both_ways_between_the_agenda_and_google(signed_in, alice, sync_allowed, sandboxes,
                                                            appointment_type, settings, screenshot):
    settings.CALENDARSYNC_AGENDA_PULL_SECONDS = 0  # every opening of the agenda pulls, not one per two minutes
    page = signed_in(alice)
    page.goto("/settings/sync/")
    connect(page, "Google Calendar", PRIMARY)
    choose(page, PRIMARY)
    page.locator(f'[data-calendar="{PRIMARY}"] summary').click()
    page.locator(f'[data-calendar="{PRIMARY}"]').get_by_role("button", name="Sync now").click()
    expect(page.locator(f'[data-calendar="{PRIMARY}"] .indicator')).to_have_text("Synced")
    google = Google(sandboxes, ExternalAccount.objects.get())

    page.goto("/actions/new/?start=2026-11-24T14:00")  # the CRM to Google
    page.fill("#id_subject", "Demo for ACME")
    page.fill("#id_location", "Lyon")
    page.click("button:has-text('Save')")
    expect(page.locator(".tg-col .event", has_text="Demo for ACME")).to_have_count(1)
    event = by_summary(google.events())["Demo for ACME"]
    assert (event["location"], event["start"]["dateTime"]) == ("Lyon", "2026-11-24T14:00:00+01:00")

    google.change(event["id"], summary="Demo for ACME (moved)",  # Google to the CRM
                  start={"dateTime": "2026-11-25T09:00:00+01:00", "timeZone": "Europe/Paris"},
                  end={"dateTime": "2026-11-25T10:00:00+01:00", "timeZone": "Europe/Paris"})
    page.goto("/agenda/?date=2026-11-24")
    moved = page.locator('.tg-col[data-date="2026-11-25"] .event', has_text="Demo for ACME (moved)")
    expect(moved).to_have_count(1)
    screenshot("sync-agenda-after-google-edit")

    page.goto("/settings/sync/")
    page.locator(f'[data-calendar="{PRIMARY}"] summary').click()
    expect(page.locator(f'[data-calendar="{PRIMARY}"] [data-last-run]')).to_contain_text("1 updated")
    screenshot("sync-settings-last-run")
    assert set(SyncRun.objects.values_list("trigger", flat=True)) == {"manual", "save", "agenda"}


def test_edits_flow_both_ways_between_the_agenda_and_outlook(signed_in, alice, sync_allowed, sandboxes,
                                                             appointment_type, settings):
    settings.CALENDARSYNC_AGENDA_PULL_SECONDS = 0
    page = signed_in(alice)
    page.goto("/settings/sync/")
    connect(page, "Microsoft 365 / Outlook", GRACE)
    account = ExternalAccount.objects.get()
    default = RemoteCalendar.objects.get(account=account, is_primary=True)
    choose(page, default.name)
    outlook = Outlook(sandboxes, account, default.remote_id)

    page.goto("/actions/new/?start=2026-11-24T14:00")  # the CRM to Outlook
    page.fill("#id_subject", "Demo for Contoso")
    page.fill("#id_location", "Lyon")
    page.click("button:has-text('Save')")
    expect(page.locator(".tg-col .event", has_text="Demo for Contoso")).to_have_count(1)
    [event] = outlook.events()
    assert (event["subject"], event["location"]["displayName"], event["start"]["dateTime"]) == (
        "Demo for Contoso", "Lyon", "2026-11-24T13:00:00.0000000")  # Graph answers in UTC

    outlook.change(event["id"], subject="Demo for Contoso (moved)",  # Outlook to the CRM
                   start={"dateTime": "2026-11-25T09:00:00", "timeZone": "Romance Standard Time"},
                   end={"dateTime": "2026-11-25T10:00:00", "timeZone": "Romance Standard Time"})
    page.goto("/agenda/?date=2026-11-24")
    expect(page.locator('.tg-col[data-date="2026-11-25"] .event', has_text="Demo for Contoso (moved)")).to_have_count(1)
    page.goto("/settings/sync/")
    page.locator(f'[data-calendar="{default.name}"] summary').click()
    expect(page.locator(f'[data-calendar="{default.name}"] [data-last-run]')).to_contain_text("1 updated")


def test_add_a_caldav_account_then_edits_flow_both_ways(signed_in, alice, sync_allowed, appointment_type, settings,
                                                        tmp_path, screenshot):
    settings.CALENDARSYNC_AGENDA_PULL_SECONDS = 0
    with caldav_servers.radicale(tmp_path) as server:
        caldav_servers.make_calendar(server, "work", display_name="Work", color="#16A765")
        phone = CalDAVServer(server, proxy=None)
        page = signed_in(alice)
        page.goto("/settings/sync/")
        page.get_by_role("link", name="Add a CalDAV account").click()
        form = page.locator("#add-caldav")
        form.get_by_label("Provider").select_option(label="Another CalDAV server")
        expect(form.locator('[data-preset="generic"]')).to_be_visible()
        expect(form.locator('[data-preset="icloud"]')).to_be_hidden()  # only what the chosen provider needs
        form.get_by_label("Server address").fill(server.url)
        form.get_by_label("User name").fill(caldav_servers.USER)
        form.get_by_label("App password").fill("not-the-password")
        screenshot("caldav-add-form")
        form.get_by_role("button", name="Add the account").click()
        expect(page.locator(".problem")).to_contain_text("refused the user name or the password")
        screenshot("caldav-refused-password")

        page.get_by_role("link", name="Reconnect").click()
        page.get_by_label("New app password").fill(caldav_servers.PASSWORD)
        page.locator("form.reveal:target").get_by_role("button", name="Reconnect").click()
        expect(page.locator('[data-calendar="Work"]')).to_be_visible()
        choose(page, "Work")
        page.locator('[data-calendar="Work"] summary').click()
        page.locator('[data-calendar="Work"]').get_by_role("button", name="Sync now").click()
        expect(page.locator('[data-calendar="Work"] .indicator')).to_have_text("Synced")
        screenshot("caldav-account-synced")

        page.goto("/actions/new/?start=2026-11-24T14:00")  # the CRM to the server
        page.fill("#id_subject", "Demo for ACME")
        page.fill("#id_location", "Lyon")
        page.click("button:has-text('Save')")
        expect(page.locator(".tg-col .event", has_text="Demo for ACME")).to_have_count(1)
        [(uid, _)] = phone.events()
        event = phone.events()[uid, ""]
        assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Demo for ACME", "Lyon")

        name = f"{uid}.ics"  # the server to the CRM: moved on a phone
        stored = phone._request("GET", name)
        moved = stored.text.replace("SUMMARY:Demo for ACME", "SUMMARY:Demo for ACME (moved)").replace(
            "20261124T140000", "20261125T090000").replace("20261124T150000", "20261125T100000")
        phone.put(name, moved, stored.headers["ETag"])
        page.goto("/agenda/?date=2026-11-24")
        moved = page.locator('.tg-col[data-date="2026-11-25"] .event', has_text="Demo for ACME (moved)")
        expect(moved).to_have_count(1)
        screenshot("caldav-agenda-after-phone-edit")
