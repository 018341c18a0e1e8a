"""Attendees of imported events become the appointment's participants and contacts, found by e-mail; the
sync never writes attendees (Graph would e-mail every one of them)."""

import pytest

from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import TIMED, sync
from .test_two_providers import OUTLOOK_TIMED

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(bob):
    bob.email = "Bob@Example.com"
    bob.save()
    return bob, factories.contact("Curie", first_name="Marie", email="marie.curie@client.example")


def test_a_google_events_guests_become_participants_and_contacts(alice, calendar, google, people):
    bob, marie = people
    sync(calendar)
    created = google.insert({"summary": "Review with the client", **TIMED, "attendees": [
        {"email": "ada@example.com", "self": True, "responseStatus": "accepted"},
        {"email": "bob@example.com", "displayName": "Bob"},
        {"email": "Marie.Curie@client.example"},
        {"email": "unknown@elsewhere.example"},
        {"email": "room-4@resource.example", "resource": True}]})
    assert sync(calendar).created == 1
    action = Action.objects.get(subject="Review with the client")
    assert list(action.participants.all()) == [bob]
    assert list(action.contacts.all()) == [marie]

    crm.action_update(action=action, subject="Review with the client (room 4)")
    sync(calendar)
    event = google.event(created["id"])
    assert event["summary"] == "Review with the client (room 4)"
    assert len(event["attendees"]) == 5  # as they were: the sync writes no attendee


def test_an_outlook_invitations_organizer_and_attendees_become_participants_and_contacts(
        alice, outlook_calendar, outlook, people):
    bob, marie = people
    factories.contact("Hopper", first_name="Grace", email="grace@example.com")  # the mailbox: oneself, not a guest
    sync(outlook_calendar)
    invitation = outlook.insert({
        "subject": "Kick-off at the client", **OUTLOOK_TIMED, "uid": "kickoff@client.example",
        "organizer": {"emailAddress": {"address": "marie.curie@client.example", "name": "Marie Curie"}},
        "attendees": [{"type": "required", "emailAddress": {"address": "bob@example.com", "name": "Bob"}},
                      {"type": "required", "emailAddress": {"address": "grace@example.com", "name": "Grace"}},
                      {"type": "resource", "emailAddress": {"address": "room-4@client.example"}}]})
    assert sync(outlook_calendar).created == 1
    action = Action.objects.get(subject="Kick-off at the client")
    assert action.uid == "kickoff@client.example"
    assert list(action.participants.all()) == [bob]
    assert list(action.contacts.all()) == [marie]

    crm.action_update(action=action, location="Client's office")
    sync(outlook_calendar)
    event = outlook.event(invitation["id"])
    assert event["location"]["displayName"] == "Client's office"
    assert [person["emailAddress"]["address"] for person in event["attendees"]] == [
        "bob@example.com", "grace@example.com", "room-4@client.example"]
    assert [write["method"] for write in outlook.writes() if write["event"] == invitation["id"]] == ["update"]
