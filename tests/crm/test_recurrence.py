from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert recurrence.normalize_rrule(text, start=start, zone=PARIS) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("FREQ=SECONDLY", "FREQ must be one of"),
    ("FREQ=HOURLY", "FREQ must be one of"),
    ("FREQ=DAILY;BYHOUR=9,10", "BYHOUR cannot be used"),
    ("FREQ=YEARLY;BYEASTER=1", "not a valid RRULE|cannot be used"),
    ("FREQ=DAILY;INTERVAL=-1", "INTERVAL must be"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be"),
    ("FREQ=DAILY;COUNT=300000", "COUNT must be"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "never falls on"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must be"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH must be|not a valid RRULE"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS must be"),
    ("BYDAY=MO", "no FREQ"),
    ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "not both"),
    ("FREQ=DAILY;UNTIL=20200101", "no occurrence"),
    ("RRULE:FREQ=DAILY\nEXDATE:20261102", "one RRULE only"),
])
def test_normalize_rrule_explains_what_is_wrong(text, message):
    with pytest.raises(recurrence.RecurrenceError, match=message):
        recurrence.normalize_rrule(text, start=at(PARIS, 2026, 11, 2, 9), zone=PARIS)


def test_occurrence_keys_round_trip():
    moment = at(PARIS, 2026, 7, 1, 10, 30)
    key = recurrence.occurrence_key(moment)
    assert key == "20260701T083000Z"
    assert recurrence.parse_occurrence_key(key, all_day=False) == moment.astimezone(UTC)
    assert recurrence.occurrence_key(date(2026, 7, 1)) == "20260701"
    with pytest.raises(recurrence.RecurrenceError):
        recurrence.parse_occurrence_key("2026-07-01", all_day=True)


def test_last_start_bound_of_finite_and_endless_rules():
    first = at(PARIS, 2026, 11, 2, 9)
    assert recurrence.last_start_bound(rrule="FREQ=WEEKLY;COUNT=3", start=first) == at(PARIS, 2026, 11, 16, 9)
    until = recurrence.last_start_bound(rrule="FREQ=WEEKLY;UNTIL=20261130T225959Z", start=first)
    assert until == at(PARIS, 2026, 11, 30, 23, 59, 59)
    assert recurrence.last_start_bound(rrule="FREQ=WEEKLY", start=first) is None


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


def test_an_occurrence_in_a_dst_gap_is_named_and_found_by_its_utc_key():
    # 02:30 does not exist in Paris on 29 March 2026: the occurrence happens at 03:30 CEST.
    first = at(PARIS, 2026, 3, 27, 2, 30)
    found = expand("FREQ=DAILY;COUNT=5", first, first + timedelta(minutes=30),
                   at(PARIS, 2026, 3, 29), at(PARIS, 2026, 3, 30))
    assert [recurrence.occurrence_key(start) for start, _ in found] == ["20260329T013000Z"]
    assert recurrence.is_occurrence(rrule="FREQ=DAILY;COUNT=5", exdates=[], start=first, key="20260329T013000Z")


def test_until_is_kept_on_the_day_the_series_zone_sees():
    los_angeles = ZoneInfo("America/Los_Angeles")
    first = at(los_angeles, 2026, 11, 2, 10)
    rule = recurrence.normalize_rrule("FREQ=DAILY;UNTIL=20261105", start=first, zone=los_angeles)
    assert rule == "FREQ=DAILY;UNTIL=20261106T075959Z"
    assert recurrence.until_date(rule, los_angeles) == date(2026, 11, 5)
    assert recurrence.describe(rule, los_angeles) == "Every day, until 05 Nov 2026"
    # The same series turned all-day keeps its last day.
    assert recurrence.normalize_rrule(rule, start=date(2026, 11, 2), zone=los_angeles) == "FREQ=DAILY;UNTIL=20261105"


def test_impossible_rules_are_refused_quickly():
    import time as clock

    began = clock.perf_counter()
    for text in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=WEEKLY;BYMONTH=4,6;BYMONTHDAY=31"):
        with pytest.raises(recurrence.RecurrenceError):
            recurrence.normalize_rrule(text, start=at(PARIS, 2026, 11, 2, 9), zone=PARIS)
    assert clock.perf_counter() - began < 2  # generous: dateutil alone spins for seconds


@given(
    frequency=st.sampled_from(["DAILY", "WEEKLY"]), interval=st.integers(1, 10),
    weekdays=st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), unique=True, max_size=3),
    months=st.lists(st.integers(1, 12), unique=True, max_size=2), years_later=st.integers(0, 40),
    days_later=st.integers(0, 366), all_day=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_expanding_a_long_running_series_equals_plain_dateutil(
        frequency, interval, weekdays, months, years_later, days_later, all_day):
    """Rebasing an endless series next to the window never changes which occurrences it has."""
    from dateutil.rrule import rrulestr

    parts = [f"FREQ={frequency}", f"INTERVAL={interval}"]
    if weekdays:
        parts.append("BYDAY=" + ",".join(weekdays))
    if months:
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    rule = ";".join(parts)
    first = date(1990, 3, 25) if all_day else at(PARIS, 1990, 3, 25, 2, 30)  # a Sunday, and a DST gap
    end = first + (timedelta(days=1) if all_day else timedelta(hours=1))
    window_start = (date(1990, 3, 25) if all_day else at(PARIS, 1990, 3, 25)) + timedelta(
        days=365 * years_later + days_later)
    window_end = window_start + timedelta(days=45)
    found = list(recurrence.occurrences_between(rrule=rule, exdates=[], start=first, end=end,
                                                window_start=window_start, window_end=window_end))
    plain = rrulestr(rule, dtstart=recurrence._as_rule_time(first))
    lower, upper = recurrence._as_rule_time(window_start - (end - first)), recurrence._as_rule_time(window_end)
    expected = [moment.date() if all_day else moment for moment in plain.between(lower, upper)]
    assert [start for start, _ in found] == expected
