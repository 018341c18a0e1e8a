from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm import recurrence

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone, *args):
    return datetime(*args, tzinfo=zone)


def expand(rrule, start, end, window_start, window_end, exdates=()):
    return list(recurrence.occurrences_between(
        rrule=rrule, exdates=list(exdates), start=start, end=end,
        window_start=window_start, window_end=window_end,
    ))


@pytest.mark.parametrize(("zone", "first", "dst_day"), [
    (PARIS, at(PARIS, 2026, 3, 26, 10), date(2026, 3, 29)),          # Europe springs forward
    (PARIS, at(PARIS, 2026, 10, 22, 10), date(2026, 10, 25)),        # Europe falls back
    (NEW_YORK, at(NEW_YORK, 2026, 3, 5, 9, 30), date(2026, 3, 8)),   # America springs forward
    (NEW_YORK, at(NEW_YORK, 2026, 10, 29, 9, 30), date(2026, 11, 1)),  # America falls back
])
def test_daily_series_keeps_its_wall_clock_time_across_dst(zone, first, dst_day):
    occurrences = expand("FREQ=DAILY;COUNT=6", first, first + timedelta(hours=1),
                         first, first + timedelta(days=10))
    assert len(occurrences) == 6
    assert {start.astimezone(zone).time() for start, _ in occurrences} == {first.time()}
    offsets = {start.date(): start.utcoffset() for start, _ in occurrences}
    assert offsets[dst_day - timedelta(days=1)] != offsets[dst_day + timedelta(days=1)]


def test_window_returns_only_overlapping_occurrences_including_one_that_started_before():
    first = at(PARIS, 2026, 11, 2, 23)  # 23:00 to 01:00, daily
    occurrences = expand("FREQ=DAILY", first, first + timedelta(hours=2),
                         at(PARIS, 2026, 11, 10), at(PARIS, 2026, 11, 11))
    assert [start.day for start, _ in occurrences] == [9, 10]


def test_exdates_remove_occurrences():
    first = at(PARIS, 2026, 11, 2, 9)
    cancelled = recurrence.occurrence_key(at(PARIS, 2026, 11, 4, 9))
    occurrences = expand("FREQ=DAILY;COUNT=5", first, first + timedelta(hours=1),
                         first, first + timedelta(days=10), exdates=[cancelled])
    assert [start.day for start, _ in occurrences] == [2, 3, 5, 6]


def test_all_day_series_expand_on_dates():
    occurrences = expand("FREQ=WEEKLY;BYDAY=MO,FR;COUNT=4", date(2026, 11, 2), date(2026, 11, 3),
                         date(2026, 11, 1), date(2026, 12, 1))
    assert occurrences == [
        (date(2026, 11, 2), date(2026, 11, 3)), (date(2026, 11, 6), date(2026, 11, 7)),
        (date(2026, 11, 9), date(2026, 11, 10)), (date(2026, 11, 13), date(2026, 11, 14)),
    ]


@pytest.mark.parametrize(("text", "start", "expected"), [
    ("RRULE:FREQ=WEEKLY;BYDAY=MO", at(PARIS, 2026, 11, 2, 9), "FREQ=WEEKLY;BYDAY=MO"),
    # A bare UNTIL date on a timed series means the end of that day in the series' zone, in UTC.
    ("FREQ=DAILY;UNTIL=20261130", at(PARIS, 2026, 11, 2, 9), "FREQ=DAILY;UNTIL=20261130T225959Z"),
    ("FREQ=DAILY;UNTIL=20261130T100000", at(PARIS, 2026, 11, 2, 9), "FREQ=DAILY;UNTIL=20261130T090000Z"),
    ("FREQ=DAILY;UNTIL=20261130T100000Z", date(2026, 11, 2), "FREQ=DAILY;UNTIL=20261130"),
    ("freq=monthly;byday=2TU", at(PARIS, 2026, 11, 10, 9), "FREQ=MONTHLY;BYDAY=2TU"),
])
def test_normalize_rrule(text, start, expected):
    assert recurrence.normalize_rrule(text, start=start) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("FREQ=SECONDLY", "FREQ must be one of"),
    ("BYDAY=MO", "no FREQ"),
    ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "not both"),
    ("FREQ=DAILY;UNTIL=20200101", "no occurrence"),
    ("RRULE:FREQ=DAILY\nEXDATE:20261102", "one RRULE only"),
])
def test_normalize_rrule_explains_what_is_wrong(text, message):
    with pytest.raises(recurrence.RecurrenceError, match=message):
        recurrence.normalize_rrule(text, start=at(PARIS, 2026, 11, 2, 9))


def test_occurrence_keys_round_trip():
    moment = at(PARIS, 2026, 7, 1, 10, 30)
    key = recurrence.occurrence_key(moment)
    assert key == "20260701T083000Z"
    assert recurrence.parse_occurrence_key(key, all_day=False) == moment.astimezone(UTC)
    assert recurrence.occurrence_key(date(2026, 7, 1)) == "20260701"
    with pytest.raises(recurrence.RecurrenceError):
        recurrence.parse_occurrence_key("2026-07-01", all_day=True)


def test_last_start_of_finite_and_endless_rules():
    first = at(PARIS, 2026, 11, 2, 9)
    last = recurrence.last_start(rrule="FREQ=WEEKLY;COUNT=3", exdates=[], start=first)
    assert last == at(PARIS, 2026, 11, 16, 9)
    assert recurrence.last_start(rrule="FREQ=WEEKLY", exdates=[], start=first) is None


def test_is_occurrence():
    first = at(PARIS, 2026, 11, 2, 9)
    rule = "FREQ=WEEKLY;COUNT=3"
    assert recurrence.is_occurrence(rrule=rule, exdates=[], start=first, key="20261109T080000Z")
    assert not recurrence.is_occurrence(rrule=rule, exdates=[], start=first, key="20261110T080000Z")
    assert not recurrence.is_occurrence(rrule=rule, exdates=["20261109T080000Z"], start=first,
                                        key="20261109T080000Z")


def test_shift_key_follows_wall_clock_across_dst():
    # A weekly 10:00 Paris series moved to 11:00: the summer occurrence key moves from 08:00Z to 09:00Z.
    old, new = at(PARIS, 2026, 1, 5, 10), at(PARIS, 2026, 1, 5, 11)
    assert recurrence.shift_key("20260706T080000Z", old_start=old, new_start=new) == "20260706T090000Z"
    # Turning a timed series into an all-day one keys occurrences by their date.
    assert recurrence.shift_key("20260706T080000Z", old_start=old, new_start=date(2026, 1, 5)) == "20260706"


def test_all_day_window_covers_the_viewer_dates():
    window = recurrence.all_day_window(at(PARIS, 2026, 11, 2), at(PARIS, 2026, 11, 9), PARIS)
    assert window == (date(2026, 11, 2), date(2026, 11, 9))
    window = recurrence.all_day_window(at(PARIS, 2026, 11, 2), at(PARIS, 2026, 11, 2, 12), PARIS)
    assert window == (date(2026, 11, 2), date(2026, 11, 3))
