from datetime import date

import pytest

from crm import services
from tests import factories


@pytest.fixture
def week(alice, appointment_type):
    """A week of Alice's: a daily stand-up with one cancelled and one moved day, and an all-day fair."""
    series = factories.appointment(alice, "2026-11-23 09:00", "2026-11-23 09:15", subject="Stand-up",
                                   rrule="FREQ=DAILY;COUNT=5")
    services.occurrence_cancel(series=series, recurrence_id="20261124T080000Z")
    services.occurrence_update(series=series, recurrence_id="20261125T080000Z", subject="Stand-up (late)",
                               start=factories.local("2026-11-25 11:00"), end=factories.local("2026-11-25 11:15"))
    services.action_create(owner=alice, action_type=appointment_type, subject="Trade fair", all_day=True,
                           start_date=date(2026, 11, 26), end_date=date(2026, 11, 28), time_zone="Europe/Paris")
    return series


@pytest.mark.parametrize(("view", "expected"), [
    ("week", ["Stand-up", "Stand-up", "Stand-up (late)", "Stand-up", "Trade fair", "Trade fair"]),
    ("day", ["Stand-up"]),
])
def test_agenda_time_grid_shows_expanded_occurrences(client, alice, week, view, expected):
    client.force_login(alice)
    response = client.get("/agenda/", {"view": view, "date": "2026-11-23"})
    assert response.status_code == 200
    shown = [block.occurrence.action.subject for column in response.context["columns"] for block in column.blocks]
    shown += [occurrence.action.subject for column in response.context["columns"] for occurrence in column.all_day]
    assert sorted(shown) == sorted(expected)
    assert b"Stand-up" in response.content


def test_month_view_and_navigation(client, alice, week):
    client.force_login(alice)
    response = client.get("/agenda/", {"view": "month", "date": "2026-11-10"})
    assert response.status_code == 200
    assert response.context["title"] == "November 2026"
    assert response.context["previous"] == date(2026, 10, 1)
    assert response.context["next"] == date(2026, 12, 1)
    days = dict(day for week_row in response.context["weeks"] for day in week_row)
    assert [o.action.subject for o in days[date(2026, 11, 27)]] == ["Trade fair", "Stand-up"]  # all-day first
    assert days[date(2026, 11, 24)] == []  # cancelled


def test_times_are_shown_in_the_viewers_zone(client, bob, alice, week):
    week.participants.set([bob])  # Bob is in New York: 09:00 Paris is 03:00 there
    client.force_login(bob)
    response = client.get("/agenda/", {"view": "day", "date": "2026-11-23"})
    assert [block.top for block in response.context["columns"][0].blocks] == [3 * 60]
    assert b"03:00" in response.content


def test_only_managers_choose_whose_agenda(client, alice, bob, manager, appointment_type):
    factories.appointment(bob, "2026-11-23 10:00", subject="Bob visit")
    client.force_login(alice)
    response = client.get("/agenda/", {"date": "2026-11-23", "who": "all"})
    assert response.context["who"] == "me"
    assert b"Bob visit" not in response.content
    client.force_login(manager)
    assert b"Bob visit" in client.get("/agenda/", {"date": "2026-11-23", "who": "all"}).content
    assert b"Bob visit" in client.get("/agenda/", {"date": "2026-11-23", "who": str(bob.pk)}).content
    assert b"Bob visit" not in client.get("/agenda/", {"date": "2026-11-23"}).content


def test_bad_parameters_fall_back_to_defaults(client, alice):
    client.force_login(alice)
    response = client.get("/agenda/", {"view": "year", "date": "someday", "who": "x"})
    assert response.status_code == 200
    assert response.context["view"] == "week"
    for far in ("9999-12-31", "0001-01-01"):
        assert client.get("/agenda/", {"view": "month", "date": far}).status_code == 200


def test_agenda_needs_a_login(client, db):
    assert client.get("/agenda/").status_code == 302
