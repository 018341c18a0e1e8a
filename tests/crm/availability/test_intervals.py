"""The pure part of availability: merging, working hours across daylight saving time, free slots."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm.availability.intervals import WorkingHours, aligned, free_slots, merged

PARIS = ZoneInfo("Europe/Paris")


def at(day, hour, minute=0, zone=UTC):
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def test_merged_joins_overlapping_and_touching_intervals_and_drops_empty_ones():
    assert merged([(at(3, 10), at(3, 11)), (at(3, 9), at(3, 10)), (at(3, 12), at(3, 12)),
                   (at(3, 10, 30), at(3, 11, 30)), (at(3, 14), at(3, 15))]) == [
        (at(3, 9), at(3, 11, 30)), (at(3, 14), at(3, 15))]


def test_working_hours_keep_their_wall_clock_across_a_change_of_daylight_saving_time():
    hours = WorkingHours("Europe/Paris", frozenset({5, 1}), time(9), time(17))
    spans = hours.between(datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 3, 30, tzinfo=UTC))
    # Friday 26 March in winter time (UTC+1), Monday 29 March in summer time (UTC+2); the weekend not at all.
    assert spans == [(datetime(2027, 3, 26, 8, tzinfo=UTC), datetime(2027, 3, 26, 16, tzinfo=UTC)),
                     (datetime(2027, 3, 29, 7, tzinfo=UTC), datetime(2027, 3, 29, 15, tzinfo=UTC))]


def test_free_slots_fall_in_everyones_working_hours_and_skip_busy_times():
    paris = WorkingHours("Europe/Paris")  # 09:00-17:00, 08:00-16:00 UTC in December
    new_york = WorkingHours("America/New_York")  # 14:00-22:00 UTC
    slots = free_slots(busy={"ada": [(at(3, 14), at(3, 15))], "bob": []}, hours={"ada": paris, "bob": new_york},
                       unsure=[], start=at(3, 0), end=at(4, 0), duration=timedelta(hours=1),
                       step=timedelta(minutes=30), limit=50)
    # Only 15:00-16:00 UTC suits both (14:00 Ada is busy, 15:30 ends after her day); then the slots that
    # one of them misses, earliest first.
    assert [(slot.start, slot.suits_everyone) for slot in slots[:2]] == [(at(3, 15), True), (at(3, 8), False)]
    assert slots[1].away == ["bob"]
    missed = {slot.start: (slot.busy, slot.away) for slot in slots}
    assert missed[at(3, 14)] == (["ada"], [])
    assert missed[at(3, 15, 30)] == ([], ["ada"])
    assert at(3, 2) not in missed  # nobody works then


def test_a_person_whose_calendar_could_not_be_asked_makes_a_slot_unsure_never_free():
    slots = free_slots(busy={"ada": [], "bob": []}, hours={}, unsure=["bob"], start=at(3, 9), end=at(3, 11),
                       duration=timedelta(hours=1), step=timedelta(hours=1))
    assert [(slot.start, slot.unsure, slot.suits_everyone) for slot in slots] == [
        (at(3, 9), ["bob"], False), (at(3, 10), ["bob"], False)]


def test_a_slot_that_suits_nobody_is_not_offered_and_fewer_people_missing_ranks_first():
    slots = free_slots(busy={"ada": [(at(3, 9), at(3, 10))], "bob": [(at(3, 9), at(3, 11))]}, hours={},
                       unsure=[], start=at(3, 9), end=at(3, 12), duration=timedelta(hours=1),
                       step=timedelta(hours=1))
    assert [(slot.start, slot.busy) for slot in slots] == [(at(3, 11), []), (at(3, 10), ["bob"])]


def test_slots_start_on_the_viewers_half_hours():
    assert aligned(datetime(2026, 12, 3, 8, 7, tzinfo=UTC), timedelta(minutes=30), PARIS) == at(3, 9, 30, PARIS)
    assert aligned(at(3, 9, 30, PARIS), timedelta(minutes=30), PARIS) == at(3, 9, 30, PARIS)
    # Kathmandu is UTC+05:45: 04:00 UTC is 09:45 there, and its next half hour, 10:00, is 04:15 UTC.
    kathmandu = ZoneInfo("Asia/Kathmandu")
    assert aligned(at(3, 4, 0), timedelta(minutes=30), kathmandu) == at(3, 4, 15)
