"""Connecting and configuring under bad input, odd remote data, provider trouble and stale states."""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from calendarsync import crypto, selectors, services
from calendarsync.models import AccountState, ExternalAccount, RemoteCalendar
from tests import factories

from .conftest import paused
from .connecting import connect, consent, finish


@pytest.mark.parametrize("value", ["abc", "1.5", "1x", "²", "99999999999999999999"])
def test_a_garbage_account_to_reconnect_is_a_404(client, alice, sync_allowed, value):
    client.force_login(alice)
    assert client.post(reverse("calendarsync:connect", args=["google"]), {"account": value}).status_code == 404
    assert client.post(reverse("calendarsync:connect", args=["yahoo"])).status_code == 404


def test_allauth_s_own_connect_pages_cannot_change_an_account(client, alice, sync_allowed, sandboxes):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    assert client.get("/accounts/3rdparty/").url == reverse("calendarsync:settings")
    started = client.post("/accounts/google/login/?process=connect")  # allauth's scope: profile only
    page = finish(client, consent(sandboxes, started["Location"], email="ada@example.com"))
    assert "cannot be used to log in" in page.content.decode()
    assert ExternalAccount.objects.get().state == AccountState.ACTIVE


def test_a_very_long_shared_calendar_name_is_cut_not_a_crash(client, alice, sync_allowed, sandboxes):
    sandboxes.post(f"{sandboxes.google}/__sandbox__/calendars", json={
        "id": "long@group.example.com", "summary": "N" * 300, "owner": "ada.work@example.com",
        "share": [{"email": "ada@example.com", "role": "reader"}]})
    client.force_login(alice)
    assert connect(client, sandboxes, "google", "ada@example.com").status_code == 200
    assert len(RemoteCalendar.objects.get(remote_id="long@group.example.com").name) == 255


def test_a_provider_error_during_refresh_is_not_a_revoked_grant(client, alice, sync_allowed, sandboxes, settings):
    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    account = ExternalAccount.objects.get()
    ExternalAccount.objects.filter(pk=account.pk).update(access_token_expires_at=None)
    settings.CALENDARSYNC_CALENDAR_REFRESH_SECONDS = 300
    sandboxes.post(f"{sandboxes.google}/__sandbox__/faults", json={"status": 503, "times": 5, "path": "/token"})
    account.refresh_from_db()
    assert not services.calendars_refresh(account, force=True)
    tries = sandboxes.get(f"{sandboxes.google}/__sandbox__/counters").json()["requests"]["injected_faults"]
    account.refresh_from_db()
    assert (account.state, account.problem) == (AccountState.ACTIVE, "unreachable")
    assert "could not be reached" in selectors.account_problem(account)
    client.get(reverse("calendarsync:settings"))  # the failed attempt counts: no second try at once
    assert sandboxes.get(f"{sandboxes.google}/__sandbox__/counters").json()["requests"]["injected_faults"] == tries


def test_the_missing_permission_is_named_and_microsoft_needs_shared_calendars(client, alice, sync_allowed,
                                                                               sandboxes):
    client.force_login(alice)
    page = connect(client, sandboxes, "microsoft", "grace@example.com", ungrant={"Calendars.Read.Shared"})
    account = ExternalAccount.objects.get()
    assert (account.state, account.problem) == (AccountState.RECONNECT, "scopes_missing")
    assert "Insufficient permissions: Calendars.Read.Shared was not granted" in page.content.decode()


def test_pause_reasons_follow_every_change(alice, account, sync_allowed):
    calendar = services.calendar_configure(alice, factories.remote_calendar(account, "A"), selected=True)
    sync_allowed.allow_both = False
    sync_allowed.save()
    assert "Two-way" in paused(alice, calendar)
    services.calendar_configure(alice, calendar, direction="import")
    assert paused(alice, calendar) == ""  # the user's own change resolves it at once
    with pytest.raises(services.Refused):
        services.calendar_configure(alice, calendar, direction="both")
    services.calendar_configure(alice, calendar, selected=False)
    assert paused(alice, calendar) == ""
    assert selectors.notices_for(alice) == []


def test_deleting_a_profile_pauses_its_users_calendars(alice, account, sales):
    calendar = services.calendar_configure(alice, factories.remote_calendar(account), selected=True)
    sales.delete()
    assert "does not allow connecting Google Calendar" in paused(alice, calendar)


