"""The demo's CalDAV server (`make run`): Radicale with the demo's people, which a newcomer adds as a CalDAV
account and syncs, every event of it readable."""

from datetime import date

from calendarsync import services
from crm.models import Action
from sandboxes import caldav

from .conftest import caldav_connected, sync


def test_the_demo_server_is_added_and_synced_with_nothing_skipped(client, alice, sync_allowed, appointment_type,
                                                                  tmp_path, unused_ports, settings):
    server = caldav.Radicale(tmp_path, "127.0.0.1", unused_ports[0])
    try:
        settings.CALENDARSYNC_CALDAV_DEMO_URL = server.url
        client.force_login(alice)
        assert "Demo CalDAV server" in client.get("/settings/sync/").content.decode()
        account = caldav_connected(client, alice, server.url, username="marc", password=caldav.PASSWORD)
        calendars = {calendar.name: calendar for calendar in account.calendars.all()}
        assert set(calendars) == {"Marc's calendar", "Public holidays"}
        assert (calendars["Marc's calendar"].color, calendars["Public holidays"].can_write) == ("#4986e7", False)
        mine = services.calendar_configure(alice, calendars["Marc's calendar"], selected=True, direction="import",
                                           first_sync="since", first_sync_since=date(2026, 1, 1))
        run = sync(mine)
        assert (run.created > 50, run.skipped, run.report) == (True, 0, [])
        assert Action.objects.filter(rrule__startswith="FREQ=").exists()  # its series came as series
    finally:
        server.stop()
