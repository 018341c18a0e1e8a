"""End to end: the CRM and the Microsoft sandbox, through the engine, msal and Graph's $batch."""

from datetime import date

from calendarsync import services
from calendarsync.models import (
    AccountState,
    ConflictRecord,
    EventLink,
    ExternalAccount,
    OutboxEntry,
    RemoteCalendar,
    TrashedAction,
)
from calendarsync.providers.microsoft.provider import NO_COLORS
from crm import services as crm
from crm.models import Action
from tests import factories
from tests.calendarsync.connecting import connect

from .conftest import GRACE, Outlook, sync


def when(start, end, zone="Romance Standard Time"):
    """A Graph event's times, as Outlook writes them: wall-clock time and a Windows zone name."""
    return {"start": {"dateTime": start, "timeZone": zone}, "end": {"dateTime": end, "timeZone": zone}}


DEC_4 = when("2026-12-04T10:00:00", "2026-12-04T11:00:00")  # 09:00-10:00 UTC


def by_subject(events):
    return {event["subject"]: event for event in events}


def utc(value):
    """A Graph time (returned in UTC without a zone preference) as 'YYYY-MM-DDTHH:MM'."""
    assert value["timeZone"] == "UTC"
    return value["dateTime"][:16]


def test_an_appointment_made_edited_moved_and_deleted_in_the_crm_follows_in_outlook(alice, outlook_calendar,
                                                                                     outlook):
    meeting = factories.appointment(alice, "2026-12-01 10:00", subject="Kick-off", location="Room 1",
                                    description="Agenda")
    assert OutboxEntry.objects.filter(calendar=outlook_calendar, action_id=meeting.pk).exists()
    run = sync(outlook_calendar)
    assert run.created == 1
    event = by_subject(outlook.events())["Kick-off"]
    assert (event["location"]["displayName"], event["body"]["content"]) == ("Room 1", "Agenda")
    assert (utc(event["start"]), utc(event["end"])) == ("2026-12-01T09:00", "2026-12-01T10:00")
    assert event["originalStartTimeZone"] == "Europe/Paris"
    assert (event["type"], event["showAs"], event["sensitivity"]) == ("singleInstance", "busy", "normal")
    assert EventLink.objects.get(action_id=meeting.pk).remote_id == event["id"]
    assert not OutboxEntry.objects.filter(calendar=outlook_calendar).exists()

    crm.action_update(action=meeting, subject="Kick-off (moved)", location="Room 2", availability="free")
    crm.action_move(action=meeting, start=factories.local("2026-12-02 15:00"))
    run = sync(outlook_calendar)
    assert run.updated == 1
    event = outlook.event(event["id"])
    assert (event["subject"], event["location"]["displayName"], event["showAs"]) == ("Kick-off (moved)", "Room 2",
                                                                                       "free")
    assert (utc(event["start"]), utc(event["end"])) == ("2026-12-02T14:00", "2026-12-02T15:00")

    crm.action_delete(action=meeting)
    run = sync(outlook_calendar)
    assert run.deleted == 1
    assert outlook.events() == []
    assert not EventLink.objects.filter(calendar=outlook_calendar).exists()
    assert [write["method"] for write in outlook.writes()] == ["create", "update", "delete"]


def test_events_made_edited_and_deleted_in_outlook_follow_in_the_crm(alice, outlook_calendar, outlook):
    sync(outlook_calendar)
    created = outlook.insert({"subject": "Dentist", "location": {"displayName": "Main street"},
                              "body": {"contentType": "html", "content": "<p>Bring the <b>card</b></p>"},
                              **when("2026-12-03T09:00:00", "2026-12-03T09:30:00")})
    run = sync(outlook_calendar)
    assert run.created == 1, run.report
    dentist = Action.objects.get(subject="Dentist")
    assert (dentist.owner, dentist.location, dentist.description) == (alice, "Main street", "Bring the card")
    assert (dentist.start, dentist.end) == (factories.local("2026-12-03 09:00"), factories.local("2026-12-03 09:30"))
    assert dentist.time_zone == "Europe/Paris"
    assert EventLink.objects.get(action_id=dentist.pk).remote_id == created["id"]

    outlook.change(created["id"], subject="Dentist (again)", showAs="free", sensitivity="private")
    assert sync(outlook_calendar).updated == 1
    dentist.refresh_from_db()
    assert (dentist.subject, dentist.availability, dentist.privacy) == ("Dentist (again)", "free", "private")

    outlook.delete(created["id"])
    assert sync(outlook_calendar).deleted == 1
    assert not Action.objects.filter(subject__startswith="Dentist").exists()
    trashed = TrashedAction.objects.get()
    assert (trashed.subject, trashed.owner, trashed.calendar) == ("Dentist (again)", alice, outlook_calendar)
    assert outlook.writes() == []  # nothing of it was written back


