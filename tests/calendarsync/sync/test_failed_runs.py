"""What a failed run leaves behind, in the two shapes the convergence machine found when it explored with
fresh randomness. In both the engine was right and the machine's model was not; these tests keep the
engine's behaviour, and the model now follows the same rules (test_convergence's docstring)."""

from datetime import timedelta

import pytest

from calendarsync import engine
from calendarsync.models import EventLink
from calendarsync.providers.google.provider import ATTEMPTS
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import Died, by_summary, die_once_after_writing, lease_runs_out, sync


def times(hour):
    return {"start": {"dateTime": f"2026-12-04T{hour:02}:00:00+01:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": f"2026-12-04T{hour + 1:02}:00:00+01:00", "timeZone": "Europe/Paris"}}


def test_a_calendar_edit_set_back_after_an_outage_is_no_edit_and_the_crm_s_deletion_wins(alice, calendar, google):
    """(a) Imported at 9, moved to 10 in the CRM and to 14 in the calendar, deleted in the CRM; a run is
    refused by an outage at its first request (it reads and writes nothing); the calendar sets the hour back
    to 9. Against the base both sides last agreed on, the calendar has changed nothing: the deletion wins."""
    remote_id = google.insert({"summary": "Visit", **times(9)})["id"]
    sync(calendar)
    visit = Action.objects.get(subject="Visit")
    crm.action_move(action=visit, start=visit.start + timedelta(hours=1))
    google.change(remote_id, **times(14))
    crm.action_delete(action=Action.objects.get(pk=visit.pk))
    google.fault(status=503, retry_after=0, times=ATTEMPTS)
    assert sync(calendar, failing=True).error
    google.clear_faults()
    google.change(remote_id, **times(9))
    sync(calendar)
    sync(calendar)
    assert not Action.objects.filter(subject="Visit").exists()
    assert "Visit" not in by_summary(google.events())


def test_an_edit_that_beats_a_calendar_deletion_brings_back_what_the_crm_holds(alice, calendar, google,
                                                                                  monkeypatch):
    """(b) The calendar moves the visit to Room 2 while the CRM renames it; the run that merges both dies once
    Google answered its writes (the CRM holds Room 2 from then on). The calendar then deletes the event, the
    CRM edits it again, and the calendar forgets the cursor. The CRM's edit wins over the deletion and brings
    back the CRM's version, Room 2 included: it is what the CRM held, not a value of the deleted event."""
    visit = factories.appointment(alice, "2026-12-04 10:00", subject="Visit", location="Room 1")
    sync(calendar)
    remote_id = EventLink.objects.get(action=visit).remote_id
    google.change(remote_id, location="Room 2")
    crm.action_update(action=Action.objects.get(pk=visit.pk), subject="Visit, renamed")
    die_once_after_writing(monkeypatch)
    with pytest.raises(Died):
        engine.sync(calendar.pk)
    lease_runs_out(calendar)
    assert Action.objects.get(pk=visit.pk).location == "Room 2"
    google.delete(remote_id)
    crm.action_update(action=Action.objects.get(pk=visit.pk), description="Bring the contract")
    google.control("expire-sync-tokens")
    sync(calendar)
    sync(calendar)
    event = by_summary(google.events())["Visit, renamed"]
    assert (event["location"], event["description"]) == ("Room 2", "Bring the contract")
    assert Action.objects.get(subject="Visit, renamed").location == "Room 2"
    assert EventLink.objects.get(calendar=calendar).remote_id == event["id"]


pytestmark = pytest.mark.django_db