def test_enabling_an_account_restores_what_its_tokens_allow(alice, account):
    ExternalAccount.objects.filter(pk=account.pk).update(problem="unreachable")
    account.refresh_from_db()
    services.account_set_disabled(account, True)
    services.account_set_disabled(account, False)
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    ExternalAccount.objects.filter(pk=account.pk).update(state=AccountState.RECONNECT, problem="revoked")
    account.refresh_from_db()
    services.account_set_disabled(account, False)  # not disabled: nothing to enable
    account.refresh_from_db()
    assert account.state == AccountState.RECONNECT


def test_a_disabled_account_s_calendars_cannot_be_configured(api_as, alice, account):
    calendar = factories.remote_calendar(account)
    services.account_set_disabled(account, True)
    refused = api_as(alice).patch(f"/api/v1/sync/calendars/{calendar.pk}/", {"selected": True})
    assert refused.status_code == 403
    assert "administrator disabled" in refused.json()["detail"]
    assert api_as(alice).post(f"/api/v1/sync/accounts/{account.pk}/refresh/").status_code == 409


def test_a_calendar_that_goes_or_becomes_read_only_stops_receiving_new_appointments(alice, account):
    from calendarsync.providers import CalendarInfo

    first = services.calendar_configure(alice, factories.remote_calendar(account, "A"), selected=True,
                                        is_destination=True)
    second = factories.remote_calendar(account, "B")
    services._store_calendars(account, [CalendarInfo(second.remote_id, "B", "#000000", True, False),
                                        CalendarInfo(first.remote_id, "A", "#000000", False, False)])
    first.refresh_from_db()
    assert (first.direction, first.is_destination) == ("import", False)
    services.calendar_configure(alice, second, selected=True, is_destination=True)
    services._store_calendars(account, [])
    second.refresh_from_db()
    assert second.gone_at is not None
    assert not second.is_destination


def test_a_calendar_coming_back_over_the_limit_is_paused(alice, account, sync_allowed):
    from calendarsync.providers import CalendarInfo

    sync_allowed.max_calendars = 1
    sync_allowed.save()
    first = services.calendar_configure(alice, factories.remote_calendar(account, "A"), selected=True)
    second = factories.remote_calendar(account, "B")
    services._store_calendars(account, [CalendarInfo(second.remote_id, "B", "", True, False)])  # A is gone
    services.calendar_configure(alice, second, selected=True)
    services._store_calendars(account, [CalendarInfo(first.remote_id, "A", "", True, False),
                                        CalendarInfo(second.remote_id, "B", "", True, False)])
    reasons = selectors.pause_reasons(alice)
    assert [calendar.name for calendar in RemoteCalendar.objects.filter(pk__in=reasons)] == ["B"]


@pytest.mark.parametrize("since", [date(2999, 1, 1), date(1800, 1, 1)])
def test_a_first_sync_date_must_be_sensible(alice, account, since):
    with pytest.raises(services.Invalid, match="between 1900 and today"):
        services.calendar_configure(alice, factories.remote_calendar(account), selected=True, first_sync="since",
                                    first_sync_since=since)


def test_the_admin_cannot_bypass_a_calendar_s_rules(admin_client, alice, account):
    calendar = factories.remote_calendar(account, "Holidays", can_write=False)
    url = reverse("admin:calendarsync_remotecalendar_change", args=[calendar.pk])
    page = admin_client.get(url).content.decode()
    for field in ("selected", "direction", "is_destination", "action_types"):
        assert f'name="{field}"' not in page  # shown, not editable
    saved = admin_client.post(url, {"selected": "on", "direction": "export", "is_destination": "on", "_save": "1"})
    assert saved.status_code == 302  # the form is accepted: only the read-only fields were ignored
    calendar.refresh_from_db()
    assert (calendar.selected, calendar.direction, calendar.is_destination) == (False, "both", False)


def test_rotating_keys_leaves_unreadable_tokens_alone(db, alice, settings, capsys):
    settings.CALENDARSYNC_TOKEN_KEYS = "lost-key"
    factories.external_account(alice)
    settings.CALENDARSYNC_TOKEN_KEYS = "new-key"
    call_command("rotate_token_keys")
    assert "no configured key can read" in capsys.readouterr().err
    settings.CALENDARSYNC_TOKEN_KEYS = "lost-key"  # the key is found again: nothing was lost
    assert ExternalAccount.objects.get().refresh_token == "refresh-secret"


def test_text_that_only_looks_encrypted_is_encrypted_too(db, alice):
    account = factories.external_account(alice, access_token="fernet:not-really-encrypted")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM calendarsync_externalaccount")
        stored = cursor.fetchone()[0]
    assert stored != "fernet:not-really-encrypted"
    assert crypto.decrypt(stored) == "fernet:not-really-encrypted"
    account.refresh_from_db()
    assert account.access_token == "fernet:not-really-encrypted"
