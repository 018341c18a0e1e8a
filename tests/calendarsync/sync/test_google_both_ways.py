"""End to end: the CRM and the Google sandbox, through the engine and google-api-python-client."""

from calendarsync.models import EventLink, OutboxEntry, TrashedAction
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import by_summary, sync


def test_an_appointment_made_edited_moved_and_deleted_in_the_crm_follows_in_google(alice, calendar, google):
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off", location="Room 1",
                                    color="#dc2127")
    assert OutboxEntry.objects.filter(calendar=calendar, action_id=meeting.pk).exists()
    run = sync(calendar)
    assert run.error == ""
    assert run.created == 1
    event = by_summary(google.events())["Kick-off"]
    assert event["location"] == "Room 1"
    assert event["start"] == {"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Paris"}
    assert event["colorId"] == "11"
    assert event["extendedProperties"]["private"] == {"calendarsync": "1"}
    assert event["iCalUID"] == meeting.uid
    assert not OutboxEntry.objects.filter(calendar=calendar).exists()

    crm.action_update(action=meeting, subject="Kick-off (moved)", location="Room 2")
    crm.action_move(action=meeting, start=factories.local("2026-12-02 15:00"))
    run = sync(calendar)
    assert run.updated == 1
    event = google.event(event["id"])
    assert (event["summary"], event["location"]) == ("Kick-off (moved)", "Room 2")
    assert event["start"]["dateTime"] == "2026-12-02T15:00:00+01:00"

    crm.action_delete(action=meeting)
    run = sync(calendar)
    assert run.deleted == 1
    assert google.event(event["id"])["status"] == "cancelled"
    assert not EventLink.objects.filter(calendar=calendar).exists()
    writes = google.writes()
    assert [write["method"] for write in writes] == ["insert", "patch", "delete"]
    assert {write["sendUpdates"] for write in writes} == {"none"}  # nobody e-mailed by sync (Z5)


def test_events_made_edited_and_deleted_in_google_follow_in_the_crm(alice, calendar, google):
    sync(calendar)
    created = google.insert({"summary": "Dentist", "location": "Main street", "colorId": "5",
                             "start": {"dateTime": "2026-12-03T09:00:00+01:00", "timeZone": "Europe/Paris"},
                             "end": {"dateTime": "2026-12-03T09:30:00+01:00", "timeZone": "Europe/Paris"}})
    run = sync(calendar)
    assert run.created == 1, run.report
    dentist = Action.objects.get(subject="Dentist")
    assert (dentist.owner, dentist.location, dentist.color) == (alice, "Main street", "#f6bf26")  # Banana
    assert dentist.start == factories.local("2026-12-03 09:00")
    assert dentist.uid == created["iCalUID"]

    google.change(created["id"], summary="Dentist (again)", transparency="transparent")
    assert sync(calendar).updated == 1
    dentist.refresh_from_db()
    assert (dentist.subject, dentist.availability) == ("Dentist (again)", "free")

    google.delete(created["id"])
    assert sync(calendar).deleted == 1
    assert not Action.objects.filter(subject__startswith="Dentist").exists()
    trashed = TrashedAction.objects.get()
    assert (trashed.subject, trashed.owner, trashed.calendar) == ("Dentist (again)", alice, calendar)


def test_every_color_of_the_crm_s_palette_is_google_s_color_of_the_same_name_both_ways(alice, calendar, google):
    """The picker's names are Google's: each goes out as the colorId Google gives that name, and each colorId
    comes back as the same CRM color, so a color written out and read back is the one it was."""
    from calendarsync.providers.google.mapping import COLORS
    from crm.forms import PALETTE

    named = {str(name): color for color, name in PALETTE if color}
    assert set(named) == {name for name, _, _ in COLORS.values()}
    for color_id, (name, _, _) in COLORS.items():
        factories.appointment(alice, "2026-12-03 10:00", subject=f"CRM {name}", color=named[name])
        google.insert({"summary": f"Google {name}", "colorId": color_id,
                       "start": {"dateTime": "2026-12-04T10:00:00+01:00"},
                       "end": {"dateTime": "2026-12-04T11:00:00+01:00"}})
    sync(calendar)
    sync(calendar)
    events = by_summary(google.events())
    for color_id, (name, _, _) in COLORS.items():
        assert events[f"CRM {name}"]["colorId"] == color_id, name
        assert Action.objects.get(subject=f"Google {name}").color == named[name], name
        assert Action.objects.get(subject=f"CRM {name}").color == named[name], name
    assert sync(calendar).updated == 0  # nothing moves afterwards


def test_a_page_edit_that_leaves_the_color_alone_keeps_the_imported_color(client, alice, calendar, google):
    """An appointment keeps the color it came with (here one the CRM's palette lacks, from an older import)
    until someone changes it: the form offers it as the current color."""
    created = google.insert({"summary": "Dentist", "colorId": "3", "start": {"dateTime": "2026-12-04T10:00:00+01:00"},
                             "end": {"dateTime": "2026-12-04T11:00:00+01:00"}})
    sync(calendar)
    dentist = Action.objects.get(subject="Dentist")
    Action.objects.filter(pk=dentist.pk).update(color="#dbadff")  # as imports before named colors left it
    client.force_login(alice)
    page = client.get(f"/actions/{dentist.pk}/edit/")
    assert b'value="#dbadff" selected' in page.content
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(subject="Dentist, moved", start_date="2026-12-04", end_date="2026-12-04", start_time="11:00",
                end_time="12:00", action_type=dentist.action_type_id, contacts=[], participants=[],
                company="", repeat="", ends="never")
    response = client.post(f"/actions/{dentist.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert Action.objects.get(pk=dentist.pk).color == "#dbadff"
    sync(calendar)
    assert google.event(created["id"])["colorId"] == "3"  # the same color, never null
