"""The planner: what each combination of changes on the two sides turns into, and that applying a plan
makes the two sides agree."""

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from calendarsync.core.event import GROUPS, Event
from calendarsync.core.merge import Policy
from calendarsync.core.normalize import fingerprint, normalized
from calendarsync.core.plan import Direction, Link, match, plan

NINE = datetime(2026, 11, 23, 9, tzinfo=UTC)
TEN = datetime(2026, 11, 23, 10, tzinfo=UTC)
BASE = Event("uid-1", summary="Visit", location="Lyon", start=NINE, end=TEN, time_zone="Europe/Paris")
LINK = Link("a1", "r1", BASE)
BOTH, IMPORT, EXPORT = Direction.BOTH, Direction.IMPORT, Direction.EXPORT


def kinds(result):
    return [op.kind for op in result.ops]


def test_one_sided_edits_go_to_the_other_side():
    pushed = plan([LINK], {"a1": replace(BASE, location="Paris")}, {}, direction=BOTH, current_remote={"r1": BASE})
    assert kinds(pushed) == ["update_remote"]
    assert pushed.ops[0].event.location == "Paris"
    pulled = plan([LINK], {}, {"r1": replace(BASE, summary="Visit ACME")}, direction=BOTH, current_local={"a1": BASE})
    assert kinds(pulled) == ["update_local"]


def test_edits_on_both_sides_merge_and_conflicts_are_recorded():
    both = plan([LINK], {"a1": replace(BASE, location="Paris")}, {"r1": replace(BASE, summary="Visit ACME")},
                direction=BOTH)
    assert kinds(both) == ["update_local", "update_remote"]
    assert (both.ops[0].event.summary, both.ops[0].event.location) == ("Visit ACME", "Paris")
    clash = plan([LINK], {"a1": replace(BASE, location="Nice")}, {"r1": replace(BASE, location="Paris")},
                 direction=BOTH, local_times={"a1": datetime(2026, 11, 22, tzinfo=UTC)},
                 remote_times={"r1": datetime(2026, 11, 21, tzinfo=UTC)})
    assert kinds(clash) == ["update_remote"]
    assert clash.ops[0].conflicts[0].remote == {"location": "Paris"}


def test_the_same_change_on_both_sides_only_moves_the_base():
    same = replace(BASE, location="Paris")
    assert kinds(plan([LINK], {"a1": same}, {"r1": same}, direction=BOTH)) == ["link"]
    assert kinds(plan([LINK], {"a1": BASE}, {"r1": BASE}, direction=BOTH)) == []


def test_deletions_give_way_to_edits():
    assert kinds(plan([LINK], {"a1": None}, {}, direction=BOTH, current_remote={"r1": BASE})) == ["delete_remote"]
    edited = replace(BASE, location="Paris")
    assert kinds(plan([LINK], {"a1": None}, {"r1": edited}, direction=BOTH)) == ["unlink", "create_local"]
    assert kinds(plan([LINK], {}, {"r1": None}, direction=BOTH, current_local={"a1": BASE})) == ["trash_local"]
    assert kinds(plan([LINK], {"a1": edited}, {"r1": None}, direction=BOTH)) == ["unlink", "create_remote"]
    assert kinds(plan([LINK], {"a1": None}, {"r1": None}, direction=BOTH)) == ["unlink"]


def test_import_only_and_export_only():
    edited_local, edited_remote = replace(BASE, location="Nice"), replace(BASE, location="Paris")
    imported = plan([LINK], {"a1": edited_local}, {"r1": edited_remote}, direction=IMPORT)
    assert kinds(imported) == ["update_local"]
    assert imported.ops[0].event.location == "Paris"
    assert kinds(plan([LINK], {"a1": None}, {}, direction=IMPORT, current_remote={"r1": BASE})) == ["unlink"]
    assert kinds(plan([], {"a9": BASE}, {}, direction=IMPORT)) == []
    exported = plan([LINK], {"a1": edited_local}, {"r1": edited_remote}, direction=EXPORT)
    assert kinds(exported) == ["update_remote"]
    assert kinds(plan([LINK], {}, {"r1": None}, direction=EXPORT, current_local={"a1": BASE})) == [
        "unlink", "create_remote"]  # put back: the CRM is the truth
    assert kinds(plan([], {}, {"r9": BASE}, direction=EXPORT)) == []


def test_new_events_are_created_on_the_other_side():
    result = plan([], {"a2": replace(BASE, uid="crm-2")}, {"r2": replace(BASE, uid="g-2")}, direction=BOTH)
    assert kinds(result) == ["create_remote", "create_local"]


