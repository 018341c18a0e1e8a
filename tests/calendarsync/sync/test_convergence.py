"""Random edits on both sides, with faults, through the real engine: after a clean run both sides agree.

A Hypothesis state machine creates, edits and deletes appointments in the CRM (through the CRM's
services, so the outbox is written as in production) and events in the calendar (as their owner
would), and syncs, sometimes with a fault: a forgotten cursor, a burst of 429s, an outage, or a crash
between the remote writes and the local commit. After every run that ended cleanly it checks:

- both sides hold the same events, each linked once, none twice on either side;
- an edit made on one side only is never lost, and a field edited on both sides holds one of the two
  values (with a conflict record for the one that lost);
- a deletion takes the event from both sides unless the other side edited it meanwhile, when the
  edit wins.

Where a failed run came between an edit and a deletion, the model cannot know what the failed run
carried out before it stopped, so either outcome of that pair is accepted; where one came after a
field's first edit, a value set back to the agreed one still counts as an edit. Nothing else is loosened.
The machine runs against the Google sandbox through google-api-python-client, against the Microsoft
sandbox through msal and Graph, and, with more examples, against the in-memory provider.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

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
FAULTS = [None, None, None, "forgotten cursor", "rate limited", "outage", "crash"]


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

    def fault(self, kind):
        if kind == "forgotten cursor":
            self.google.control("expire-sync-tokens")
        elif kind == "rate limited":
            self.google.fault(status=429, retry_after=0, times=2)
        elif kind == "outage":
            self.google.fault(status=503, retry_after=0, times=ATTEMPTS)

    def clear_faults(self):
        self.google.clear_faults()

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

    def fault(self, kind):
        if kind == "forgotten cursor":
            self.outlook.control("expire-delta-tokens")
        elif kind == "rate limited":
            self.outlook.fault(status=429, retry_after=0, times=2)
        elif kind == "outage":
            self.outlook.fault(status=503, retry_after=0, times=GRAPH_ATTEMPTS)

    def clear_faults(self):
        self.outlook.clear_faults()

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

    def fault(self, kind):
        if kind == "forgotten cursor":
            self.service.forget_cursors(PRIMARY)
        elif kind == "rate limited":
            pass  # the in-memory service has no rate limits
        elif kind == "outage":
            self.service.fail("changes")

    def clear_faults(self):
        self.service.faults.clear()


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
    deleted_at: int | None = None  # ... when one side first deleted it

    def changed(self, failures, *, deleting=False):
        if self.since is None:
            self.since = failures
        if deleting and self.deleted_at is None:
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
        self.crash_armed = False

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
        thing.edits["local"][name] = value
        thing.changed(self.failures)

    def edit_remotely(self, thing, name, hour):
        if thing.remote_id not in self.world.live():
            return
        value = self.value(name, hour)
        self.world.change(thing.remote_id, name, value)
        thing.edits["remote"][name] = value
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

    @rule(fault=st.sampled_from(FAULTS))
    def sync(self, fault):
        self.crash_armed = fault == "crash"
        if fault != "crash":
            self.world.fault(fault)
        try:
            run = engine.sync(self.calendar.pk)
            failed = bool(run.error)
        except Died:
            lease_runs_out(self.calendar)
            failed = True
        if RemoteCalendar.objects.filter(pk=self.calendar.pk).exclude(hold="").exists():
            services.calendar_resume(self.owner, self.calendar)  # held for many deletions: the user agrees
        self.world.clear_faults()
        self.crash_armed = False
        self.calendar.refresh_from_db()
        self.follow_links()
        if failed:
            self.failures += 1
        else:
            self.check_agreement()

    def teardown(self):
        if self.things:  # faults stop and one run brings both sides together
            self.sync(None)

    def after_writes(self):
        if self.crash_armed:
            self.crash_armed = False
            raise Died

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

    def check_agreement(self):
        remote = self.world.live()
        actions = {action.pk: (action.uid, action.subject, action.location, action.start.astimezone(PARIS).hour)
                   for action in Action.objects.filter(owner=self.owner)}
        links = dict(EventLink.objects.filter(calendar=self.calendar).values_list("remote_id", "action_id"))
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
        self.things = survivors

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
            return {name: {kept.get(name, thing.agreed[name])} for name in FIELDS}
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


def run_machine(world, calendar, owner, monkeypatch, **limits):
    machine = type("Machine", (Convergence,), {"world": world, "calendar": calendar, "owner": owner})
    current = {}

    def factory():
        current["machine"] = machine()
        return current["machine"]

    after_writes(monkeypatch, lambda: current["machine"].after_writes())  # the worker may die then
    # The same programs at every run (derandomized); a failing one is printed whole, not shrunk: shrinking
    # programs that drive a database and a server takes many minutes for little gain at these lengths.
    run_state_machine_as_test(factory, settings=settings(
        deadline=None, derandomize=True, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), **limits))

def test_google_and_the_crm_converge_through_random_edits_and_faults(alice, calendar, google, appointment_type,
                                                                      monkeypatch):
    run_machine(GoogleWorld(google), calendar, alice, monkeypatch, max_examples=12,
                stateful_step_count=14)


def test_outlook_and_the_crm_converge_through_random_edits_and_faults(alice, outlook_calendar, outlook,
                                                                      appointment_type, monkeypatch):
    run_machine(OutlookWorld(outlook), outlook_calendar, alice, monkeypatch, max_examples=12,
                stateful_step_count=14)


def test_the_engine_converges_with_the_in_memory_provider(alice, calendar, appointment_type, monkeypatch):
    service = MemoryService()
    monkeypatch.setattr(services, "provider_for", lambda account: MemoryProvider(service))
    run_machine(MemoryWorld(service), calendar, alice, monkeypatch, max_examples=100,
                stateful_step_count=30)


pytestmark = pytest.mark.django_db
