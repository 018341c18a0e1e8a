"""iCalendar resources and the neutral event, both ways: a series with its overrides in one resource, what
the CRM does not hold kept through its updates, floating times, X-WR-TIMEZONE, and what cannot be read."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import requests
from icalendar import Calendar

from calendarsync.core.event import Event
from calendarsync.providers.caldav.mapping import Cancelled, NotAnEvent, Unreadable, read, write
from tests.caldav_servers import PASSWORD, USER, make_calendar

SERIES = Event(uid="series@crm", summary="Stand-up", description="Daily\nat nine", location="Room 4",
               start=datetime(2026, 12, 7, 8, tzinfo=UTC), end=datetime(2026, 12, 7, 8, 15, tzinfo=UTC),
               time_zone="Europe/Paris", rrule="FREQ=DAILY;COUNT=5", exdates=("20261209T080000Z",), busy=True)
MOVED = Event(uid="series@crm", summary="Stand-up, later", start=datetime(2026, 12, 10, 9, tzinfo=UTC),
              end=datetime(2026, 12, 10, 9, 15, tzinfo=UTC), time_zone="Europe/Paris",
              recurrence_id="20261210T080000Z")
FAIR = Event(uid="fair@crm", summary="Fair", all_day=True, start=date(2026, 12, 24), end=date(2026, 12, 26),
             busy=False, private=True)


def test_a_series_and_its_changed_occurrence_are_one_resource_read_back_as_written():
    ics = write([SERIES, MOVED])
    calendar = Calendar.from_ical(ics)
    assert [str(component.get("UID")) for component in calendar.walk("VEVENT")] == ["series@crm"] * 2
    assert [component["TZID"] for component in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert b"DTSTART;TZID=Europe/Paris:20261207T090000" in ics
    assert b"RECURRENCE-ID;TZID=Europe/Paris:20261210T090000" in ics
    assert read(ics).events == [SERIES, MOVED]
    assert read(write([FAIR])).events == [FAIR]
    assert b"DTSTART;VALUE=DATE:20261224" in write([FAIR])



def test_a_timed_event_without_a_zone_is_written_in_utc_whatever_the_process_zone(settings):
    settings.TIME_ZONE = "America/New_York"  # Django sets the process's zone from it
    zoneless = replace(SERIES, rrule="", exdates=(), time_zone="")
    assert b"DTSTART:20261207T080000Z" in write([zoneless])


def test_what_the_crm_does_not_hold_survives_an_update():
    held = b"""BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//App//EN\r\nX-OTHER-APP:kept\r\nBEGIN:VEVENT\r
