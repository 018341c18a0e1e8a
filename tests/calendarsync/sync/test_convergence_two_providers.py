"""One Google and one Outlook calendar on the same appointments, through random edits on all three sides.

A Hypothesis state machine makes, edits and deletes appointments in the CRM (which exports them to both
calendars, each its account's destination) and events in either calendar (imported into the CRM only),
and syncs the two calendars in any order, sometimes with a fault. After both calendars were synced twice
without faults (an edit reaches the third side through the CRM), it checks:

- each appointment is one event per calendar it belongs to, with the same content, none twice anywhere;
- a field edited on one side only holds that edit; edited on several, one of their values;
- a deletion with no edit elsewhere takes the appointment from every side; with one, either may win (and a
  calendar that deleted it may stay without it: the edit brings it back where it was kept); kept, it holds
  the keeping sides' values, or the agreed ones, or the deleting side's earlier edits (a run may have carried
  them over before the deletion).
"""

from dataclasses import dataclass, field

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from calendarsync import engine, services
from calendarsync.models import ConflictRecord, EventLink, OutboxEntry, RemoteCalendar, SyncRun, TrashedAction
from crm import services as crm
from crm.models import Action
from tests import factories

from .test_convergence import FIELDS, PARIS, GoogleWorld, OutlookWorld, exploring

SIDES = ("crm", "google", "outlook")


@dataclass
class Thing:
    sides: set  # where it belongs: the CRM and the calendars it was made in or exported to
    agreed: dict
    ids: dict = field(default_factory=dict)  # side -> its id there (action pk, remote ids)
    edits: dict = field(default_factory=lambda: {side: {} for side in SIDES})
    deleted: set = field(default_factory=set)


