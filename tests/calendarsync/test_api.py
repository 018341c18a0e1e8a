"""The sync settings through the REST API, under the same permissions as the web page."""

from calendarsync.models import ExternalAccount
from crm.models import Action
from tests import factories


def test_providers_say_what_can_be_connected_and_why_not(api_as, alice, sync_allowed, sandboxes):
    sync_allowed.allow_microsoft = False
    sync_allowed.save()
    rows = {row["provider"]: row for row in api_as(alice).get("/api/v1/sync/providers/").json()}
    assert rows["google"]["available"]
    assert rows["google"]["sandbox"]
    assert rows["google"]["refusal"] == ""
    assert "does not allow connecting Microsoft 365" in rows["microsoft"]["refusal"]
    assert rows["google"]["connect_url"].endswith("/settings/sync/")


def test_accounts_and_calendars_are_listed_and_configured(api_as, alice, bob, sync_allowed, appointment_type):
    account = factories.external_account(alice)
    calendar = factories.remote_calendar(account, "Work", color="#16a765")
    factories.remote_calendar(factories.external_account(bob, email="bob@example.com"), "Bob's")
    api = api_as(alice)
    accounts = api.get("/api/v1/sync/accounts/").json()["results"]
    assert [(row["email"], row["state"], row["problem_text"]) for row in accounts] == [
        ("ada@example.com", "active", "")]
    assert "refresh_token" not in accounts[0]
    calendars = api.get("/api/v1/sync/calendars/").json()["results"]
    assert [(row["name"], row["color"], row["status"]) for row in calendars] == [("Work", "#16a765", "off")]
    changed = api.patch(f"/api/v1/sync/calendars/{calendar.pk}/", {"selected": True, "direction": "import"})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["selected"], changed.json()["direction"], changed.json()["status"]) == (
        True, "import", "pending")
    assert changed.json()["action_types"] == [appointment_type.pk]


def test_permissions_are_403s_with_the_reason_and_bad_choices_400s(api_as, alice, bob, sync_allowed):
    sync_allowed.allow_both = False
    sync_allowed.save()
    account = factories.external_account(alice)
    calendar = factories.remote_calendar(account)
    read_only = factories.remote_calendar(account, "Holidays", can_write=False)
    api = api_as(alice)
    refused = api.patch(f"/api/v1/sync/calendars/{calendar.pk}/", {"selected": True, "direction": "both"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Your profile does not allow the direction “Two-way”."
    invalid = api.patch(f"/api/v1/sync/calendars/{read_only.pk}/", {"selected": True, "direction": "export"})
    assert invalid.status_code == 400
    assert "read-only" in invalid.json()["detail"]
    assert api.patch(f"/api/v1/sync/calendars/{calendar.pk}/", {"direction": "sideways"}).status_code == 400
    assert api.patch(f"/api/v1/sync/calendars/{calendar.pk}/", {"first_sync_since": "yesterday"}).status_code == 400
    assert api_as(bob).get(f"/api/v1/sync/calendars/{calendar.pk}/").status_code == 404
    assert api_as(bob).delete(f"/api/v1/sync/accounts/{account.pk}/?appointments=keep").status_code == 404


def test_disconnecting_needs_a_choice(api_as, alice, sync_allowed):
    account = factories.external_account(alice)
    calendar = factories.remote_calendar(account)
    imported = factories.appointment(alice, "2026-11-23 10:00")
    calendar.links.create(action=imported, remote_id="e1", imported=True)
    api = api_as(alice)
    missing = api.delete(f"/api/v1/sync/accounts/{account.pk}/")
    assert missing.status_code == 400
    assert "keep" in missing.json()["appointments"][0]
    assert api.delete(f"/api/v1/sync/accounts/{account.pk}/?appointments=remove").status_code == 204
    assert not ExternalAccount.objects.exists()
    assert not Action.objects.exists()


def test_refresh_has_a_worker_read_the_calendars(api_as, client, alice, sync_allowed, sandboxes, jobs):
    from .connecting import connect

    client.force_login(alice)
    connect(client, sandboxes, "google", "ada@example.com")
    account = ExternalAccount.objects.get()
    before = account.calendars_refreshed_at
    sandboxes.post(f"{sandboxes.google}/__sandbox__/calendars", json={
        "id": "new@group.example.com", "summary": "New one", "owner": "ada@example.com"})
    api = api_as(alice)
    answer = api.post(f"/api/v1/sync/accounts/{account.pk}/refresh/")
    assert answer.status_code == 202
    assert answer.json()["id"] == account.pk
    assert jobs.names() == ["refresh_calendars"]
    assert "New one" not in [row["name"] for row in api.get("/api/v1/sync/calendars/").json()["results"]]
    jobs.run()
    assert api.get(f"/api/v1/sync/accounts/{account.pk}/").json()["calendars_refreshed_at"] > before.isoformat()
    assert "New one" in [row["name"] for row in api.get("/api/v1/sync/calendars/").json()["results"]]


def test_the_sync_endpoints_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/v1/schema/").content.decode()
    for path in ("/api/v1/sync/accounts/", "/api/v1/sync/calendars/{id}/", "/api/v1/sync/providers/"):
        assert path in schema


def test_whether_a_calendar_makes_its_owner_busy_is_a_setting_defaulting_to_the_accounts_own(
        api_as, client, alice, sync_allowed):
    account = factories.external_account(alice)
    own = factories.remote_calendar(account, "Work", is_primary=True)
    shared = factories.remote_calendar(account, "Holidays in France", can_write=False)
    api = api_as(alice)
    rows = {row["name"]: row["counts_busy"] for row in api.get("/api/v1/sync/calendars/").json()["results"]}
    assert rows == {"Work": True, "Holidays in France": False}
    assert api.patch(f"/api/v1/sync/calendars/{shared.pk}/", {"counts_busy": True}).json()["counts_busy"] is True
    shared.refresh_from_db()
    assert shared.counts_busy is True
    client.force_login(alice)  # the page's checkbox: unticked, the primary calendar no longer counts
    prefix = f"calendar-{own.pk}"
    answer = client.post(f"/settings/sync/calendars/{own.pk}/", {f"{prefix}-direction": "both",
                                                                 f"{prefix}-first_sync": "from_now"}, follow=True)
    assert [str(message) for message in answer.context["messages"]] == ["Work is saved."]
    own.refresh_from_db()
    assert own.counts_busy is False
