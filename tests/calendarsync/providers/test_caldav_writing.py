"""The CalDAV provider's writes on real servers: a resource per event or series, conditional requests, a
retried create that finds its resource, preconditions per component, a 412 race read again, what other
clients keep in a resource surviving, refusals in words."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import requests
from icalendar import Calendar

from calendarsync.core.normalize import fingerprint
from calendarsync.providers.base import ProviderUnavailable, Usage, Write
from calendarsync.providers.caldav.dav import DAV, Dav, qname
from calendarsync.providers.caldav.mapping import write as ics
from calendarsync.providers.caldav.provider import CalDAVProvider
from tests import caldav_servers
from tests.caldav_proxy import Proxy
from tests.caldav_servers import PASSWORD, USER

from .conftest import timed

SERIES = timed("weekly@crm", 1, rrule="FREQ=WEEKLY;COUNT=6")
MOVED = replace(timed("weekly@crm", 8, hour=11), rrule="", recurrence_id="20261208T090000Z")
WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


def resources(server, path):
    found = requests.request("PROPFIND", server.url.rstrip("/") + path, auth=(USER, PASSWORD), timeout=10,
                             headers={"Depth": "1"})
    return found.text.count(".ics</")


def test_creates_updates_and_deletions_each_one_conditional_request(calendar):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    made = provider.write(path, [Write("create", "k1", timed("single@crm", 3)), Write("create", "k2", SERIES)])
    assert [result.status for result in made] == ["ok", "ok"]
    single, series = made[0].remote_id, made[1].remote_id
    assert (single, series) == (f"{path}single@crm.ics", f"{path}weekly@crm.ics")
    [moved] = provider.write(path, [Write("create", "k3", MOVED, series)])
    assert (moved.status, moved.remote_id) == ("ok", f"{series}#20261208T090000Z")
    read = provider.fetch(path, [single, series, moved.remote_id])
    assert [item.event for item in read] == [timed("single@crm", 3), SERIES, MOVED]
    assert [item.etag for item in read] == [made[0].etag, made[1].etag, moved.etag]

    asked = provider.usage.requests
    later = replace(MOVED, summary="Later")
    results = provider.write(path, [Write("update", "u1", later, moved.remote_id, moved.etag),
                                    Write("update", "u2", timed("single@crm", 4), single, "not what it is")])
    assert [result.status for result in results] == ["ok", "stale"]
    assert provider.usage.requests - asked == 2  # one multiget, one PUT
    assert provider.fetch(path, [moved.remote_id])[0].event == later

    results = provider.write(path, [Write("delete", "d1", later, moved.remote_id, fingerprint(later))])
    assert results[0].status == "ok"  # deleting a changed occurrence cancels it
    assert [item.event for item in provider.fetch(path, [series, moved.remote_id])] == [
        replace(SERIES, exdates=("20261208T090000Z",)), None]
    assert provider.write(path, [Write("delete", "d2", None, single, made[0].etag)])[0].status == "ok"
    assert provider.fetch(path, [single])[0].event is None
    assert provider.write(path, [Write("update", "u3", timed("single@crm", 5), single)])[0].status == "gone"
    assert provider.write(path, [Write("create", "k4", replace(MOVED, uid="none@crm"), f"{path}none.ics")]
                          )[0].status == "gone"
    assert resources(server, path) == 1


def test_a_retried_create_finds_its_resource(calendar):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    provider.write(path, [Write("create", "k1", timed("single@crm", 3))])
    [again] = provider.write(path, [Write("create", "k1", timed("single@crm", 3, hour=10))])
    assert again.status == "ok"
    assert resources(server, path) == 1
    assert provider.fetch(path, [again.remote_id])[0].event == timed("single@crm", 3, hour=10)


class Racing(Dav):
    """A session whose next `times` PUTs each find the resource changed by another client just before."""

    def __init__(self, *args, meddle, times=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.meddle, self.times = meddle, times

    def put(self, path, body, **kwargs):
        if self.times:
            self.times -= 1
            self.meddle(path)
        return super().put(path, body, **kwargs)


@pytest.mark.parametrize("other_change", ["an alarm", "the subject"])
def test_a_resource_written_meanwhile_is_read_again(calendar, other_change):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    [made] = provider.write(path, [Write("create", "k1", timed("single@crm", 3))])

    def meddle(href):
        url = server.url.rstrip("/") + href
        held = Calendar.from_ical(requests.get(url, auth=(USER, PASSWORD), timeout=10).content)
        [event] = held.walk("VEVENT")
        if other_change == "an alarm":
            event["X-OTHER-CLIENT"] = "kept"
        else:
            event["SUMMARY"] = "Renamed elsewhere"
        assert requests.put(url, data=held.to_ical(), auth=(USER, PASSWORD), timeout=10,
                            headers={"Content-Type": "text/calendar"}).status_code in (201, 204)

    racing = CalDAVProvider(Racing(server.url, USER, PASSWORD, Usage(), meddle=meddle))
    [result] = racing.write(path, [Write("update", "u1", timed("single@crm", 3, hour=15), made.remote_id,
                                         made.etag)])
    held = requests.get(server.url.rstrip("/") + made.remote_id, auth=(USER, PASSWORD), timeout=10).content
    if other_change == "an alarm":  # not the CRM's business: applied again over it, and it stays
        assert result.status == "ok"
        assert b"X-OTHER-CLIENT:kept" in held
        assert racing.fetch(path, [made.remote_id])[0].event == timed("single@crm", 3, hour=15)
    else:  # the event itself changed: the engine must pull and merge first
        assert result.status == "stale"
        assert b"Renamed elsewhere" in held


def test_twenty_new_events_go_in_one_multiget_and_twenty_puts(calendar):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    asked = provider.usage.requests
    results = provider.write(path, [Write("create", f"k{number}", timed(f"m{number}@crm", 1 + number))
                                    for number in range(20)])
    assert {result.status for result in results} == {"ok"}
    assert provider.usage.requests - asked == 21
    assert resources(server, path) == 20


def test_a_read_only_calendar_refuses_in_words(tmp_path):
    with caldav_servers.radicale(tmp_path, read_only=["holidays"]) as server:
        provider = CalDAVProvider(Dav(server.url, USER, PASSWORD, Usage()))
        [result] = provider.write(f"/{USER}/holidays/", [Write("create", "k1", timed("single@crm", 3))])
        assert (result.status, result.message) == (
            "failed", "the server refused the change (the calendar is read-only for this account)")


def test_an_event_is_written_with_what_other_clients_put_in_it(calendar):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    url = f"{server.url.rstrip('/')}{path}alarm@crm.ics"
    body = ics([timed("alarm@crm", 3)]).replace(b"END:VEVENT", b"BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                                 b"DESCRIPTION:Soon\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\nEND:VEVENT")
    assert requests.put(url, data=body, auth=(USER, PASSWORD), timeout=10,
                        headers={"Content-Type": "text/calendar"}).status_code == 201
    [item] = provider.fetch(path, [f"{path}alarm@crm.ics"])
    [result] = provider.write(path, [Write("update", "u1", replace(item.event, summary="With alarm"),
                                           item.remote_id, item.etag)])
    assert result.status == "ok"
    assert b"TRIGGER:-PT10M" in requests.get(url, auth=(USER, PASSWORD), timeout=10).content


def test_colors_and_odd_names_are_written_and_read_back_alike(calendar):
    """A CRM color is not held by the resource (fingerprints agree: the next update is not stale), and a resource
    another client named with `#`, a space and `%` is read and updated where it is."""
    path, provider = calendar.path, calendar.provider
    [made] = provider.write(path, [Write("create", "k1", timed("colored@crm", 3, color="#33b679"))])
    [held] = provider.fetch(path, [made.remote_id])
    assert (held.etag, held.event.color) == (made.etag, "")
    [again] = provider.write(path, [Write("update", "u1", timed("colored@crm", 4, color="#33b679"), made.remote_id,
                                          made.etag)])
    assert again.status == "ok"

    odd = f"{path}odd#name 100%.ics"
    assert calendar.dav.put(odd, ics([timed("odd@elsewhere", 5)]), create=True).status_code == 201
    listed = {item.remote_id: item for item in provider.changes(path, "", WINDOW).events}
    assert listed[odd].event.summary == "odd@elsewhere"
    [updated] = provider.write(path, [Write("update", "u2", timed("odd@elsewhere", 6), odd, listed[odd].etag)])
    assert updated.status == "ok"
    assert provider.fetch(path, [odd])[0].event.start == timed("x", 6).start


def test_a_resource_written_twice_meanwhile_is_stale(calendar):
    server, path = calendar.server, calendar.path
    [made] = calendar.provider.write(path, [Write("create", "k1", timed("single@crm", 3))])

    def meddle(href):
        url = server.url.rstrip("/") + href
        held = requests.get(url, auth=(USER, PASSWORD), timeout=10).content
        assert requests.put(url, data=held.replace(b"SEQUENCE:", b"X-TOUCHED:1\r\nSEQUENCE:"), timeout=10,
                            auth=(USER, PASSWORD), headers={"Content-Type": "text/calendar"}).status_code in (201, 204)

    racing = CalDAVProvider(Racing(server.url, USER, PASSWORD, Usage(), meddle=meddle, times=2))
    [result] = racing.write(path, [Write("update", "u1", timed("single@crm", 3, hour=15), made.remote_id,
                                         made.etag)])
    assert result.status == "stale"


def test_a_cancelled_event_is_a_deleted_one(calendar):
    """STATUS:CANCELLED on the event itself (as clients cancel a meeting): no live event to list or update; a
    create writes it anew over it, live."""
    path, provider = calendar.path, calendar.provider
    href = f"{path}single@crm.ics"
    body = ics([timed("single@crm", 3)]).replace(b"UID:", b"STATUS:CANCELLED\r\nUID:", 1)
    assert calendar.dav.put(href, body, create=True).status_code == 201
    assert [item.event for item in provider.fetch(path, [href])] == [None]
    assert {item.remote_id: item.event for item in provider.changes(path, "", WINDOW).events}.get(href) is None
    [update] = provider.write(path, [Write("update", "u1", timed("single@crm", 4), href)])
    assert update.status == "gone"
    live = ics([timed("single@crm", 3)])
    cursor = provider.changes(path, "", WINDOW).cursor
    held = calendar.dav.get(href)
    assert calendar.dav.put(href, live, etag=held.headers["ETag"]).status_code in (201, 204)
    cursor = provider.changes(path, cursor, WINDOW).cursor
    held = calendar.dav.get(href)
    assert calendar.dav.put(href, body, etag=held.headers["ETag"]).status_code in (201, 204)  # cancelled again
    assert [(item.remote_id, item.event) for item in provider.changes(path, cursor, WINDOW).events] == [
        (href, None)]  # reported since the cursor as a deletion
    [create] = provider.write(path, [Write("create", "k1", timed("single@crm", 5))])
    assert (create.status, create.remote_id) == ("ok", href)
    assert provider.fetch(path, [href])[0].event == timed("single@crm", 5)


def test_an_occurrence_changed_leaves_the_series_component_as_it_was(calendar):
    server, path, provider = calendar.server, calendar.path, calendar.provider
    [series] = provider.write(path, [Write("create", "k1", SERIES)])
    [moved] = provider.write(path, [Write("create", "k2", MOVED, series.remote_id)])
    url = server.url.rstrip("/") + series.remote_id

    def stamps():
        held = Calendar.from_ical(requests.get(url, auth=(USER, PASSWORD), timeout=10).content)
        return {str(component.get("RECURRENCE-ID", "")) and "moved": (component["DTSTAMP"].to_ical(),
                                                                      component["SEQUENCE"])
                for component in held.walk("VEVENT")}

    before = stamps()
    later = replace(MOVED, summary="Later")
    [result] = provider.write(path, [Write("update", "u1", later, moved.remote_id, moved.etag)])
    assert result.status == "ok"
    after = stamps()
    assert after[""] == before[""]  # the series: neither stamped again nor given a new sequence
    assert after["moved"][1] == before["moved"][1]  # a new subject is not a new schedule (RFC 5546)
    assert [item.event for item in provider.fetch(path, [series.remote_id, moved.remote_id])] == [SERIES, later]


DAILY = timed("daily@crm", 7, rrule="FREQ=DAILY;COUNT=5")
CHANGED = replace(timed("daily@crm", 8, hour=14), summary="Afternoon", recurrence_id="20261208T090000Z")


@pytest.mark.parametrize(("series", "followed"), [
    (replace(DAILY, start=DAILY.start.replace(hour=10), end=DAILY.end.replace(hour=10)), "20261208T100000Z"),
    (replace(DAILY, rrule="FREQ=WEEKLY;COUNT=2"), None),  # only Mondays now: the 8th, a Tuesday, is no occurrence
    (replace(DAILY, summary="Stand-up"), "20261208T090000Z"),  # not moved: nothing follows
])
def test_a_series_moved_or_re_ruled_takes_its_changed_occurrences_along_or_drops_them(calendar, series, followed):
    path, provider = calendar.path, calendar.provider
    [made] = provider.write(path, [Write("create", "k1", DAILY)])
    assert provider.write(path, [Write("create", "k2", CHANGED, made.remote_id)])[0].status == "ok"
    url = calendar.server.url.rstrip("/") + made.remote_id
    held = requests.get(url, auth=(USER, PASSWORD), timeout=10)  # another client's alarm on the occurrence
    body = held.content.replace(b"SUMMARY:Afternoon\r\n", b"SUMMARY:Afternoon\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                b"DESCRIPTION:Soon\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n")
    assert calendar.dav.put(made.remote_id, body, etag=held.headers["ETag"]).status_code in (201, 204)
    [item] = provider.fetch(path, [made.remote_id])

    [result] = provider.write(path, [Write("update", "u1", series, made.remote_id, item.etag)])
    assert (result.status, result.rebuilt) == ("ok", followed != CHANGED.recurrence_id)
    changes = provider.changes(path, "", WINDOW).events
    assert [item.event for item in changes if item.remote_id == made.remote_id] == [series]
    overrides = [item.event for item in changes if item.series_id]
    assert overrides == ([replace(CHANGED, recurrence_id=followed)] if followed else [])
    if followed:  # the same component, with what other clients put in it
        assert b"TRIGGER:-PT5M" in requests.get(url, auth=(USER, PASSWORD), timeout=10).content


class Untagged(Dav):
    """A session whose multiget answers carry no ETag (some servers leave getetag out), and, with `get_etag`
    False, whose GETs carry none either; it keeps the conditions of the PUTs it sends."""

    def __init__(self, *args, get_etag=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.get_etag, self.puts = get_etag, []

    def report(self, path, body, **kwargs):
        found = super().report(path, body, **kwargs)
        for resource in found.resources:
            resource.props.pop(qname(DAV, "getetag"), None)
        return found

    def request(self, method, path, **kwargs):
        response = super().request(method, path, **kwargs)
        if method == "PUT":
            headers = kwargs.get("headers", {})
            self.puts.append(headers.get("If-Match") or headers.get("If-None-Match"))
        if method == "GET" and not self.get_etag:
            response.headers.pop("ETag", None)
        return response


@pytest.mark.parametrize("get_etag", [True, False])
def test_an_update_is_conditional_even_when_the_server_gave_no_etag(calendar, get_etag):
    server, path = calendar.server, calendar.path
    untagged = Untagged(server.url, USER, PASSWORD, Usage(), get_etag=get_etag)
    provider = CalDAVProvider(untagged)
    [made] = provider.write(path, [Write("create", "k1", timed("single@crm", 3))])
    assert (made.status, untagged.puts) == ("ok", ["*"])  # a create only where none is
    [result] = provider.write(path, [Write("update", "u1", timed("single@crm", 4), made.remote_id, made.etag)])
    if get_etag:  # read again by GET for its ETag, and written over that one only
        assert result.status == "ok"
        assert untagged.puts[1] not in (None, "*")
    else:
        assert (result.status, untagged.puts[1:]) == ("failed", [])
        assert "no ETag" in result.message
        assert calendar.provider.fetch(path, [made.remote_id])[0].event == timed("single@crm", 3)


class Faulty(Dav):
    """A session whose PUTs to resources named in `faults` fail: by an exception, or the answer given there."""

    def __init__(self, *args, faults, **kwargs):
        super().__init__(*args, **kwargs)
        self.faults = faults

    def put(self, path, body, **kwargs):
        fault = next((fault for name, fault in self.faults.items() if path.endswith(name)), None)
        if isinstance(fault, Exception):
            raise fault
        if fault is not None:
            answer = requests.Response()
            answer.status_code, answer._content = fault if isinstance(fault, tuple) else (fault, b"")
            return answer
        return super().put(path, body, **kwargs)


@pytest.mark.parametrize("fault", [RuntimeError("boom"), 507])
def test_a_write_that_fails_in_its_thread_loses_no_other_write_s_result(calendar, fault):
    server, path = calendar.server, calendar.path
    provider = CalDAVProvider(Faulty(server.url, USER, PASSWORD, Usage(), faults={"m1@crm.ics": fault}))
    results = provider.write(path, [Write("create", f"k{number}", timed(f"m{number}@crm", 1 + number))
                                    for number in range(4)])
    assert [result.status for result in results] == ["ok", "failed", "ok", "ok"]
    assert ("RuntimeError: boom" if isinstance(fault, Exception) else "out of space") in results[1].message
    assert resources(server, path) == 3  # and the others' results are there to be recorded


def test_a_server_out_of_space_for_every_write_ends_the_run(calendar):
    server, path = calendar.server, calendar.path
    provider = CalDAVProvider(Faulty(server.url, USER, PASSWORD, Usage(), faults={".ics": 507}))
    with pytest.raises(ProviderUnavailable, match="out of space"):  # nothing lost: the outbox waits for room
        provider.write(path, [Write("create", f"k{number}", timed(f"m{number}@crm", 1 + number))
                              for number in range(2)])


def error(element: str, words="") -> bytes:
    """A DAV:error body naming a precondition (RFC 4918 16), a CalDAV one unless it is WebDAV's."""
    namespace = "D" if element == "need-privileges" else "C"
    described = f"<D:responsedescription>{words}</D:responsedescription>" if words else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f"<{namespace}:{element}/>{described}</D:error>").encode()


