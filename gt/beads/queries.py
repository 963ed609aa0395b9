"""Bead commands that read: list, ready, blocked, search, count and stats."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from gt.errors import UsageError
from gt.ledger.store import View
from gt.model import graph
from gt.model.bead import BOOKKEEPING_TYPES, is_closed, parent_of
from gt.model.merge import strip_stamps
from gt.beads.tracker import BEADS, Tracker

SORTS = ("priority", "created", "updated")


@dataclass
class Filter:
    """The filters `list` and `ready` share; None means 'any'."""

    statuses: tuple[str, ...] | None = None
    priority: int | None = None
    type: str | None = None
    assignee: str | None = None
    labels: tuple[str, ...] = ()
    parent: str | None = None

    def matches(self, doc: dict[str, Any]) -> bool:
        return (
            (self.statuses is None or doc.get("status") in self.statuses)
            and (self.priority is None or doc.get("priority") == self.priority)
            and (self.type is None or doc.get("type") == self.type)
            and (self.assignee is None or doc.get("assignee") == self.assignee)
            and all(label in (doc.get("labels") or ()) for label in self.labels)
            and (self.parent is None or parent_of(doc) == self.parent)
        )


def _sorted(beads: dict[str, dict[str, Any]], ids: Iterable[str], sort: str) -> list[str]:
    if sort == "priority":
        return sorted(ids, key=lambda i: graph.sort_key(beads[i]))
    if sort == "created":
        return sorted(ids, key=lambda i: -beads[i].get("_created", 0.0))
    if sort == "updated":
        return sorted(ids, key=lambda i: -beads[i].get("_updated", 0.0))
    raise UsageError(f"invalid sort {sort!r}: use one of {', '.join(SORTS)}")


def full(view: View, ids: list[str]) -> list[dict[str, Any]]:
    """The beads as users see them: full documents without merge stamps."""
    return [shown(strip_stamps(doc)) for doc in view.docs(BEADS, ids)]


def shown(doc: dict[str, Any]) -> dict[str, Any]:
    """A bead as commands print it (a copy where it differs): each comment names its bead."""
    comments = doc.get("comments")
    if not isinstance(comments, list) or not comments:
        return doc
    return {**doc, "comments": [shown_comment(doc["id"], c) for c in comments]}


def shown_comment(bead_id: str, comment: dict[str, Any]) -> dict[str, Any]:
    """A comment as commands print it: `issue_id` (the bead's id, as in the original beads' JSON) after its id."""
    if not isinstance(comment, dict):
        return comment
    return {"id": comment.get("id"), "issue_id": bead_id, **{k: v for k, v in comment.items() if k not in ("id", "issue_id")}}


def list_beads(view: View, flt: Filter, include_closed: bool = False, limit: int | None = 50, sort: str = "priority") -> list[str]:
    beads = view.summaries(BEADS)
    if flt.parent is not None:
        flt.parent = Tracker.resolve(view, flt.parent)
    hidden = ("tombstone",) if include_closed or flt.statuses is not None else ("tombstone", "closed")
    ids = [i for i, doc in beads.items() if doc.get("status") not in hidden and flt.matches(doc)]
    ids = _sorted(beads, ids, sort)
    return ids[:limit] if limit else ids


def across(views: list[View], pick: Callable[[View], list[str]], limit: int | None,
           sort: str = "priority") -> list[tuple[View, str]]:
    """What `pick` finds in each ledger, interleaved in `sort` order, at most `limit`."""
    if len(views) == 1:
        return [(views[0], i) for i in pick(views[0])]
    found = [(view, i, beads[i]) for view in views for beads in (view.summaries(BEADS),) for i in pick(view)]
    order = _sorted({str(n): doc for n, (_, _, doc) in enumerate(found)}, [str(n) for n in range(len(found))], sort)
    pairs = [(found[int(n)][0], found[int(n)][1]) for n in order]
    return pairs[:limit] if limit else pairs


def full_across(pairs: list[tuple[View, str]]) -> list[dict[str, Any]]:
    """`full` for beads from several ledgers, in the given order."""
    docs: dict[tuple[int, str], dict[str, Any]] = {}
    views = {id(view): view for view, _ in pairs}
    for key, view in views.items():
        ids = [i for v, i in pairs if v is view]
        docs.update(((key, doc["id"]), doc) for doc in full(view, ids))
    return [docs[(id(view), i)] for view, i in pairs]


Others = Callable[[View, dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]


def own_only(view: View, beads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """No other ledgers: outside a town, dependencies on beads elsewhere are unknown."""
    return beads


def ready(view: View, flt: Filter, limit: int | None = None, others: Others = own_only) -> list[str]:
    """Ready beads of `view` passing `flt`; `others` adds the beads of other ledgers they depend on."""
    own = view.summaries(BEADS)  # tombstones included: readiness already treats them as gone
    beads = others(view, own)
    ids = [i for i in graph.ready(beads, time.time()) if i in own and flt.matches(beads[i])]
    return ids[:limit] if limit else ids


def blocked(view: View, others: Others = own_only) -> list[tuple[str, graph.Blocked]]:
    own = Tracker.summaries(view)
    beads = others(view, own)
    found = graph.blocked_map(beads)
    return [(i, found[i]) for i in _sorted(beads, found, "priority") if i in own]


def search(view: View, text: str, include_closed: bool = True) -> list[str]:
    needle = text.lower()
    if not needle.strip():
        raise UsageError("empty search text")
    hits = []
    for doc in view.docs(BEADS):
        if doc.get("status") == "tombstone" or (not include_closed and is_closed(doc)):
            continue
        haystack = [doc.get("id", ""), doc.get("title", ""), doc.get("description", ""), doc.get("notes", ""),
                    doc.get("design", ""), doc.get("acceptance_criteria", "")]
        haystack += [c.get("text", "") for c in doc.get("comments") or ()]
        if any(needle in str(h).lower() for h in haystack):
            hits.append(doc["id"])
    beads = Tracker.summaries(view)
    return _sorted(beads, [h for h in hits if h in beads], "priority")


def stats(view: View) -> dict[str, Any]:
    beads = Tracker.summaries(view)
    by_status = Counter(d.get("status") for d in beads.values())
    by_type = Counter(d.get("type") or "task" for d in beads.values())  # a hand-written file may lack one
    by_priority = Counter(f"P{d.get('priority')}" for d in beads.values())
    blocked_now = graph.blocked_map(beads)
    return {
        "total": len(beads),
        "open": sum(1 for d in beads.values() if not is_closed(d)),
        "closed": by_status.get("closed", 0),
        "ready": len(graph.ready(beads, time.time())),
        "blocked": len(blocked_now),
        "by_status": dict(sorted(by_status.items())),
        "by_type": dict(sorted(by_type.items())),
        "by_priority": dict(sorted(by_priority.items())),
        "bookkeeping": sum(1 for d in beads.values() if d.get("type") in BOOKKEEPING_TYPES),
    }


def merge_requests(view: View, source: str | None = None) -> list[dict[str, Any]]:
    """The ledger's merge requests (for one source bead), oldest first."""
    from gt.model.merge_request import fields, is_merge_request

    docs = full(view, [i for i, d in Tracker.summaries(view).items() if is_merge_request(d)])
    if source:
        docs = [d for d in docs if fields(d).get("source") == source]
    return sorted(docs, key=lambda d: str(d.get("created_at", "")))
