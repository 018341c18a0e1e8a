"""Finding a user's calendars on real CalDAV servers (Radicale, Xandikos), and each way it fails told apart
(the sentences for the user are the account's: tests/calendarsync/test_caldav_accounts.py)."""

import http.server
import threading

import pytest

from calendarsync.providers.base import Usage
from calendarsync.providers.caldav import discovery
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.discovery import DiscoveryError, discover
from calendarsync.providers.caldav.provider import CalDAVProvider
from tests import caldav_servers
from tests.caldav_servers import PASSWORD, USER, make_calendar


def test_discovery_finds_the_event_calendars_with_their_names_and_colors(server):
    work = make_calendar(server, "work", display_name="Work", color="#FF8800FF", time_zone="America/New_York")
    make_calendar(server, "tasks", display_name="Tasks", components=("VTODO",))
    for url in (server.url, server.url + server.home.lstrip("/")):  # the server's address, or the home's
        found = discover(url, USER, PASSWORD)
        assert found.home == server.home
        by_path = {calendar.path: calendar for calendar in found.calendars}
        assert by_path[work].name == "Work"
        assert by_path[work].color == "#ff8800"  # Apple's #RRGGBBAA, as the CRM keeps colors
        assert by_path[work].can_write
        assert by_path[work].time_zone == "America/New_York"  # where its floating times are
        assert server.calendar_path("tasks") not in by_path  # to-dos only: nothing an appointment can go in


def test_a_calendar_the_user_may_only_read_is_found_read_only(tmp_path):
    """Radicale's rights make `holidays` readable only."""
    with caldav_servers.radicale(tmp_path, read_only=["holidays"]) as server:
        make_calendar(server, "work", display_name="Work")
        found = {calendar.path: calendar for calendar in discover(server.url, USER, PASSWORD).calendars}
        assert (found[server.calendar_path("holidays")].name, found[server.calendar_path("holidays")].can_write) \
            == ("Holidays", False)
        assert found[server.calendar_path("work")].can_write


def test_a_refused_password_says_what_to_do(tmp_path):
    with caldav_servers.radicale(tmp_path) as server, pytest.raises(DiscoveryError) as failed:
        discover(server.url, USER, "wrong")
    assert failed.value.problem == discovery.REFUSED


def test_an_address_where_nothing_answers(unused_ports):
    with pytest.raises(DiscoveryError) as failed:
        discover(f"http://127.0.0.1:{unused_ports[0]}/", USER, PASSWORD)
    assert failed.value.problem == discovery.UNREACHABLE


def test_a_certificate_that_cannot_be_verified(server):
    with pytest.raises(DiscoveryError) as failed:  # https to a server that speaks plain HTTP
        discover(server.url.replace("http://", "https://"), USER, PASSWORD)
    assert failed.value.problem == discovery.CERTIFICATE


def test_a_web_server_that_is_not_a_caldav_server():
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(DiscoveryError) as failed:
            discover(f"http://127.0.0.1:{site.server_address[1]}/", USER, PASSWORD)
        assert failed.value.problem == discovery.NOT_CALDAV
    finally:
        site.shutdown()
        site.server_close()


@pytest.mark.parametrize("address", ["127.0.0.1:5232", "ftp://example.org/", "https://"])
def test_an_address_that_is_not_one(address):
    with pytest.raises(DiscoveryError) as failed:
        discover(address, USER, PASSWORD)
    assert failed.value.problem == discovery.NOT_FOUND


def test_a_path_with_no_calendar_under_it(server):
    with pytest.raises(DiscoveryError) as failed:
        discover(server.url + "nobody/here/", USER, PASSWORD)
    assert failed.value.problem == discovery.NOT_FOUND


def test_the_provider_lists_the_calendars_of_the_home_found(server):
    work = make_calendar(server, "work", display_name="Work", color="#33B679")
    home = discover(server.url, USER, PASSWORD).home
    provider = CalDAVProvider(Dav(server.url, USER, PASSWORD, Usage()), home)
    listed = {calendar.remote_id: calendar for calendar in provider.list_calendars()}
    assert (listed[work].name, listed[work].color, listed[work].can_write) == ("Work", "#33b679", True)
    assert provider.usage.requests == 1
