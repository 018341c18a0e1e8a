"""What a user may choose for a calendar, what their profile allows, and what disconnecting does."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendarsync import selectors, services
from calendarsync.models import CalendarStatus, EventLink, ExternalAccount, SyncPolicy
from crm.models import Action
from tests import factories

from .conftest import paused


def configure(user, calendar, **changes):
    return services.calendar_configure(user, calendar, **changes)


def test_selecting_a_calendar_syncs_appointment_types_by_default(alice, account, appointment_type, call_type):
    calendar = configure(alice, factories.remote_calendar(account), selected=True)
    assert list(calendar.action_types.all()) == [appointment_type]
    assert selectors.calendar_status(calendar, {})[0] == CalendarStatus.PENDING  # nothing synced it yet
    configure(alice, calendar, action_types=[appointment_type, call_type])
    assert calendar.action_types.count() == 2
    with pytest.raises(services.Invalid, match="at least one action type"):
        configure(alice, calendar, action_types=[])


def test_a_read_only_calendar_can_only_be_imported(alice, account):
    holidays = factories.remote_calendar(account, "Holidays", can_write=False)
    with pytest.raises(services.Invalid, match="read-only"):
        configure(alice, holidays, selected=True, direction="both")
    assert configure(alice, holidays, selected=True, direction="import").selected


def test_at_most_the_profile_limit_of_calendars_per_account(alice, account, sync_allowed):
    sync_allowed.max_calendars = 2
    sync_allowed.save()
    first, second, third = (factories.remote_calendar(account, name) for name in ("A", "B", "C"))
    configure(alice, first, selected=True)
    configure(alice, second, selected=True)
    with pytest.raises(services.Refused, match="at most 2 calendars"):
        configure(alice, third, selected=True)
    other = factories.external_account(alice, email="other@example.com")
    assert configure(alice, factories.remote_calendar(other), selected=True).selected  # the limit is per account


def test_one_destination_for_new_appointments_and_it_must_export(alice, account):
    first, second = factories.remote_calendar(account, "A"), factories.remote_calendar(account, "B")
    configure(alice, first, selected=True, is_destination=True)
    configure(alice, second, selected=True, is_destination=True)
    first.refresh_from_db()
    assert (first.is_destination, second.is_destination) == (False, True)
    with pytest.raises(services.Invalid, match="exports"):
        configure(alice, first, direction="import", is_destination=True)
    configure(alice, second, direction="import")
    second.refresh_from_db()
    assert not second.is_destination


def test_first_sync_since_a_date_needs_the_date(alice, account):
    calendar = factories.remote_calendar(account)
    with pytest.raises(services.Invalid, match="which date"):
        configure(alice, calendar, selected=True, first_sync="since")
    configure(alice, calendar, selected=True, first_sync="since", first_sync_since=date(2026, 1, 1))
    calendar.refresh_from_db()
    assert calendar.first_sync_since == date(2026, 1, 1)


def test_someone_else_s_calendar_and_a_gone_calendar_are_refused(alice, bob, account):
    calendar = factories.remote_calendar(account)
    with pytest.raises(services.Refused):
        configure(bob, calendar, selected=True)
    calendar.gone_at = "2026-11-20T10:00:00Z"
    calendar.save()
    with pytest.raises(services.Invalid, match="no longer exists"):
        configure(alice, calendar, selected=True)


def test_profile_permissions_refuse_with_a_reason_on_the_page(client, alice, account, sync_allowed):
    sync_allowed.allow_both = False
    sync_allowed.allow_microsoft = False
    sync_allowed.save()
    calendar = factories.remote_calendar(account)
    client.force_login(alice)
    response = client.post(reverse("calendarsync:calendar-update", args=[calendar.pk]), {
        f"calendar-{calendar.pk}-selected": "on", f"calendar-{calendar.pk}-direction": "both",
        f"calendar-{calendar.pk}-first_sync": "from_now"}, follow=True)
    assert "was not changed: Direction" in response.content.decode()  # "both" is not even offered
    calendar.refresh_from_db()
    assert not calendar.selected
    refused = client.post(reverse("calendarsync:connect", args=["microsoft"]))
    assert refused.status_code == 403
    assert "does not allow connecting Microsoft 365" in refused.content.decode()


def test_a_user_without_sync_permissions_may_connect_nothing(client, bob, sales):
    client.force_login(bob)
    assert client.post(reverse("calendarsync:connect", args=["google"])).status_code == 403
    page = client.get(reverse("calendarsync:settings")).content.decode()
    assert "does not allow connecting Google Calendar" in page


def test_turning_a_permission_off_pauses_calendars_and_tells_their_users(client, alice, account, sync_allowed):
    both = configure(alice, factories.remote_calendar(account, "Two-way"), selected=True, direction="both")
    imported = configure(alice, factories.remote_calendar(account, "In"), selected=True, direction="import")
    sync_allowed.allow_both = False
    sync_allowed.save()
    reasons = selectors.pause_reasons(alice)
    assert len(reasons) == 1
    assert selectors.calendar_status(both, reasons) == (CalendarStatus.PAUSED, "Your profile does not allow the "
                                                                               "direction “Two-way”.")
    assert selectors.calendar_status(imported, reasons)[0] == CalendarStatus.PENDING
    client.force_login(alice)
    assert "Two-way is paused" in client.get(reverse("crm:agenda")).content.decode()
    sync_allowed.allow_both = True
    sync_allowed.save()
    assert paused(alice, both) == ""


def test_disconnecting_keeps_or_removes_what_came_from_the_account(client, alice, account, appointment_type):
    calendar = factories.remote_calendar(account)
    imported = factories.appointment(alice, "2026-11-23 10:00", subject="From Google")
    exported = factories.appointment(alice, "2026-11-24 10:00", subject="From the CRM")
    EventLink.objects.create(calendar=calendar, action=imported, remote_id="e1", imported=True)
    EventLink.objects.create(calendar=calendar, action=exported, remote_id="e2", imported=False)
    other = factories.external_account(alice, email="other@example.com")
    kept = factories.appointment(alice, "2026-11-25 10:00", subject="Kept")
    EventLink.objects.create(calendar=factories.remote_calendar(other), action=kept, remote_id="e3", imported=True)
    client.force_login(alice)
    assert client.post(reverse("calendarsync:disconnect", args=[other.pk])).status_code == 302  # no choice: kept
    assert ExternalAccount.objects.filter(pk=other.pk).exists()
    client.post(reverse("calendarsync:disconnect", args=[other.pk]), {"appointments": "keep"})
    assert not ExternalAccount.objects.filter(pk=other.pk).exists()
    assert Action.objects.filter(pk=kept.pk).exists()
    client.post(reverse("calendarsync:disconnect", args=[account.pk]), {"appointments": "remove"})
    assert list(Action.objects.order_by("start").values_list("subject", flat=True)) == ["From the CRM", "Kept"]
    assert EventLink.objects.count() == 0


def test_an_administrator_can_disable_an_account(alice, account):
    calendar = configure(alice, factories.remote_calendar(account), selected=True)
    services.account_set_disabled(account, True)
    calendar.refresh_from_db()
    assert selectors.calendar_status(calendar, {})[0] == CalendarStatus.PAUSED
    assert "administrator disabled" in selectors.calendar_status(calendar, {})[1]
    services.account_set_disabled(account, False)
    account.refresh_from_db()
    assert account.is_active


def test_no_policy_object_is_needed_for_superusers(db):
    root = factories.user("root", is_superuser=True, is_staff=True)
    allowed = selectors.allowed_for(root)
    assert allowed.providers == {"google", "microsoft", "caldav"}
    assert allowed.max_calendars == 10
    assert SyncPolicy.objects.count() == 0


def test_permissions_follow_a_policy_or_a_profile_changed_any_way(alice, account, sync_allowed, manager_profile):
    calendar = configure(alice, factories.remote_calendar(account), selected=True, direction="both")
    SyncPolicy.objects.filter(pk=sync_allowed.pk).update(allow_google=False)  # not even a save() signal
    assert "does not allow connecting Google Calendar" in paused(alice, calendar)
    SyncPolicy.objects.create(profile=manager_profile)
    type(alice).objects.filter(pk=alice.pk).update(profile=manager_profile)
    assert paused(alice, calendar) == ""


def test_a_calendar_once_synced_says_so(alice, account):
    calendar = configure(alice, factories.remote_calendar(account), selected=True)
    calendar.last_synced_at = "2026-11-21T10:00:00Z"
    assert selectors.calendar_status(calendar, {})[0] == CalendarStatus.SYNCED
    calendar.error = "Google limits requests; it will try again by itself."
    assert selectors.calendar_status(calendar, {}) == (CalendarStatus.ERROR, calendar.error)
    calendar.lease_expires_at = timezone.now() + timedelta(minutes=1)  # a run holds it
    assert selectors.calendar_status(calendar, {})[0] == CalendarStatus.SYNCING
    calendar.lease_expires_at = timezone.now() - timedelta(minutes=1)  # its worker stopped
    assert selectors.calendar_status(calendar, {})[0] == CalendarStatus.ERROR


def test_the_settings_page_costs_the_same_whatever_the_number_of_calendars(client, alice, account, appointment_type,
                                                                          django_assert_max_num_queries):
    for index in range(3):
        configure(alice, factories.remote_calendar(account, f"C{index}"), selected=True)
    client.force_login(alice)
    client.get(reverse("calendarsync:settings"))  # warm: the session, the user
    account.calendars_refreshed_at = "2099-01-01T00:00:00Z"  # no provider call in this test
    account.save()
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("calendarsync:settings"))
    for index in range(3, 12):
        factories.remote_calendar(account, f"C{index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("calendarsync:settings")).status_code == 200


def test_a_calendar_with_more_entries_than_the_setting_is_flagged_on_the_page(client, alice, account, settings,
                                                                               appointment_type):
    from django.urls import reverse

    from calendarsync.models import EventLink

    settings.CALENDARSYNC_LARGE_CALENDAR = 2
    big, small = factories.remote_calendar(account, "Big"), factories.remote_calendar(account, "Small")
    for number, calendar in enumerate([big, big, big, small]):
        action = factories.appointment(alice, f"2026-12-0{number + 1} 10:00")
        EventLink.objects.create(calendar=calendar, action=action, remote_id=f"event-{number}")
    client.force_login(alice)
    html = client.get(reverse("calendarsync:settings")).content.decode()
    assert html.count("data-large") == 1
    assert "This calendar holds 3 entries, more than 2" in html
