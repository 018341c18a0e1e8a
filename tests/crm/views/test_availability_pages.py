"""Availability in the pages: the form's warnings and found times, the move's check, the agenda's overlay of
colleagues, the free/busy grid."""

import pytest

from tests.factories import appointment

pytestmark = pytest.mark.django_db
FORM = {"start_date": "2026-12-01", "start_time": "10:30", "end_date": "2026-12-01", "end_time": "11:30",
        "time_zone": "Europe/Paris"}


def test_the_form_hears_who_is_busy_at_the_time_typed_in_its_own_zone(client, alice, bob):
    appointment(bob, "2026-12-01 10:00", "2026-12-01 11:00", subject="Dentist", zone="Europe/Paris")
    client.force_login(alice)
    answer = client.get("/availability/overlaps.json", {**FORM, "participants": [bob.pk]})
    assert answer.json() == {"warnings": ["Bob is busy Tue 01 Dec 10:00–11:00."], "pending": False}
    london = client.get("/availability/overlaps.json", {**FORM, "time_zone": "Europe/London", "participants": [bob.pk]})
    assert london.json()["warnings"] == []  # 10:30 in London is 11:30 in Paris: after the dentist
    assert client.get("/availability/overlaps.json", {"start_date": "nope"}).status_code == 400


def test_saving_anyway_says_whose_busy_times_it_meets(client, alice, bob, appointment_type):
    appointment(bob, "2026-12-01 10:00", "2026-12-01 11:00", subject="Dentist", zone="Europe/Paris")
    client.force_login(alice)
    answer = client.post("/actions/new/", {**FORM, "action_type": appointment_type.pk, "subject": "Kick-off",
                                           "participants": [bob.pk], "status": "planned", "availability": "busy",
                                           "privacy": "normal", "repeat": ""}, follow=True)
    assert answer.status_code == 200
    texts = [str(message) for message in answer.context["messages"]]
    assert texts == ["“Kick-off” saved.", "Bob is busy Tue 01 Dec 10:00–11:00."]


def test_find_a_time_offers_free_times_in_the_forms_zone(client, alice, bob):
    appointment(alice, "2027-06-01 16:00", "2027-06-01 17:00", subject="Busy")
    client.force_login(alice)
    answer = client.get("/availability/slots.json", {**FORM, "start_date": "2027-06-01", "end_date": "2027-06-01",
                                                     "participants": [bob.pk]})
    [first, *_rest] = answer.json()["slots"]
    # Alice 09:00-17:00 in Paris, Bob 09:00-17:00 in New York: 15:00-17:00 in Paris, and at 16:00 she is busy.
    assert (first["start_date"], first["start_time"], first["end_time"], first["suits_everyone"]) == (
        "2027-06-01", "15:00", "16:00", True)
    # The form's zone: the same time typed in London's fields.
    london = client.get("/availability/slots.json", {**FORM, "start_date": "2027-06-01", "end_date": "2027-06-01",
                                                     "time_zone": "Europe/London", "participants": [bob.pk]})
    assert london.json()["slots"][0]["start_time"] == "14:00"
    assert client.get("/availability/slots.json", {**FORM, "all_day": "on"}).status_code == 400


def test_a_drag_asks_first_what_the_new_time_meets(client, alice, bob):
    appointment(alice, "2026-12-01 14:00", subject="Client")
    moved = appointment(alice, "2026-12-01 09:00", subject="Review", participants=[bob])
    client.force_login(alice)
    check = client.post(f"/actions/{moved.pk}/move/", {"start": "2026-12-01T14:30", "check": "1"})
    assert check.json() == {"warnings": ["Alice is busy Tue 01 Dec 14:00–15:00 (Client)."]}
    moved.refresh_from_db()
    assert moved.start.hour == 8  # asked only: not moved
    assert client.post(f"/actions/{moved.pk}/move/", {"start": "2026-12-01T14:30"}).json() == {"ok": True}


def test_the_agenda_shows_chosen_colleagues_busy_times_without_what_is_private(client, alice, bob):
    appointment(bob, "2026-11-24 10:00", subject="Doctor", zone="Europe/Paris", privacy="private")
    client.force_login(alice)
    page = client.get("/agenda/", {"view": "week", "date": "2026-11-24", "overlay": [bob.pk]}).content.decode()
    assert 'class="overlay-block"' in page
    assert "Bob: Tue 24 Nov 10:00–11:00" in page
    assert "Doctor" not in page


def test_the_grid_shows_each_persons_busy_blocks_and_working_hours(client, alice, bob):
    appointment(bob, "2026-11-24 10:00", subject="Visit", participants=[alice], zone="Europe/Paris")
    client.force_login(alice)
    page = client.get("/availability/", {"view": "week", "date": "2026-11-24",
                                         "people": [alice.pk, bob.pk]}).content.decode()
    assert page.count('class="fb-row"') == 2
    assert page.count("Tue 24 Nov 10:00–11:00 · Visit") == 2  # Alice takes part: she sees what it is
    assert 'class="fb-working"' in page


@pytest.mark.parametrize("when", [{"start_date": "9999-12-31", "all_day": "on"},
                                  {"start_date": "0001-01-01", "start_time": "00:30", "time_zone": "Asia/Tokyo"},
                                  {"start_date": "9999-12-20", "end_date": "9999-12-20"}])
def test_dates_beyond_the_agendas_years_are_a_400_saying_so(client, alice, when):
    client.force_login(alice)
    for path in ("/availability/overlaps.json", "/availability/slots.json"):
        answer = client.get(path, {**FORM, **when})
        assert answer.status_code == 400
        assert "start_date" in answer.json()["error"]
