"""Convergence: replicas that work offline and sync in any order end with identical ledger trees.

Three real clones of one bare repository apply random operations (create, update each field,
labels, dependencies, comments, close, reopen, delete) between random syncs; after full rounds of
syncs every clone's ledger tree is identical, and no operation's effect is lost except where a
documented merge rule overrides it (gt/model/merge.py).
"""
from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import git
from gt.errors import GtError
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.beads import operations, sync
from gt.beads.tracker import Tracker

REPLICAS = 3
EXAMPLES = int(os.environ.get("CONVERGENCE_EXAMPLES", "20"))

ops = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 2), st.sampled_from(["alpha", "beta", "gamma"])),
    st.tuples(st.just("title"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["t1", "t2", "t3"])),
    st.tuples(st.just("priority"), st.integers(0, 2), st.integers(0, 99), st.integers(0, 4)),
    st.tuples(st.just("assignee"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["ann", "bob", ""])),
    st.tuples(st.just("notes"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["n1", "n2"])),
    st.tuples(st.just("description"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["d1\nmore", "d2"])),
    st.tuples(st.just("design"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["g1", "g2"])),
    st.tuples(st.just("type"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["task", "bug", "epic"])),
    st.tuples(st.just("defer_until"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["2030-01-01", ""])),
    st.tuples(st.just("label+"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["x", "y"])),
    st.tuples(st.just("label-"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["x", "y"])),
    st.tuples(st.just("dep+"), st.integers(0, 2), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("dep-"), st.integers(0, 2), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("comment"), st.integers(0, 2), st.integers(0, 99), st.sampled_from(["hi", "yo"])),
    st.tuples(st.just("close"), st.integers(0, 2), st.integers(0, 99)),
    st.tuples(st.just("reopen"), st.integers(0, 2), st.integers(0, 99)),
    st.tuples(st.just("delete"), st.integers(0, 2), st.integers(0, 99)),
    st.tuples(st.just("sync"), st.integers(0, 2)),
)


def _tracker(path: Path) -> Tracker:
    return Tracker(discover(str(path)))


def _live_ids(path: Path) -> list[str]:
    tracker = _tracker(path)
    if not tracker.ledger.exists():
        return []
    return sorted(Tracker.summaries(tracker.view()))


class World:
    def __init__(self, root: Path) -> None:
        self.hub = root / "hub.git"
        git(root, "init", "-q", "--bare", str(self.hub))
        self.clones = []
        for n in range(REPLICAS):
            path = root / f"r{n}"
            git(root, "clone", "-q", str(self.hub), str(path))
            self.clones.append(path)
        first = _tracker(self.clones[0])
        operations.init(first, Signature("r0"), "cv")
        self.sync(0)
        for n in range(1, REPLICAS):
            self.sync(n)
        self.created: set[str] = set()
        self.comments: set[str] = set()
        self.deleted: set[str] = set()
        self.closed: set[str] = set()
        self.reopened: set[str] = set()
        self.labels_added: set[tuple[str, str]] = set()
        self.labels_removed: set[tuple[str, str]] = set()

    def sync(self, n: int) -> None:
        sync.sync(_tracker(self.clones[n]), Signature(f"r{n}"))

    def apply(self, op: tuple) -> None:
        kind, n = op[0], op[1]
        if kind == "sync":
            self.sync(n)
            return
        tracker = _tracker(self.clones[n])
        actor = Signature(f"r{n}")
        if kind == "create":
            self.created.add(operations.create(tracker, actor, op[2]).result["id"])
            return
        ids = _live_ids(self.clones[n])
        if not ids:
            return
        bead = ids[op[2] % len(ids)]
        try:
            if kind in ("title", "priority", "assignee", "notes", "description", "design", "type", "defer_until"):
                operations.update(tracker, actor, [bead], fields={kind: op[3]})
            elif kind == "label+":
                operations.labels(tracker, actor, [bead], add=[op[3]])
                self.labels_added.add((bead, op[3]))
            elif kind == "label-":
                operations.labels(tracker, actor, [bead], remove=[op[3]])
                self.labels_removed.add((bead, op[3]))
            elif kind == "dep+":
                operations.dep_add(tracker, actor, bead, ids[op[3] % len(ids)], "related")
            elif kind == "dep-":
                operations.dep_remove(tracker, actor, bead, ids[op[3] % len(ids)])
            elif kind == "comment":
                self.comments.add(operations.comment(tracker, actor, bead, op[3]).result["id"])
            elif kind == "close":
                operations.close(tracker, actor, [bead], force=True)
                self.closed.add(bead)
            elif kind == "reopen":
                if operations.reopen(tracker, actor, [bead]).result:  # an open bead stays as it is
                    self.reopened.add(bead)
            elif kind == "delete":
                operations.delete(tracker, actor, [bead], force=True)
                self.deleted.add(bead)
        except GtError:
            pass  # a refused operation (e.g. reopening an open bead, a cycle) changes nothing


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
@given(steps=st.lists(ops, min_size=1, max_size=24))
def test_replicas_converge_and_lose_nothing(tmp_path_factory, steps):
    world = World(tmp_path_factory.mktemp("convergence"))
    for step in steps:
        world.apply(step)
    for n in [*range(REPLICAS), *range(REPLICAS)]:  # full rounds: everyone pushes, everyone pulls
        world.sync(n)
    trees = {git(path, "rev-parse", "beads^{tree}").strip() for path in world.clones}
    assert len(trees) == 1, "replicas diverged"
    assert git(world.hub, "rev-parse", "beads^{tree}").strip() in trees

    view = _tracker(world.clones[0]).view()
    docs = {doc["id"]: doc for doc in view.docs("beads")}
    assert world.created <= set(docs), "a created bead was lost"
    for bead in world.deleted:
        assert docs[bead]["status"] == "tombstone", "deletion wins over concurrent edits"
    for bead in world.closed - world.reopened - world.deleted:
        assert docs[bead]["status"] == "closed", "a close with no reopen anywhere survives"
    comment_ids = {c["id"] for doc in docs.values() for c in doc.get("comments", [])}
    assert world.comments <= comment_ids, "a comment was lost"
    for bead, label in world.labels_added - world.labels_removed:
        assert label in docs[bead].get("labels", []), "a label added and never removed was lost"
    for bead, label in world.labels_removed - world.labels_added:
        assert label not in docs[bead].get("labels", []), "a removed label came back"
