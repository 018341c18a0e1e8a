"""The CalDAV provider's reading side on real servers: a component per remote event (a changed occurrence is
`path#key`), changes since a cursor (edits, added and removed changed occurrences, deletions, junk), a
full listing when the server forgot the token, and fetching by remote id."""

import json
from dataclasses import replace
from datetime import UTC, datetime

from calendarsync.providers.base import Usage
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.mapping import write
from calendarsync.providers.caldav.provider import CalDAVProvider
from tests.caldav_proxy import Proxy
from tests.caldav_servers import PASSWORD, USER

from .conftest import put, timed

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


SERIES = timed("weekly", 1, rrule="FREQ=WEEKLY;COUNT=6")
MOVED = replace(timed("weekly", 8, hour=11), rrule="", recurrence_id="20261208T090000Z")


def by_id(events):
    return {event.remote_id: event for event in events}


def test_a_first_listing_then_what_changed_since(calendar):
    dav, path, reader = calendar.dav, calendar.path, calendar.provider
    single, series, other = f"{path}single.ics", f"{path}weekly.ics", f"{path}other.ics"
    put(dav, single, [timed("single", 3)])
    put(dav, series, [SERIES, MOVED])
    put(dav, other, [timed("other", 4)])
    put(dav, f"{path}far.ics", [replace(timed("far", 1), start=datetime(2030, 1, 1, tzinfo=UTC),
                                        end=datetime(2030, 1, 1, 1, tzinfo=UTC))])
    first = reader.changes(path, "", WINDOW)
    assert first.full
    found = by_id(first.events)
    assert set(found) == {single, series, f"{series}#20261208T090000Z", other}  # not the one beyond the window
    assert found[f"{series}#20261208T090000Z"].series_id == series
    assert found[f"{series}#20261208T090000Z"].event == MOVED

    etag = reader.dav.propfind(single, ["{DAV:}getetag"]).resources[0].text("{DAV:}getetag")
    put(dav, single, [timed("single", 3, hour=15)], etag=etag)
    etag = reader.dav.propfind(series, ["{DAV:}getetag"]).resources[0].text("{DAV:}getetag")
    put(dav, series, [SERIES], etag=etag)  # the changed occurrence reverted
    dav.delete(other)
    extra_dates = write([timed("extra", 5, rrule="FREQ=DAILY;COUNT=2")]).replace(
        b"RRULE:", b"RDATE:20261224T090000Z\r\nRRULE:")  # valid iCalendar the CRM cannot hold
    assert dav.put(f"{path}extra.ics", extra_dates, create=True).status_code == 201
    since = reader.changes(path, first.cursor, WINDOW)
    assert not since.full
    changed = by_id(since.events)
    assert changed[single].event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)
    assert changed[single].etag != found[single].etag
    assert changed[series].etag == found[series].etag  # the series itself did not change
    assert changed[f"{series}#20261208T090000Z"].event is None  # the occurrence is the series' own again
    assert changed[other].event is None
    assert "RDATE" in changed[f"{path}extra.ics"].problem  # skipped and reported, the others read
    assert reader.changes(path, since.cursor, WINDOW).events == []


def test_a_run_that_finds_a_few_changes_takes_one_request_where_the_server_gives_their_bodies(calendar):
    """The changes' bodies come in the sync-collection report itself where the server gives them there
    (Radicale), else by the multiget after it (Xandikos answers 404 for calendar-data in that report)."""
    dav, path, reader = calendar.dav, calendar.path, calendar.provider
    single = f"{path}single.ics"
    put(dav, single, [timed("single", 3)])
    asked = reader.usage.requests
    first = reader.changes(path, "", WINDOW)
    assert reader.usage.requests - asked == 3  # the token (a property), the window's listing, its bodies
    etag = dav.propfind(single, ["{DAV:}getetag"]).resources[0].text("{DAV:}getetag")
    put(dav, single, [timed("single", 3, hour=15)], etag=etag)
    put(dav, f"{path}added.ics", [timed("added", 4)])
    asked = reader.usage.requests
    since = reader.changes(path, first.cursor, WINDOW)
    assert reader.usage.requests - asked == (1 if calendar.server.kind == "radicale" else 2)
    assert {remote_id: event.event.summary for remote_id, event in by_id(since.events).items()} == {
        single: "single", f"{path}added.ics": "added"}
    assert by_id(since.events)[single].event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)


