"""Versions and conditional writes: an edit made against an older version is refused with the current one."""

import pytest

from crm.models import Action
from tests.factories import appointment

pytestmark = pytest.mark.django_db


def test_an_action_carries_its_version_and_a_look_at_an_unchanged_one_is_a_304(api_as, alice):
    action = appointment(alice, "2026-12-01 10:00", subject="Review")
    api = api_as(alice)
    answer = api.get(f"/api/v1/actions/{action.pk}/")
    assert answer["ETag"] == answer.json()["etag"]
    assert api.get(f"/api/v1/actions/{action.pk}/", HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304
    listed = api.get("/api/v1/actions/", {"start": "2026-12-01", "end": "2026-12-02"}).json()["results"]
    assert [row["etag"] for row in listed] == [answer["ETag"]]


def test_two_clients_editing_one_version_the_second_is_refused_with_the_first_ones_edit(api_as, alice):
    action = appointment(alice, "2026-12-01 10:00", subject="Review")
    phone, laptop = api_as(alice), api_as(alice)
    version = phone.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    first = phone.patch(f"/api/v1/actions/{action.pk}/", {"subject": "Review, room 2"}, HTTP_IF_MATCH=version)
    assert first.status_code == 200
    assert first["ETag"] != version
    second = laptop.patch(f"/api/v1/actions/{action.pk}/", {"subject": "Review, cancelled?"}, HTTP_IF_MATCH=version)
    assert second.status_code == 412
    assert (second.json()["subject"], second["ETag"]) == ("Review, room 2", first["ETag"])
    assert Action.objects.get(pk=action.pk).subject == "Review, room 2"
    assert laptop.patch(f"/api/v1/actions/{action.pk}/", {"location": "Room 2"}, HTTP_IF_MATCH="*").status_code == 200
    assert laptop.patch(f"/api/v1/actions/{action.pk}/", {"location": "Room 3"}).status_code == 200  # unconditional


def test_a_deletion_against_an_older_version_is_refused(api_as, alice):
    action = appointment(alice, "2026-12-01 10:00", subject="Review")
    api = api_as(alice)
    version = api.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    api.patch(f"/api/v1/actions/{action.pk}/", {"subject": "Still on"})
    assert api.delete(f"/api/v1/actions/{action.pk}/", HTTP_IF_MATCH=version).status_code == 412
    current = api.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    assert api.delete(f"/api/v1/actions/{action.pk}/", HTTP_IF_MATCH=current).status_code == 204


def test_an_occurrence_has_its_own_version(api_as, alice):
    series = appointment(alice, "2026-12-01 09:00", subject="Daily", rrule="FREQ=DAILY;COUNT=5")
    api = api_as(alice)
    url = f"/api/v1/actions/{series.pk}/occurrences/20261202T080000Z/"
    generated = api.get(url)
    other = api.get(f"/api/v1/actions/{series.pk}/occurrences/20261203T080000Z/")
    assert generated["ETag"] == generated.json()["etag"] != other["ETag"]
    api.patch(f"/api/v1/actions/{series.pk}/", {"subject": "Daily stand-up"})  # the series moved on
    assert api.patch(url, {"location": "Room 1"}, HTTP_IF_MATCH=generated["ETag"]).status_code == 412
    current = api.get(url)["ETag"]
    changed = api.patch(url, {"location": "Room 1"}, HTTP_IF_MATCH=current)
    assert changed.status_code == 200
    assert changed["ETag"] not in (current, generated["ETag"])  # now the override's own
    assert api.delete(url, HTTP_IF_MATCH=current).status_code == 412
    assert api.delete(url, HTTP_IF_MATCH=changed["ETag"]).status_code == 204
