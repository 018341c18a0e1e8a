"""Connecting Google and Microsoft accounts through their (sandbox) consent screens, end to end."""

import io
import tempfile
import urllib.parse

from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from calendarsync.models import AccountState, ExternalAccount
from tests.conftest import then_the_worker

from .connecting import connect, consent, finish, start


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_connecting_google_lists_its_calendars_with_colors_and_access(client, alice, sync_allowed, sandboxes):
    client.force_login(alice)
    page = connect(client, sandboxes, "google", "ada@example.com")
    assert page.status_code == 200
    assert any("Google Calendar: ada@example.com is connected" in message for message in messages_of(page))
    account = ExternalAccount.objects.get()
    assert (account.user, account.provider, account.email, account.state, account.sandbox) == (
        alice, "google", "ada@example.com", AccountState.ACTIVE, True)
    assert account.refresh_token
    assert account.access_token
    assert "https://www.googleapis.com/auth/calendar" in account.scopes.split()
    calendars = {calendar.name: calendar for calendar in account.calendars.all()}
    assert set(calendars) == {"ada@example.com", "Team", "Holidays"}
    assert calendars["ada@example.com"].is_primary
    assert calendars["ada@example.com"].can_write
    assert calendars["Team"].can_write
    assert not calendars["Holidays"].can_write
    assert calendars["Team"].color.startswith("#")
    assert not any(calendar.selected for calendar in calendars.values())  # the user chooses
    assert SocialAccount.objects.count() == 0  # allauth kept nothing: not a login identity
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert b"Team" in page.content
    assert b"sandbox" in page.content
    assert b"Reading the calendars" not in page.content


def test_the_consent_s_return_does_not_wait_for_the_provider(client, alice, sync_allowed, sandboxes, jobs):
    client.force_login(alice)
    callback = urllib.parse.urlsplit(consent(sandboxes, start(client, "google"), email="ada@example.com"))
    with then_the_worker():
        page = client.get(f"{callback.path}?{callback.query}", follow=True)
        account = ExternalAccount.objects.get()
        assert account.calendars.count() == 0  # not read in the request
        assert b"Reading the calendars of this account" in page.content
        assert b"reload-soon.js" in page.content  # the page looks again in a moment
    page = client.get(reverse("calendarsync:settings"))
    assert account.calendars.count() == 3
    assert b"Reading the calendars" not in page.content
    assert b"reload-soon.js" not in page.content


def test_connecting_microsoft_through_msal_trusting_the_test_ca(client, alice, sync_allowed, sandboxes):
    client.force_login(alice)
    page = connect(client, sandboxes, "microsoft", "grace@example.com")
    account = ExternalAccount.objects.get()
    assert (account.provider, account.email, account.name, account.state) == (
        "microsoft", "grace@example.com", "Grace Hopper", AccountState.ACTIVE)
    calendars = {calendar.name: calendar for calendar in account.calendars.all()}
    assert set(calendars) == {"Calendar", "Projects", "Alan's"}
    assert calendars["Projects"].color == "#87d28e"  # Outlook's lightGreen
    assert calendars["Alan's"].color == "#f69a98"
    assert not calendars["Alan's"].can_write
    assert calendars["Calendar"].is_primary
    assert page.status_code == 200
    assert "https://graph.microsoft.com/MailboxSettings.Read" in account.scopes.split()  # for the colors


def test_deny_connects_nothing_and_says_so(client, alice, sync_allowed, sandboxes):
    client.force_login(alice)
    for provider, email in (("google", "ada@example.com"), ("microsoft", "grace@example.com")):
        page = connect(client, sandboxes, provider, email, decision="deny")
        assert any("cancelled" in message for message in messages_of(page))
    assert ExternalAccount.objects.count() == 0


def test_several_accounts_of_each_provider_and_no_duplicate_when_connecting_again(client, alice, sync_allowed,
                                                                                   sandboxes):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    connect(client, sandboxes, "google", "ada.work@example.com")
    connect(client, sandboxes, "microsoft", "grace@example.com")
    connect(client, sandboxes, "microsoft", "alan@example.com")
    connect(client, sandboxes, "google", "ada@example.com")  # the same one again
    assert sorted(ExternalAccount.objects.values_list("provider", "email")) == [
        ("google", "ada.work@example.com"), ("google", "ada@example.com"),
        ("microsoft", "alan@example.com"), ("microsoft", "grace@example.com")]


