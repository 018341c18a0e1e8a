import json

import pytest

from crm.models import Action
from tests import factories
from tests.factories import local


def form_data(appointment_type, **fields):
    return {"action_type": appointment_type.pk, "subject": "Visit", "start_date": "2026-11-23",
            "start_time": "10:00", "end_date": "2026-11-23", "end_time": "11:30", "time_zone": "Europe/Paris",
            "status": "planned", "availability": "busy", "privacy": "normal", "ends": "never", **fields}


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_create_a_timed_appointment(logged_in, alice, appointment_type):
    response = logged_in.post("/actions/new/", form_data(appointment_type, location="Lyon"))
    assert response.status_code == 302
    assert response["Location"] == "/agenda/?date=2026-11-23"
    action = Action.objects.get()
    assert (action.start, action.end, action.owner) == (local("2026-11-23 10:00"), local("2026-11-23 11:30"), alice)


def test_create_an_all_day_weekly_series(logged_in, appointment_type):
    response = logged_in.post("/actions/new/", form_data(
        appointment_type, all_day="on", end_date="2026-11-24", repeat="WEEKLY", interval="2",
        weekdays=["MO", "TU"], ends="count", count="6"))
    assert response.status_code == 302, response.context["form"].errors
    action = Action.objects.get()
    assert (str(action.start_date), str(action.end_date)) == ("2026-11-23", "2026-11-25")  # end exclusive
    assert action.rrule == "FREQ=WEEKLY;COUNT=6;INTERVAL=2;BYDAY=MO,TU"


@pytest.mark.parametrize(("fields", "field"), [
    ({"end_time": "09:00"}, "end_time"),
    ({"repeat": "CUSTOM", "rrule": "FREQ=OFTEN"}, "rrule"),
    ({"repeat": "DAILY", "ends": "until"}, "until"),
    ({"start_time": ""}, "start_time"),
    ({"time_zone": "Mars/Base"}, "time_zone"),
])
def test_form_errors_are_shown_on_the_field_and_nothing_is_saved(logged_in, appointment_type, fields, field):
    response = logged_in.post("/actions/new/", form_data(appointment_type, **fields))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Action.objects.exists()


def test_new_form_starts_at_the_clicked_slot(logged_in, appointment_type):
    form = logged_in.get("/actions/new/", {"start": "2026-11-23T14:30"}).context["form"]
    assert (str(form.initial["start_time"]), str(form.initial["end_time"])) == ("14:30:00", "15:30:00")


