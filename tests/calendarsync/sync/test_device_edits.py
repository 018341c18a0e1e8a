"""An edit made on a device, through the CRM's CalDAV server, reaches the user's Google calendar through the
outbox like any other edit; and an edit arriving from Google reaches the device at its next sync."""

import base64
from xml.etree.ElementTree import fromstring

from crm.models import Action
from devices import services as devices

from .conftest import by_summary, sync

PHONE_EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Phone//EN\r\nBEGIN:VEVENT\r\nUID:phone-7@example.com\r\n"
               "DTSTAMP:20261201T080000Z\r\nDTSTART;TZID=Europe/Paris:20261210T140000\r\n"
               "DTEND;TZID=Europe/Paris:20261210T150000\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
SYNC = ('<?xml version="1.0" encoding="UTF-8"?><sync-collection xmlns="DAV:"><sync-token>{token}</sync-token>'
        "<sync-level>1</sync-level><prop><getetag/></prop></sync-collection>")


def test_a_device_edit_reaches_google_and_a_google_edit_reaches_the_device(client, alice, calendar, google):
    sync(calendar)
    _password, secret = devices.password_create(user=alice, name="Phone")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()}
    path = "/dav/calendars/alice/agenda/phone-7.ics"
    answer = client.generic("PUT", path, PHONE_EVENT.format(summary="Made on the phone").encode(),
                            content_type="text/calendar", HTTP_IF_NONE_MATCH="*", **auth)
    assert answer.status_code == 201
    assert sync(calendar).created == 1
    event = by_summary(google.events())["Made on the phone"]
    assert event["start"] == {"dateTime": "2026-12-10T14:00:00+01:00", "timeZone": "Europe/Paris"}

    listing = client.generic("REPORT", "/dav/calendars/alice/agenda/", SYNC.format(token="").encode(),
                             content_type="application/xml", **auth)
    token = fromstring(listing.content).findtext("{DAV:}sync-token")
    google.change(event["id"], summary="Renamed in Google")
    assert sync(calendar).updated == 1
    assert Action.objects.get(uid="phone-7@example.com").subject == "Renamed in Google"
    changed = client.generic("REPORT", "/dav/calendars/alice/agenda/", SYNC.format(token=token).encode(),
                             content_type="application/xml", **auth)
    assert b"phone-7.ics" in changed.content
    body = client.get(path, **auth).content
    assert b"SUMMARY:Renamed in Google" in body
