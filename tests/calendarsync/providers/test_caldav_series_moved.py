"""End to end, through the engine: a CRM series moved or re-ruled on a real CalDAV server takes its changed
occurrences along (the provider says the series was rebuilt, the engine writes them again under their new keys),
and one the new rule no longer has is gone from the resource too."""

from calendarsync.models import EventLink
from crm import services as crm
from tests import factories
from tests.calendarsync.sync.conftest import caldav_account, caldav_calendar, caldav_server, sync

__all__ = ["caldav_account", "caldav_calendar", "caldav_server"]  # the fixtures, used by name


def overrides(caldav_server) -> dict[str, str]:
    """The changed occurrences the server holds: RECURRENCE-ID as written -> SUMMARY."""
    return {event["RECURRENCE-ID"].to_ical().decode(): str(event["SUMMARY"])
            for event in caldav_server.events().values() if event.get("RECURRENCE-ID")}


def test_a_series_moved_in_the_crm_takes_its_changed_occurrences_along(alice, caldav_calendar, caldav_server):
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=5")
    crm.action_move(action=series, recurrence_id="20261209T080000Z", start=factories.local("2026-12-09 11:00"))
    crm.action_move(action=series, recurrence_id="20261210T080000Z", start=factories.local("2026-12-10 12:00"))
    sync(caldav_calendar)
    assert overrides(caldav_server) == {"20261209T090000": "Stand-up", "20261210T090000": "Stand-up"}

    series.refresh_from_db()
    crm.action_update(action=series, start=factories.local("2026-12-07 10:00"), end=factories.local("2026-12-07 11:00"))
    run = sync(caldav_calendar)
    assert run.report == []
    assert overrides(caldav_server) == {"20261209T100000": "Stand-up", "20261210T100000": "Stand-up"}
    keys = sorted(EventLink.objects.exclude(action=series).values_list("remote_id", flat=True))
    assert [key.rpartition("#")[2] for key in keys] == sorted(series.overrides.values_list("recurrence_id", flat=True))
    again = sync(caldav_calendar)  # nothing left to do: both sides agree
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)

    series.refresh_from_db()
    crm.action_update(action=series, rrule="FREQ=WEEKLY;COUNT=2")  # Mondays: neither changed occurrence is one
    sync(caldav_calendar)
    assert overrides(caldav_server) == {}
    assert EventLink.objects.exclude(action=series).count() == 0
