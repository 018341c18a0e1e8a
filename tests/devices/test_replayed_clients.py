"""The requests Thunderbird, DAVx5 and Apple's calendar apps send, as their sources and recordings give them
(Thunderbird: calendar/providers/caldav; DAVx5: davx5-ose and dav4jvm; Apple: the client simulator of
apple/ccs-calendarserver and captures quoted by server projects), replayed against /dav/ with the answers
each client needs."""

import base64
import re
from xml.etree.ElementTree import fromstring

import pytest

from crm.models import Action
from tests import factories

D, C, CS, A = "{DAV:}", "{urn:ietf:params:xml:ns:caldav}", "{http://calendarserver.org/ns/}", "{http://apple.com/ns/ical/}"


@pytest.fixture
def dav(client, alice, alice_device, appointment_type):
    auth = "Basic " + base64.b64encode(f"alice:{alice_device}".encode()).decode()

    def request(method, path, body="", content_type="application/xml; charset=utf-8", **headers):
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        return client.generic(method, path, body.encode() if isinstance(body, str) else body,
                              content_type=content_type, HTTP_AUTHORIZATION=auth, **extra)
    return request


def responses(answer):
    """{href: {property tag: element}} of a 207 (found properties only), and {href: status} of bare responses."""
    assert answer.status_code == 207, answer.content[:500]
    found, statuses = {}, {}
    for response in fromstring(answer.content).findall(f"{D}response"):
        href = response.findtext(f"{D}href")
        if response.find(f"{D}status") is not None:
            statuses[href] = response.findtext(f"{D}status")
        for propstat in response.findall(f"{D}propstat"):
            if " 200 " in propstat.findtext(f"{D}status"):
                found.setdefault(href, {}).update((child.tag, child) for child in propstat.find(f"{D}prop"))
    return found, statuses


def href_of(element):
    return element.findtext(f"{D}href")


THUNDERBIRD_DISCOVERY = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<D:propfind xmlns:D='DAV:' xmlns:A='http://apple.com/ns"
                         "/ical/' xmlns:C='urn:ietf:params:xml:ns:caldav'><D:prop><D:resourcetype/><D:owner/><D:displayname/>"
                         "<D:current-user-principal/><D:current-user-privilege-set/><A:calendar-color/><C:calendar-home-set/>"
                         "</D:prop></D:propfind>")
THUNDERBIRD_HOME = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<D:propfind xmlns:D='DAV:' xmlns:A='http://apple.com/ns/ical/'>"
                    "<D:prop><D:resourcetype/><D:displayname/><D:current-user-privilege-set/><A:calendar-color/></D:prop>"
                    "</D:propfind>")
THUNDERBIRD_STARTUP = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<D:propfind xmlns:D='DAV:' xmlns:C='urn:ietf:params:xml:ns:"
                       "caldav' xmlns:CS='http://calendarserver.org/ns/'><D:prop><D:resourcetype/><D:owner/><D:current-user-"
                       "principal/><D:current-user-privilege-set/><D:supported-report-set/><C:supported-calendar-component-set/>"
                       "<CS:getctag/></D:prop></D:propfind>")
THUNDERBIRD_SYNC = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sync-collection xmlns=\"DAV:\"><sync-token>{token}</sync-token>"
                    "<sync-level>1</sync-level><prop><getcontenttype/><getetag/></prop></sync-collection>")
THUNDERBIRD_MULTIGET = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<C:calendar-multiget xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:"
                        "params:xml:ns:caldav\"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>")
EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nBEGIN:VEVENT\r\n"
         "UID:{uid}\r\nDTSTAMP:20261201T080000Z\r\nDTSTART;TZID=Europe/Paris:20261209T150000\r\n"
         "DTEND;TZID=Europe/Paris:20261209T160000\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_thunderbird(dav, alice):
    factories.appointment(alice, "2026-12-03 10:00", subject="In the CRM")
    known = dav("PROPFIND", "/.well-known/caldav", THUNDERBIRD_DISCOVERY, Depth="0")
    assert known.status_code == 301
    assert known["Location"] == "/dav/"
    found, _ = responses(dav("PROPFIND", "/dav/", THUNDERBIRD_DISCOVERY, Depth="0"))
    principal = href_of(found["/dav/"][f"{D}current-user-principal"])
    found, _ = responses(dav("PROPFIND", principal, "<D:propfind xmlns:D='DAV:' xmlns:C='urn:ietf:params:xml:ns:caldav'><D:prop>"
                                                    "<C:calendar-home-set/></D:prop></D:propfind>", Depth="0"))
    home = href_of(found[principal][f"{C}calendar-home-set"])
    found, _ = responses(dav("PROPFIND", home, THUNDERBIRD_HOME, Depth="1"))
    calendars = [path for path, props in found.items() if props[f"{D}resourcetype"].find(f"{C}calendar") is not None]
    assert calendars == ["/dav/calendars/alice/agenda/"]
    calendar = calendars[0]
    assert found[calendar][f"{A}calendar-color"].text == "#1a73e8"
    assert found[calendar][f"{D}current-user-privilege-set"].find(f".//{D}write-content") is not None

    found, _ = responses(dav("PROPFIND", calendar, THUNDERBIRD_STARTUP, Depth="0"))
    reports = {report.tag for report in found[calendar][f"{D}supported-report-set"].iter() if report.tag.endswith(
        ("sync-collection", "calendar-multiget", "calendar-query"))}
    assert reports == {f"{D}sync-collection", f"{C}calendar-multiget", f"{C}calendar-query"}
    assert dav("OPTIONS", "/dav/calendars/alice/").status_code == 200

    listing = dav("REPORT", calendar, THUNDERBIRD_SYNC.format(token=""), Depth="1")
    found, _ = responses(listing)
    token = fromstring(listing.content).findtext(f"{D}sync-token")
    [(href, props)] = [(path, props) for path, props in found.items() if path != calendar]
    assert props[f"{D}getcontenttype"].text.startswith("text/calendar")
    found, _ = responses(dav("REPORT", calendar, THUNDERBIRD_MULTIGET.format(hrefs=f"<D:href>{href}</D:href>"), Depth="1"))
    assert "SUMMARY:In the CRM" in found[href][f"{C}calendar-data"].text

    created = dav("PUT", f"{calendar}tb-1.ics", EVENT.format(uid="tb-1", summary="From Thunderbird"),
                  content_type="text/calendar; charset=utf-8", If_None_Match="*")
    assert created.status_code == 201
    assert dav("PUT", f"{calendar}tb-1.ics", EVENT.format(uid="tb-1", summary="Again"),
               content_type="text/calendar; charset=utf-8", If_None_Match="*").status_code == 412
    found, statuses = responses(dav("REPORT", calendar, THUNDERBIRD_SYNC.format(token=token), Depth="1"))
    etag = found[f"{calendar}tb-1.ics"][f"{D}getetag"].text
    assert created["ETag"] == etag  # stored as sent: the next sync does not bring the device's own write back
    assert dav("PUT", f"{calendar}tb-1.ics", EVENT.format(uid="tb-1", summary="Stale"),
               content_type="text/calendar; charset=utf-8", If_Match='"not-it"').status_code == 412
    assert dav("PUT", f"{calendar}tb-1.ics", EVENT.format(uid="tb-1", summary="Renamed in Thunderbird"),
               content_type="text/calendar; charset=utf-8", If_Match=etag).status_code == 204
    assert Action.objects.get(uid="tb-1").subject == "Renamed in Thunderbird"
    etag = dav("GET", f"{calendar}tb-1.ics")["ETag"]
    assert dav("DELETE", f"{calendar}tb-1.ics", If_Match=etag).status_code == 204
    assert dav("DELETE", f"{calendar}tb-1.ics", If_Match=etag).status_code == 404  # Thunderbird counts it done
    assert not Action.objects.filter(uid="tb-1").exists()


def test_a_forgotten_token_is_the_403_clients_restart_from(dav, alice):
    answer = dav("REPORT", "/dav/calendars/alice/agenda/", THUNDERBIRD_SYNC.format(token="urn:x-crm:sync:7:1"), Depth="1")
    assert answer.status_code == 403
    assert fromstring(answer.content).find(f"{D}valid-sync-token") is not None


DAVX5_DISCOVERY = ('<?xml version="1.0" encoding="UTF-8"?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" '
                   'xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><current-user-principal />'
                   '<current-user-privilege-set /><CAL:calendar-home-set /><CAL:supported-calendar-component-set />'
                   '<n1:calendar-color xmlns:n1="http://apple.com/ns/ical/" /><CAL:calendar-description />'
                   '<CAL:calendar-timezone /></prop></propfind>')