def test_a_run_that_would_empty_the_crm_stops_instead():
    links = [Link(f"a{index}", f"r{index}", replace(BASE, uid=f"u{index}")) for index in range(20)]
    current = {link.local_id: link.base for link in links}
    gone = plan(links, {}, {link.remote_id: None for link in links}, direction=BOTH, current_local=current)
    assert gone.ops == []
    assert gone.paused == "20 of 20 linked events would be deleted in the CRM"
    some = plan(links, {}, {link.remote_id: None for link in links[:5]}, direction=BOTH, current_local=current)
    assert len(some.of("trash_local")) == 5


def test_first_sync_matches_by_uid_then_by_summary_and_times():
    local = {"a1": replace(BASE, uid="same"), "a2": replace(BASE, uid="crm-2", summary="Call"),
             "a3": replace(BASE, uid="crm-3", summary="Lunch")}
    remote = {"r1": replace(BASE, uid="same", location="elsewhere"), "r2": replace(BASE, uid="g-2", summary=" call "),
              "r3": replace(BASE, uid="g-3", summary="Lunch", start=TEN, end=TEN)}
    assert match(local, remote) == [Link("a1", "r1", None), Link("a2", "r2", None)]
    twice = {"a1": replace(BASE, uid="x"), "a2": replace(BASE, uid="y")}
    assert len(match(twice, {"r1": replace(BASE, uid="z")})) == 1  # one remote event pairs once
    assert match(local, remote, by_content=False) == [Link("a1", "r1", None)]  # an incremental pull: UIDs only


# Applying plans to two in-memory sides: after any edits on both, one sync makes them agree.

contents = st.fixed_dictionaries({"summary": st.sampled_from(["A", "B", "C"]),
                                  "location": st.sampled_from(["", "X", "Y"])})
edits = st.one_of(st.none(), contents)  # None: deleted


@settings(max_examples=150)
@given(st.lists(contents, max_size=6), st.data())
def test_a_sync_leaves_both_sides_equal(bases, data):
    base_events = [replace(BASE, uid=f"u{index}", **values) for index, values in enumerate(bases)]
    links = [Link(f"a{index}", f"r{index}", event) for index, event in enumerate(base_events)]
    local = {link.local_id: link.base for link in links}
    remote = {link.remote_id: link.base for link in links}
    local_changes, remote_changes = {}, {}
    for link in links:
        for side, changes, key in ((local, local_changes, link.local_id), (remote, remote_changes, link.remote_id)):
            if data.draw(st.booleans()):
                edit = data.draw(edits)
                changes[key] = None if edit is None else replace(link.base, **edit)
                side[key] = changes[key]
    for index, values in enumerate(data.draw(st.lists(contents, max_size=2))):
        local_changes[f"new-a{index}"] = local[f"new-a{index}"] = replace(BASE, uid=f"n{index}", **values)
    result = plan(links, local_changes, remote_changes, direction=BOTH, policy=Policy.MOST_RECENT,
                  current_local=local, current_remote=remote, min_links_for_guard=100)
    pairs = {link.local_id: link.remote_id for link in links}
    for op in result.ops:  # as the engine would carry them out
        if op.kind == "create_remote":
            pairs[op.local_id] = f"new-r-{op.local_id}"
            remote[pairs[op.local_id]] = op.event
        elif op.kind == "create_local":
            local_id = f"new-a-{op.remote_id}"
            pairs[local_id] = op.remote_id
            local[local_id] = op.event
        elif op.kind == "update_remote":
            remote[op.remote_id] = op.event
        elif op.kind == "update_local":
            local[op.local_id] = op.event
        elif op.kind == "delete_remote":
            remote.pop(op.remote_id)
            pairs.pop(op.local_id)
        elif op.kind == "trash_local":
            local.pop(op.local_id)
            pairs.pop(op.local_id)
        elif op.kind == "unlink":
            pairs.pop(op.local_id, None)
    live = {local_id: remote_id for local_id, remote_id in pairs.items()
            if local.get(local_id) is not None and remote.get(remote_id) is not None}
    for local_id, remote_id in live.items():
        assert fingerprint(local[local_id]) == fingerprint(remote[remote_id])
    assert sorted(fingerprint(event) for event in local.values() if event is not None) == sorted(
        fingerprint(event) for event in remote.values() if event is not None)  # nothing on one side only
    # No edit is lost: what an edit changed is on both sides now, unless it lost a conflict (then it is kept
    # in the conflict record).
    conflicted = {(op.event.uid, conflict.group) for op in result.ops for conflict in op.conflicts}
    survivors = {event.uid: normalized(event) for event in local.values() if event is not None}
    for link in links:
        for edit in (local_changes.get(link.local_id), remote_changes.get(link.remote_id)):
            if edit is None:
                continue
            for group, names in GROUPS.items():
                if any(getattr(edit, name) != getattr(link.base, name) for name in names) \
                        and (edit.uid, group) not in conflicted:
                    assert edit.uid in survivors
                    assert all(getattr(survivors[edit.uid], name) == getattr(normalized(edit), name)
                               for name in names)
