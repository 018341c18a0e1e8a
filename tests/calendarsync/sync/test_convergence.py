"""Random edits on both sides, with faults, through the real engine: after a clean run both sides agree.

A Hypothesis state machine creates, edits and deletes appointments in the CRM (through the CRM's
services, so the outbox is written as in production) and events in the calendar (as their owner
would), and syncs, sometimes with a fault: a forgotten cursor, a burst of 429s, an outage, a worker
killed once the provider answered its writes or after any stage of the run, its lease taken over by
another worker at any stage, or events it cannot read. After every run that ended cleanly it checks:

- both sides hold the same events, each linked once, none twice on either side;
- an edit made on one side only is never lost, and a field edited on both sides holds one of the two
  values (with a conflict record for the one that lost);
- a deletion takes the event from both sides unless the other side edited it meanwhile, when the
  edit wins.

A failed run may have carried out any part of its work before it stopped (each step commits), so
where one came after a thing's first change the model cannot know the base the next run starts from:
- between an edit and a deletion, either outcome of that pair is accepted, and so is either when the
  side that kept the thing only set values back to the agreed ones;
- a value set back to the agreed one still counts as an edit;
- a thing that survives a deletion because the other side edited it may also hold the deleting side's
  earlier edits (the failed run may have brought them over before the deletion);
- a side that edits a thing it had deleted (a failed run brought it back) wants the new version.
A run refused at its first request (an outage) wrote nothing and loosens nothing. Nothing else is loosened.
Each run of the machine draws fresh programs (its seed printed), so CI explores instead of repeating.
The machine runs against the Google sandbox through google-api-python-client, against the Microsoft
sandbox through msal and Graph, and, with more examples, against the in-memory provider.
"""

import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.core import threadlocal
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calendarsync import engine, services
from calendarsync.models import ConflictRecord, EventLink, OutboxEntry, RemoteCalendar, SyncRun, TrashedAction
from calendarsync.providers.google.provider import ATTEMPTS
from calendarsync.providers.memory import MemoryProvider, MemoryService
from calendarsync.providers.microsoft.graph import ATTEMPTS as GRAPH_ATTEMPTS
from calendarsync.providers.microsoft.mapping import uid_of
from crm import services as crm
from crm.models import Action
from tests import factories

from .conftest import PRIMARY, Died, after_writes, lease_runs_out

PARIS = ZoneInfo("Europe/Paris")
FIELDS = ("summary", "location", "hour")
GROUP = {"summary": "summary", "location": "location", "hour": "when"}
# What may go wrong in a run: "crash" kills the worker once the provider answered its writes, "killed" once
# the run got past a stage (engine.STAGES), "lease lost" has another worker take the calendar over there.
FAULTS = [None, None, None, "forgotten cursor", "rate limited", "outage", "crash", "killed", "lease lost",
          "unreadable"]
