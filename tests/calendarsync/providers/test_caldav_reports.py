"""Listing and reading a calendar on real servers (Radicale, Xandikos): sync-collection with its tokens,
time-range queries, ETags and CTags for servers without sync-collection, bodies by multiget in chunks."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from calendarsync.core.event import Event
from calendarsync.providers.caldav import reports
from calendarsync.providers.caldav.mapping import read

from . import conftest


def meeting(number, day=1, **fields):
    start = datetime(2026, 12, day, 9, tzinfo=UTC)
    return Event(uid=f"m{number}@crm", summary=f"Meeting {number}", start=start, end=start + timedelta(hours=1),
                 time_zone="Europe/Paris", **fields)


def put(dav, path, event, etag=""):
    """The event written in its own resource, named after its UID, by another client."""
    return conftest.put(dav, f"{path}{event.uid}.ics", [event], etag)


def test_sync_collection_reports_what_changed_and_what_went_since_a_token(calendar):
    dav, path = calendar.dav, calendar.path
    hrefs = [put(dav, path, meeting(number)) for number in range(3)]
    first = reports.sync_collection(dav, path, "")
    assert set(first.etags) == set(hrefs)
    assert first.token
    edited = put(dav, path, meeting(0, day=2), etag=first.etags[hrefs[0]])
    dav.delete(hrefs[1], etag=first.etags[hrefs[1]])
    added = put(dav, path, meeting(3))
    since = reports.sync_collection(dav, path, first.token)
    assert set(since.etags) == {edited, added}
    assert since.etags[edited] != first.etags[edited]
    assert since.removed == {hrefs[1]}
    assert reports.sync_collection(dav, path, since.token).etags == {}  # nothing since


def test_sync_collection_gives_the_bodies_of_what_changed_when_asked_and_the_server_has_them(calendar):
    dav, path = calendar.dav, calendar.path
    token = reports.sync_collection(dav, path, "").token
    added = put(dav, path, meeting(0, day=2))
    since = reports.sync_collection(dav, path, token, with_bodies=True)
    assert set(since.etags) == {added}
    if calendar.server.kind == "xandikos":  # calendar-data answered 404 there: the provider multigets
        assert since.bodies == {}
        return
    assert set(since.bodies) == {added}
    assert read(since.bodies[added]).events[0].summary == "Meeting 0"
    assert reports.sync_collection(dav, path, token).bodies == {}  # only when asked


def test_a_token_the_server_does_not_know_means_a_full_listing(calendar):
    dav, path = calendar.dav, calendar.path
    put(dav, path, meeting(0))
    token = reports.sync_collection(dav, path, "").token
    with pytest.raises(reports.TokenExpired):
        reports.sync_collection(dav, path, token[:-1] + ("x" if token[-1] != "x" else "y"))


def test_a_time_range_finds_events_and_series_that_meet_the_window(calendar):
    dav, path = calendar.dav, calendar.path
    inside = put(dav, path, meeting(0, day=10))
    put(dav, path, meeting(1, day=1))
    weekly = put(dav, path, replace(meeting(2, day=1), rrule="FREQ=WEEKLY;COUNT=4"))  # 1, 8, 15, 22 Dec
    window = (datetime(2026, 12, 9, tzinfo=UTC), datetime(2026, 12, 16, tzinfo=UTC))
    assert set(reports.in_window(dav, path, window).etags) == {inside, weekly}


def test_etags_and_the_ctag_say_what_changed_without_sync_collection(calendar):
    dav, path = calendar.dav, calendar.path
    hrefs = [put(dav, path, meeting(number)) for number in range(2)]
    before, ctag = reports.every_etag(dav, path), reports.ctag(dav, path)
    assert set(before.etags) == set(hrefs)
    put(dav, path, meeting(0, day=5), etag=before.etags[hrefs[0]])
    after = reports.every_etag(dav, path)
    assert {href for href in hrefs if after.etags[href] != before.etags[href]} == {hrefs[0]}
    assert ctag  # Radicale and Xandikos both keep one
    assert reports.ctag(dav, path) != ctag


def test_bodies_come_by_multiget_a_hundred_at_a_time(calendar):
    dav, path = calendar.dav, calendar.path
    hrefs = [put(dav, path, meeting(number, day=1 + number % 28)) for number in range(230)]
    asked = dav.usage.requests
    bodies = reports.multiget(dav, path, [*hrefs, f"{path}gone.ics"])
    assert dav.usage.requests - asked == 3
    assert set(bodies) == set(hrefs)
    assert read(bodies[hrefs[7]][1]).events == [meeting(7, day=8)]