def test_import_only_never_writes_to_outlook_and_export_only_never_changes_the_crm(alice, outlook_calendar,
                                                                                   outlook):
    services.calendar_configure(alice, outlook_calendar, direction="import")
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Private plan")
    kept = outlook.insert({"subject": "From Outlook", **DEC_4})
    deleted = outlook.insert({"subject": "Deleted in the CRM", **DEC_4})
    sync(outlook_calendar)
    assert sorted(Action.objects.values_list("subject", flat=True)) == ["Deleted in the CRM", "From Outlook",
                                                                        "Private plan"]
    crm.action_update(action=Action.objects.get(subject="From Outlook"), location="Changed in the CRM")
    crm.action_delete(action=Action.objects.get(subject="Deleted in the CRM"))
    sync(outlook_calendar)
    assert sorted((event["subject"], event["location"]["displayName"]) for event in outlook.events()) == [
        ("Deleted in the CRM", ""), ("From Outlook", "")]
    assert outlook.event(deleted["id"])["subject"] == "Deleted in the CRM"  # a local deletion does not reach it
    assert outlook.writes() == []

    services.calendar_configure(alice, outlook_calendar, direction="export", is_destination=True)
    crm.action_update(action=meeting, subject="Plan")
    outlook.insert({"subject": "Also from Outlook", **DEC_4})
    outlook.change(kept["id"], subject="From Outlook, renamed", showAs="free")
    sync(outlook_calendar)
    assert sorted(Action.objects.values_list("subject", "location", "availability")) == [
        ("From Outlook", "Changed in the CRM", "busy"), ("Plan", "", "busy")]
    assert "Plan" in [event["subject"] for event in outlook.events()]
    event = outlook.event(kept["id"])  # the CRM's change goes out; Outlook's own stays there only
    assert (event["subject"], event["location"]["displayName"], event["showAs"]) == (
        "From Outlook, renamed", "Changed in the CRM", "free")
    assert sorted(write["method"] for write in outlook.writes()) == ["create", "update"]


def test_a_first_sync_pairs_what_exists_on_both_sides_instead_of_duplicating(alice, outlook_calendar, outlook):
    outlook.insert({"subject": "Board meeting", **DEC_4})
    outlook.insert({"subject": "Only in Outlook", **DEC_4})
    same = factories.appointment(alice, "2026-12-04 10:00", subject="Board meeting")
    factories.appointment(alice, "2026-12-05 10:00", subject="Only in the CRM")
    dry = sync(outlook_calendar, dry_run=True)
    assert sorted(line.split()[0] for line in dry.report) == ["create_local", "create_remote", "link"]
    assert Action.objects.count() == 2
    assert len(outlook.events()) == 2

    run = sync(outlook_calendar)
    assert run.created == 2
    subjects = ["Board meeting", "Only in Outlook", "Only in the CRM"]
    assert sorted(event["subject"] for event in outlook.events()) == subjects
    assert sorted(Action.objects.values_list("subject", flat=True)) == subjects
    assert EventLink.objects.get(action_id=same.pk).remote_id == by_subject(outlook.events())["Board meeting"]["id"]
    assert [write["method"] for write in outlook.writes()] == ["create"]

    # Reconnecting from scratch (links and cursor gone) creates nothing twice.
    EventLink.objects.all().delete()
    RemoteCalendar.objects.filter(pk=outlook_calendar.pk).update(cursor="", window_start=None)
    run = sync(outlook_calendar)
    assert run.created == 0
    assert len(outlook.events()) == 3
    assert Action.objects.count() == 3
    assert EventLink.objects.count() == 3


