from django.urls import reverse

from calendarsync.models import AccountState, SyncPolicy
from tests import factories


def test_the_admin_shows_accounts_without_tokens_and_disables_them(admin_client, alice):
    account = factories.external_account(alice)
    factories.remote_calendar(account, "Work")
    page = admin_client.get(reverse("admin:calendarsync_externalaccount_change", args=[account.pk]))
    assert page.status_code == 200
    assert b"Work" in page.content
    assert b"refresh-secret" not in page.content
    listing = admin_client.get(reverse("admin:calendarsync_externalaccount_changelist"))
    assert b"ada@example.com" in listing.content
    admin_client.post(reverse("admin:calendarsync_externalaccount_changelist"),
                      {"action": "disable", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert account.state == AccountState.DISABLED
    assert admin_client.get(reverse("admin:calendarsync_remotecalendar_changelist")).status_code == 200


def test_sync_permissions_are_edited_on_the_profile(admin_client, sales):
    url = reverse("admin:crm_profile_change", args=[sales.pk])
    page = admin_client.get(url)
    assert b"sync permissions" in page.content.lower()
    form = {"name": "Sales", "description": "", "sync_policy-TOTAL_FORMS": "1", "sync_policy-INITIAL_FORMS": "0",
            "sync_policy-MIN_NUM_FORMS": "0", "sync_policy-MAX_NUM_FORMS": "1", "sync_policy-0-allow_google": "on",
            "sync_policy-0-allow_import": "on", "sync_policy-0-max_calendars": "3"}
    assert admin_client.post(url, form).status_code == 302
    policy = SyncPolicy.objects.get(profile=sales)
    assert (policy.allow_google, policy.allow_microsoft, policy.allow_both, policy.max_calendars) == (
        True, False, False, 3)


def test_the_standard_profiles_get_default_sync_permissions_once(db, sales):
    from django.core.management import call_command

    technician = factories.profile("Technician")
    call_command("install_sync_defaults")
    assert SyncPolicy.objects.get(profile=sales).allow_both
    assert not SyncPolicy.objects.get(profile=technician).allow_both
    SyncPolicy.objects.filter(profile=sales).update(allow_google=False)
    call_command("install_sync_defaults")  # an administrator's change stays
    assert not SyncPolicy.objects.get(profile=sales).allow_google


def test_rotating_token_keys(db, alice, settings):
    from django.core.management import call_command
    from django.db import connection

    settings.CALENDARSYNC_TOKEN_KEYS = "old-key"
    account = factories.external_account(alice)
    settings.CALENDARSYNC_TOKEN_KEYS = "new-key,old-key"
    call_command("rotate_token_keys")
    settings.CALENDARSYNC_TOKEN_KEYS = "new-key"  # the old key is gone: the tokens still read
    account.refresh_from_db()
    assert account.refresh_token == "refresh-secret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM calendarsync_externalaccount")
        assert "refresh-secret" not in cursor.fetchone()[0]


def test_deploy_check_warns_without_token_keys(settings):
    from calendarsync.checks import token_keys_set

    settings.DEBUG, settings.CALENDARSYNC_TOKEN_KEYS = False, ""
    assert [warning.id for warning in token_keys_set(None)] == ["calendarsync.W001"]
    settings.CALENDARSYNC_TOKEN_KEYS = "a-long-random-string"
    assert token_keys_set(None) == []


def test_the_calendar_list_costs_the_same_whatever_the_number_of_calendars(admin_client, alice, bob, sales,
                                                                          django_assert_max_num_queries):
    SyncPolicy.objects.create(profile=sales, max_calendars=2)
    accounts = [factories.external_account(alice), factories.external_account(bob, email="bob@example.com")]
    for account in accounts:
        factories.remote_calendar(account, "Work", selected=True)
    url = reverse("admin:calendarsync_remotecalendar_changelist")
    admin_client.get(url)  # warm: the session, the admin user
    with django_assert_max_num_queries(30) as few:
        admin_client.get(url)
    for account in accounts:
        for index in range(4):
            factories.remote_calendar(account, f"Extra {index}", selected=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(url).content.decode()
    assert page.count("Your profile allows 2 calendars per account.") == 6  # the status of each row is right
