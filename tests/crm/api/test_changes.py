"""The changes feed: what an offline client needs to keep its copy right, deletions and cancellations included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import services
from crm.api import changes
from crm.models import Action
from tests import factories
from tests.factories import appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled(monkeypatch):
    """The feed's five minutes of settling made none, so that each answer's cursor is at its last change."""
    monkeypatch.setattr(changes, "SETTLE", timedelta(0))


def feed(api, cursor=None, **params):
    answer = api.get("/api/v1/changes/", {**({"cursor": cursor} if cursor else {}), **params})
    assert answer.status_code == 200, answer.content
    return answer.json()


def saved(page):
    return [change["action"]["subject"] for change in page["changes"] if change["type"] == "action"]


def removed(page):
    return [(change["id"], change["recurrence_id"], change["reason"]) for change in page["changes"]
            if change["type"] == "removed"]


def test_a_copy_follows_saves_deletions_cancellations_and_what_left_it(api_as, alice, bob, settled):
    api = api_as(bob)
    meeting = appointment(alice, "2026-12-01 10:00", subject="Review", participants=[bob])
    series = appointment(bob, "2026-12-01 09:00", subject="Daily", rrule="FREQ=DAILY;COUNT=5")
    appointment(alice, "2026-12-01 11:00", subject="Alice alone")
    first = feed(api)
    assert sorted(saved(first)) == ["Daily", "Review"]
    assert removed(first) == []

    services.occurrence_cancel(series=series, recurrence_id="20261202T140000Z")
    moved = services.occurrence_update(series=series, recurrence_id="20261203T140000Z",
                                       start=factories.local("2026-12-03 15:00", "America/New_York"),
                                       end=factories.local("2026-12-03 16:00", "America/New_York"))
    services.action_update(action=meeting, participants=[])  # Bob taken off Alice's meeting
    second = feed(api, first["cursor"])
    assert sorted(saved(second)) == ["Daily", "Daily"]  # the series (its exdates) and the moved occurrence
    assert [change["action"]["recurrence_id"] for change in second["changes"] if change["type"] == "action"
            and change["action"]["series"]] == ["20261203T140000Z"]
    assert removed(second) == [(series.pk, "20261202T140000Z", "cancelled"), (meeting.pk, "", "left")]

    series_id = series.pk
    services.action_delete(action=series)
    third = feed(api, second["cursor"])
    assert (series_id, "", "deleted") in removed(third)
    assert moved.pk not in Action.objects.values_list("pk", flat=True)
    assert feed(api, third["cursor"])["changes"] == []  # nothing new: nothing


def test_changes_of_the_last_minutes_come_again_rather_than_be_missed(api_as, alice):
    api = api_as(alice)
    appointment(alice, "2026-12-01 10:00", subject="Just now")
    first = feed(api)
    assert saved(first) == ["Just now"]
    assert saved(feed(api, first["cursor"])) == ["Just now"]  # a save committed late would be in it too


def test_pages_follow_one_another_without_a_gap(api_as, alice, settled):
    for number in range(7):
        appointment(alice, f"2026-12-0{1 + number} 10:00", subject=f"Meeting {number}")
    api, seen, cursor = api_as(alice), [], None
    while True:
        page = feed(api, cursor, page_size=3)
        seen += saved(page)
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert sorted(seen) == [f"Meeting {number}" for number in range(7)]


def test_someone_who_sees_every_agenda_hears_of_every_deletion_once(api_as, alice, bob, manager, settled):
    api = api_as(manager)
    meeting = appointment(alice, "2026-12-01 10:00", subject="Review", participants=[bob])
    start = feed(api)
    services.action_update(action=meeting, participants=[])  # bob left it; the manager still sees it
    meeting_id = meeting.pk
    services.action_delete(action=meeting)
    assert removed(feed(api, start["cursor"])) == [(meeting_id, "", "deleted")]


@pytest.mark.parametrize("query", [{"cursor": "not-a-cursor"}, {"cursor": "bnVsbA"}, {"page_size": "0"},
                                   {"page_size": "many"}, {"page_size": "1001"}])
def test_a_cursor_or_page_size_that_cannot_be_read_is_a_400(api_as, alice, query):
    answer = api_as(alice).get("/api/v1/changes/", query)
    assert answer.status_code == 400
    assert next(iter(query)) in answer.json()


def test_a_cursor_older_than_the_removals_kept_is_a_410(api_as, alice):
    old = changes._encoded((timezone.now() - timedelta(days=91), 0, 0))
    assert api_as(alice).get("/api/v1/changes/", {"cursor": old}).status_code == 410
