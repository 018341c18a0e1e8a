"""A real CalDAV server for each test that asks for one, Radicale and Xandikos in turn, and a calendar on it."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from calendarsync.core.event import Event
from calendarsync.providers.base import Usage
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.mapping import write
from calendarsync.providers.caldav.provider import CalDAVProvider
from tests import caldav_servers
from tests.caldav_servers import PASSWORD, USER, Server, make_calendar


@dataclass(frozen=True)
class Calendar:
    server: Server
    path: str
    dav: Dav  # a client of the server, as another application writing to it
    provider: CalDAVProvider


@pytest.fixture(params=["radicale", "xandikos"])
def server(request, tmp_path):
    start = caldav_servers.radicale if request.param == "radicale" else caldav_servers.xandikos
    with start(tmp_path) as running:
        yield running


@pytest.fixture
def calendar(server) -> Calendar:
    path = make_calendar(server, "work")
    return Calendar(server, path, Dav(server.url, USER, PASSWORD, Usage()),
                    CalDAVProvider(Dav(server.url, USER, PASSWORD, Usage())))


def put(dav: Dav, href: str, events: list[Event], etag="") -> str:
    """Write a resource as another client would: created where none is, else over `etag`; its path."""
    response = dav.put(href, write(events), etag=etag, create=not etag)
    assert response.status_code in (201, 204), response.text
    return href


def timed(uid, day, hour=9, **fields) -> Event:
    """An hour in December 2026, a Paris appointment."""
    start = datetime(2026, 12, day, hour, tzinfo=UTC)
    return Event(uid=uid, summary=uid, start=start, end=start + timedelta(hours=1), time_zone="Europe/Paris",
                 **fields)
