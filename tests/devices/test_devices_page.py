"""The *Calendars on devices* page: switches, addresses, device passwords; the ICS feeds; the large-calendar
warning."""

import time

import pytest
from django.urls import reverse

from devices.models import DeviceCalendar, DevicePassword
from tests import factories


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def page(client):
    return client.get(reverse("devices:page"))


def test_the_agenda_goes_to_devices_with_its_addresses(signed_in, alice, appointment_type):
    answer = page(signed_in)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Alice&#x27;s agenda" in html
    assert "/dav/calendars/alice/agenda/" in html
    agenda = DeviceCalendar.objects.get(user=alice, key="agenda")
    assert agenda.synced
    assert f"/feeds/{agenda.feed_secret}.ics" in html
    assert f"/feeds/{agenda.busy_feed_secret}.ics" in html


def test_a_password_is_shown_once(signed_in, alice):
    answer = signed_in.post(reverse("devices:page"), {"name": "Alice's phone"})
    assert answer.status_code == 201
    secret = answer.context["created"]["secret"]
    assert secret in answer.content.decode()
    again = page(signed_in).content.decode()
    assert secret not in again
    assert f"…{secret[-4:]}" in again
    assert "never" in again


def test_a_password_without_a_name_is_refused_in_words(signed_in):
    answer = signed_in.post(reverse("devices:page"), {"name": " "}, follow=True)
    assert "Give the device a name" in answer.content.decode()
    assert not DevicePassword.objects.exists()


def test_revoking_a_password(signed_in, alice, bob):
    from devices import services

    mine, _secret = services.password_create(user=alice, name="Phone")
    theirs, _secret = services.password_create(user=bob, name="Bob's")
    signed_in.post(reverse("devices:password-revoke", args=[theirs.pk]))
    signed_in.post(reverse("devices:password-revoke", args=[mine.pk]))
    assert list(DevicePassword.objects.values_list("name", flat=True)) == ["Bob's"]


def test_a_type_switched_on_gets_its_calendar_and_leaves_the_agenda(signed_in, alice, appointment_type, call_type):
    signed_in.post(reverse("devices:calendar-switch", args=[f"type-{call_type.pk}"]), {"synced": "on"})
    assert DeviceCalendar.objects.get(user=alice, key=f"type-{call_type.pk}").synced
    signed_in.post(reverse("devices:calendar-switch", args=["agenda"]), {})
    assert not DeviceCalendar.objects.get(user=alice, key="agenda").synced
    assert signed_in.post(reverse("devices:calendar-switch", args=["user-999"]), {"synced": "on"}).status_code == 302
    assert not DeviceCalendar.objects.filter(key="user-999").exists()


def test_a_colleagues_agenda_is_offered_only_to_who_may_see_every_agenda(client, alice, manager):
    def keys(user):
        client.force_login(user)
        return [shown.calendar.key for shown in page(client).context["calendars"]]

    assert not [key for key in keys(alice) if key.startswith("user-")]
    assert f"user-{alice.pk}" in keys(manager)


def test_a_large_calendar_is_flagged(signed_in, alice, appointment_type, settings):
    settings.CALENDARSYNC_LARGE_CALENDAR = 2
    for day in (1, 2, 3):
        factories.appointment(alice, f"2026-12-0{day} 10:00")
    html = page(signed_in).content.decode()
    assert "holds 3 entries, more than 2" in html


def test_the_feed_serves_the_calendar_then_304_and_the_busy_one_hides_details(signed_in, client, alice,
                                                                              appointment_type):
    factories.appointment(alice, "2026-12-03 10:00", subject="Board meeting", location="Room 4")
    page(signed_in)
    agenda = DeviceCalendar.objects.get(user=alice, key="agenda")
    client.logout()  # subscribed apps have no session
    whole = client.get(reverse("devices:feed", args=[agenda.feed_secret]))
    assert whole.status_code == 200
    assert whole["Content-Type"].startswith("text/calendar")
    assert b"SUMMARY:Board meeting" in whole.content
    assert b"LOCATION:Room 4" in whole.content
    assert client.get(reverse("devices:feed", args=[agenda.feed_secret]),
                      HTTP_IF_NONE_MATCH=whole["ETag"]).status_code == 304
    busy = client.get(reverse("devices:feed", args=[agenda.busy_feed_secret]))
    assert b"SUMMARY:Busy" in busy.content
    assert b"Board" not in busy.content
    assert b"Room 4" not in busy.content
    assert busy["ETag"] != whole["ETag"]


def test_renewed_feed_addresses_end_the_old_ones(signed_in, client, alice):
    page(signed_in)
    old = DeviceCalendar.objects.get(user=alice, key="agenda").feed_secret
    signed_in.post(reverse("devices:feeds-renew", args=["agenda"]))
    assert client.get(reverse("devices:feed", args=[old])).status_code == 404
    new = DeviceCalendar.objects.get(user=alice, key="agenda").feed_secret
    assert client.get(reverse("devices:feed", args=[new])).status_code == 200


def test_a_deletion_is_news_to_a_feed_polled_by_date(signed_in, client, alice, appointment_type):
    from crm import services as crm

    older = factories.appointment(alice, "2026-12-03 10:00", subject="Older")
    factories.appointment(alice, "2026-12-04 10:00", subject="Newer")
    page(signed_in)
    secret = DeviceCalendar.objects.get(user=alice, key="agenda").feed_secret
    first = client.get(reverse("devices:feed", args=[secret]))
    time.sleep(1.05)  # HTTP dates count whole seconds: a change within the second of Last-Modified is the ETag's
    crm.action_delete(action=older)
    again = client.get(reverse("devices:feed", args=[secret]), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert b"Older" not in again.content
