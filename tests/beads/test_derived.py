"""The derived tables (gt/beads/derived.py) always equal a full recomputation: after random writes,
plain-git moves of the ledger (a rewind, a hand-made commit), and a damaged cache file; and what
they serve as ready and blocked is what gt.model.graph computes from every summary."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import TIMEOUT, git, make_repo
from gt.beads import contract, operations, queries
from gt.beads import derived
from gt.beads.derived import Derived, Node
from gt.beads.tracker import BEADS, Tracker
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.model import graph
from gt.model.bead import TOMBSTONE, parent_of
from gt.model.merge import strip_stamps

ME = Signature("tester", "tester@example.com")


def expected(tracker: Tracker) -> tuple[dict[str, Node], set[tuple[str, str, str]]]:
    """Nodes and edges computed from scratch with gt.model.graph, as a reference."""
    view = tracker.view()
    every = view.summaries(BEADS)
    is_blocked = graph.blocked_checker(every)

    def external(bead_id: str, seen: frozenset[str] = frozenset()) -> bool:  # a foreign dependency, or a live
        s = every[bead_id]                                                     # parent's, up the chain
        if any(d["type"] in ("blocks", "parent-child") and d["target"] not in every for d in s.get("dependencies") or ()):
            return True
        parent = parent_of(s)
        return (parent in every and every[parent]["status"] not in ("closed", TOMBSTONE) and parent not in seen
                and external(parent, seen | {bead_id}))

    nodes, edges = {}, set()
    for bead_id, s in every.items():
        if s["status"] == TOMBSTONE:
            continue
        deps = [(d["target"], d["type"]) for d in s.get("dependencies") or ()]
        edges |= {(bead_id, t, k) for t, k in deps}
        nodes[bead_id] = Node(bead_id, s.get("priority", 2), -s["_created"], s["status"], s.get("type") or "",
                              s.get("assignee") or None, is_blocked(bead_id),
                              s.get("_defer") if s.get("defer_until") else None, external(bead_id))
    return nodes, edges


def check(tracker: Tracker) -> None:
    view = tracker.view()
    derived = Derived.of(view)
    nodes, edges = expected(tracker)
    assert derived.nodes() == nodes
    assert derived.edges() == edges
    tally: dict[tuple[str, str], int] = {}
    for node in nodes.values():
        tally[(node.status, node.type)] = tally.get((node.status, node.type), 0) + 1
    assert derived.tally() == tally
    now = time.time()
    every = view.summaries(BEADS)
    ready = [i for i in graph.ready(every, now)]
    order = sorted(ready, key=lambda i: (every[i].get("priority", 2), -every[i]["_created"], i))
    assert [n.id for n in derived.ordered(ready_at=now)] == order
    blocked = graph.blocked_map(every)
    assert derived.blocked() == sorted(blocked, key=lambda i: (every[i].get("priority", 2), -every[i]["_created"], i))
    check_blocked_rows(view)
    live = Tracker.summaries(view)
    for types, statuses in ((["bug", "epic"], None), (None, ["blocked", "closed"]), (["task"], ["open"])):
        assert Tracker.select(view, types, statuses) == {
            i: s for i, s in sorted(live.items())
            if (types is None or s.get("type") in types) and (statuses is None or s["status"] in statuses)}


def reference_blocked_json(view) -> list[dict]:
    """`bd blocked --json` built whole from every summary and document, as it was before the blockrows."""
    every = view.summaries(BEADS)
    found = graph.blocked_map(every)
    order = sorted(found, key=lambda i: (every[i].get("priority", 2), -every[i]["_created"], i))
    counts = contract.blocking_dependents(every)
    docs = {d["id"]: d for d in view.docs(BEADS, order)}
    out = []
    for i in order:
        why = found[i]
        row = contract.row_json(strip_stamps(docs[i]), counts)
        out.append({**contract.blocked_json(row, why.blockers or ((why.via_parent,) if why.via_parent else ())),
                    "blocked_via_parent": why.via_parent, "blocked_status": why.by_status})
    return out


def check_blocked_rows(view) -> None:
    """The blockrows give what the whole computation gives: the same reasons, and the very same text."""
    reference = reference_blocked_json(view)
    listing = queries.blocked_listing(view, texts=True)
    assert listing is not None
    text = "[" + ", ".join(contract.blocked_listing_json(listing)) + "]"
    assert text == json.dumps(reference, ensure_ascii=False)
    every = view.summaries(BEADS)
    assert queries.blocked(view) == [(i, graph.blocked_map(every)[i]) for i in (r["id"] for r in reference)]


OPS = st.lists(st.tuples(st.sampled_from(["create", "create", "child", "block", "unblock", "close", "reopen",
                                          "status", "priority", "delete", "rewind", "hand", "damage", "defer"]),
                         st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_derived_tables_equal_a_full_recomputation(tmp_path_factory, ops):
    repo = make_repo(tmp_path_factory.mktemp("derived"))
    tracker = Tracker(discover(str(repo)))
    operations.init(tracker, ME, "gt")
    ids: list[str] = []
    commits: list[str] = []
    for op, a, b in ops:
        live = [i for i in ids if i in Tracker.summaries(tracker.view())]
        pick = live[a % len(live)] if live else None
        other = live[b % len(live)] if live else None
        try:
            if op == "create" or pick is None:
                ids.append(operations.create(tracker, ME, f"bead {len(ids)}", priority=a % 5,
                                             type=("task", "bug", "epic", "message")[b % 4]).result["id"])
            elif op == "child":
                ids.append(operations.create(tracker, ME, f"child {len(ids)}", parent=pick).result["id"])
            elif op == "block" and other and other != pick:
                operations.dep_add(tracker, ME, pick, other)
            elif op == "unblock" and other:
                operations.dep_remove(tracker, ME, pick, other)
            elif op == "close":
                operations.close(tracker, ME, [pick], force=True)
            elif op == "reopen":
                operations.reopen(tracker, ME, [pick])
            elif op == "status":
                operations.update(tracker, ME, [pick], fields={"status": ("blocked", "in_progress", "open")[b % 3]})
            elif op == "priority":
                operations.update(tracker, ME, [pick], fields={"priority": b % 5})
            elif op == "defer":
                when = "2999-01-01T00:00:00Z" if b % 2 else "2000-01-01T00:00:00Z"
                operations.update(tracker, ME, [pick], fields={"defer_until": when})
            elif op == "delete":
                operations.delete(tracker, ME, [pick], force=True)
            elif op == "rewind" and commits:  # plain git moves the ledger back (a reset, a sync's rewrite)
                git(repo, "update-ref", "refs/heads/beads", commits[a % len(commits)])
            elif op == "hand":  # a commit made with plain git: a new bead file nobody announced
                from conftest import hand_commit
                from gt.ledger.store import document_path

                new_id = f"gt-hand{len(ids)}"
                hand_commit(repo, document_path(BEADS, new_id),
                            f"id: {new_id}\ntitle: by hand\nstatus: open\npriority: {a % 5}\ntype: task\n"
                            f"created_at: '2026-01-01T00:00:{a % 60:02d}Z'\n"
                            + (f"dependencies:\n- type: blocks\n  target: {pick}\n" if b % 2 else ""))
                ids.append(new_id)
            elif op == "damage":  # a cache file cut short (a full disk, a bad copy): rebuilt, never trusted
                derived.forget()  # as the next process would find it
                for path in Path(tracker.ledger.index.root, "derived").glob("*.sqlite"):
                    path.write_bytes(path.read_bytes()[:100])
                    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                        extra.unlink(missing_ok=True)
        except Exception as exc:  # refusals (a cycle, a closed bead) change nothing
            if type(exc).__name__ not in ("GtError", "UsageError"):
                raise
        head = git(repo, "rev-parse", "beads").strip()
        if head not in commits:
            commits.append(head)
        if a % 3 == 0:  # check now and then, so several changes are followed at once
            check(tracker)
    check(tracker)


SYNC_OPS = st.lists(st.tuples(st.sampled_from(["ann", "ann", "bob", "bob", "bob sync", "ann sync", "kill"]),
                              st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=12)


def _random_write(tracker: Tracker, a: int, b: int) -> None:
    """One of the writes that change what the tables hold: a bead, a blocker, a close, a parent."""
    live = list(Tracker.summaries(tracker.view()))
    pick = live[a % len(live)] if live else None
    other = live[b % len(live)] if live else None
    try:
        if pick is None or a % 4 == 0:
            operations.create(tracker, ME, f"bead {a}", priority=a % 5, parent=other if b % 3 == 0 else None)
        elif a % 4 == 1 and other and other != pick:
            operations.dep_add(tracker, ME, pick, other)
        elif a % 4 == 2:
            operations.close(tracker, ME, [pick], force=True)
        else:
            operations.update(tracker, ME, [pick], fields={"status": ("blocked", "open")[b % 2], "priority": b % 5})
    except Exception as exc:  # refusals (a cycle, a closed bead) change nothing
        if type(exc).__name__ not in ("GtError", "UsageError"):
            raise


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SYNC_OPS)
def test_derived_tables_follow_syncs_and_killed_writers(tmp_path_factory, ops):
    """Two clones write, sync through a hub (merges of both sides' commits), and a writer process is
    killed at random moments: each clone's tables always equal a full recomputation."""
    from conftest import BIN, clone_of, guarded_hub
    from gt.beads.sync import sync

    tmp = tmp_path_factory.mktemp("synced")
    hub = guarded_hub(tmp)
    ann, bob = clone_of(hub, tmp / "ann", "ann"), clone_of(hub, tmp / "bob", "bob")
    ann("init", "--prefix", "gt")
    ann("sync")
    bob("sync")
    trackers = {"ann": Tracker(discover(str(tmp / "ann"))), "bob": Tracker(discover(str(tmp / "bob")))}
    for who in trackers.values():
        check(who)  # the tables exist from here on, and follow what comes
    for op, a, b in ops:
        if op in trackers:
            _random_write(trackers[op], a, b)
        elif op.endswith(" sync"):
            sync(trackers[op.split()[0]], ME)
        else:  # a bd process writing to ann's ledger or bringing her tables up to date, killed anywhere
            args = ["create", f"killed {a}", "-p", str(b % 5)] if b % 2 else ["blocked", "--json"]
            proc = subprocess.Popen([str(BIN / "bd"), *args], cwd=tmp / "ann",
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep((a % 25) / 100)
            proc.kill()
            proc.wait(timeout=TIMEOUT)
            derived.forget()  # as the next process would find the file
        check(trackers["ann"])
    check(trackers["bob"])


def test_a_killed_update_leaves_the_old_state_or_the_new(tmp_path):
    """kill -9 of processes bringing the tables up to date over a large change: the next reader
    sees exactly the right tables."""
    repo = make_repo(tmp_path / "r")
    tracker = Tracker(discover(str(repo)))
    operations.init(tracker, ME, "gt")
    for n in range(40):
        operations.create(tracker, ME, f"bead {n}", priority=n % 5)
    Derived.of(tracker.view())
    first = git(repo, "rev-parse", "beads").strip()
    for n in range(300):
        operations.create(tracker, ME, f"more {n}", priority=n % 5)
    git(repo, "update-ref", "refs/heads/beads", first)
    Derived.of(tracker.view())  # the tables are at the small ledger ...
    git(repo, "update-ref", "refs/heads/beads", git(repo, "rev-parse", "beads@{1}").strip())  # ... which grows
    program = ("import sys; from gt.beads.derived import Derived; from gt.beads.tracker import Tracker; "
               "from gt.ledger.gitdir import discover; Derived.of(Tracker(discover(sys.argv[1])).view())")
    for delay in (0.05, 0.15, 0.3, 0.5):
        proc = subprocess.Popen([os.sys.executable, "-c", program, str(repo)])
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=TIMEOUT)
    check(tracker)


def test_a_parent_waiting_for_another_ledger_holds_back_its_children(tmp_path):
    """A child is not ready while its parent waits for another ledger's bead: the fast path asks the
    other ledger about the parent's dependency, as the full computation does."""
    from gt.beads.queries import Filter, ready

    repo = make_repo(tmp_path / "r")
    tracker = Tracker(discover(str(repo)))
    operations.init(tracker, ME, "gt")
    parent = operations.create(tracker, ME, "epic", type="epic").result["id"]
    child = operations.create(tracker, ME, "step", parent=parent).result["id"]
    grandchild = operations.create(tracker, ME, "sub-step", parent=child).result["id"]
    from conftest import hand_commit
    from gt.ledger.store import document_path

    text = git(repo, "show", f"beads:{document_path(BEADS, parent)}")
    hand_commit(repo, document_path(BEADS, parent), text + "dependencies:\n- type: blocks\n  target: zz-foreign\n"
                if "dependencies:" not in text else text)
    foreign = {"id": "zz-foreign", "status": "open", "priority": 2, "type": "task", "_created": 0.0}

    def others(view, beads):  # the town's other ledger holds zz-foreign, open
        wanted = {d["target"] for s in beads.values() for d in s.get("dependencies") or ()}
        return {**({"zz-foreign": foreign} if "zz-foreign" in wanted else {}), **beads}

    view = tracker.view()
    slow = ready(view, Filter(), None, others)  # every summary: the reference
    fast = ready(view, Filter(), 100, others)  # the derived tables
    assert fast == slow and parent not in fast and child not in fast and grandchild not in fast
    assert {n.id for n in Derived.of(view).nodes().values() if n.external} == {parent, child, grandchild}


def test_blocking_an_epic_with_thousands_of_descendants_is_followed_to_the_last_leaf(tmp_path):
    """One write that blocks a bead with 40 sub-epics of 60 children each: every one of the 2,441
    beads is blocked in the derived tables, as in the full computation, and unblocked again."""
    from gt.beads.exchange import import_docs
    from gt.model.bead import new_bead, now_iso

    repo = make_repo(tmp_path / "r")
    tracker = Tracker(discover(str(repo)))
    operations.init(tracker, ME, "gt")
    now = now_iso()
    docs = [new_bead("gt-top", "top", actor="t", now=now, type="epic")]
    for a in range(40):
        docs.append(new_bead(f"gt-top.{a}", f"sub {a}", actor="t", now=now, type="epic",
                             dependencies=[{"type": "parent-child", "target": "gt-top"}]))
        docs += [new_bead(f"gt-top.{a}.{b}", f"leaf {a}.{b}", actor="t", now=now,
                          dependencies=[{"type": "parent-child", "target": f"gt-top.{a}"}]) for b in range(60)]
    import_docs(tracker, ME, docs, "test")
    check(tracker)
    operations.update(tracker, ME, ["gt-top"], fields={"status": "blocked"})
    check(tracker)
    assert len(Derived.of(tracker.view()).blocked()) == 2441
    operations.update(tracker, ME, ["gt-top"], fields={"status": "open"})
    check(tracker)
    assert Derived.of(tracker.view()).blocked() == []


def test_blocked_rows_follow_every_field_they_print(tmp_path):
    """Each field of a `bd blocked` row that depends on other beads follows them, though the bead
    itself neither changes nor stops being blocked: its open blockers, its blocked parent, its
    dependent count; and a bead's own edit shows at once."""
    repo = make_repo(tmp_path)
    tracker = Tracker(discover(str(repo)))
    operations.init(tracker, ME, "gt")

    def new(title: str, **fields) -> str:
        return operations.create(tracker, ME, title, **fields).result["id"]

    def row(bead_id: str) -> dict:
        listing = queries.blocked_listing(tracker.view(), texts=True)
        rows = [json.loads(text) for text in contract.blocked_listing_json(listing)]
        check_blocked_rows(tracker.view())
        return next(r for r in rows if r["id"] == bead_id)

    x, y, parent_blocker = new("x"), new("y"), new("parent blocker")
    parent = new("parent")
    child = new("child", parent=parent)
    operations.dep_add(tracker, ME, child, x)
    operations.dep_add(tracker, ME, child, y)
    assert row(child)["blocked_by"] == [x, y]  # the rows are made here, and followed from now on
    operations.close(tracker, ME, [x], force=True)
    assert row(child)["blocked_by"] == [y]
    operations.dep_add(tracker, ME, parent, parent_blocker)
    assert row(child)["blocked_via_parent"] == parent
    operations.close(tracker, ME, [parent_blocker], force=True)
    assert row(child)["blocked_via_parent"] is None
    assert row(child)["dependent_count"] == 0
    dependent = new("dependent")
    operations.dep_add(tracker, ME, dependent, child)
    assert row(child)["dependent_count"] == 1
    operations.delete(tracker, ME, [dependent], force=True)
    assert row(child)["dependent_count"] == 0
    operations.update(tracker, ME, [child], fields={"title": "child, renamed ✓"})
    assert row(child)["title"] == "child, renamed ✓"
    operations.close(tracker, ME, [y], force=True)
    assert child not in {r["id"] for r in map(json.loads, contract.blocked_listing_json(
        queries.blocked_listing(tracker.view(), texts=True)))}