def test_a_revoked_grant_needs_reconnecting_and_reconnecting_restores_the_same_account(
        client, alice, sync_allowed, sandboxes, settings, jobs):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    account = ExternalAccount.objects.get()
    team = account.calendars.get(name="Team")
    client.post(reverse("calendarsync:calendar-update", args=[team.pk]), {
        f"calendar-{team.pk}-selected": "on", f"calendar-{team.pk}-enabled": "on",
        f"calendar-{team.pk}-direction": "both", f"calendar-{team.pk}-first_sync": "from_now"})
    sandboxes.post(f"{sandboxes.google}/__sandbox__/revoke", json={"email": "ada@example.com"})
    sandboxes.post(f"{sandboxes.google}/__sandbox__/expire-access-tokens", json={"email": "ada@example.com"})
    settings.CALENDARSYNC_CALENDAR_REFRESH_SECONDS = 0
    cache.clear()  # nor is a refresh just queued any more
    ExternalAccount.objects.filter(pk=account.pk).update(access_token_expires_at=None)

    client.get(reverse("calendarsync:settings"))
    assert jobs.names() == ["refresh_calendars"]  # the page queued it and answered
    jobs.run()
    page = client.get(reverse("calendarsync:settings"))
    account.refresh_from_db()
    assert (account.state, account.problem) == (AccountState.RECONNECT, "revoked")
    assert "no longer accepts this connection" in page.content.decode()
    assert "Reconnect the account" in client.get(reverse("crm:agenda")).content.decode()  # on every page

    wrong = connect(client, sandboxes, "google", "ada.work@example.com", account=account)
    assert any("the account to reconnect is ada@example.com" in message for message in messages_of(wrong))
    connect(client, sandboxes, "google", "ada@example.com", account=account)
    account.refresh_from_db()
    assert (account.state, account.problem) == (AccountState.ACTIVE, "")
    assert ExternalAccount.objects.count() == 1
    team.refresh_from_db()
    assert team.selected
    assert team.direction == "both"


def test_a_grant_without_calendar_access_says_insufficient_permissions(client, alice, sync_allowed, sandboxes):
    client.force_login(alice)
    page = connect(client, sandboxes, "google", "ada@example.com",
                   ungrant={"https://www.googleapis.com/auth/calendar"})
    account = ExternalAccount.objects.get()
    assert (account.state, account.problem) == (AccountState.RECONNECT, "scopes_missing")
    assert "Insufficient permissions" in page.content.decode()
    assert account.calendars.count() == 0
    connect(client, sandboxes, "microsoft", "grace@example.com", ungrant={"Calendars.ReadWrite"})
    assert ExternalAccount.objects.get(provider="microsoft").problem == "scopes_missing"


def test_a_provider_account_cannot_be_used_to_log_in(client, alice, sync_allowed, sandboxes):
    started = client.post("/accounts/google/login/?process=login")  # allauth's own entry, as an anonymous visitor
    assert started.status_code == 302
    page = finish(client, consent(sandboxes, started["Location"], email="ada@example.com"))
    assert "_auth_user_id" not in client.session
    assert any("cannot be used to log in" in message for message in messages_of(page))
    assert ExternalAccount.objects.count() == 0
    assert SocialAccount.objects.count() == 0


def test_tokens_are_encrypted_in_the_database(client, alice, sync_allowed, sandboxes, settings):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    account = ExternalAccount.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token, access_token FROM calendarsync_externalaccount")
        stored = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in stored)
    assert account.refresh_token not in stored[0]
    assert account.access_token not in stored[1]
    # Another server's keys cannot read them: the account asks to be reconnected instead.
    from django.core.management import call_command

    dump = io.StringIO()
    call_command("dumpdata", "calendarsync", stdout=dump)
    assert account.refresh_token not in dump.getvalue()
    assert account.access_token not in dump.getvalue()
    ExternalAccount.objects.all().delete()
    dump.seek(0)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as fixture:
        fixture.write(dump.getvalue())
        fixture.flush()
        call_command("loaddata", fixture.name, verbosity=0)
    assert ExternalAccount.objects.get().refresh_token == account.refresh_token  # and it loads back
    settings.CALENDARSYNC_TOKEN_KEYS = "another-key"
    assert ExternalAccount.objects.get().refresh_token == ""


def test_the_microsoft_sandbox_consent_page_can_be_on_plain_http_for_browsers(client, alice, sync_allowed, sandboxes,
                                                                              microsoft_server, settings):
    from sandboxes.server import start_plain_twin

    twin = start_plain_twin(microsoft_server)
    try:
        settings.CALENDARSYNC_MICROSOFT_SANDBOX_CONSENT_URL = twin.base_url
        client.force_login(alice)
        authorize = start(client, "microsoft")
        assert authorize.startswith(f"{twin.base_url}/common/oauth2/v2.0/authorize?")
        finish(client, consent(sandboxes, authorize, email="grace@example.com"))
        assert ExternalAccount.objects.get().email == "grace@example.com"  # tokens still came over TLS
    finally:
        twin.shutdown()
        twin.server_close()


