"""What the engine relies on from every provider, checked against each one the same way.

A provider here is a fresh client made for each step, as each sync run makes one; "another client"
is a second one, standing for the calendar's owner or another app writing meanwhile.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from calendarsync import services
from calendarsync.core.event import Event
from calendarsync.core.normalize import normalized
from calendarsync.providers.base import CalendarProvider, FreeBusy, Usage, Write
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.provider import CalDAVProvider
from calendarsync.providers.caldav.reports import MULTIGET_CHUNK
from calendarsync.providers.memory import MemoryProvider, MemoryService
from tests import caldav_servers
from tests.caldav_proxy import Proxy
from tests.calendarsync.sync.conftest import PRIMARY

pytestmark = pytest.mark.django_db  # the Google sandbox's account lives in the database
WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC))


@dataclass
class Subject:
    make: Callable[[], CalendarProvider]
    calendar_id: str
    forget_cursors: Callable[[], None]
    write_requests: Callable[[int, int], int] = lambda writes, batch: -(-writes // batch)  # batches of `batch`


@pytest.fixture(params=["memory", "google", "microsoft", "radicale", "xandikos"])
def subject(request):
    if request.param in ("radicale", "xandikos"):
        return request.getfixturevalue("caldav_subject")
    if request.param == "memory":
        service = MemoryService()
        service.add_calendar("work", is_primary=True)
        return Subject(lambda: MemoryProvider(service), "work", lambda: service.forget_cursors("work"))
    if request.param == "google":
        remote, calendar_id, expire = request.getfixturevalue("google"), PRIMARY, "expire-sync-tokens"
    else:
        remote = request.getfixturevalue("outlook")
        calendar_id, expire = remote.calendar_id, "expire-delta-tokens"

    def make():
        remote.account.refresh_from_db()
        return services.provider_for(remote.account)
    return Subject(make, calendar_id, lambda: remote.control(expire))


@pytest.fixture
def caldav_subject(request, tmp_path):
    """A calendar on a real CalDAV server, behind a proxy that can make the server forget its sync tokens. A
    resource is written with one request each (bodies first, a hundred per multiget), four at a time."""
    start = caldav_servers.radicale if request.node.callspec.params["subject"] == "radicale" else \
        caldav_servers.xandikos
    with start(tmp_path) as server, Proxy(server.url) as proxy:
        path = caldav_servers.make_calendar(server, "work")
        yield Subject(lambda: CalDAVProvider(Dav(proxy.url, caldav_servers.USER, caldav_servers.PASSWORD, Usage())),
                      path, proxy.forget_tokens, lambda writes, batch: writes + -(-writes // MULTIGET_CHUNK))


def meeting(summary="Review", day=3, hour=10, **fields) -> Event:
    start = datetime(2026, 12, day, hour - 1, tzinfo=UTC)  # Paris is UTC+1 in December
    return Event(uid=f"{uuid.uuid4().hex}@crm.example.com", summary=summary, start=start,
                 end=start + timedelta(hours=1), time_zone="Europe/Paris", **fields)


def create(subject, *events) -> list:
    """Create events as another client; their write results (ok, with id and ETag)."""
    results = subject.make().write(subject.calendar_id, [Write("create", event.uid, event) for event in events])
    assert [result.status for result in results] == ["ok"] * len(events)
    return results


def full(subject) -> dict:
    changes = subject.make().changes(subject.calendar_id, "", WINDOW)
    assert changes.full
    assert changes.cursor
    return {item.remote_id: item for item in changes.events}


def test_a_full_listing_holds_the_events_of_the_window_as_they_were_written(subject):
    inside, later = meeting("Inside"), meeting("After the window", location="Lyon")
    later = replace(later, start=later.start + timedelta(days=400), end=later.end + timedelta(days=400))
    [written, _] = create(subject, inside, later)
    listed = full(subject)
    assert set(listed) == {written.remote_id}
    assert normalized(listed[written.remote_id].event) == normalized(inside)
    assert listed[written.remote_id].etag == written.etag
    assert listed[written.remote_id].updated is not None


def test_a_create_retried_with_its_key_finds_its_event_instead_of_making_another(subject):
    event = meeting()
    [first] = create(subject, event)
    [again] = create(subject, replace(event, summary="Review, retried"))
    assert again.remote_id == first.remote_id
    listed = [item.event for item in full(subject).values()]
    assert [(item.uid, item.summary) for item in listed] == [(event.uid, "Review, retried")]


def test_changes_since_a_cursor_are_what_changed_and_nothing_else(subject):
    first, second = create(subject, meeting("First"), meeting("Second", day=4))
    provider = subject.make()
    cursor = provider.changes(subject.calendar_id, "", WINDOW).cursor
    moved = meeting("First, moved", day=5)
    [updated] = subject.make().write(subject.calendar_id, [Write("update", "u", moved, first.remote_id, first.etag)])
    assert updated.status == "ok"
    assert updated.etag != first.etag
    changes = subject.make().changes(subject.calendar_id, cursor, WINDOW)
    assert not changes.full
    assert changes.cursor
    assert [(item.remote_id, item.event.summary, item.event.start) for item in changes.events] == [
        (first.remote_id, "First, moved", moved.start)]
    assert subject.make().changes(subject.calendar_id, changes.cursor, WINDOW).events == []


def test_a_deletion_is_reported_as_such_and_writing_to_it_again_finds_it_gone(subject):
    [written] = create(subject, meeting())
    cursor = subject.make().changes(subject.calendar_id, "", WINDOW).cursor
    provider = subject.make()
    [deleted] = provider.write(subject.calendar_id, [Write("delete", "d", None, written.remote_id, written.etag)])
    assert deleted.status == "ok"
    changes = subject.make().changes(subject.calendar_id, cursor, WINDOW)
    assert [(item.remote_id, item.event) for item in changes.events] == [(written.remote_id, None)]
    again = subject.make().write(subject.calendar_id, [Write("delete", "d", None, written.remote_id),
                                                       Write("update", "u", meeting(), written.remote_id)])
    assert [result.status for result in again] == ["gone", "gone"]
    assert full(subject) == {}


def test_a_write_with_an_outdated_etag_is_refused_as_stale_and_changes_nothing(subject):
    event = meeting()
    [written] = create(subject, event)
    [renamed] = subject.make().write(subject.calendar_id, [
        Write("update", "u1", replace(event, summary="Renamed by its owner"), written.remote_id, written.etag)])
    stale = subject.make().write(subject.calendar_id, [
        Write("update", "u2", replace(event, summary="Ours"), written.remote_id, written.etag),
        Write("delete", "d", None, written.remote_id, written.etag)])
    assert [result.status for result in stale] == ["stale", "stale"]
    [listed] = full(subject).values()
    assert (listed.event.summary, listed.etag) == ("Renamed by its owner", renamed.etag)


def test_a_forgotten_cursor_gives_a_full_listing(subject):
    [written] = create(subject, meeting())
    cursor = subject.make().changes(subject.calendar_id, "", WINDOW).cursor
    subject.forget_cursors()
    changes = subject.make().changes(subject.calendar_id, cursor, WINDOW)
    assert changes.full
    assert [item.remote_id for item in changes.events] == [written.remote_id]


def test_writes_go_in_batches_and_answer_one_result_per_write_in_order(subject):
    provider = subject.make()
    count = provider.write_batch + 3
    events = [meeting(f"Meeting {number}", day=1 + number % 28) for number in range(count)]
    results = provider.write(subject.calendar_id, [Write("create", event.uid, event) for event in events])
    assert [result.key for result in results] == [event.uid for event in events]
    assert {result.status for result in results} == {"ok"}
    assert provider.usage.requests == subject.write_requests(count, provider.write_batch)
    assert {item.event.uid for item in full(subject).values()} == {event.uid for event in events}


def test_a_series_keeps_its_moved_occurrence_and_a_cancelled_one_becomes_an_exception_date(subject):
    series = meeting("Weekly", day=1, rrule="FREQ=WEEKLY;COUNT=4")
    [written] = create(subject, series)
    second, third = "20261208T090000Z", "20261215T090000Z"
    moved = replace(series, rrule="", recurrence_id=second, summary="Weekly, later",
                    start=datetime(2026, 12, 8, 11, tzinfo=UTC), end=datetime(2026, 12, 8, 12, tzinfo=UTC))
    cancelled = replace(series, rrule="", recurrence_id=third,
                        start=datetime(2026, 12, 15, 9, tzinfo=UTC), end=datetime(2026, 12, 15, 10, tzinfo=UTC))
    provider = subject.make()
    results = provider.write(subject.calendar_id, [
        Write("create", f"{series.uid}_{second}", moved, written.remote_id),
        Write("create", f"{series.uid}_{third}", cancelled, written.remote_id)])
    assert [result.status for result in results] == ["ok", "ok"]
    cursor = subject.make().changes(subject.calendar_id, "", WINDOW).cursor
    [deleted] = subject.make().write(subject.calendar_id, [Write("delete", "d", None, results[1].remote_id)])
    assert deleted.status == "ok"
    changes = subject.make().changes(subject.calendar_id, cursor, WINDOW).events
    assert [(item.event, item.series_id, item.occurrence) for item in changes
            if item.remote_id == results[1].remote_id] == [(None, written.remote_id, third)]
    listed = full(subject)
    assert listed[written.remote_id].event.exdates == (third,)
    occurrence = listed[results[0].remote_id]
    assert (occurrence.event.uid, occurrence.event.recurrence_id, occurrence.event.summary) == (
        series.uid, second, "Weekly, later")
    assert occurrence.series_id == written.remote_id


def test_free_busy_counts_the_busy_events_only(subject):
    busy, free = meeting("Busy", hour=10), meeting("Free", hour=14, busy=False)
    weekly = meeting("Weekly", day=4, hour=9, rrule="FREQ=WEEKLY;COUNT=3", exdates=("20261211T080000Z",))
    create(subject, busy, free, weekly)
    provider = subject.make()
    asked = provider.usage.requests
    found = provider.free_busy([subject.calendar_id], datetime(2026, 12, 3, tzinfo=UTC),
                               datetime(2026, 12, 31, tzinfo=UTC))
    assert provider.usage.requests - asked == 1  # freebusy.query, one $batch, free-busy-query
    week = timedelta(days=7)
    assert found == {subject.calendar_id: FreeBusy(((busy.start, busy.end), (weekly.start, weekly.end),
                                                    (weekly.start + 2 * week, weekly.end + 2 * week)))}


def test_fetch_tells_a_moved_event_from_a_deleted_one(subject):
    kept, gone = create(subject, meeting("Moved"), meeting("Deleted", day=4))
    later = datetime(2028, 3, 1, 9, tzinfo=UTC)
    moved = replace(meeting("Moved"), start=later, end=later + timedelta(hours=1))
    provider = subject.make()
    results = provider.write(subject.calendar_id, [Write("update", "u", moved, kept.remote_id),
                                                   Write("delete", "d", None, gone.remote_id)])
    assert [result.status for result in results] == ["ok", "ok"]
    found = {item.remote_id: item.event for item in subject.make().fetch(
        subject.calendar_id, [kept.remote_id, gone.remote_id, "neverexisted0"])}
    assert found[kept.remote_id].start == moved.start
    assert found[gone.remote_id] is None
    assert found["neverexisted0"] is None


def test_a_listing_of_a_window_holds_its_events_and_leaves_the_cursor_alone(subject):
    inside = meeting("Inside")
    later = WINDOW[1] + timedelta(days=10)
    beyond = replace(meeting("Beyond"), start=later, end=later + timedelta(hours=1))
    [_, far] = create(subject, inside, beyond)
    cursor = subject.make().changes(subject.calendar_id, "", WINDOW).cursor
    listed = subject.make().listing(subject.calendar_id, (WINDOW[1], WINDOW[1] + timedelta(days=30)))
    assert [(item.remote_id, item.event.summary) for item in listed] == [(far.remote_id, "Beyond")]
    assert subject.make().changes(subject.calendar_id, cursor, WINDOW).events == []
