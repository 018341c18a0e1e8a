import pytest

from crm import services
from crm.models import Action
from tests import factories
from tests.factories import local


def payload(appointment_type, **fields):
    return {"action_type": appointment_type.pk, "subject": "Demo", "start": "2026-11-23T10:00:00",
            "end": "2026-11-23T11:00:00", **fields}


def test_create_reads_naive_times_in_the_user_zone_and_defaults_owner_and_zone(api, alice, appointment_type):
    response = api.post("/api/v1/actions/", payload(appointment_type))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == alice.pk
    assert body["time_zone"] == "Europe/Paris"
    assert body["start"] == "2026-11-23T10:00:00+01:00"
    assert Action.objects.get().start == local("2026-11-23 10:00")
    assert body["uid"].endswith("@crm")


def test_all_day_create(api, appointment_type):
    response = api.post("/api/v1/actions/", {
        "action_type": appointment_type.pk, "subject": "Fair", "all_day": True,
        "start_date": "2026-11-24", "end_date": "2026-11-26"})
    assert response.status_code == 201, response.json()
    assert (response.json()["start_date"], response.json()["start"]) == ("2026-11-24", None)


@pytest.mark.parametrize(("fields", "field"), [
    ({"end": "2026-11-23T09:00:00"}, "end"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
    ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule"),
    ({"rrule": "FREQ=DAILY;UNTIL=20200101"}, "rrule"),
    ({"start": "tomorrow at ten"}, "start"),
    ({"action_type": "appointment"}, "action_type"),
    ({"all_day": "perhaps"}, "all_day"),
    ({"participants": "everyone"}, "participants"),
    ({"exdates": ["2026-11-30"]}, "exdates"),
    ({"color": "#12"}, "color"),
    ({"all_day": True}, "start_date"),
])
def test_invalid_input_is_a_400_naming_the_field(api, appointment_type, fields, field):
    response = api.post("/api/v1/actions/", payload(appointment_type, **fields), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Action.objects.exists()


def test_window_query_returns_expanded_occurrences(api, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 09:00", rrule="FREQ=DAILY;COUNT=10", subject="Stand-up")
    factories.appointment(alice, "2026-11-04 14:00", subject="Client")
    response = api.get("/api/v1/actions/", {"start": "2026-11-03", "end": "2026-11-05"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["subject"], row["start"]) for row in rows] == [
        ("Stand-up", "2026-11-03T09:00:00+01:00"), ("Stand-up", "2026-11-04T09:00:00+01:00"),
        ("Client", "2026-11-04T14:00:00+01:00"),
    ]
    assert rows[0]["id"] == series.pk
    assert rows[0]["recurrence_id"] == "20261103T080000Z"
    assert rows[0]["is_generated"] is True
    assert rows[2]["is_generated"] is False


def test_a_window_s_rows_hold_what_the_action_serializer_would_write(api, alice, bob, appointment_type, rf):
    """The window writes its rows by hand, for speed: field for field what ActionSerializer writes."""
    from django.utils import timezone

    from crm import selectors
    from crm.api.serializers import ActionSerializer, action_data

    acme = factories.company("Acme")
    people = [factories.contact("Zola", company=acme), factories.contact("Adam")]
    colleague = factories.user("aaron", first_name="Aaron")
    met = factories.appointment(alice, "2026-11-03 10:00", subject="Visit", company=acme, color="#123456",
                                location="Lyon", description="Line\nbreak", participants=[bob, colleague],
                                contacts=people)
    series = factories.appointment(alice, "2026-11-02 09:00", rrule="FREQ=DAILY;COUNT=10", subject="Stand-up",
                                   exdates=["20261104T080000Z"], zone="Europe/London")
    fair = services.action_create(owner=alice, action_type=appointment_type, subject="Fair", all_day=True,
                                  start_date=factories.local("2026-11-24 00:00").date(),
                                  end_date=factories.local("2026-11-26 00:00").date(), time_zone="UTC")
    for zone in ("Europe/Paris", "America/New_York", "UTC"):
        with timezone.override(zone):
            for action in selectors.with_people_ids(list(Action.objects.filter(pk__in=[met.pk, series.pk,
                                                                                       fair.pk]))):
                expected = ActionSerializer(Action.objects.get(pk=action.pk),
                                            context={"request": rf.get("/")}).data
                assert action_data(action) == expected
    rows = api.get("/api/v1/actions/", {"start": "2026-11-03", "end": "2026-11-04"}).json()["results"]
    assert [row["participants"] for row in rows if row["subject"] == "Visit"] == [[colleague.pk, bob.pk]]
    ordered = [contact.pk for contact in met.contacts.all()]
    assert ordered != sorted(ordered)  # not by id: the window keeps the relation's own order
    assert [row["contacts"] for row in rows if row["subject"] == "Visit"] == [ordered]


@pytest.mark.parametrize("query", [
    {"start": "2026-11-05", "end": "2026-11-03"}, {"start": "2026-11-05"}, {"start": "soon", "end": "later"},
    {"start": "2026-01-01", "end": "2028-01-01"}, {"start": "9999-12-01", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-01-02"},
])
def test_bad_windows_are_400s(api, query):
    response = api.get("/api/v1/actions/", query)
    assert response.status_code == 400
    assert {"start", "end"} & response.json().keys()


def test_one_occurrence_can_be_read_changed_and_cancelled(api, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 09:00", rrule="FREQ=DAILY;COUNT=10", subject="Stand-up")
    url = f"/api/v1/actions/{series.pk}/occurrences/20261103T080000Z/"
    assert api.get(url).json()["start"] == "2026-11-03T09:00:00+01:00"

    response = api.patch(url, {"start": "2026-11-03T16:00:00", "end": "2026-11-03T16:30:00", "location": "Desk"})
    assert response.status_code == 200, response.json()
    assert (response.json()["start"], response.json()["location"]) == ("2026-11-03T16:00:00+01:00", "Desk")
    assert response.json()["series"] == series.pk
    [moved] = api.get("/api/v1/actions/", {"start": "2026-11-03", "end": "2026-11-04"}).json()["results"]
    assert (moved["location"], moved["is_generated"], moved["recurrence_id"], moved["series"]) == (
        "Desk", False, "20261103T080000Z", series.pk)  # the override, in place of the occurrence it replaces
    assert moved["display_color"] == series.action_type.color

    assert api.delete(url).status_code == 204
    series.refresh_from_db()
    assert series.exdates == ["20261103T080000Z"]
    window = api.get("/api/v1/actions/", {"start": "2026-11-03", "end": "2026-11-04"}).json()["results"]
    assert window == []

    missing = api.patch(f"/api/v1/actions/{series.pk}/occurrences/20261103T090000Z/", {"subject": "x"})
    assert missing.status_code == 400
    assert "recurrence_id" in missing.json()


def test_users_see_and_edit_only_what_their_profile_allows(api, api_as, alice, bob, manager, appointment_type):
    bobs = factories.appointment(bob, "2026-11-23 10:00", subject="Bob's")
    shared = factories.appointment(bob, "2026-11-23 12:00", subject="Shared with Alice")
    shared.participants.set([alice])

    assert api.get(f"/api/v1/actions/{bobs.pk}/").status_code == 404
    assert api.get(f"/api/v1/actions/{shared.pk}/").status_code == 200
    refused = api.patch(f"/api/v1/actions/{shared.pk}/", {"subject": "Mine now"})
    assert refused.status_code == 403
    assert "your own" in refused.json()["detail"]
    assert api.delete(f"/api/v1/actions/{shared.pk}/").status_code == 403
    for_someone_else = api.post("/api/v1/actions/", payload(appointment_type, owner=bob.pk))
    assert for_someone_else.status_code == 403

    as_manager = api_as(manager)
    assert as_manager.patch(f"/api/v1/actions/{bobs.pk}/", {"subject": "Renamed"}).status_code == 200
    assert as_manager.get("/api/v1/actions/").json()["count"] == 2


def test_a_profile_without_the_permission_cannot_create(api_as, appointment_type, db):
    nobody = factories.user("nobody")
    response = api_as(nobody).post("/api/v1/actions/", payload(appointment_type))
    assert response.status_code == 403


def test_filters(api, alice, appointment_type, call_type):
    factories.appointment(alice, "2026-11-23 10:00", subject="Meeting")
    factories.appointment(alice, "2026-11-23 11:00", subject="Ring back", action_type=call_type)
    assert [r["subject"] for r in api.get("/api/v1/actions/", {"type": "call"}).json()["results"]] == ["Ring back"]
    day = {"start": "2026-11-23", "end": "2026-11-24"}
    assert [r["subject"] for r in api.get("/api/v1/actions/", day).json()["results"]] == ["Meeting", "Ring back"]
    assert [r["subject"] for r in api.get("/api/v1/actions/", {**day, "type": "call"}).json()["results"]] == [
        "Ring back"]
    appointments = api.get("/api/v1/actions/", {"is_appointment": "true"}).json()["results"]
    assert [r["subject"] for r in appointments] == ["Meeting"]
    assert api.get("/api/v1/actions/", {"search": "ring"}).json()["count"] == 1
    assert api.get("/api/v1/actions/", {"updated_since": "not a date"}).status_code == 400


def test_anonymous_requests_are_refused(client, db):
    assert client.get("/api/v1/actions/").status_code in (401, 403)


def test_list_query_count_does_not_grow_with_rows(api, alice, bob, appointment_type, query_count):
    company, contact = factories.company(), factories.contact()

    def add(count, day):
        for index in range(count):
            action = factories.appointment(alice, f"2026-11-{day:02d} {9 + index % 8:02d}:00", company=company)
            action.participants.set([bob])
            action.contacts.set([contact])
        series = factories.appointment(alice, f"2026-11-{day:02d} 08:00", rrule="FREQ=DAILY;COUNT=3",
                                       participants=[bob])
        services.occurrence_update(series=series, recurrence_id=f"2026110{day + 1}T070000Z", location="Moved")

    november = {"start": "2026-11-01", "end": "2026-12-01"}
    add(2, 2)
    api.get("/api/v1/actions/", november)  # a window asked for pulls the calendars, then not for a while
    few = query_count(api, "/api/v1/actions/"), query_count(api, "/api/v1/actions/", november)
    add(20, 3)
    many = query_count(api, "/api/v1/actions/"), query_count(api, "/api/v1/actions/", november)
    assert many == few