DAVX5_QUERY = ('<?xml version="1.0" encoding="UTF-8"?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">'
               '<prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT">'
               '<CAL:time-range start="20261201T000000Z" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>')
DAVX5_TODOS = DAVX5_QUERY.replace('<CAL:comp-filter name="VEVENT"><CAL:time-range start="20261201T000000Z" /></CAL:comp-filter>',
                                  '<CAL:comp-filter name="VTODO" />')
DAVX5_MULTIGET = ('<?xml version="1.0" encoding="UTF-8"?><CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:'
                  'caldav"><prop><getcontenttype /><getetag /><CAL:schedule-tag /><CAL:calendar-data /></prop>{hrefs}'
                  '</CAL:calendar-multiget>')


def test_davx5(dav, alice):
    before = factories.appointment(alice, "2026-11-03 10:00", subject="Long ago")
    factories.appointment(alice, "2026-12-03 10:00", subject="Soon")
    series = factories.appointment(alice, "2026-11-02 10:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=10")
    assert dav("PROPFIND", "/.well-known/caldav", DAVX5_DISCOVERY, Depth="0")["Location"] == "/dav/"
    found, _ = responses(dav("PROPFIND", "/dav/", DAVX5_DISCOVERY, Depth="0"))
    principal = href_of(found["/dav/"][f"{D}current-user-principal"])
    options = dav("OPTIONS", principal)
    assert "calendar-access" in options["DAV"]
    assert "PROPFIND" in options["Allow"]
    found, _ = responses(dav("PROPFIND", principal, DAVX5_DISCOVERY.replace("<resourcetype />", "<resourcetype />"
                                                                            "<CAL:calendar-user-address-set />"), Depth="0"))
    assert href_of(found[principal][f"{C}calendar-user-address-set"]) == "mailto:alice@example.com"
    calendar = "/dav/calendars/alice/agenda/"
    found, _ = responses(dav("REPORT", calendar, DAVX5_QUERY, Depth="1"))
    names = sorted(href.rsplit("/", 1)[1] for href in found)
    assert names == sorted([f"{uid}.ics" for uid in (Action.objects.get(subject="Soon").uid, series.uid)])
    assert before.uid not in "".join(found)  # before the start: not listed
    assert responses(dav("REPORT", calendar, DAVX5_TODOS, Depth="1"))[0] == {}
    hrefs = "".join(f"<href>{href}</href>" for href in found) + f"<href>{calendar}missing.ics</href>"
    found, statuses = responses(dav("REPORT", calendar, DAVX5_MULTIGET.format(hrefs=hrefs)))
    assert all(f"{C}calendar-data" in props and f"{D}getetag" in props for props in found.values())
    assert statuses == {f"{calendar}missing.ics": "HTTP/1.1 404 Not Found"}
    assert all(not props[f"{D}getetag"].text.startswith("W/") for props in found.values())  # strong ETags

    answer = dav("PUT", f"{calendar}0b5c1a9e-davx5.ics", EVENT.format(uid="davx5-1", summary="From DAVx5"),
                 content_type="text/calendar;charset=utf-8", If_None_Match="*")
    assert answer.status_code == 201
    assert Action.objects.get(uid="davx5-1").subject == "From DAVx5"
    assert dav("GET", f"{calendar}0b5c1a9e-davx5.ics").status_code == 200  # at the name the device gave it


APPLE_WELL_KNOWN = ('<?xml version="1.0" encoding="UTF-8"?>\n<A:propfind xmlns:A="DAV:">\n  <A:prop>\n'
                    '    <A:current-user-principal/>\n    <A:principal-URL/>\n    <A:resourcetype/>\n  </A:prop>\n</A:propfind>\n')
APPLE_CALENDAR = ('<?xml version="1.0" encoding="UTF-8"?>\n<A:propfind xmlns:A="DAV:">\n  <A:prop>\n'
                  '    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>\n    <A:sync-token/>\n  </A:prop>\n</A:propfind>\n')
