"""The pure core: normalisation, fingerprints and the three-way merge, by tables and by properties."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendarsync.core.event import GROUPS, Event
from calendarsync.core.merge import Policy, merge
from calendarsync.core.normalize import fingerprint, normalized, rrule_text

NINE = datetime(2026, 11, 23, 9, tzinfo=UTC)
TEN = datetime(2026, 11, 23, 10, tzinfo=UTC)
BASE = Event("uid-1", summary="Visit", location="Lyon", start=NINE, end=TEN, time_zone="Europe/Paris")
EARLY, LATE = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)


def test_formatting_is_not_content():
    echoed = replace(BASE, summary=" Visit ", description="a  \r\nb\r\n", location="Lyon ",
                     start=NINE.replace(microsecond=5), rrule="RRULE:byday=MO;freq=WEEKLY", color="")
    plain = replace(BASE, description="a\nb", rrule="FREQ=WEEKLY;BYDAY=MO")
    assert fingerprint(echoed) == fingerprint(plain)
    assert fingerprint(replace(BASE, uid="another")) == fingerprint(BASE)  # content, not identity
    assert fingerprint(replace(BASE, location="Paris")) != fingerprint(BASE)
    assert normalized(replace(BASE, all_day=True, start=NINE, end=TEN)).start == date(2026, 11, 23)
    assert rrule_text("RRULE:until=20261231T000000Z;FREQ=daily;interval=2", BASE) == \
        "FREQ=DAILY;UNTIL=20261231T000000Z;INTERVAL=2"
    # A bare UNTIL date is the end of that day in the series' zone, as the CRM stores it.
    assert fingerprint(replace(BASE, rrule="FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261231")) == fingerprint(
        replace(BASE, rrule="FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261231T225959Z"))


@pytest.mark.parametrize(("local", "remote", "expected", "conflicts", "writes"), [
    ({}, {}, {}, [], (False, False)),
    ({"summary": "Visit ACME"}, {}, {"summary": "Visit ACME"}, [], (False, True)),
    ({}, {"location": "Paris"}, {"location": "Paris"}, [], (True, False)),
    ({"summary": "Visit ACME"}, {"location": "Paris"}, {"summary": "Visit ACME", "location": "Paris"}, [],
     (True, True)),  # different fields: both kept
    ({"start": datetime(2026, 11, 23, 8, tzinfo=UTC)}, {"end": datetime(2026, 11, 23, 11, tzinfo=UTC)},
     {"end": datetime(2026, 11, 23, 11, tzinfo=UTC)}, ["when"], (True, False)),  # times move as one
    ({"location": "Nice"}, {"location": "Paris"}, {"location": "Paris"}, ["location"], (True, False)),
    ({"location": "Paris"}, {"location": "Paris"}, {"location": "Paris"}, [], (False, False)),
])
def test_merge_table(local, remote, expected, conflicts, writes):
    result = merge(BASE, replace(BASE, **local), replace(BASE, **remote), local_changed_at=EARLY,
                   remote_changed_at=LATE)
    assert result.event == normalized(replace(BASE, **expected))
    assert [conflict.group for conflict in result.conflicts] == conflicts
    assert (result.local_changed, result.remote_changed) == writes


def test_the_policy_decides_conflicts_and_the_loser_is_kept():
    local, remote = replace(BASE, location="Nice"), replace(BASE, location="Paris")
    newest_local = merge(BASE, local, remote, local_changed_at=LATE, remote_changed_at=EARLY)
    assert newest_local.event.location == "Nice"
    assert newest_local.conflicts[0].winner == "local"
    assert newest_local.conflicts[0].remote == {"location": "Paris"}  # restorable
    assert merge(BASE, local, remote, policy=Policy.LOCAL_WINS).event.location == "Nice"
    assert merge(BASE, local, remote, policy=Policy.REMOTE_WINS, local_changed_at=LATE).event.location == "Paris"
    assert merge(BASE, local, remote).event.location == "Paris"  # no dates: the remote side


def test_without_a_base_every_difference_is_a_conflict():
    result = merge(None, replace(BASE, uid="crm-1", location="Nice"), replace(BASE, uid="g-1"))
    assert [conflict.group for conflict in result.conflicts] == ["location"]
    assert result.event.uid == "crm-1"  # identity stays the local one
    assert not result.remote_changed  # the uid is not content


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
events = st.builds(
    Event, uid=st.just("u"), summary=st.sampled_from(["", "A", "B"]), location=st.sampled_from(["", "X", "Y"]),
    start=moments, end=moments, time_zone=st.sampled_from(["Europe/Paris", "UTC"]),
    rrule=st.sampled_from(["", "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO"]), busy=st.booleans(),
    color=st.sampled_from(["", "#112233"]))


@given(events, events)
def test_a_side_that_did_not_change_takes_the_other(base, changed):
    assert merge(base, base, changed).event == normalized(replace(changed, uid="u"))
    assert merge(base, changed, base).event == normalized(changed)
    assert not merge(base, changed, base).conflicts


@given(events, events, events, st.sampled_from(list(Policy)))
def test_every_merged_group_comes_whole_from_one_side(base, local, remote, policy):
    result = merge(base, local, remote, policy=policy)
    local, remote = normalized(local), normalized(remote)
    for names in GROUPS.values():
        merged = [getattr(result.event, name) for name in names]
        assert merged in ([getattr(local, name) for name in names], [getattr(remote, name) for name in names])
    conflicted = {conflict.group for conflict in result.conflicts}
    for group, names in GROUPS.items():
        both_changed = all(any(getattr(side, name) != getattr(normalized(base), name) for name in names)
                           for side in (local, remote))
        disagree = any(getattr(local, name) != getattr(remote, name) for name in names)
        assert (group in conflicted) == (both_changed and disagree)


@given(events, events, events)
def test_merging_again_changes_nothing(base, local, remote):
    once = merge(base, local, remote).event
    again = merge(once, once, once)
    assert again.event == once
    assert (again.local_changed, again.remote_changed, again.conflicts) == (False, False, ())
