"""The bead merge is a join: commutative, associative, idempotent; and it keeps what it promises."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from gt.model.merge import merge, stamp_edit

BASE = {"id": "gt-abc", "title": "base", "type": "task", "status": "open", "priority": 2,
        "labels": ["x"], "created_at": "2026-01-01T00:00:00Z", "created_by": "root",
        "updated_at": "2026-01-01T00:00:00Z"}

edits = st.one_of(
    st.tuples(st.just("title"), st.sampled_from(["a", "b", "c"])),
    st.tuples(st.just("priority"), st.integers(0, 4)),
    st.tuples(st.just("status"), st.sampled_from(["open", "in_progress", "closed", "tombstone"])),
    st.tuples(st.just("assignee"), st.sampled_from(["ann", "bob", None])),
    st.tuples(st.just("label+"), st.sampled_from(["x", "y", "z"])),
    st.tuples(st.just("label-"), st.sampled_from(["x", "y", "z"])),
    st.tuples(st.just("dep+"), st.sampled_from(["gt-1", "gt-2"])),
    st.tuples(st.just("dep-"), st.sampled_from(["gt-1", "gt-2"])),
    st.tuples(st.just("comment"), st.sampled_from(["hi", "yo"])),
    st.tuples(st.just("notes"), st.sampled_from(["n1", "n2", None])),
)


def apply(doc, edit, actor, clock):
    kind, value = edit
    new = {k: (list(v) if isinstance(v, list) else v) for k, v in doc.items() if k != "stamps"}
    if kind in ("title", "priority", "assignee", "notes"):
        if value is None:
            new.pop(kind, None)
        else:
            new[kind] = value
    elif kind == "status":
        new["status"] = value
        if value == "closed":
            new["closed_at"] = f"2026-02-{clock:02d}T00:00:00Z"
        else:
            new.pop("closed_at", None)
    elif kind == "label+":
        new["labels"] = [*[lb for lb in new.get("labels", []) if lb != value], value]
    elif kind == "label-":
        new["labels"] = [lb for lb in new.get("labels", []) if lb != value]
    elif kind == "dep+":
        deps = [d for d in new.get("dependencies", []) if d["target"] != value]
        new["dependencies"] = deps + [{"type": "blocks", "target": value}]
    elif kind == "dep-":
        new["dependencies"] = [d for d in new.get("dependencies", []) if d["target"] != value]
    elif kind == "comment":
        new["comments"] = new.get("comments", []) + [
            {"id": f"c-{actor}-{clock}", "author": actor, "created_at": f"2026-03-{clock:02d}T00:00:00Z", "text": value}]
    new["updated_at"] = f"2026-04-{clock:02d}T00:00:00Z"
    return stamp_edit(doc, new, actor)


@st.composite
def replicas(draw):
    """Three replicas of one bead, each the result of syncing and editing in some interleaving."""
    docs = [dict(BASE), dict(BASE), dict(BASE)]
    for clock in range(1, draw(st.integers(1, 12)) + 1):
        who = draw(st.integers(0, 2))
        if draw(st.booleans()):
            docs[who] = apply(docs[who], draw(edits), f"actor{who}", clock)
        else:  # this replica pulls from another one
            other = draw(st.integers(0, 2))
            docs[who] = merge(docs[who], docs[other])
    return docs


@settings(max_examples=500, deadline=None)
@given(replicas())
def test_merge_is_a_join(docs):
    a, b, c = docs
    assert merge(a, b) == merge(b, a)
    assert merge(merge(a, b), c) == merge(a, merge(b, c))
    assert merge(a, a) == a
    assert merge(merge(a, b), b) == merge(a, b)


@settings(max_examples=300, deadline=None)
@given(st.lists(edits, min_size=1, max_size=6), st.lists(edits, min_size=1, max_size=6))
def test_edits_to_different_fields_both_survive(left, right):
    a = b = dict(BASE)
    for n, e in enumerate(left):
        a = apply(a, e, "ann", n + 1)
    for n, e in enumerate(right):
        b = apply(b, e, "bob", n + 1)
    m = merge(a, b)
    # a field only one side touched takes that side's value
    touched_a = {e[0] for e in left}
    touched_b = {e[0] for e in right}
    for field in ("title", "priority", "assignee", "notes"):
        if field in touched_a and field not in touched_b:
            assert m.get(field) == a.get(field)
        if field in touched_b and field not in touched_a:
            assert m.get(field) == b.get(field)
    # comments are never lost
    ids = {c["id"] for d in (a, b) for c in d.get("comments", [])}
    assert {c["id"] for c in m.get("comments", [])} == ids
    # a deletion on either side wins
    if "tombstone" in (a["status"], b["status"]):
        assert m["status"] == "tombstone"
    # closed_at goes with the status it belongs to
    assert (m["status"] == "closed") == ("closed_at" in m)


def test_stale_copy_does_not_undo_a_removal():
    removed = apply(BASE, ("label-", "x"), "ann", 1)
    assert merge(removed, BASE).get("labels") is None
    readded = apply(removed, ("label+", "x"), "bob", 2)
    assert merge(readded, removed)["labels"] == ["x"]


def test_close_and_concurrent_edit_both_survive():
    closed = apply(BASE, ("status", "closed"), "ann", 1)
    retitled = apply(BASE, ("title", "new title"), "bob", 1)
    m = merge(closed, retitled)
    assert m["status"] == "closed" and m["title"] == "new title" and "closed_at" in m


def test_later_edit_of_the_same_field_wins_whoever_merges():
    first = apply(BASE, ("title", "a"), "ann", 1)
    second = apply(first, ("title", "b"), "bob", 2)  # made after seeing the first
    assert merge(first, second)["title"] == "b" == merge(second, first)["title"]


def test_an_unstamped_tombstone_keeps_merges_associative():
    tomb = {**BASE, "status": "tombstone", "deleted_at": "2026-01-02T00:00:00Z", "deleted_by": "imp"}
    closed = apply(BASE, ("status", "closed"), "b", 5)
    other = apply(BASE, ("status", "tombstone"), "c", 3)
    assert merge(merge(tomb, closed), other) == merge(tomb, merge(closed, other))