APPLE_SYNC = ('<?xml version="1.0" encoding="UTF-8"?>\n<A:sync-collection xmlns:A="DAV:">\n  <A:sync-token>{token}</A:sync-token>\n'
              '  <A:prop>\n    <A:getetag/>\n    <A:getcontenttype/>\n  </A:prop>\n</A:sync-collection>\n')
APPLE_HOME_PROPS = ("add-member", "calendar-color", "calendar-order", "current-user-privilege-set", "displayname", "getctag",
                    "owner", "quota-available-bytes", "resource-id", "resourcetype", "supported-report-set", "sync-token")


def test_apple_calendar(dav, alice):
    factories.appointment(alice, "2026-12-03 10:00", subject="Board")
    found, _ = responses(dav("PROPFIND", "/dav/", APPLE_WELL_KNOWN, Depth="0", Prefer="return=minimal", Brief="t"))
    principal = href_of(found["/dav/"][f"{D}current-user-principal"])
    assert principal.endswith("/")  # iCal demands the slash
    home_body = ('<?xml version="1.0" encoding="UTF-8"?>\n<A:propfind xmlns:A="DAV:">\n  <A:prop>\n' + "".join(
        f'    <D:{name} xmlns:D="{namespace}"/>\n' for name, namespace in (
            ("add-member", "DAV:"), ("calendar-color", "http://apple.com/ns/ical/"),
            ("calendar-order", "http://apple.com/ns/ical/"), ("current-user-privilege-set", "DAV:"), ("displayname", "DAV:"),
            ("getctag", "http://calendarserver.org/ns/"), ("owner", "DAV:"), ("quota-available-bytes", "DAV:"),
            ("resource-id", "DAV:"), ("resourcetype", "DAV:"), ("supported-report-set", "DAV:"), ("sync-token", "DAV:")))
        + "  </A:prop>\n</A:propfind>\n")
    minimal = dav("PROPFIND", "/dav/calendars/alice/", home_body, Depth="1", Prefer="return=minimal")
    assert b"404 Not Found" not in minimal.content  # under return=minimal, what is unknown is left out
    full = dav("PROPFIND", "/dav/calendars/alice/", home_body, Depth="1")
    assert b"404 Not Found" in full.content  # unknown properties: 404 propstats, never an error
    calendar = "/dav/calendars/alice/agenda/"
    found, _ = responses(dav("PROPFIND", calendar, APPLE_CALENDAR, Depth="0"))
    assert found[calendar][f"{CS}getctag"].text == found[calendar][f"{D}sync-token"].text
    listing = dav("REPORT", calendar, APPLE_SYNC.format(token=""), Depth="1")
    found, _ = responses(listing)
    assert len(found) == 1
    refused = dav("PROPPATCH", calendar, '<?xml version="1.0" encoding="UTF-8"?>\n<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop>'
                  '<D:calendar-order xmlns:D="http://apple.com/ns/ical/">1</D:calendar-order></A:prop></A:set></A:propertyupdate>')
    assert refused.status_code == 207
    assert b"403 Forbidden" in refused.content
    assert dav("REPORT", "/dav/calendars/alice/", APPLE_SYNC.format(token=""), Depth="1").status_code == 403


def test_a_calendar_the_viewer_may_not_edit_says_so_and_refuses_writes(client, alice, appointment_type):
    from django.contrib.auth.models import Permission

    from devices import services

    viewer = factories.user("vera")
    viewer.user_permissions.add(Permission.objects.get(codename="view_all_actions"))
    factories.appointment(alice, "2026-12-03 10:00", subject="Hers")
    _password, secret = services.password_create(user=viewer, name="Phone")
    services.calendar_switch(user=viewer, key=f"user-{alice.pk}", synced=True)
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"vera:{secret}".encode()).decode()}
    path = f"/dav/calendars/vera/user-{alice.pk}/"
    answer = client.generic("PROPFIND", path, THUNDERBIRD_STARTUP.encode(), content_type="application/xml",
                            HTTP_DEPTH="0", **auth)
    found, _ = responses(answer)
    privileges = found[path][f"{D}current-user-privilege-set"]
    assert privileges.find(f".//{D}write-content") is None
    assert privileges.find(f".//{D}read") is not None
    answer = client.generic("PUT", f"{path}new.ics", EVENT.format(uid="no", summary="No").encode(),
                            content_type="text/calendar", HTTP_IF_NONE_MATCH="*", **auth)
    assert answer.status_code == 403
    assert re.search(rb"need-privileges", answer.content)