UID:series@crm\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20261207T090000\r
DTEND;TZID=Europe/Paris:20261207T091500\r\nSUMMARY:Stand-up\r\nRRULE:FREQ=DAILY;COUNT=5\r\nSEQUENCE:3\r
X-MOZ-GENERATION:7\r\nATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.com\r\nBEGIN:VALARM\r
ACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r
UID:series@crm\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20261208T090000\r
DTSTART;TZID=Europe/Paris:20261208T100000\r\nDTEND;TZID=Europe/Paris:20261208T101500\r\nSUMMARY:Moved once\r
END:VEVENT\r\nEND:VCALENDAR\r\n"""
    updated = Calendar.from_ical(write([SERIES, MOVED], held))
    [master, moved] = updated.walk("VEVENT")
    assert updated["X-OTHER-APP"] == "kept"
    assert (master["X-MOZ-GENERATION"], master["SEQUENCE"]) == ("7", 4)
    assert [alarm["TRIGGER"].to_ical() for alarm in master.walk("VALARM")] == [b"-PT15M"]
    assert master["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert (str(master["SUMMARY"]), str(master["LOCATION"])) == ("Stand-up", "Room 4")
    assert str(moved["SUMMARY"]) == "Stand-up, later"  # the override the CRM no longer has (the 8th) is gone
    assert [str(component.get("SUMMARY")) for component in updated.walk("VEVENT")] == ["Stand-up",
                                                                                       "Stand-up, later"]


def test_floating_times_are_read_in_the_calendar_s_zone_and_x_wr_timezone_is_applied():
    floating = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f@x\r\nDTSTAMP:20261201T000000Z\r\n"
                b"DTSTART:20261201T090000\r\nDTEND:20261201T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    [event] = read(floating, zone="America/New_York").events
    assert (event.start, event.time_zone) == (datetime(2026, 12, 1, 14, tzinfo=UTC), "America/New_York")
    google = floating.replace(b"PRODID:x\r\n", b"PRODID:x\r\nX-WR-TIMEZONE:Asia/Tokyo\r\n").replace(
        b"DTSTART:20261201T090000", b"DTSTART:20261201T000000Z").replace(b"DTEND:20261201T100000",
                                                                         b"DTEND:20261201T010000Z")
    [exported] = read(google, zone="Europe/Paris").events
    assert (exported.start, exported.time_zone) == (datetime(2026, 12, 1, tzinfo=UTC), "Asia/Tokyo")


def test_a_cancelled_override_is_a_cancelled_occurrence():
    ics = write([SERIES]).replace(b"END:VCALENDAR", b"BEGIN:VEVENT\r\nUID:series@crm\r\nDTSTAMP:20261201T000000Z\r\n"
                                  b"RECURRENCE-ID;TZID=Europe/Paris:20261211T090000\r\n"
                                  b"DTSTART;TZID=Europe/Paris:20261211T090000\r\nSTATUS:CANCELLED\r\n"
                                  b"END:VEVENT\r\nEND:VCALENDAR")
    [series] = read(ics).events
    assert series.exdates == ("20261209T080000Z", "20261211T080000Z")


def test_a_cancelled_event_or_series_reads_as_no_event():
    for events in ([FAIR], [SERIES, MOVED]):
        ics = write(events).replace(b"UID:", b"STATUS:CANCELLED\r\nUID:", 1)
        with pytest.raises(Cancelled) as raised:
            read(ics)
        assert isinstance(raised.value, NotAnEvent)  # a deletion, not an event the run reports as unreadable


@pytest.mark.parametrize(("ics", "reason"), [
    (b"not a calendar", "not iCalendar"),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no event"),
    (write([SERIES]).replace(b"RRULE:", b"RDATE:20261224T090000Z\r\nRRULE:"),
     r"^it repeats on dates listed one by one \(RDATE\), which a CRM series cannot hold"),
    (write([MOVED]), "without the series"),
    (write([SERIES]) .replace(b"DTSTART;TZID=Europe/Paris:20261207T090000", b"DTSTART:2026-12-07"), "dates"),
])
def test_what_cannot_be_read_says_why(ics, reason):
    with pytest.raises(Unreadable, match=reason):
        read(ics)


def test_resources_written_are_what_each_server_gives_back(server):
    """Each server stores what is PUT as it wants (Xandikos reorders, Radicale re-serializes): read back, the
    events are the same."""
    path = make_calendar(server, "work")
    for events in ([SERIES, MOVED], [FAIR]):
        url = f"{server.url.rstrip('/')}{path}{events[0].uid}.ics"
        put = requests.put(url, data=write(events), auth=(USER, PASSWORD), timeout=10,
                           headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
        assert put.status_code == 201, put.text
        got = requests.get(url, auth=(USER, PASSWORD), timeout=10)
        assert read(got.content).events == events


def vtimezone(tzid: str, standard: str, daylight: str) -> bytes:
    """A VTIMEZONE of a client's own, with EU-style rules: daylight time from March's last Sunday."""
    return (f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
            f"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:{daylight}\r\nTZOFFSETTO:{standard}\r\n"
            f"END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
            f"TZOFFSETFROM:{standard}\r\nTZOFFSETTO:{daylight}\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n").encode()


def zoned(tzid: str, zones: bytes, rrule=b"", uid=b"zoned@x") -> bytes:
    return (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//App//EN\r\n" + zones + b"BEGIN:VEVENT\r\nUID:" + uid +
            b"\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=" + tzid.encode() + b":20260701T090000\r\n"
            b"DTEND;TZID=" + tzid.encode() + b":20260701T100000\r\n" + rrule + b"SUMMARY:Zoned\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n")


def test_a_windows_zone_is_read_as_its_iana_zone_whatever_vtimezone_came_first():
    # icalendar keeps the first VTIMEZONE it meets for a TZID, for the whole process: another resource's own
    # rules for the name (here an hour off) must not decide where this one's times are
    odd = vtimezone("W. Europe Standard Time", "+0200", "+0300")
    read(zoned("W. Europe Standard Time", odd, uid=b"first@x"), zone="America/New_York")
    outlook = vtimezone("W. Europe Standard Time", "+0100", "+0200")
    for ics in (zoned("W. Europe Standard Time", outlook), zoned("W. Europe Standard Time", b"")):
        [event] = read(ics, zone="America/New_York").events
        assert (event.start, event.time_zone) == (datetime(2026, 7, 1, 7, tzinfo=UTC), "Europe/Berlin")
    [series] = read(zoned("W. Europe Standard Time", outlook, b"RRULE:FREQ=WEEKLY;COUNT=3\r\n")).events
    assert (series.time_zone, series.rrule) == ("Europe/Berlin", "FREQ=WEEKLY;COUNT=3")


def test_a_tz_database_zone_is_read_by_the_tz_database_not_by_the_vtimezone_sent_with_it():
    """Its definition is not even parsed (a third of the work of reading a typical resource)."""
    wrong = vtimezone("Europe/Paris", "+0500", "+0600")
    [event] = read(zoned("Europe/Paris", wrong), zone="America/New_York").events
    assert (event.start, event.time_zone) == (datetime(2026, 7, 1, 7, tzinfo=UTC), "Europe/Paris")


def test_a_zone_of_a_client_s_own_is_read_by_its_rules_and_named_where_it_says():
    custom = vtimezone("Custom/Zone", "+0300", "+0400")
    [event] = read(zoned("Custom/Zone", custom), zone="Europe/Paris").events
    assert (event.start, event.end) == (datetime(2026, 7, 1, 5, tzinfo=UTC), datetime(2026, 7, 1, 6, tzinfo=UTC))
    assert event.time_zone == ""  # no name to give it: the CRM shows it in its owner's zone
    with pytest.raises(Unreadable, match="“Custom/Zone”"):  # a series repeats in its zone: never guessed
        read(zoned("Custom/Zone", custom, b"RRULE:FREQ=WEEKLY;COUNT=3\r\n"))
    paris = vtimezone("/freeassociation.sourceforge.net/Tzfile/Europe/Paris", "+0100", "+0200")
    [named] = read(zoned("/freeassociation.sourceforge.net/Tzfile/Europe/Paris", paris)).events
    assert (named.start, named.time_zone) == (datetime(2026, 7, 1, 7, tzinfo=UTC), "Europe/Paris")
    lic = vtimezone("Office time", "+0100", "+0200").replace(b"BEGIN:STANDARD", b"X-LIC-LOCATION:Europe/Paris"
                                                                b"\r\nBEGIN:STANDARD")
    assert read(zoned("Office time", lic)).events[0].time_zone == "Europe/Paris"


HELD = b"""BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//App//EN\r\nBEGIN:VEVENT\r\nUID:series@crm\r
DTSTAMP:20261101T000000Z\r\nLAST-MODIFIED:20261101T000000Z\r\nDTSTART;TZID=Europe/Paris:20261207T090000\r
DTEND;TZID=Europe/Paris:20261207T091500\r\nSUMMARY;LANGUAGE=fr:Point du matin\r
DESCRIPTION;LANGUAGE=fr;ALTREP="cid:part1@example.com":Tous les jours\r
X-ALT-DESC;FMTTYPE=text/html:<p>Tous les <b>jours</b></p>\r\nLOCATION:Room 4\r\nRRULE:FREQ=DAILY;COUNT=5\r
SEQUENCE:3\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:series@crm\r\nDTSTAMP:20261101T000000Z\r
RECURRENCE-ID;TZID=Europe/Paris:20261208T090000\r\nDTSTART;TZID=Europe/Paris:20261208T100000\r
DTEND;TZID=Europe/Paris:20261208T101500\r\nSUMMARY:Moved once\r\nSEQUENCE:2\r\nEND:VEVENT\r\nBEGIN:VEVENT\r
UID:series@crm\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20261209T090000\r
DTSTART;TZID=Europe/Paris:20261209T110000\r\nDTEND;TZID=Europe/Paris:20261209T111500\r\nSUMMARY:Moved twice\r
SEQUENCE:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"""


def components(ics: bytes) -> dict[str, bytes]:
    """Each VEVENT of a resource as iCalendar, by its RECURRENCE-ID as written ("" for the series)."""
    return {component["RECURRENCE-ID"].to_ical().decode() if "RECURRENCE-ID" in component else "":
            component.to_ical() for component in Calendar.from_ical(ics).walk("VEVENT")}


def test_a_write_changes_only_the_component_and_the_properties_the_crm_changed():
    [series, first, second] = read(HELD).events
    held = components(HELD)
    later = replace(first, start=first.start.replace(hour=10), end=first.end.replace(hour=10))
    written = write([series, later, second], HELD)
    now = components(written)
    assert (now[""], now["20261209T090000"]) == (held[""], held["20261209T090000"])  # untouched, byte for byte
    moved = Calendar.from_ical(written).walk("VEVENT")[1]
    assert (moved["SEQUENCE"], moved["DTSTART"].to_ical()) == (3, b"20261208T110000")  # its time: a new sequence
    assert moved.decoded("DTSTAMP") != datetime(2026, 11, 1, tzinfo=UTC)
    assert read(written).events == [series, later, second]


def test_a_changed_text_keeps_its_language_and_drops_what_it_contradicts():
    [series, *overrides] = read(HELD).events
    written = write([replace(series, summary="Point du soir", description="Tous les soirs"), *overrides], HELD)
    master = Calendar.from_ical(written).walk("VEVENT")[0]
    assert master["SUMMARY"].params["LANGUAGE"] == master["DESCRIPTION"].params["LANGUAGE"] == "fr"
    assert "ALTREP" not in master["DESCRIPTION"].params  # it named the old text's other form
    assert "X-ALT-DESC" not in master  # the old text as HTML, which readers show instead of the new one
    assert master["SEQUENCE"] == 3  # not a change attendees must answer again (RFC 5546)
    assert master.decoded("LAST-MODIFIED") != datetime(2026, 11, 1, tzinfo=UTC)
    assert str(master["LOCATION"]) == "Room 4"
    assert read(written).events == [replace(series, summary="Point du soir", description="Tous les soirs"),
                                    *overrides]
    busy = write([replace(series, busy=False), *overrides], HELD)
    assert Calendar.from_ical(busy).walk("VEVENT")[0]["X-ALT-DESC"]  # what did not change stays as it was


def test_a_zone_the_crm_did_not_change_keeps_its_tzid_and_vtimezone():
    for tzid, standard in (("Custom/Zone", "+0300"), ("W. Europe Standard Time", "+0100")):
        held = zoned(tzid, vtimezone(tzid, standard, standard[:2] + str(int(standard[2]) + 1) + "00"))
        [event] = read(held).events
        later = replace(event, start=event.start.replace(hour=event.start.hour + 2),
                        end=event.end.replace(hour=event.end.hour + 2))
        written = write([later], held)
        assert f"DTSTART;TZID={tzid}:20260701T110000".encode() in written
        assert [str(zone["TZID"]) for zone in Calendar.from_ical(written).walk("VTIMEZONE")] == [tzid]
        assert read(written).events == [later]
        elsewhere = write([replace(later, time_zone="America/New_York")], held)
        if tzid == "Custom/Zone":  # read with no zone, the CRM holds it in its owner's: no change of zone
            assert f"DTSTART;TZID={tzid}:20260701T110000".encode() in elsewhere
            continue
        assert [str(zone["TZID"]) for zone in Calendar.from_ical(elsewhere).walk("VTIMEZONE")] == [
            "America/New_York"]  # the zone no longer used goes with it
        assert read(elsewhere).events == [replace(later, time_zone="America/New_York")]
