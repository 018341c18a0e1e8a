"""The CRM answers free/busy for its users: free-busy-query on their calendars (RFC 4791 7.10), read by the
`caldav` library and by this product's own CalDAV client, and the secret .vfb address; busy times only."""

from datetime import UTC, date, datetime

import caldav
import pytest
import requests
from icalendar import Calendar

from calendarsync.providers.base import Usage
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.provider import CalDAVProvider
from crm import services
from devices import services as device_services
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
DECEMBER = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.fixture
def alices_busy_times(alice, appointment_type):
    series = factories.appointment(alice, "2026-12-07 09:00", "2026-12-07 09:30", subject="Stand-up",
                                   rrule="FREQ=DAILY;COUNT=3")
    services.occurrence_update(series=series, recurrence_id="20261208T080000Z",
                               start=factories.local("2026-12-08 15:00"), end=factories.local("2026-12-08 15:30"))
    factories.appointment(alice, "2026-12-10 12:00", subject="Lunch, maybe", availability="free")
    factories.appointment(alice, "2026-12-11 10:00", subject="Doctor", privacy="private")
    services.action_create(owner=alice, action_type=appointment_type, subject="Offsite", all_day=True,
                           start_date=date(2026, 12, 14), end_date=date(2026, 12, 15), time_zone="Europe/Paris")


EXPECTED = [  # in UTC: Paris is UTC+1 in December; the all-day offsite covers its day in Alice's zone
    (datetime(2026, 12, 7, 8, tzinfo=UTC), datetime(2026, 12, 7, 8, 30, tzinfo=UTC)),
    (datetime(2026, 12, 8, 14, tzinfo=UTC), datetime(2026, 12, 8, 14, 30, tzinfo=UTC)),
    (datetime(2026, 12, 9, 8, tzinfo=UTC), datetime(2026, 12, 9, 8, 30, tzinfo=UTC)),
    (datetime(2026, 12, 11, 9, tzinfo=UTC), datetime(2026, 12, 11, 10, tzinfo=UTC)),
    (datetime(2026, 12, 13, 23, tzinfo=UTC), datetime(2026, 12, 14, 23, tzinfo=UTC)),
]


def periods_of(body: bytes) -> list:
    """The FREEBUSY periods of the one VFREEBUSY of an answer."""
    [component] = Calendar.from_ical(body).walk("VFREEBUSY")
    found = component.get("FREEBUSY", [])
    return [value.dt for value in (found if isinstance(found, list) else [found])]


def agenda_url(live_server, alice):
    return f"{live_server.url}/dav/calendars/{alice.username}/agenda/"


def test_this_products_caldav_client_reads_the_crms_free_busy(live_server, alice, alice_device, alices_busy_times):
    provider = CalDAVProvider(Dav(f"{live_server.url}/dav/", alice.username, alice_device, Usage()))
    path = f"/dav/calendars/{alice.username}/agenda/"
    found = provider.free_busy([path], *DECEMBER)
    assert list(found[path].busy) == EXPECTED
    assert provider.usage.requests == 1  # the report itself, not the events


def test_the_caldav_library_reads_a_vfreebusy_without_subjects(live_server, alice, alice_device, alices_busy_times):
    client = caldav.DAVClient(url=f"{live_server.url}/dav/", username=alice.username, password=alice_device)
    try:
        [calendar] = client.principal().calendars()
        answer = calendar.freebusy_request(*DECEMBER)
        text = answer.data
    finally:
        client.close()
    assert "BEGIN:VFREEBUSY" in text
    assert periods_of(text.encode()) == EXPECTED
    for secret in ("Stand-up", "Doctor", "Offsite", "Lunch"):
        assert secret not in text


def test_a_free_busy_query_without_its_range_is_a_400(live_server, alice, alice_device):
    answer = requests.request("REPORT", agenda_url(live_server, alice), auth=(alice.username, alice_device),
                              data=b'<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>', timeout=10)
    assert answer.status_code == 400


def test_the_secret_vfb_address_gives_the_same_busy_times(client, live_server, alice, alices_busy_times):
    device_services.calendar_switch(user=alice, key="agenda", synced=True)
    client.force_login(alice)
    page = client.get("/settings/devices/").content.decode()
    [address] = [part.split("</code>")[0] for part in page.split("<code>") if part.split("</code>")[0].endswith(".vfb")]
    answer = requests.get(address.replace("http://testserver", live_server.url), timeout=10)
    assert answer.headers["Content-Type"].startswith("text/calendar")
    assert set(EXPECTED) <= set(periods_of(answer.content))
    assert requests.get(f"{live_server.url}/feeds/not-a-secret.vfb", timeout=10).status_code == 404


def report(live_server, alice, alice_device, time_range):
    body = (f'<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range {time_range}/>'
            '</C:free-busy-query>').encode()
    return requests.request("REPORT", agenda_url(live_server, alice), auth=(alice.username, alice_device),
                            data=body, headers={"Depth": "1"}, timeout=10)


def test_a_vfreebusy_has_its_uid_stamp_and_range_and_an_open_range_is_bounded(live_server, alice, alice_device,
                                                                              alices_busy_times):
    answer = report(live_server, alice, alice_device, 'start="20261201T000000Z"')  # no end (RFC 4791 9.9)
    assert answer.status_code == 200
    [component] = Calendar.from_ical(answer.content).walk("VFREEBUSY")
    assert {"UID", "DTSTAMP", "DTSTART", "DTEND"} <= set(component)
    assert component.decoded("DTEND") == datetime(2027, 12, 2, tzinfo=UTC)  # a year on


@pytest.mark.parametrize("time_range", ['start="00010101T000000Z" end="00020101T000000Z"',
                                        'start="99990101T000000Z" end="99991231T230000Z"',
                                        'start="20261201T000000Z" end="20261101T000000Z"', 'start="soon"'])
def test_a_range_out_of_the_agendas_years_or_backwards_is_a_400(live_server, alice, alice_device, time_range):
    assert report(live_server, alice, alice_device, time_range).status_code == 400