EXPANDED_QUERY = ('<?xml version="1.0" encoding="utf-8" ?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                  '<D:prop><C:calendar-data><C:expand start="20261201T000000Z" end="20261222T000000Z"/></C:calendar-data></D:prop>'
                  '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20261201T000000Z"'
                  ' end="20261222T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>')


def test_a_query_with_expand_gets_each_occurrence_in_utc(dav, alice):
    """RFC 4791 9.6.5 (its example 7.8.3): instances with RECURRENCE-ID, no rule, times in UTC."""
    from crm import services as crm

    series = factories.appointment(alice, "2026-12-07 10:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    crm.occurrence_update(series=series, recurrence_id="20261214T090000Z", subject="Moved",
                          start=series.start.replace(day=15), end=series.end.replace(day=15))
    found, _ = responses(dav("REPORT", "/dav/calendars/alice/agenda/", EXPANDED_QUERY, Depth="1"))
    [data] = [props[f"{C}calendar-data"].text for props in found.values()]
    assert "RRULE" not in data
    assert "VTIMEZONE" not in data
    assert re.findall(r"DTSTART:(\S+)", data) == ["20261207T090000Z", "20261215T090000Z", "20261221T090000Z"]
    assert re.findall(r"RECURRENCE-ID:(\S+)", data) == ["20261207T090000Z", "20261214T090000Z", "20261221T090000Z"]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), [
    ("TARGET", "/dav/", "", {}, 405),
    ("DISPATCH", "/dav/", "", {}, 405),
    ("REPORT", "/dav/calendars/alice/agenda/", '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
     "<D:prop><D:getetag/></D:prop><D:href>http://[::1</D:href></C:calendar-multiget>", {}, 207),
    ("REPORT", "/dav/calendars/alice/agenda/", THUNDERBIRD_SYNC.format(token="urn:x-crm:sync:agenda:1:9999999999999999999"),
     {}, 403),
    ("REPORT", "/dav/calendars/alice/agenda/", DAVX5_QUERY.replace("20261201T000000Z", "99991231T235959Z"), {}, 207),
    ("REPORT", "/dav/calendars/alice/agenda/", EXPANDED_QUERY.replace('end="20261222T000000Z"/></C:calendar-data>',
                                                                     'end="22000101T000000Z"/></C:calendar-data>'), {}, 400),
    ("PROPFIND", "/dav/calendars/alice/agenda/a%00b.ics", "", {"Depth": "0"}, 400),
    ("PROPFIND", "/dav/calendars/alice/agenda/" + "x" * 300 + ".ics", "", {"Depth": "0"}, 400),
    ("PUT", "/dav/calendars/alice/agenda/nul.ics", EVENT.format(uid="nul", summary="a\x00b"), {}, 403),
])
def test_malformed_requests_get_a_4xx_not_a_500(dav, method, path, body, headers, status):
    content_type = "text/calendar" if method == "PUT" else "application/xml"
    assert dav(method, path, body, content_type=content_type, **headers).status_code == status


def test_an_open_ended_query_over_endless_series_answers_at_once(dav, alice):
    """DAVx5 sends a start only: endless daily series are matched by their spans, not expanded to 2200."""
    for number in range(20):
        factories.appointment(alice, "2026-11-02 10:00", subject=f"Daily {number}", rrule="FREQ=DAILY")
    found, _ = responses(dav("REPORT", "/dav/calendars/alice/agenda/", DAVX5_QUERY, Depth="1"))
    assert len(found) == 20


def test_a_changed_occurrence_cancelled_on_a_device_is_cancelled(dav, alice):
    from crm import services as crm

    series = factories.appointment(alice, "2026-12-07 10:00", subject="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    crm.occurrence_update(series=series, recurrence_id="20261214T090000Z", subject="Moved one",
                          start=series.start.replace(day=15), end=series.end.replace(day=15))
    path = f"/dav/calendars/alice/agenda/{series.uid}.ics"
    current = dav("GET", path)
    body = current.content.decode()
    events = body.split("BEGIN:VEVENT")
    master = next(part for part in events[1:] if "RECURRENCE-ID" not in part)
    body = events[0] + "BEGIN:VEVENT" + master.replace("RRULE:", "EXDATE:20261214T090000Z\r\nRRULE:", 1)
    if "END:VCALENDAR" not in body:
        body += "END:VCALENDAR\r\n"
    assert dav("PUT", path, body, content_type="text/calendar", If_Match=current["ETag"]).status_code == 204
    series.refresh_from_db()
    assert "20261214T090000Z" in series.exdates
    assert not Action.objects.filter(series=series).exists()


