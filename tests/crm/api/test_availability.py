"""Availability over the API: busy times with privacy, free slots, overlap warnings before and after saving."""

import pytest

from tests.factories import appointment

pytestmark = pytest.mark.django_db


def test_busy_times_of_colleagues_hide_what_the_viewer_may_not_see(api_as, alice, bob):
    appointment(bob, "2026-12-01 10:00", subject="Dentist", zone="Europe/Paris")
    mine = appointment(alice, "2026-12-01 14:00", subject="Review", participants=[bob])
    answer = api_as(alice).get("/api/v1/availability/", {"people": f"{alice.pk},{bob.pk}", "start": "2026-12-01",
                                                         "end": "2026-12-02"})
    assert answer.status_code == 200, answer.content
    [ada, bobs] = answer.json()["people"]
    assert [(item["subject"], item["action"]) for item in bobs["busy"]] == [("", None), ("Review", mine.pk)]
    assert bobs["busy"][0]["start"] == "2026-12-01T10:00:00+01:00"  # in the viewer's zone
    assert ada["complete"]
    assert [source["name"] for source in ada["sources"]] == ["CRM"]


@pytest.mark.parametrize(("query", "field"), [
    ({"people": "x", "start": "2026-12-01", "end": "2026-12-02"}, "people"),
    ({"people": "999999", "start": "2026-12-01", "end": "2026-12-02"}, "people"),
    ({"people": "1", "start": "2026-12-01", "end": "2027-03-01"}, "end"),
    ({"people": "1", "start": "2026-12-02", "end": "2026-12-01"}, "end"),
    ({"start": "2026-12-01", "end": "2026-12-02"}, "people"),
])
def test_bad_questions_are_400s_naming_the_field(api_as, alice, query, field):
    query = {**query, "people": query["people"].replace("1", str(alice.pk))} if "people" in query and \
        query["people"] == "1" else query
    answer = api_as(alice).get("/api/v1/availability/", query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_slots_suit_everyones_working_hours_in_their_own_zones(api_as, alice, bob):
    # Alice works 09:00-17:00 in Paris (08:00-16:00 UTC), Bob in New York (14:00-22:00 UTC): 15:00-17:00 Paris.
    appointment(alice, "2026-12-01 15:00", "2026-12-01 16:00", subject="Busy")
    answer = api_as(alice).get("/api/v1/availability/slots/", {
        "people": f"{alice.pk},{bob.pk}", "start": "2026-12-01", "end": "2026-12-02", "duration": 60, "limit": 3})
    assert answer.status_code == 200, answer.content
    slots = answer.json()["slots"]
    assert [(slot["start"], slot["suits_everyone"]) for slot in slots[:1]] == [("2026-12-01T16:00:00+01:00", True)]
    assert not slots[1]["suits_everyone"]


def test_overlaps_are_told_before_saving_and_in_the_answer_to_the_save(api_as, alice, bob, appointment_type):
    appointment(bob, "2026-12-01 10:00", "2026-12-01 11:00", subject="Dentist", zone="Europe/Paris")
    api = api_as(alice)
    before = api.get("/api/v1/availability/overlaps/", {"people": f"{alice.pk},{bob.pk}",
                                                        "start": "2026-12-01T10:30", "end": "2026-12-01T11:30"})
    assert [item["text"] for item in before.json()["warnings"]] == ["Bob is busy Tue 01 Dec 10:00–11:00."]
    created = api.post("/api/v1/actions/", {"action_type": appointment_type.pk, "subject": "Kick-off",
                                             "start": "2026-12-01T10:30", "end": "2026-12-01T11:30",
                                             "participants": [bob.pk]}, format="json")
    assert created.status_code == 201, created.content
    assert [item["person"] for item in created.json()["warnings"]] == [bob.pk]  # saved all the same
    moved = api.patch(f"/api/v1/actions/{created.json()['id']}/", {"start": "2026-12-01T12:00",
                                                                    "end": "2026-12-01T13:00"}, format="json")
    assert moved.json()["warnings"] == []
    assert "warnings" not in api.get(f"/api/v1/actions/{created.json()['id']}/").json()


def test_moving_an_occurrence_warns_of_what_it_meets(api_as, alice, bob):
    series = appointment(alice, "2026-12-01 09:00", subject="Daily", rrule="FREQ=DAILY;COUNT=5")
    appointment(alice, "2026-12-02 15:00", subject="Client")
    answer = api_as(alice).patch(f"/api/v1/actions/{series.pk}/occurrences/20261202T080000Z/", {
        "start": "2026-12-02T15:30", "end": "2026-12-02T16:30"}, format="json")
    assert answer.status_code == 200, answer.content
    assert [item["subject"] for item in answer.json()["warnings"]] == ["Client"]


def test_a_calendar_that_could_not_be_checked_is_a_warning_without_times(alice):
    from crm.api.availability import WarningSerializer
    from crm.availability.selectors import Overlap
    from crm.availability.sources import MISSING, SourceAnswer

    data = WarningSerializer(Overlap(alice, unknown=SourceAnswer("Google Calendar: Work", MISSING,
                                                                 reason="Google could not be asked"))).data
    assert data == {"person": alice.pk, "name": "Alice", "state": "missing", "start": None, "end": None, "subject": "",
                    "action": None,
                    "source": "Google Calendar: Work",
                    "text": "Alice: Google Calendar: Work could not be checked (Google could not be asked)."}


def test_the_schema_documents_the_answers(api_as, alice):
    schema = api_as(alice).get("/api/v1/schema/", {"format": "json"}).json()
    assert "warnings" in schema["components"]["schemas"]["ActionWritten"]["properties"]
    slots = schema["paths"]["/api/v1/availability/slots/"]["get"]
    assert {parameter["name"] for parameter in slots["parameters"]} >= {"people", "start", "end", "duration"}
    assert "Slots" in slots["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
