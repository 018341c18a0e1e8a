"""Graph's shapes <-> the neutral event, with no HTTP: patterns, zones and bodies.

Each Graph pattern's RRULE is expanded by the CRM and compared with the sandbox's own expansion of the
pattern (written separately, from Graph's documentation), occurrence by occurrence.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendarsync.core.event import Event
from calendarsync.core.normalize import normalized
from calendarsync.providers.microsoft.mapping import (
    Unreadable,
    body_text,
    from_graph,
    storable,
    to_graph,
    transaction_id,
    uid_of,
)
from calendarsync.providers.microsoft.recurrence import to_pattern, to_rrule
from calendarsync.providers.microsoft.zones import UnknownZone, iana
from crm.recurrence import occurrences_between
from sandboxes.microsoft import recurrence as sandbox_recurrence

PARIS = ZoneInfo("Europe/Paris")
PATTERNS = [
    ({"type": "daily", "interval": 3}, {"type": "numbered", "numberOfOccurrences": 40}),
    ({"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday", "friday"]}, {"type": "noEnd"}),
    ({"type": "weekly", "interval": 2, "daysOfWeek": ["tuesday", "sunday"], "firstDayOfWeek": "sunday"},
     {"type": "endDate", "endDate": "2027-09-30"}),
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31}, {"type": "noEnd"}),
    ({"type": "absoluteMonthly", "interval": 2, "dayOfMonth": 15}, {"type": "numbered", "numberOfOccurrences": 9}),
    ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"], "index": "last"}, {"type": "noEnd"}),
    ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday", "tuesday"], "index": "second"},
     {"type": "endDate", "endDate": "2027-12-31"}),
    ({"type": "absoluteYearly", "interval": 1, "month": 2, "dayOfMonth": 29}, {"type": "noEnd"}),
    ({"type": "relativeYearly", "interval": 1, "month": 3, "daysOfWeek": ["sunday"], "index": "last"},
     {"type": "numbered", "numberOfOccurrences": 5}),
]


def master(pattern, span, *, zone="Romance Standard Time", start="2026-11-30T09:30:00"):
    recurrence = {"pattern": pattern, "range": {"startDate": start[:10], "recurrenceTimeZone": zone, **span}}
    begin = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(iana(zone)))
    item = {"id": "AAMkS", "type": "seriesMaster", "subject": "Series", "iCalUId": "040000008200E0",
            "start": {"dateTime": begin.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (begin + timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None).isoformat(),
                    "timeZone": "UTC"},
            "originalStartTimeZone": zone, "recurrence": sandbox_recurrence.normalized(recurrence, zone)}
    first = sandbox_recurrence.first(item)  # Outlook moves the master to the first occurrence
    item["start"]["dateTime"] = first.start.replace(tzinfo=None).isoformat()
    item["end"]["dateTime"] = first.end.replace(tzinfo=None).isoformat()
    return item


@pytest.mark.parametrize(("pattern", "span"), PATTERNS, ids=[f"{p['type']}-{s['type']}" for p, s in PATTERNS])
def test_each_graph_pattern_is_an_rrule_with_the_same_occurrences_and_back(pattern, span):
    item = master(pattern, span)
    event = normalized(from_graph(item))
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    graph = [found.start for found in sandbox_recurrence.expand(item, *window)]
    start = event.start.astimezone(PARIS)
    crm = [begin.astimezone(UTC) for begin, _ in occurrences_between(
        rrule=event.rrule, exdates=[], start=start, end=start + timedelta(hours=1),
        window_start=window[0], window_end=window[1])]
    assert len(graph) > 3
    assert crm == graph
    pattern_back, lost = to_pattern(event.rrule, start, "Europe/Paris")
    assert lost == []
    assert to_rrule(pattern_back, all_day=False) == to_rrule(item["recurrence"], all_day=False)
    assert storable(event) == event  # Outlook holds it exactly: nothing looks changed at the next sync


@pytest.mark.parametrize(("rrule", "said"), [
    ("FREQ=MONTHLY;BYMONTHDAY=31", "day 31 on the last day of shorter months"),
    ("FREQ=MONTHLY;BYDAY=MO", "every given weekday of the month became the first"),
    ("FREQ=DAILY;COUNT=2000", "at most 999 occurrences"),
    ("FREQ=YEARLY;BYMONTH=1,7", "only the first of its months"),
])
def test_a_rule_outlook_cannot_hold_is_exported_as_close_as_it_can_and_said(rrule, said):
    start = datetime(2026, 12, 31, 10, tzinfo=PARIS)
    event = Event(uid="u", summary="Odd", start=start.astimezone(UTC), end=(start + timedelta(hours=1)).astimezone(UTC),
                  time_zone="Europe/Paris", rrule=rrule)
    pattern, lost = to_pattern(rrule, start, "Europe/Paris")
    assert any(said in line for line in lost), lost
    assert to_graph(event)["recurrence"] == pattern
    assert storable(normalized(event)).rrule != normalized(event).rrule  # compared as Outlook holds it


def test_windows_zone_names_are_read_through_the_cldr_table_and_unknown_ones_are_not_guessed():
    assert iana("Romance Standard Time") == "Europe/Paris"
    assert iana("Eastern Standard Time") == "America/New_York"
    assert iana("W. Europe Standard Time") == "Europe/Berlin"
    assert iana("tzone://Microsoft/Utc") == iana("UTC") == "UTC"
    assert iana("America/Chicago") == "America/Chicago"
    with pytest.raises(UnknownZone):
        iana("Mars Standard Time")


@pytest.mark.parametrize(("zone", "wall", "utc"), [
    ("Romance Standard Time", "2026-03-29T03:30:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # just after
    ("Romance Standard Time", "2026-10-25T01:30:00", datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),
    ("Eastern Standard Time", "2026-03-08T03:30:00", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    ("Eastern Standard Time", "2026-11-01T03:00:00", datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),
])
def test_times_on_dst_edges_are_read_at_their_instant_and_written_back_as_the_same_wall_clock(zone, wall, utc):
    item = {"id": "e", "type": "singleInstance", "subject": "Edge", "originalStartTimeZone": zone,
            "start": {"dateTime": wall + ".0000000", "timeZone": zone},
            "end": {"dateTime": wall.replace(":30:00", ":45:00").replace("T03:00", "T03:15"), "timeZone": zone}}
    event = from_graph(item)
    assert (event.start, event.time_zone) == (utc, iana(zone))
    written = to_graph(event)["start"]
    assert written == {"dateTime": wall, "timeZone": iana(zone)}


def test_the_second_pass_of_a_repeated_hour_is_written_in_utc_as_wall_clock_cannot_name_it():
    second_pass = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, after 01:30 EDT
    event = Event(uid="u", start=second_pass, end=second_pass + timedelta(minutes=30), time_zone="America/New_York")
    assert to_graph(event)["start"] == {"dateTime": "2026-11-01T06:30:00", "timeZone": "UTC"}


def test_all_day_events_are_dates_and_go_back_as_midnights():
    item = {"id": "e", "type": "singleInstance", "isAllDay": True, "subject": "Off-site", "showAs": "free",
            "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "UTC"}}
    event = from_graph(item)
    assert (event.all_day, event.start, event.end, event.busy) == (True, date(2026, 12, 24), date(2026, 12, 26), False)
    body = to_graph(event)
    assert (body["isAllDay"], body["start"]["dateTime"], body["end"]["dateTime"], body["showAs"]) == (
        True, "2026-12-24T00:00:00", "2026-12-26T00:00:00", "free")


def test_an_html_body_is_read_as_the_text_a_person_sees():
    html = ('<html><head><meta http-equiv="Content-Type"><style>p {margin:0}</style></head><body>'
            '<div>Agenda:&nbsp;budget</div><div><br></div><p>1. Q3 &amp; Q4<br>2. Hiring</p></body></html>')
    assert body_text({"contentType": "html", "content": html}) == "Agenda: budget\n\n1. Q3 & Q4\n2. Hiring"
    assert body_text({"contentType": "text", "content": "As <typed>"}) == "As <typed>"
    written = "<div>Type &amp;lt;b&amp;gt; for bold, &amp;amp; for and</div>"  # the text as typed, escaped once
    assert body_text({"contentType": "html", "content": written}) == "Type &lt;b&gt; for bold, &amp; for and"


def test_privacy_availability_and_uid_of_events_this_module_made():
    item = {"id": "e", "type": "singleInstance", "sensitivity": "confidential", "showAs": "tentative",
            "transactionId": transaction_id("calendar", "crm-42@crm.example.com"), "iCalUId": "040000008200",
            "start": {"dateTime": "2026-12-04T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-04T10:00:00", "timeZone": "UTC"}}
    event = from_graph(item)
    assert (event.private, event.busy, event.uid) == (True, True, "crm-42@crm.example.com")
    assert uid_of({**item, "transactionId": "another-app-key"}) == "040000008200"
    assert transaction_id("calendar", "x") != transaction_id("other calendar", "x")


def test_a_series_in_an_unknown_zone_is_unreadable_rather_than_drifting():
    item = master(*PATTERNS[1])
    item["recurrence"]["range"]["recurrenceTimeZone"] = "Customized Time Zone"
    with pytest.raises(Unreadable):
        from_graph(item)


def test_an_all_day_event_given_as_instants_keeps_its_dates_in_its_own_zone():
    """Graph may give an all-day event's midnights as UTC instants: Paris' midnight is 23:00 the day before."""
    item = {"id": "e", "type": "exception", "isAllDay": True, "subject": "Off-site",
            "originalStartTimeZone": "Romance Standard Time", "originalStart": "2026-12-06T23:00:00Z",
            "start": {"dateTime": "2026-12-07T23:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-08T23:00:00.0000000", "timeZone": "UTC"}}
    event = from_graph(item)
    assert (event.start, event.end, event.recurrence_id) == (date(2026, 12, 8), date(2026, 12, 9), "20261207")
