"""Whatever arrives in a URL, a query string or a form, pages and API answer without a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests import factories

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
values = st.one_of(
    st.text(max_size=25), st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:30", "0001-01-01T00:00:00+05:00", "1e30", "²",
                     "2026-11-23", "2026-11-23T10:00", "2026-02-30", "-1", "true", "", "null"]),
)
keys = st.one_of(st.text(alphabet="0123456789TZ", min_size=1, max_size=20),
                 st.sampled_from(["99991231T233000Z", "00010101T000000Z", "20261103T090000Z", "20261103"]))


@pytest.fixture
def series(alice, appointment_type):
    return factories.appointment(alice, "2026-11-02 10:00", zone="America/New_York", rrule="FREQ=DAILY;COUNT=30")


@pytest.fixture
def api(alice):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    return client


@pytest.fixture
def pages(client, alice):
    client.force_login(alice)
    client.raise_request_exception = False
    return client


@FUZZ
@given(params=st.dictionaries(st.sampled_from(
    ["start", "end", "contact", "owner", "company", "action_type", "type", "status", "updated_since", "page",
     "page_size", "ordering", "search", "is_appointment"]), values, max_size=4))
def test_api_query_parameters(api, series, params):
    assert api.get("/api/v1/actions/", params).status_code in (200, 400, 404)


people = st.one_of(values, st.lists(st.integers(min_value=-3, max_value=10**12), max_size=60).map(
    lambda ids: ",".join(map(str, ids))))


@FUZZ
@given(path=st.sampled_from(["/api/v1/availability/", "/api/v1/availability/slots/",
                             "/api/v1/availability/overlaps/"]),
       params=st.fixed_dictionaries({"people": people}, optional={
           "start": values, "end": values, "duration": values, "limit": values, "action": values}))
def test_api_availability_with_any_query(api, series, alice, path, params):
    params = {**params, "people": params["people"].replace("-3", str(alice.pk))}  # now and then a real person
    assert api.get(path, params).status_code in (200, 400)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["cursor", "page_size"]), values, max_size=2))
def test_api_changes_with_any_query(api, series, params):
    assert api.get("/api/v1/changes/", params).status_code in (200, 400, 410)


@FUZZ
@given(path=st.sampled_from(["/availability/", "/availability/overlaps.json", "/availability/slots.json"]),
       params=st.dictionaries(st.sampled_from(["view", "date", "people", "start_date", "start_time", "end_date",
                                               "end_time", "time_zone", "all_day", "owner", "participants",
                                               "action"]), values, max_size=6))
def test_availability_pages_with_any_query(pages, series, path, params):
    assert pages.get(path, {"time_zone": "Europe/Paris", "start_date": "2026-11-03", **params}).status_code in (
        200, 400)


@FUZZ
@given(key=keys, method=st.sampled_from(["get", "patch", "delete"]))
def test_api_occurrence_keys(api, series, key, method):
    response = getattr(api, method)(f"/api/v1/actions/{series.pk}/occurrences/{key}/", {}, format="json")
    assert response.status_code in (200, 204, 400, 404)


@FUZZ
@given(key=keys, field=st.sampled_from(["start", "date"]), value=values)
def test_moving(pages, series, key, field, value):
    response = pages.post(f"/actions/{series.pk}/move/?occurrence={key}", {field: value})
    assert response.status_code in (200, 400, 404)


@FUZZ
@given(path=st.sampled_from(["/agenda/", "/actions/", "/actions/new/", "/contacts/new/", "/companies/",
                             "/contacts/"]),
       params=st.dictionaries(st.sampled_from(["view", "date", "who", "start", "type", "company", "contact",
                                               "owner", "status", "period", "q", "page", "overlay"]), values,
                              max_size=3))
def test_pages_with_any_query(pages, series, path, params):
    assert pages.get(path, params).status_code in (200, 404)


@FUZZ
@given(key=keys)
def test_pages_with_any_occurrence_key(pages, series, key):
    for path in (f"/actions/{series.pk}/", f"/actions/{series.pk}/edit/", f"/actions/{series.pk}/delete/"):
        assert pages.get(path, {"occurrence": key}).status_code in (200, 404)


@pytest.mark.parametrize("rule", [
    "FREQ=DAILY;INTERVAL=-1", "FREQ=DAILY;BYEASTER=1", "FREQ=DAILY;BYSETPOS=0", "FREQ=DAILY;BYHOUR=99",
    "FREQ=WEEKLY;WKST=XX", "FREQ=YEARLY;BYWEEKNO=60", "FREQ=MONTHLY;BYMONTHDAY=0", "FREQ=DAILY;UNTIL=2026",
    "FREQ=DAILY;COUNT=0", "FREQ=DAILY;BYDAY=+60MO", "FREQ=DAILY;BYMINUTE=61", "FREQ=DAILY;UNTIL=20261105T1000",
    "FREQ=DAILY;BYYEARDAY=400", "FREQ=DAILY;COUNT=1.5", "FREQ=DAILY;;", "FREQ=DAILY;BYDAY=MO,", "FREQ=DAILY;X=1",
    "FREQ=DAILY;BYMONTH=13", "FREQ=HOURLY;COUNT=300000",
])
def test_a_rule_is_refused_or_works_everywhere(api, pages, appointment_type, rule):
    response = api.post("/api/v1/actions/", {
        "action_type": appointment_type.pk, "subject": "s", "start": "2026-11-02T10:00:00+01:00",
        "end": "2026-11-02T11:00:00+01:00", "rrule": rule}, format="json")
    assert response.status_code in (201, 400)
    if response.status_code == 201:
        pk = response.json()["id"]
        for url in (f"/actions/{pk}/", f"/actions/{pk}/edit/", "/agenda/?date=2026-11-02"):
            assert pages.get(url).status_code == 200


def test_an_all_day_form_ending_in_the_year_9999_is_an_error(pages, appointment_type):
    response = pages.post("/actions/new/", {
        "action_type": appointment_type.pk, "subject": "V", "all_day": "on", "start_date": "2026-11-23",
        "end_date": "9999-12-31", "time_zone": "Europe/Paris", "status": "planned", "availability": "busy",
        "privacy": "normal", "ends": "never"})
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors


@pytest.mark.parametrize(("rule", "extra"), [
    ("FREQ=YEARLY;BYDAY=60MO", {}), ("FREQ=DAILY;UNTIL=99991231", {}),
    ("FREQ=DAILY;UNTIL=99991231T235959Z", {"time_zone": "Europe/Paris"}),
    ("FREQ=DAILY;UNTIL=99991231", {"all_day": True, "start": None, "end": None, "start_date": "2026-11-02",
                                   "end_date": "2026-11-04"}),
    ("FREQ=DAILY;INTERVAL=1000;COUNT=10000", {"end": "2029-11-02T11:00:00+01:00"}),
    ("FREQ=DAILY;BYSETPOS=2", {}), ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=-2", {}), ("FREQ=WEEKLY;BYDAY=2MO", {}),
])
def test_rules_that_cannot_work_are_400s_and_quick(api, appointment_type, rule, extra):
    import time

    began = time.monotonic()
    response = api.post("/api/v1/actions/", {
        "action_type": appointment_type.pk, "subject": "S", "start": "2026-11-02T10:00:00+01:00",
        "end": "2026-11-02T11:00:00+01:00", "time_zone": "America/New_York", "rrule": rule, **extra}, format="json")
    assert response.status_code == 400, response.content
    assert time.monotonic() - began < 2  # generous; without the checks dateutil spins for seconds