def test_a_token_the_server_forgot_means_a_full_listing(calendar):
    dav, path, reader = calendar.dav, calendar.path, calendar.provider
    put(dav, f"{path}single.ics", [timed("single", 3)])
    first = reader.changes(path, "", WINDOW)
    forgotten = first.cursor.replace('"token":"', '"token":"x')
    again = reader.changes(path, forgotten, WINDOW)
    assert again.full
    assert [event.remote_id for event in again.events] == [f"{path}single.ics"]


def test_a_token_property_whose_report_is_refused_means_following_the_etags(calendar):
    """A server that gives DAV:sync-token yet refuses sync-collection: the next run lists the calendar (deleting
    nothing it did not see) and follows its ETags from then on."""
    dav, path = calendar.dav, calendar.path
    with Proxy(dav.base, without_sync_collection=True) as proxy:
        proxy.token_without_report = True
        reader = CalDAVProvider(Dav(proxy.url, USER, PASSWORD, Usage()))
        single = f"{path}single.ics"
        put(dav, single, [timed("single", 3)])
        first = reader.changes(path, "", WINDOW)
        assert "token" in json.loads(first.cursor)
        second = reader.changes(path, first.cursor, WINDOW)
        assert second.full
        assert [event.remote_id for event in second.events] == [single]
        assert set(json.loads(second.cursor)) == {"ctag", "etags", "series"}
        assert reader.changes(path, second.cursor, WINDOW).events == []


def test_fetching_by_remote_id(calendar):
    dav, path, reader = calendar.dav, calendar.path, calendar.provider
    series = f"{path}weekly.ics"
    put(dav, series, [SERIES, MOVED])
    found = reader.fetch(path, [f"{series}#20261208T090000Z", series, f"{path}missing.ics",
                                f"{series}#20261215T090000Z"])
    assert [event.event for event in found] == [MOVED, SERIES, None, None]


def test_a_server_without_sync_collection_is_followed_by_its_ctag_and_etags(calendar):
    dav, path = calendar.dav, calendar.path
    with Proxy(dav.base, without_sync_collection=True) as proxy:
        reader = CalDAVProvider(Dav(proxy.url, USER, PASSWORD, Usage()))
        single, series, other = f"{path}single.ics", f"{path}weekly.ics", f"{path}other.ics"
        put(dav, single, [timed("single", 3)])
        put(dav, series, [SERIES, MOVED])
        put(dav, other, [timed("other", 4)])
        first = reader.changes(path, "", WINDOW)
        assert first.full
        assert set(by_id(first.events)) == {single, series, f"{series}#20261208T090000Z", other}
        assert set(json.loads(first.cursor)) == {"ctag", "etags", "series"}  # no token to follow

        asked = reader.usage.requests
        quiet = reader.changes(path, first.cursor, WINDOW)
        assert (quiet.events, reader.usage.requests - asked) == ([], 1)  # the CTag alone says nothing changed

        etag = dav.propfind(single, ["{DAV:}getetag"]).resources[0].text("{DAV:}getetag")
        put(dav, single, [timed("single", 3, hour=15)], etag=etag)
        etag = dav.propfind(series, ["{DAV:}getetag"]).resources[0].text("{DAV:}getetag")
        put(dav, series, [SERIES], etag=etag)
        dav.delete(other)
        since = reader.changes(path, quiet.cursor, WINDOW)
        assert not since.full
        changed = by_id(since.events)
        assert set(changed) == {single, series, f"{series}#20261208T090000Z", other}
        assert changed[single].event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)
        assert (changed[f"{series}#20261208T090000Z"].event, changed[other].event) == (None, None)
        assert reader.changes(path, since.cursor, WINDOW).events == []