READ_ONLY = "the server refused the change (the calendar is read-only for this account)"


@pytest.mark.parametrize(("answer", "message"), [
    ((403, b""), READ_ONLY),
    ((403, error("need-privileges")), READ_ONLY),
    ((403, error("valid-calendar-object-resource", "Event has no DTSTART")), "the server does not take the event "
     "as a calendar object: it breaks one of its rules for them (valid-calendar-object-resource): “Event has no "
     "DTSTART”"),
    ((403, error("max-resource-size")), "the event is larger than the server takes (max-resource-size)"),
    ((409, error("supported-calendar-data")), "the server does not take the event's calendar data "
     "(supported-calendar-data)"),
    ((403, error("calendar-collection-location-ok")), "the server takes no event at this place in the calendar "
     "(calendar-collection-location-ok)"),
    ((413, b""), "the event is larger than the server takes"),
])
def test_a_refused_write_says_which_precondition_failed(calendar, answer, message):
    server, path = calendar.server, calendar.path
    provider = CalDAVProvider(Faulty(server.url, USER, PASSWORD, Usage(), faults={"single@crm.ics": answer}))
    [result] = provider.write(path, [Write("create", "k1", timed("single@crm", 3))])
    assert (result.status, result.message) == ("failed", message)


def test_a_create_whose_uid_another_resource_has_is_made_there(calendar):
    """Another client made the event first, under a name of its own: the server refuses a second resource with
    its UID (RFC 4791 no-uid-conflict; Radicale says 409, Xandikos 412), and the create is made there."""
    server, path, provider = calendar.server, calendar.path, calendar.provider
    other = f"{path}0A1B-from-the-phone.ics"
    assert calendar.dav.put(other, ics([replace(timed("dup@crm", 3), summary="From the phone")]), create=True
                            ).status_code == 201
    [result] = provider.write(path, [Write("create", "k1", timed("dup@crm", 4))])
    assert (result.status, result.remote_id) == ("ok", other)
    assert resources(server, path) == 1  # never a duplicate
    assert provider.fetch(path, [other])[0].event == timed("dup@crm", 4)


def test_an_update_whose_answer_was_lost_is_done_when_its_retry_meets_its_own_change(calendar):
    """The PUT landed and its answer did not: the retry's If-Match fails against our own write, no race. The
    write is done (it was "stale", and a conflict the engine records on success was lost)."""
    with Proxy(calendar.server.url) as proxy:
        provider = CalDAVProvider(Dav(proxy.url, USER, PASSWORD, Usage()))
        event = timed("answer-lost@crm", 3)
        [made] = provider.write(calendar.path, [Write("create", "c", event)])
        proxy.drop(methods=("PUT",))
        [updated] = provider.write(calendar.path, [
            Write("update", "u", replace(event, location="Room 2"), made.remote_id, made.etag)])
    assert updated.status == "ok"
    assert updated.etag == fingerprint(replace(event, location="Room 2"))