def test_a_name_another_users_device_gave_does_not_take_a_resource_away(client, dav, alice, bob):
    from devices import services

    mine = factories.appointment(alice, "2026-12-03 10:00", subject="Mine")
    _password, secret = services.password_create(user=bob, name="Bob's phone")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"bob:{secret}".encode()).decode()}
    for name in (f"{mine.uid}.ics", "event.ics"):
        answer = client.generic("PUT", f"/dav/calendars/bob/agenda/{name}", EVENT.format(
            uid=f"bob-{name}", summary="Bob's").encode(), content_type="text/calendar", HTTP_IF_NONE_MATCH="*", **auth)
        assert answer.status_code == 201
    assert dav("PUT", "/dav/calendars/alice/agenda/event.ics", EVENT.format(uid="alice-event", summary="Alice's"),
               content_type="text/calendar", If_None_Match="*").status_code == 201
    assert b"SUMMARY:Mine" in dav("GET", f"/dav/calendars/alice/agenda/{mine.uid}.ics").content
    assert b"SUMMARY:Alice's" in dav("GET", "/dav/calendars/alice/agenda/event.ics").content


def test_the_same_body_and_etag_at_every_reading(dav, alice):
    factories.appointment(alice, "2026-12-03 10:00", subject="Stable")
    found, _ = responses(dav("REPORT", "/dav/calendars/alice/agenda/", DAVX5_QUERY, Depth="1"))
    [path] = found
    first, second = dav("GET", path), dav("GET", path)
    assert (first.content, first["ETag"]) == (second.content, second["ETag"])


def test_a_devices_body_is_its_users_own(client, dav, alice, bob):
    """Alice's alarm stays on Alice's devices; Bob, who takes part, may add his own, not change the meeting."""
    from devices import services

    meeting = factories.appointment(alice, "2026-12-09 15:00", subject="Review", participants=[bob])
    path = f"/dav/calendars/alice/agenda/{meeting.uid}.ics"
    with_alarm = dav("GET", path).content.replace(
        b"END:VEVENT", b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Alice's private note\r\nTRIGGER:-PT15M\r\n"
                       b"END:VALARM\r\nEND:VEVENT")
    assert dav("PUT", path, with_alarm, content_type="text/calendar").status_code == 204
    assert b"Alice's private note" in dav("GET", path).content

    _password, secret = services.password_create(user=bob, name="Bob's phone")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"bob:{secret}".encode()).decode()}
    bobs = f"/dav/calendars/bob/agenda/{meeting.uid}.ics"
    served = client.get(bobs, **auth).content
    assert b"Alice's private note" not in served
    his = served.replace(b"END:VEVENT", b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Bob's\r\nTRIGGER:-PT5M\r\n"
                                        b"END:VALARM\r\nEND:VEVENT")
    assert client.generic("PUT", bobs, his, content_type="text/calendar", **auth).status_code == 204
    assert b"Bob's" in client.get(bobs, **auth).content
    assert b"Bob's" not in dav("GET", path).content
    changed = his.replace(b"SUMMARY:Review", b"SUMMARY:Bob renames it")
    answer = client.generic("PUT", bobs, changed, content_type="text/calendar", **auth)
    assert answer.status_code == 403
    assert b"need-privileges" in answer.content
    assert Action.objects.get(pk=meeting.pk).subject == "Review"


def test_propname_gives_the_names_without_values(dav, alice):
    factories.appointment(alice, "2026-12-03 10:00", subject="Named")
    found, _ = responses(dav("PROPFIND", "/dav/calendars/alice/agenda/",
                             '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>', Depth="1"))
    calendar = found["/dav/calendars/alice/agenda/"]
    assert f"{CS}getctag" in calendar
    assert f"{D}displayname" in calendar
    assert all(element.text is None and len(element) == 0 for props in found.values() for element in props.values())