def test_edit_one_occurrence_then_the_series(logged_in, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-23 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=5")
    page = logged_in.get(f"/actions/{series.pk}/edit/", {"occurrence": "20261124T080000Z"})
    assert page.context["one_occurrence"]
    assert "repeat" not in page.context["form"].fields
    assert str(page.context["form"].initial["start_date"]) == "2026-11-24"

    response = logged_in.post(f"/actions/{series.pk}/edit/?occurrence=20261124T080000Z", form_data(
        appointment_type, subject="Stand-up (moved)", start_date="2026-11-24", start_time="15:00",
        end_date="2026-11-24", end_time="15:15"))
    assert response.status_code == 302
    override = series.overrides.get()
    assert (override.subject, override.start) == ("Stand-up (moved)", local("2026-11-24 15:00"))

    series_form = logged_in.get(f"/actions/{series.pk}/edit/").context["form"]
    assert series_form.initial["repeat"] == "DAILY"
    assert series_form.initial["count"] == 5
    logged_in.post(f"/actions/{series.pk}/edit/", form_data(
        appointment_type, subject="Daily", start_time="09:30", end_time="09:45", repeat="DAILY", ends="count",
        count="5", interval="1"))
    series.refresh_from_db()
    assert (series.subject, series.start) == ("Daily", local("2026-11-23 09:30"))
    assert series.overrides.get().recurrence_id == "20261124T083000Z"  # moved along with the series


def test_delete_one_occurrence_or_the_series(logged_in, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-23 09:00", rrule="FREQ=DAILY;COUNT=5")
    confirm = logged_in.get(f"/actions/{series.pk}/delete/", {"occurrence": "20261125T080000Z"})
    assert b"Delete only this occurrence" in confirm.content
    logged_in.post(f"/actions/{series.pk}/delete/?occurrence=20261125T080000Z")
    series.refresh_from_db()
    assert series.exdates == ["20261125T080000Z"]
    logged_in.post(f"/actions/{series.pk}/delete/")
    assert not Action.objects.exists()


def test_move_by_drag_and_drop(logged_in, alice, appointment_type):
    single = factories.appointment(alice, "2026-11-23 09:00", "2026-11-23 10:30")
    response = logged_in.post(f"/actions/{single.pk}/move/", {"start": "2026-11-24T14:15"})
    assert json.loads(response.content) == {"ok": True}
    single.refresh_from_db()
    assert (single.start, single.end) == (local("2026-11-24 14:15"), local("2026-11-24 15:45"))

    series = factories.appointment(alice, "2026-11-23 09:00", rrule="FREQ=DAILY;COUNT=3")
    logged_in.post(f"/actions/{series.pk}/move/?occurrence=20261124T080000Z", {"date": "2026-11-27"})
    assert series.overrides.get().start == local("2026-11-27 09:00")  # a day move keeps the time of day

    bad = logged_in.post(f"/actions/{single.pk}/move/", {"start": "whenever"})
    assert bad.status_code == 400
    assert "error" in json.loads(bad.content)


def test_others_actions_cannot_be_changed_or_seen(logged_in, bob, appointment_type):
    bobs = factories.appointment(bob, "2026-11-23 09:00")
    assert logged_in.get(f"/actions/{bobs.pk}/").status_code == 404
    bobs.participants.add(bobs.owner.__class__.objects.get(username="alice"))
    assert logged_in.get(f"/actions/{bobs.pk}/").status_code == 200
    assert logged_in.get(f"/actions/{bobs.pk}/edit/").status_code == 403
    assert logged_in.post(f"/actions/{bobs.pk}/move/", {"start": "2026-11-24T10:00"}).status_code == 403
    assert logged_in.post(f"/actions/{bobs.pk}/delete/").status_code == 403


def test_unknown_occurrence_is_a_404(logged_in, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-23 09:00", rrule="FREQ=DAILY;COUNT=3")
    assert logged_in.get(f"/actions/{series.pk}/", {"occurrence": "20261230T080000Z"}).status_code == 404
    assert logged_in.get(f"/actions/{series.pk}/", {"occurrence": "garbage"}).status_code == 404


def test_action_list_filters(logged_in, alice, appointment_type, call_type):
    factories.appointment(alice, "2030-11-23 09:00", subject="Future meeting")
    factories.appointment(alice, "2030-11-24 09:00", subject="Future call", action_type=call_type)
    factories.appointment(alice, "2020-11-24 09:00", subject="Old meeting")
    subjects = lambda **params: [a.subject for a in logged_in.get("/actions/", params).context["page_obj"]]  # noqa: E731
    assert subjects() == ["Future meeting", "Future call"]
    assert subjects(period="past") == ["Old meeting"]
    assert subjects(type="call") == ["Future call"]
    assert subjects(q="meeting", period="all") == ["Old meeting", "Future meeting"]


def test_a_profile_without_rights_cannot_create(client, db, appointment_type):
    client.force_login(factories.user("guest"))
    assert client.get("/actions/new/").status_code == 403


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_dates_far_outside_an_agenda_are_form_errors(logged_in, appointment_type, year):
    response = logged_in.post("/actions/new/", form_data(
        appointment_type, start_date=f"{year}-01-01", end_date=f"{year}-01-01", repeat="DAILY", ends="never"))
    assert response.status_code == 200
    assert "between the years" in str(response.context["form"].errors)
    assert not Action.objects.exists()


def test_the_form_shows_until_on_the_series_own_day(logged_in, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", zone="America/Los_Angeles",
                                   rrule="FREQ=DAILY;UNTIL=20261105")
    form = logged_in.get(f"/actions/{series.pk}/edit/").context["form"]
    assert str(form.initial["until"]) == "2026-11-05"
