"""Whatever a client sends to the actions API, the answer is never a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

anything = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.lists(st.text(max_size=8), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
moments = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["2026-03-29T02:30:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00", "2026-11-23T10:00+14:00"]),
)
days = st.one_of(st.dates().map(str), st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30"]))
rules = st.one_of(
    st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO;COUNT=3", "FREQ=MONTHLY;BYMONTHDAY=31",
                     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;UNTIL=99991231", "FREQ=HOURLY;INTERVAL=0",
                     "FREQ=DAILY;COUNT=-1", "FREQ=WEEKLY;BYSETPOS=400", "RRULE:FREQ=DAILY;X-NAME=1"]),
    st.text(max_size=40),
)
fields = st.fixed_dictionaries({}, optional={
    "action_type": st.one_of(anything, st.just("APPOINTMENT_ID")),
    "subject": st.one_of(anything, st.text(max_size=300)),
    "all_day": anything, "start": st.one_of(moments, anything), "end": st.one_of(moments, anything),
    "start_date": st.one_of(days, anything), "end_date": st.one_of(days, anything),
    "time_zone": st.one_of(st.sampled_from(["Europe/Paris", "UTC", "Etc/GMT+12", "../../etc/passwd"]), anything),
    "rrule": st.one_of(rules, anything), "exdates": st.one_of(st.lists(st.text(max_size=20), max_size=3), anything),
    "participants": anything, "contacts": anything, "company": anything, "owner": anything,
    "status": anything, "color": anything, "availability": anything, "privacy": anything,
})


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=fields)
def test_create_and_update_never_fail_with_a_500(api_as, alice, appointment_type, payload):
    client = api_as(alice)
    if payload.get("action_type") == "APPOINTMENT_ID":
        payload["action_type"] = appointment_type.pk
    created = client.post("/api/v1/actions/", payload, format="json")
    assert created.status_code in (201, 400, 403), created.content
    target = factories.appointment(alice, "2026-11-23 10:00", rrule="FREQ=DAILY;COUNT=3")
    changed = client.patch(f"/api/v1/actions/{target.pk}/", payload, format="json")
    assert changed.status_code in (200, 400, 403), changed.content
    occurrence = client.patch(f"/api/v1/actions/{target.pk}/occurrences/20261124T090000Z/", payload, format="json")
    assert occurrence.status_code in (200, 400, 403), occurrence.content
    if created.status_code == 201:
        window = client.get("/api/v1/actions/", {"start": "2026-01-01", "end": "2027-01-01"})
        assert window.status_code == 200
