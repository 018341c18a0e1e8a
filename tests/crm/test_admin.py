import pytest
from django.urls import reverse

from crm.models import Action
from crm.signals import action_saved
from tests import factories


@pytest.fixture
def admin_client_with_data(admin_client, alice, appointment_type):
    series = factories.appointment(alice, "2026-11-02 10:00", rrule="FREQ=WEEKLY;COUNT=3")
    factories.contact(company=factories.company())
    return admin_client, series


@pytest.mark.parametrize("model", ["user", "profile", "company", "contact", "actiontype", "action"])
def test_every_admin_list_and_form_renders(admin_client_with_data, model):
    client, _ = admin_client_with_data
    assert client.get(reverse(f"admin:crm_{model}_changelist"), {"q": "a"}).status_code == 200
    assert client.get(reverse(f"admin:crm_{model}_add")).status_code == 200


def test_action_filters_and_change_page(admin_client_with_data):
    client, series = admin_client_with_data
    changelist = reverse("admin:crm_action_changelist")
    assert client.get(changelist, {"recurrence": "series"}).status_code == 200
    assert client.get(reverse("admin:crm_action_change", args=[series.pk])).status_code == 200


def test_saving_an_action_in_the_admin_goes_through_the_service(admin_client, alice, appointment_type):
    announced = []

    def receiver(sender, action, **kwargs):
        announced.append(action.subject)

    action_saved.connect(receiver)
    try:
        response = admin_client.post(reverse("admin:crm_action_add"), {
            "action_type": appointment_type.pk, "subject": "From the admin", "status": "planned",
            "owner": alice.pk, "start_0": "2026-11-23", "start_1": "10:00", "end_0": "2026-11-23",
            "end_1": "11:00", "time_zone": "Europe/Paris", "rrule": "FREQ=DAILY;COUNT=2", "exdates": "[]",
            "availability": "busy", "privacy": "normal",
            "actions-TOTAL_FORMS": "0", "actions-INITIAL_FORMS": "0",
            "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
        })
    finally:
        action_saved.disconnect(receiver)
    assert response.status_code == 302, response.content.decode()[:3000]
    action = Action.objects.get()
    assert announced == ["From the admin"]
    assert action.span_end is not None


def test_an_invalid_rule_in_the_admin_is_a_form_error(admin_client, alice, appointment_type):
    response = admin_client.post(reverse("admin:crm_action_add"), {
        "action_type": appointment_type.pk, "subject": "Bad", "status": "planned", "owner": alice.pk,
        "start_0": "2026-11-23", "start_1": "10:00", "end_0": "2026-11-23", "end_1": "11:00",
        "time_zone": "Europe/Paris", "rrule": "FREQ=NEVER", "exdates": "[]", "availability": "busy",
        "privacy": "normal", "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "“FREQ=NEVER” is not a valid RRULE." in response.content.decode()
    assert not Action.objects.exists()