class TwoCalendars(RuleBasedStateMachine):
    worlds = calendars = owner = None  # set by the test: {"google": ..., "outlook": ...}

    def __init__(self):
        super().__init__()
        self.things: list[Thing] = []
        self.counter = 0

    @initialize()
    def start_empty(self):
        Action.objects.filter(owner=self.owner).delete()
        for calendar in self.calendars.values():
            for model in (EventLink, OutboxEntry, ConflictRecord, TrashedAction, SyncRun):
                model.objects.filter(calendar=calendar).delete()
            calendar.cursor, calendar.window_start, calendar.window_end, calendar.hold = "", None, None, ""
            calendar.save()
        for world in self.worlds.values():
            world.clear()

    def value(self, name, hour):
        self.counter += 1
        return hour if name == "hour" else f"{name} {self.counter}"

    # Edits ------------------------------------------------------------------------------------

    @rule(day=st.integers(1, 20), hour=st.integers(7, 18))
    def create_in_the_crm(self, day, hour):
        summary, location = self.value("summary", 0), self.value("location", 0)
        action = factories.appointment(self.owner, f"2026-12-{day:02} {hour:02}:00", subject=summary,
                                       location=location)
        self.things.append(Thing(set(SIDES), {"summary": summary, "location": location, "hour": hour},
                                 {"crm": action.pk}))

    @rule(side=st.sampled_from(["google", "outlook"]), day=st.integers(1, 20), hour=st.integers(7, 18))
    def create_in_a_calendar(self, side, day, hour):
        summary, location = self.value("summary", 0), self.value("location", 0)
        remote_id = self.worlds[side].create(summary, location, day, hour)
        self.things.append(Thing({"crm", side}, {"summary": summary, "location": location, "hour": hour},
                                 {side: remote_id}))

    @precondition(lambda self: self.things)
    @rule(data=st.data(), side=st.sampled_from(SIDES), name=st.sampled_from(FIELDS), hour=st.integers(7, 18))
    def edit(self, data, side, name, hour):
        thing = data.draw(st.sampled_from(self.things))
        if side not in thing.sides or side in thing.deleted or side not in thing.ids:
            return  # not there (yet, or any more)
        if not self.there(thing, side):
            return
        value = self.value(name, hour)
        if side == "crm":
            action = Action.objects.get(pk=thing.ids["crm"])
            if name == "hour":
                crm.action_move(action=action, start=action.start.astimezone(PARIS).replace(hour=value))
            else:
                crm.action_update(action=action, **{"subject" if name == "summary" else name: value})
        else:
            self.worlds[side].change(thing.ids[side], name, value)
        thing.edits[side][name] = value

    @precondition(lambda self: self.things)
    @rule(data=st.data(), side=st.sampled_from(SIDES))
    def delete(self, data, side):
        thing = data.draw(st.sampled_from(self.things))
        if side not in thing.sides or side in thing.deleted or not self.there(thing, side):
            return
        if side == "crm":
            crm.action_delete(action=Action.objects.get(pk=thing.ids["crm"]))
        else:
            self.worlds[side].delete(thing.ids[side])
        thing.deleted.add(side)

    def there(self, thing, side) -> bool:
        """Whether the thing is on that side now (a sync may have deleted it there)."""
        if side not in thing.ids:
            return False
        if side == "crm":
            return Action.objects.filter(pk=thing.ids["crm"]).exists()
        return thing.ids[side] in self.worlds[side].live()

    # Runs -------------------------------------------------------------------------------------

    @rule(side=st.sampled_from(["google", "outlook"]), fault=st.sampled_from([None, None, "rate limited",
                                                                             "forgotten cursor", "outage"]))
    def sync(self, side, fault):
        self.worlds[side].fault(fault)
        engine.sync(self.calendars[side].pk)
        self.worlds[side].clear_faults()
        self.learn_ids()

    @rule()
    def settle(self):
        for _round in range(2):
            for side in ("google", "outlook"):
                run = engine.sync(self.calendars[side].pk)
                assert run.error == "", run.error
                if RemoteCalendar.objects.filter(pk=self.calendars[side].pk).exclude(hold="").exists():
                    services.calendar_resume(self.owner, self.calendars[side])
        self.learn_ids()
        self.check()

    def teardown(self):
        if self.things:
            self.settle()

    def learn_ids(self):
        """Each thing's ids from the links: an appointment brought back by a remote edit is a new row, and an
        event exported again a new remote event."""
        links = list(EventLink.objects.filter(calendar__in=self.calendars.values()).values_list(
            "calendar_id", "action_id", "remote_id"))
        side_of = {calendar.pk: side for side, calendar in self.calendars.items()}
        for thing in self.things:
            for calendar_id, action_id, remote_id in links:  # remote ids first: they name the thing
                if thing.ids.get(side_of[calendar_id]) == remote_id:
                    thing.ids["crm"] = action_id
            for calendar_id, action_id, remote_id in links:
                if thing.ids.get("crm") == action_id:
                    thing.ids[side_of[calendar_id]] = remote_id

    # Checks -----------------------------------------------------------------------------------

    def check(self):
        actions = {action.pk: (action.subject, action.location, action.start.astimezone(PARIS).hour)
                   for action in Action.objects.filter(owner=self.owner)}
        uids = list(Action.objects.filter(owner=self.owner).values_list("uid", flat=True))
        assert len(uids) == len(set(uids)), "an appointment twice in the CRM"
        live = {side: world.live() for side, world in self.worlds.items()}
        for side, events in live.items():
            links = dict(EventLink.objects.filter(calendar=self.calendars[side]).values_list("remote_id",
                                                                                           "action_id"))
            assert set(links) == set(events), (side, links, events)
            assert len({event[0] for event in events.values()}) == len(events), f"an event twice in {side}"
            for remote_id, action_id in links.items():
                assert events[remote_id][1:] == actions[action_id], (side, events[remote_id], actions[action_id])
        survivors = []
        for thing in self.things:
            action_id = thing.ids.get("crm")
            exists = action_id in actions
            editors = {side for side in SIDES if thing.edits[side] and side not in thing.deleted}
            if thing.deleted and not editors:
                assert not exists, ("deleted, edited nowhere else, yet here", thing)
            elif not thing.deleted:
                assert exists, ("lost", thing)
            if not exists:
                for side in ("google", "outlook"):
                    assert thing.ids.get(side) not in live[side], ("left behind", side, thing)
                continue
            values = dict(zip(FIELDS, actions[action_id], strict=True))
            for name in FIELDS:
                kept = {thing.edits[side][name] for side in SIDES if name in thing.edits[side]
                        and side not in thing.deleted}
                # A deleting side's edits go with its deletion, unless a run carried them over before it (as
                # in the one-provider machine: either is accepted).
                dropped = {thing.edits[side][name] for side in thing.deleted if name in thing.edits[side]}
                assert values[name] in (kept or {thing.agreed[name]}) | dropped, (name, values, thing)
            for side in ("google", "outlook"):
                # Where deleted, it may stay so; and a calendar that neither edited nor deleted it may hold the
                # CRM's deletion, which reached it before (or whatever the order of the runs) the edit that
                # kept the appointment came back from another calendar, as a new appointment of that one.
                reached = "crm" in thing.deleted and side not in editors
                if side in thing.sides and side not in thing.deleted and not reached:
                    assert thing.ids.get(side) in live[side], ("missing", side, thing)
            thing.sides = {"crm"} | {side for side in ("google", "outlook") if thing.ids.get(side) in live[side]}
            thing.agreed, thing.edits, thing.deleted = values, {side: {} for side in SIDES}, set()
            survivors.append(thing)
        self.things = survivors


def test_google_outlook_and_the_crm_converge_on_the_same_appointments(alice, calendar, outlook_calendar, google,
                                                                      outlook, appointment_type):
    machine = type("Machine", (TwoCalendars,), {
        "worlds": {"google": GoogleWorld(google), "outlook": OutlookWorld(outlook)},
        "calendars": {"google": calendar, "outlook": outlook_calendar}, "owner": alice})
    run_state_machine_as_test(machine, settings=exploring("google-and-outlook", max_examples=15,
                                                          stateful_step_count=20))


pytestmark = pytest.mark.django_db