def test_a_real_oauth_app_is_used_when_configured(client, alice, sync_allowed, sandboxes, settings):
    """With credentials in the environment, the provider's real URLs are used (here moved onto the sandbox)
    and the account is not a sandbox one."""
    google = sandboxes.google
    settings.CALENDARSYNC_GOOGLE_CLIENT_ID, settings.CALENDARSYNC_GOOGLE_CLIENT_SECRET = "real-app", "s3cret"
    settings.CALENDARSYNC_GOOGLE_AUTHORIZE_URL = f"{google}/o/oauth2/v2/auth"
    settings.CALENDARSYNC_GOOGLE_TOKEN_URL = f"{google}/token"
    settings.CALENDARSYNC_GOOGLE_API_URL = google
    client.force_login(alice)
    page = client.get(reverse("calendarsync:settings")).content.decode()
    assert "Connect Google Calendar</button>" in page  # no "(sandbox)"
    authorize = start(client, "google")
    assert "client_id=real-app" in authorize
    assert "access_type=offline" in authorize
    assert "code_challenge=" in authorize
    finish(client, consent(sandboxes, authorize, email="ada@example.com"))
    account = ExternalAccount.objects.get()
    assert (account.sandbox, account.state) == (False, AccountState.ACTIVE)
    assert account.calendars.count() == 3


def test_a_provider_without_client_or_sandbox_is_not_offered(client, alice, sync_allowed, settings):
    settings.CALENDARSYNC_GOOGLE_SANDBOX_URL = settings.CALENDARSYNC_MICROSOFT_SANDBOX_URL = ""
    settings.CALENDARSYNC_GOOGLE_CLIENT_ID = settings.CALENDARSYNC_MICROSOFT_CLIENT_ID = ""
    client.force_login(alice)
    assert "Not set up on this server yet." in client.get(reverse("calendarsync:settings")).content.decode()
    refused = client.post(reverse("calendarsync:connect", args=["google"]), follow=True)
    assert "not set up on this server" in refused.content.decode()


def test_a_calendar_deleted_remotely_is_shown_as_gone_then_back(client, alice, sync_allowed, sandboxes, settings,
                                                                 jobs):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    settings.CALENDARSYNC_CALENDAR_REFRESH_SECONDS = 0
    cache.clear()  # nor is a refresh just queued any more
    assert sandboxes.delete(f"{sandboxes.google}/__sandbox__/calendars/team@group.example.com").status_code == 204
    client.get(reverse("calendarsync:settings"))
    jobs.run()
    page = client.get(reverse("calendarsync:settings")).content.decode()
    team = ExternalAccount.objects.get().calendars.get(name="Team")
    assert team.gone_at is not None
    assert "deleted in Google Calendar or is no longer shared with you" in page
    sandboxes.post(f"{sandboxes.google}/__sandbox__/calendars", json={
        "id": "team@group.example.com", "summary": "Team", "owner": "ada.work@example.com",
        "share": [{"email": "ada@example.com", "role": "writer"}]})
    client.get(reverse("calendarsync:settings"))
    jobs.run()
    team.refresh_from_db()
    assert team.gone_at is None


def test_expired_access_tokens_are_refreshed_and_rotated_refresh_tokens_kept(client, alice, sync_allowed, sandboxes):
    from calendarsync import services

    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    connect(client, sandboxes, "microsoft", "grace@example.com")
    accounts = list(ExternalAccount.objects.order_by("provider"))
    assert [account.provider for account in accounts] == ["google", "microsoft"]
    for account in accounts:
        before = (account.access_token, account.refresh_token)
        ExternalAccount.objects.filter(pk=account.pk).update(access_token_expires_at=None)
        account.refresh_from_db()
        assert services.calendars_refresh(account, force=True)
        account.refresh_from_db()
        assert account.access_token != before[0]
        assert account.access_token_expires_at is not None
        # Microsoft rotates refresh tokens (the new one must be kept); Google keeps its own.
        assert (account.refresh_token != before[1]) == (account.provider == "microsoft")
        assert account.state == AccountState.ACTIVE


def test_a_refresh_is_claimed_before_calling_out_and_writes_only_what_changed(client, alice, sync_allowed, sandboxes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calendarsync import services

    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    ExternalAccount.objects.update(calendars_refreshed_at=None)
    first, second = ExternalAccount.objects.get(), ExternalAccount.objects.get()  # two page loads at once
    assert services.calendars_refresh(first)
    assert not services.calendars_refresh(second)  # the first one claimed it
    with CaptureQueriesContext(connection) as queries:
        assert services.calendars_refresh(first, force=True)
    assert not [query for query in queries.captured_queries
                if query["sql"].startswith("UPDATE") and "remotecalendar" in query["sql"]]