UNREADABLE = {  # events of the calendar's JSON shape that cannot be read, as a listing may end with them
    "google": [{"id": "junk1", "iCalUID": "junk1@google.com", "status": "confirmed", "summary": "Far",
                "start": {"dateTime": "9999-12-31T20:00:00-05:00"}, "end": {"dateTime": "9999-12-31T21:00:00-05:00"}},
               {"id": "junk2", "status": "confirmed", "start": "tomorrow"}],
    "outlook": [{"id": "junk1", "subject": "Far", "iCalUId": "junk1", "type": "singleInstance",
                 "start": {"dateTime": "9999-12-31T23:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "9999-12-31T23:59:00.0000000", "timeZone": "UTC"}},
                {"id": "junk2", "type": "singleInstance", "start": None}]}
EXAMPLES = Path(__file__).parent / "convergence-examples"  # failing programs, replayed first until fixed


def when(day, hour):
    start = datetime(2026, 12, day, hour, tzinfo=PARIS)
    return start, start + timedelta(hours=1)


class GoogleWorld:
    """The Google sandbox, acted on as the calendar's owner."""

    def __init__(self, google):
        self.google = google

    def clear(self):
        for event in self.google.events():
            self.google.delete(event["id"])

    def create(self, summary, location, day, hour):
        start, end = when(day, hour)
        return self.google.insert({"summary": summary, "location": location, **self._times(start, end)})["id"]

    def change(self, remote_id, name, value):
        if name == "hour":
            event = self.google.event(remote_id)
            day = datetime.fromisoformat(event["start"]["dateTime"]).day
            self.google.change(remote_id, **self._times(*when(day, value)))
        else:
            self.google.change(remote_id, **{name: value})

    def delete(self, remote_id):
        self.google.delete(remote_id)

    def live(self) -> dict:
        return {event["id"]: (event["iCalUID"], event.get("summary", ""), event.get("location", ""),
                              datetime.fromisoformat(event["start"]["dateTime"]).astimezone(PARIS).hour)
                for event in self.google.events()}

    def fault(self, kind, target=None):
        """Arm a fault for the next run; returns the id of a live event it made unreadable (`target`, if
        the world can do that: here the listing ends with junk of its own instead)."""
        if kind == "forgotten cursor":
            self.google.control("expire-sync-tokens")
        elif kind == "rate limited":
            self.google.fault(status=429, retry_after=0, times=2)
        elif kind == "outage":
            self.google.fault(status=503, retry_after=0, times=ATTEMPTS)
        elif kind == "unreadable":
            self.google.control(f"calendars/{PRIMARY}/raw-items", items=UNREADABLE["google"])

    def clear_faults(self):
        self.google.clear_faults()
        self.google.web.delete(f"{self.google.base}/__sandbox__/calendars/{PRIMARY}/raw-items").raise_for_status()

    @staticmethod
    def _times(start, end):
        return {"start": {"dateTime": start.isoformat(), "timeZone": "Europe/Paris"},
                "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Paris"}}


class OutlookWorld:
    """The Microsoft sandbox, acted on as the calendar's owner (in Outlook)."""

    def __init__(self, outlook):
        self.outlook = outlook

    def clear(self):
        for event in self.outlook.events():
            self.outlook.delete(event["id"])

    def create(self, summary, location, day, hour):
        return self.outlook.insert({"subject": summary, "location": {"displayName": location},
                                    **self._times(*when(day, hour))})["id"]

    def change(self, remote_id, name, value):
        if name == "hour":
            day = self._start(self.outlook.event(remote_id)).day
            self.outlook.change(remote_id, **self._times(*when(day, value)))
        elif name == "location":
            self.outlook.change(remote_id, location={"displayName": value})
        else:
            self.outlook.change(remote_id, subject=value)

    def delete(self, remote_id):
        self.outlook.delete(remote_id)

    def live(self) -> dict:
        return {event["id"]: (uid_of(event), event["subject"], event["location"]["displayName"],
                              self._start(event).hour) for event in self.outlook.events()}

    def fault(self, kind, target=None):
        if kind == "forgotten cursor":
            self.outlook.control("expire-delta-tokens")
        elif kind == "rate limited":
            self.outlook.fault(status=429, retry_after=0, times=2)
        elif kind == "outage":
            self.outlook.fault(status=503, retry_after=0, times=GRAPH_ATTEMPTS)
        elif kind == "unreadable":
            self.outlook.control(f"calendars/{self.outlook.calendar_id}/raw-items", items=UNREADABLE["outlook"])

    def clear_faults(self):
        self.outlook.clear_faults()
        self.outlook.web.delete(
            f"{self.outlook.base}/__sandbox__/calendars/{self.outlook.calendar_id}/raw-items").raise_for_status()

    @staticmethod
    def _start(event):
        return datetime.fromisoformat(event["start"]["dateTime"][:26]).replace(tzinfo=UTC).astimezone(PARIS)

    @staticmethod
    def _times(start, end):
        return {"start": {"dateTime": start.replace(tzinfo=None).isoformat(), "timeZone": "Romance Standard Time"},
                "end": {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": "Romance Standard Time"}}


class MemoryWorld:
    """The in-memory provider's service, acted on as the calendar's owner."""

    def __init__(self, service):
        self.service, self.made = service, 0

    def clear(self):
        self.service.calendars.clear()
        self.service.faults.clear()
        self.service.add_calendar(PRIMARY, is_primary=True)

    def create(self, summary, location, day, hour):
        from calendarsync.core.event import Event

        self.made += 1
        remote_id = f"owner{self.made}"
        start, end = when(day, hour)
        self.service.put(PRIMARY, remote_id, Event(uid=f"{remote_id}@memory", summary=summary, location=location,
                                                   start=start.astimezone(ZoneInfo("UTC")),
                                                   end=end.astimezone(ZoneInfo("UTC")), time_zone="Europe/Paris"))
        return remote_id

    def change(self, remote_id, name, value):
        from dataclasses import replace

        event = self.service.live(PRIMARY)[remote_id]
        if name == "hour":
            day = event.start.astimezone(PARIS).day
            start, end = when(day, value)
            event = replace(event, start=start.astimezone(ZoneInfo("UTC")), end=end.astimezone(ZoneInfo("UTC")))
        else:
            event = replace(event, **{name: value})
        self.service.put(PRIMARY, remote_id, event)

    def delete(self, remote_id):
        self.service.put(PRIMARY, remote_id, None)

    def live(self) -> dict:
        return {remote_id: (event.uid, event.summary, event.location, event.start.astimezone(PARIS).hour)
                for remote_id, event in self.service.live(PRIMARY).items()}

    def fault(self, kind, target=None):
        if kind == "forgotten cursor":
            self.service.forget_cursors(PRIMARY)
        elif kind == "rate limited":
            pass  # the in-memory service has no rate limits
        elif kind == "outage":
            self.service.fail("changes")
        elif kind == "unreadable" and target in self.service.live(PRIMARY):  # linked or not, it cannot be read
            self.service.spoiled.add(target)
            return target
        return None

    def clear_faults(self):
        """As in a real calendar, an unreadable event is listed again once it changed into a readable one."""
        self.service.faults.clear()
        for remote_id in self.service.spoiled:
            if remote_id in self.service.live(PRIMARY):
                self.service.put(PRIMARY, remote_id, self.service.live(PRIMARY)[remote_id])
        self.service.spoiled.clear()


@dataclass
class Thing:
    """One appointment as the model knows it: its ids on each side (once known), the values both sides
    last agreed on, and what each side changed since."""

    action_id: int | None
    remote_id: str | None
    agreed: dict
    edits: dict = field(default_factory=lambda: {"local": {}, "remote": {}})
    deleted: set = field(default_factory=set)  # "local", "remote"
    since: int | None = None  # the failure count when it first changed after the last clean run
    edited: int | None = None  # ... when one side first edited it
    deleted_at: int | None = None  # ... when one side last deleted it (a failed run may have brought it back)

    def changed(self, failures, *, deleting=False):
        if self.since is None:
            self.since = failures
        if deleting:
            self.deleted_at = failures
        if not deleting and self.edited is None:
            self.edited = failures


class Convergence(RuleBasedStateMachine):
    world = None  # set by the test
    calendar = None
    owner = None

    def __init__(self):
        super().__init__()
        self.things: list[Thing] = []
        self.failures = 0
        self.counter = 0
        self.fault = self.stage = None

    @initialize()
    def start_empty(self):
        Action.objects.filter(owner=self.owner).delete()
        for model in (EventLink, OutboxEntry, ConflictRecord, TrashedAction, SyncRun):
            model.objects.filter(calendar=self.calendar).delete()
        self.calendar.cursor, self.calendar.window_start, self.calendar.hold = "", None, ""
        self.calendar.save()
        self.world.clear()

    def value(self, name, hour):
        self.counter += 1
        return hour if name == "hour" else f"{name} {self.counter}"

    def local_action(self, thing):
        return Action.objects.filter(pk=thing.action_id).first() if thing.action_id else None

    # Edits on each side -----------------------------------------------------------------------

    @rule(day=st.integers(1, 20), hour=st.integers(7, 18))
    def create_in_the_crm(self, day, hour):
        summary, location = self.value("summary", 0), self.value("location", 0)
        action = factories.appointment(self.owner, f"2026-12-{day:02} {hour:02}:00", subject=summary,
                                       location=location)
        self.things.append(Thing(action.pk, None, {"summary": summary, "location": location, "hour": hour}))
        self.things[-1].changed(self.failures)

    @rule(day=st.integers(1, 20), hour=st.integers(7, 18))
    def create_in_the_calendar(self, day, hour):
        summary, location = self.value("summary", 0), self.value("location", 0)
        remote_id = self.world.create(summary, location, day, hour)
        self.things.append(Thing(None, remote_id, {"summary": summary, "location": location, "hour": hour}))
        self.things[-1].changed(self.failures)

    @precondition(lambda self: self.things)
    @rule(data=st.data(), name=st.sampled_from(FIELDS), hour=st.integers(7, 18))
    def edit_in_the_crm(self, data, name, hour):
        self.edit_locally(data.draw(st.sampled_from(self.things)), name, hour)

    @precondition(lambda self: self.things)
    @rule(data=st.data(), name=st.sampled_from(FIELDS), hour=st.integers(7, 18))
    def edit_in_the_calendar(self, data, name, hour):
        self.edit_remotely(data.draw(st.sampled_from(self.things)), name, hour)

    @precondition(lambda self: any(thing.action_id and thing.remote_id for thing in self.things))
    @rule(data=st.data(), names=st.tuples(st.sampled_from(FIELDS), st.sampled_from(FIELDS)),
          hours=st.tuples(st.integers(7, 18), st.integers(7, 18)))
    def edit_on_both_sides(self, data, names, hours):
        """One appointment edited on both sides between two runs: merged, or in conflict."""
        thing = data.draw(st.sampled_from([thing for thing in self.things if thing.action_id and thing.remote_id]))
        self.edit_locally(thing, names[0], hours[0])
        self.edit_remotely(thing, names[1], hours[1])

    def edit_locally(self, thing, name, hour):
        action = self.local_action(thing)
        if action is None:
            return  # not in the CRM (yet, or any more)
        value = self.value(name, hour)
        if name == "hour":
            crm.action_move(action=action, start=action.start.astimezone(PARIS).replace(hour=value))
        else:
            crm.action_update(action=action, **{"subject" if name == "summary" else name: value})
        self.edited(thing, "local", name, value)

    def edit_remotely(self, thing, name, hour):
        if thing.remote_id not in self.world.live():
            return
        value = self.value(name, hour)
        self.world.change(thing.remote_id, name, value)
        self.edited(thing, "remote", name, value)

    def edited(self, thing, side, name, value):
        if side in thing.deleted:  # a failed run brought it back since that side deleted it: a new version,
            thing.deleted.discard(side)  # which that side now wants; what it did before went with its deletion
            thing.edits[side] = {}
        thing.edits[side][name] = value
        thing.changed(self.failures)

    @precondition(lambda self: self.things)
    @rule(data=st.data())
    def delete_in_the_crm(self, data):
        thing = data.draw(st.sampled_from(self.things))
        action = self.local_action(thing)
        if action is None:
            return
        crm.action_delete(action=action)
        thing.deleted.add("local")
        thing.changed(self.failures, deleting=True)

    @precondition(lambda self: self.things)
    @rule(data=st.data())
    def delete_in_the_calendar(self, data):
        thing = data.draw(st.sampled_from(self.things))
        if thing.remote_id not in self.world.live():
            return
        self.world.delete(thing.remote_id)
        thing.deleted.add("remote")
        thing.changed(self.failures, deleting=True)

    # Runs -------------------------------------------------------------------------------------

    @rule(fault=st.sampled_from(FAULTS), stage=st.sampled_from(engine.STAGES), chosen=st.integers(0, 50))
    def sync(self, fault, stage, chosen):
        FIGURES["runs"] += 1
        FIGURES[f"fault: {fault}"] += 1
        self.fault, self.stage = fault, stage
        known = [thing.remote_id for thing in self.things if thing.remote_id]  # in an order the program decides
        spoiled = self.world.fault(fault, known[chosen % len(known)] if known else None)
        try:
            run = engine.sync(self.calendar.pk)
            failed = bool(run.error)
        except Died:
            failed = True
        if fault in ("crash", "killed", "lease lost"):
            lease_runs_out(self.calendar)  # the dead worker's, or the one that took the calendar over
        if RemoteCalendar.objects.filter(pk=self.calendar.pk).exclude(hold="").exists():
            services.calendar_resume(self.owner, self.calendar)  # held for many deletions: the user agrees
        self.world.clear_faults()
        self.fault = None
        self.calendar.refresh_from_db()
        self.follow_links()
        if failed and fault == "outage":
            pass  # refused at its first request: nothing was read or written, no base moved
        elif failed:
            self.failures += 1  # it may have written anything up to where it stopped
        else:
            self.check_agreement(spoiled)

    @invariant()
    def count_steps(self):
        FIGURES["steps"] += 1

    def teardown(self):
        if self.things:  # faults stop and one run brings both sides together
            self.sync(None, engine.STAGES[0], 0)

    def after_writes(self):
        if self.fault == "crash":
            self.fault = None
            raise Died

    def reached(self, stage):
        if self.fault == "killed" and stage == self.stage:
            self.fault = None
            raise Died
        if self.fault == "lease lost" and stage == self.stage:  # the run stalled past its lease meanwhile
            self.fault = None
            RemoteCalendar.objects.filter(pk=self.calendar.pk).update(lease_owner="another-worker")

    # Checks -----------------------------------------------------------------------------------

    def follow_links(self):
        """Learn each thing's id on the other side from the links (an event recreated gets a new one)."""
        links = list(EventLink.objects.filter(calendar=self.calendar).values_list("action_id", "remote_id"))
        by_remote, by_action = {r: a for a, r in links}, dict(links)
        for thing in self.things:
            if thing.remote_id in by_remote:
                thing.action_id = by_remote[thing.remote_id]
            elif thing.action_id in by_action:
                thing.remote_id = by_action[thing.action_id]

    def check_agreement(self, spoiled=None):
        """After a clean run; `spoiled`: the remote id of an event the run could not read, left as it was on
        both sides (its thing is checked after a later run)."""
        remote = self.world.live()
        actions = {action.pk: (action.uid, action.subject, action.location, action.start.astimezone(PARIS).hour)
                   for action in Action.objects.filter(owner=self.owner)}
        links = dict(EventLink.objects.filter(calendar=self.calendar).values_list("remote_id", "action_id"))
        held = [thing for thing in self.things if spoiled is not None and thing.remote_id == spoiled]
        self.things = [thing for thing in self.things if thing not in held]
        remote.pop(spoiled, None)
        actions.pop(links.pop(spoiled, None), None)
        assert len({value[0] for value in remote.values()}) == len(remote), f"an event twice in Google: {remote}"
        assert len({value[0] for value in actions.values()}) == len(actions), f"an event twice in the CRM: {actions}"
        assert set(links) == set(remote), (links, remote)
        assert set(links.values()) == set(actions), (links, actions)
        for remote_id, action_id in links.items():
            assert remote[remote_id] == actions[action_id], "the two sides differ"
        survivors = []
        for thing in self.things:
            exists = thing.remote_id in links and links[thing.remote_id] == thing.action_id
            expected = self.expected(thing)
            if expected is not None:
                assert exists == bool(expected), (thing, actions, remote)
            if exists:
                values = dict(zip(FIELDS, remote[thing.remote_id][1:], strict=True))
                if isinstance(expected, dict):
                    for name, allowed in expected.items():
                        assert values[name] in allowed, (name, values, thing)
                    self.check_conflicts(thing)
                thing.agreed, thing.edits, thing.deleted = values, {"local": {}, "remote": {}}, set()
                thing.since = thing.edited = thing.deleted_at = None
                survivors.append(thing)
        assert {thing.remote_id for thing in survivors} == set(remote), "events the model does not know of"
        self.things = survivors + held

    def expected(self, thing):
        """True/False: must exist or not; a dict: must exist, with these values allowed per field; None:
        either (a failed run came between an edit and a deletion)."""
        local, remote = self.edits(thing, "local"), self.edits(thing, "remote")
        if thing.deleted == {"local", "remote"}:
            return False
        if thing.deleted:
            [gone] = thing.deleted
            kept = remote if gone == "local" else local
            if (thing.remote_id if gone == "local" else thing.action_id) is None:
                return False  # deleted before it reached the other side
            if thing.edited is not None and thing.deleted_at > thing.edited:
                return None  # a failed run between an edit and the deletion may have made the edit the base
            if not kept:
                return False
            if self.shaky(thing) and all(value == thing.agreed[name] for name, value in kept.items()):
                return None  # set back to the agreed values: an edit only if a failed run had moved the base
            allowed = {}
            for name in FIELDS:
                allowed[name] = {kept.get(name, thing.agreed[name])}
                if self.shaky(thing) and name not in kept and name in thing.edits[gone]:
                    # The deleting side's edit, which a failed run may have carried over before the deletion.
                    allowed[name].add(thing.edits[gone][name])
            return allowed
        allowed = {}
        for name in FIELDS:
            sides = [edits[name] for edits in (local, remote) if name in edits]
            allowed[name] = set(sides) or {thing.agreed[name]}
        return allowed

    def shaky(self, thing):
        return thing.since is not None and self.failures > thing.since

    def edits(self, thing, side):
        """What a side changed: a value set back to what both agreed on is no change, unless a failed run
        may have written the intermediate value to the other side (it is then the new agreement)."""
        if self.shaky(thing):
            return thing.edits[side]
        return {name: value for name, value in thing.edits[side].items() if value != thing.agreed[name]}

    def check_conflicts(self, thing):
        local, remote = self.edits(thing, "local"), self.edits(thing, "remote")
        for name in FIELDS:
            if name in local and name in remote and local[name] != remote[name] and not thing.deleted \
                    and not self.shaky(thing):
                assert ConflictRecord.objects.filter(calendar=self.calendar, action_id=thing.action_id,
                                                     group=GROUP[name]).exists(), (name, thing)


FIGURES = Counter()  # of every machine run in this process: steps, runs, faults


def run_machine(world, calendar, owner, monkeypatch, name, **limits):
    """Run the machine with fresh randomness: another few thousand steps each time. The seed is printed;
    CONVERGENCE_SEED=<seed> replays the run. A failing program is kept in EXAMPLES/<name>, committed,
    and replayed first by every run until it passes. A failure is printed whole, not shrunk: shrinking
    programs that drive a database and a server takes many minutes for little gain at these lengths."""
    machine = type("Machine", (Convergence,), {"world": world, "calendar": calendar, "owner": owner})
    current = {}

    def factory():
        current["machine"] = machine()
        return current["machine"]

    after_writes(monkeypatch, lambda: current["machine"].after_writes())  # the worker may die then
    monkeypatch.setattr(engine, "reached", lambda stage: current["machine"].reached(stage))
    run_state_machine_as_test(factory, settings=exploring(name, **limits))


def exploring(name, **limits):
    """Settings for a run of fresh programs, the failing ones kept in EXAMPLES/<name>; prints the seed."""
    seed = int(os.environ.get("CONVERGENCE_SEED") or secrets.randbits(64))
    print(f"convergence machine, {name}: seed {seed} (CONVERGENCE_SEED={seed} replays it)")
    # Where Hypothesis draws a test's seed from when none is forced; unlike --hypothesis-seed, this keeps
    # the examples database in use.
    threadlocal._hypothesis_global_random = Random(seed)
    return settings(deadline=None, database=DirectoryBasedExampleDatabase(EXAMPLES / name), print_blob=True,
                    phases=[Phase.reuse, Phase.generate], suppress_health_check=list(HealthCheck), **limits)


def explore(steps, *machine):
    """Run the machine again and again until it has taken `steps` steps, and print what it did."""
    began, before = time.perf_counter(), FIGURES.copy()
    while FIGURES["steps"] - before["steps"] < steps:
        run_machine(*machine, max_examples=100, stateful_step_count=30)
    done = FIGURES - before
    print(f"{done['steps']} steps in {time.perf_counter() - began:.0f} s;",
          ", ".join(f"{name} {count}" for name, count in sorted(done.items())))


def test_google_and_the_crm_converge_through_random_edits_and_faults(alice, calendar, google, appointment_type,
                                                                      monkeypatch):
    run_machine(GoogleWorld(google), calendar, alice, monkeypatch, "google", max_examples=12,
                stateful_step_count=14)


def test_outlook_and_the_crm_converge_through_random_edits_and_faults(alice, outlook_calendar, outlook,
                                                                      appointment_type, monkeypatch):
    run_machine(OutlookWorld(outlook), outlook_calendar, alice, monkeypatch, "outlook", max_examples=12,
                stateful_step_count=14)


def memory_world(monkeypatch):
    service = MemoryService()
    monkeypatch.setattr(services, "provider_for", lambda account: MemoryProvider(service))
    return MemoryWorld(service)


def test_the_engine_converges_with_the_in_memory_provider(alice, calendar, appointment_type, monkeypatch):
    run_machine(memory_world(monkeypatch), calendar, alice, monkeypatch, "memory", max_examples=100,
                stateful_step_count=30)


STEPS = int(os.environ.get("CONVERGENCE_STEPS", 20_000))


@pytest.mark.slow
def test_a_long_exploration_against_google(alice, calendar, google, appointment_type, monkeypatch):
    explore(STEPS, GoogleWorld(google), calendar, alice, monkeypatch, "google")


@pytest.mark.slow
def test_a_long_exploration_against_outlook(alice, outlook_calendar, outlook, appointment_type, monkeypatch):
    explore(STEPS, OutlookWorld(outlook), outlook_calendar, alice, monkeypatch, "outlook")


@pytest.mark.slow
def test_a_long_exploration_against_the_in_memory_provider(alice, calendar, appointment_type, monkeypatch):
    explore(STEPS, memory_world(monkeypatch), calendar, alice, monkeypatch, "memory")


pytestmark = pytest.mark.django_db