def test_different_fields_edited_on_both_sides_are_merged(alice, outlook_calendar, outlook):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(outlook_calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    outlook.change(remote_id, location={"displayName": "Remote room"})
    crm.action_update(action=meeting, description="Bring the figures")
    run = sync(outlook_calendar)
    assert run.conflicts == 0
    meeting.refresh_from_db()
    event = outlook.event(remote_id)
    assert (meeting.location, meeting.description) == ("Remote room", "Bring the figures")
    assert (event["location"]["displayName"], event["body"]["content"]) == ("Remote room", "Bring the figures")
    assert not ConflictRecord.objects.exists()


def test_the_same_field_edited_on_both_sides_keeps_the_latest_and_records_the_other(alice, outlook_calendar,
                                                                                    outlook):
    meeting = factories.appointment(alice, "2026-12-10 10:00", subject="Review")
    sync(outlook_calendar)
    remote_id = EventLink.objects.get(action_id=meeting.pk).remote_id
    crm.action_update(action=meeting, subject="Review (CRM)")
    outlook.change(remote_id, subject="Review (Outlook)")  # the later change
    run = sync(outlook_calendar)
    assert run.conflicts == 1
    meeting.refresh_from_db()
    assert meeting.subject == outlook.event(remote_id)["subject"] == "Review (Outlook)"
    conflict = ConflictRecord.objects.get()
    assert (conflict.group, conflict.winner, conflict.action) == ("summary", "remote", meeting)
    assert conflict.local == {"summary": "Review (CRM)"}
    assert conflict.remote == {"summary": "Review (Outlook)"}


def test_colors_travel_as_the_categories_of_the_nearest_color(alice, outlook_calendar, outlook):
    """Outlook colors an event by its categories: the CRM's color goes as the mailbox's category of the nearest
    color, and an event's first colored category comes back as its color."""
    meeting = factories.appointment(alice, "2026-12-04 10:00", subject="Demo", color="#8fb0f0")  # a light blue
    sync(outlook_calendar)
    [event] = outlook.events()
    assert event["categories"] == ["Blue category"]
    meeting.refresh_from_db()
    assert meeting.color == "#8fb0f0"  # the CRM keeps its own

    crm.action_update(action=meeting, color="#70c060")
    sync(outlook_calendar)
    assert outlook.event(event["id"])["categories"] == ["Green category"]
    writes = len(outlook.writes())
    assert sync(outlook_calendar).updated == 0
    assert len(outlook.writes()) == writes

    created = outlook.insert({"subject": "Review", "categories": ["Project X", "Red category"],
                              "start": {"dateTime": "2026-12-05T10:00:00", "timeZone": "Romance Standard Time"},
                              "end": {"dateTime": "2026-12-05T11:00:00", "timeZone": "Romance Standard Time"}})
    sync(outlook_calendar)
    assert Action.objects.get(subject="Review").color == "#e7a1a2"
    assert EventLink.objects.filter(remote_id=created["id"]).exists()


def test_an_account_connected_without_the_categories_permission_syncs_without_colors(
        client, alice, sync_allowed, sandboxes, appointment_type):
    """Accounts connected before MailboxSettings.Read was asked for: Graph refuses them the category list, and
    a refresh asking for it (AADSTS65001). They keep syncing, without colors, and are told why."""
    client.force_login(alice)
    connect(client, sandboxes, "microsoft", GRACE, ungrant={"MailboxSettings.Read"})
    account = ExternalAccount.objects.get(provider="microsoft")
    assert (account.state, account.problem) == (AccountState.ACTIVE, "")
    default = account.calendars.get(is_primary=True)
    calendar = services.calendar_configure(alice, default, selected=True, direction="both", is_destination=True,
                                           first_sync="since", first_sync_since=date(2026, 1, 1))
    outlook = Outlook(sandboxes, account, default.remote_id)
    outlook.insert({"subject": "Red in Outlook", "categories": ["Red category"],
                    "start": {"dateTime": "2026-12-05T10:00:00", "timeZone": "Romance Standard Time"},
                    "end": {"dateTime": "2026-12-05T11:00:00", "timeZone": "Romance Standard Time"}})
    factories.appointment(alice, "2026-12-04 10:00", subject="Blue in the CRM", color="#8fb0f0")
    ExternalAccount.objects.filter(pk=account.pk).update(access_token_expires_at=None)  # a refresh on the way
    run = sync(calendar)
    account.refresh_from_db()
    assert (account.state, run.error) == (AccountState.ACTIVE, "")
    assert NO_COLORS in run.report
    assert Action.objects.get(subject="Red in Outlook").color == ""
    assert [event.get("categories") for event in outlook.events() if event["subject"] == "Blue in the CRM"] == [[]]
    assert "categories" not in outlook.counters()  # never asked: the account's consent says it would be refused
    assert account.colors == {}  # and the color picker offers none of them
    assert b"Outlook categories" not in client.get("/actions/new/").content


def test_an_outlook_color_round_trips_exactly_and_an_occurrence_keeps_its_series_color(alice, outlook_calendar,
                                                                                       outlook):
    """A color Outlook can hold (a category's preset) goes out as that category and comes back as the same
    color; an occurrence changed in Outlook keeps its series' category and the CRM keeps its color."""
    series = factories.appointment(alice, "2026-12-07 09:00", subject="Stand-up", rrule="FREQ=DAILY;COUNT=5",
                                   color="#9db7e8")  # Outlook's preset7, the Blue category's
    sync(outlook_calendar)
    [master] = [event for event in outlook.events() if event["type"] == "seriesMaster"]
    assert master["categories"] == ["Blue category"]
    [occurrence] = [item for item in outlook.instances(master["id"]) if item["originalStart"].startswith(
        "2026-12-09")]
    outlook.change(occurrence["id"], subject="Stand-up, longer")
    sync(outlook_calendar)
    override = Action.objects.get(series=series)
    assert (override.subject, override.color) == ("Stand-up, longer", "#9db7e8")
    crm.action_update(action=override, location="Room 4")  # its color left alone
    sync(outlook_calendar)
    assert outlook.event(occurrence["id"])["categories"] == ["Blue category"]
    assert outlook.event(occurrence["id"])["location"]["displayName"] == "Room 4"
    override.refresh_from_db()
    series.refresh_from_db()
    assert (series.color, override.color) == ("#9db7e8", "#9db7e8")


def test_an_outlook_series_color_stays_on_occurrences_changed_on_either_side(alice, outlook_calendar, outlook):
    created = outlook.insert({
        "subject": "Review", "categories": ["Red category"],
        "start": {"dateTime": "2026-12-07T10:00:00", "timeZone": "Romance Standard Time"},
        "end": {"dateTime": "2026-12-07T11:00:00", "timeZone": "Romance Standard Time"},
        "recurrence": {"pattern": {"type": "daily", "interval": 1},
                       "range": {"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 5}}})
    sync(outlook_calendar)
    series = Action.objects.get(subject="Review", series=None)
    assert series.color == "#e7a1a2"
    by_day = {item["originalStart"][:10]: item for item in outlook.instances(created["id"])}
    outlook.change(by_day["2026-12-08"]["id"], subject="Review, in Outlook")
    crm.action_move(action=series, recurrence_id="20261210T090000Z", start=factories.local("2026-12-10 15:00"))
    sync(outlook_calendar)
    sync(outlook_calendar)
    assert sorted(Action.objects.filter(series=series).values_list("subject", "color")) == [
        ("Review", "#e7a1a2"), ("Review, in Outlook", "#e7a1a2")]
    for day in ("2026-12-08", "2026-12-10"):
        assert outlook.event(by_day[day]["id"])["categories"] == ["Red category"], day


def test_the_color_picker_offers_the_mailbox_s_categories_and_a_chosen_one_round_trips(client, alice, outlook_calendar,
                                                                                       outlook):
    """The form offers the Outlook categories of the owner's mailbox by their names: one chosen on the page goes
    out as that category (not the nearest of another palette) and comes back as the same color."""
    microsoft = outlook_calendar.account
    microsoft.refresh_from_db()
    assert microsoft.colors["Red category"] == "#e7a1a2"  # read with the calendars when connecting
    client.force_login(alice)
    page = client.get("/actions/new/")
    assert f'<optgroup label="Outlook categories · {microsoft.email}">'.encode() in page.content
    assert b'<option value="#e7a1a2">Red category</option>' in page.content
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(subject="Audit", start_date="2026-12-04", end_date="2026-12-04", start_time="10:00",
                end_time="11:00", contacts=[], participants=[], company="", repeat="", ends="never", color="#e7a1a2",
                availability="busy", privacy="normal",
                action_type=form.initial["action_type"].pk)
    response = client.post("/actions/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    sync(outlook_calendar)
    [event] = [event for event in outlook.events() if event["subject"] == "Audit"]
    assert event["categories"] == ["Red category"]
    outlook.change(event["id"], subject="Audit, confirmed")  # read back from Outlook
    sync(outlook_calendar)
    assert Action.objects.values_list("subject", "color").get() == ("Audit, confirmed", "#e7a1a2")
    assert sync(outlook_calendar).updated == 0
