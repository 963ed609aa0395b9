"""Beads in the original bd's JSON shapes, which the tools built for beads parse (beads-mcp, viewers).

Our documents keep their storage (`type`, dependencies as `{type, target}`); only what `--json`
prints moves. The shapes, as in the original's `internal/types`:
- `issue_json`: a bare `Issue` (create, update, close, reopen, note): `issue_type`, labels, no
  dependencies and no comments.
- `row_json`: `IssueWithCounts` (list, ready, search): dependencies as raw records `{issue_id,
  depends_on_id, type, …}`, `dependency_count`/`dependent_count` (blocking edges only, as the
  original counts), `comment_count`, `parent`.
- `blocked_json`: a row plus `blocked_by_count` and `blocked_by`.
- `details_json`: `IssueDetails` (show): the linked beads in full with `dependency_type`, both ways,
  comments with `issue_id`, and the epic's child counts.
Our own fields (metadata, due_at, close_reason, …) stay beside the original's; empty lists are left
out, as the original's `omitempty` does.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from gt.ledger.store import View
from gt.model.bead import BLOCKING, PARENT, is_deleted, parent_of
from gt.model.merge import strip_stamps
from gt.beads.tracker import BEADS

if TYPE_CHECKING:
    from gt.beads.derived import BlockedRow
    from gt.model.graph import Blocked

Doc = Mapping[str, Any]
LEFT_OUT = frozenset({"type", "dependencies", "comments", "stamps"})


def issue_json(doc: Doc) -> dict[str, Any]:
    """A bead as the original's bare `Issue`."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "type":
            out["issue_type"] = value
        elif key not in LEFT_OUT and not (key == "labels" and not value):
            out[key] = value
    out.setdefault("issue_type", "task")  # a hand-written file may lack one
    return out


def raw_dependencies(doc: Doc) -> list[dict[str, Any]]:
    """The bead's dependencies as the original's records `{issue_id, depends_on_id, type, …}`."""
    return [{"issue_id": doc["id"], "depends_on_id": d.get("target"), "type": d.get("type"),
             **{k: v for k, v in d.items() if k not in ("target", "type")}}
            for d in doc.get("dependencies") or () if isinstance(d, dict)]


def comment_json(bead_id: str, comment: Any) -> Any:
    """A comment as commands print it: `issue_id` (the bead's id) after its id."""
    if not isinstance(comment, dict):
        return comment
    return {"id": comment.get("id"), "issue_id": bead_id, **{k: v for k, v in comment.items() if k not in ("id", "issue_id")}}


def blocking_dependents(beads: Mapping[str, Doc]) -> Counter[str]:
    """How many live beads each bead blocks through a `blocks` dependency (the original's dependent_count)."""
    counts: Counter[str] = Counter()
    for doc in beads.values():
        if not is_deleted(doc):
            for dep in doc.get("dependencies") or ():
                if dep.get("type") == BLOCKING:
                    counts[dep.get("target")] += 1
    return counts


def row_json(doc: Doc, dependents: Mapping[str, int]) -> dict[str, Any]:
    """A bead as a row of list, ready and search (the original's `IssueWithCounts`)."""
    out = issue_json(doc)
    deps = raw_dependencies(doc)
    if deps:
        out["dependencies"] = deps
    out["dependency_count"] = sum(1 for d in deps if d["type"] == BLOCKING)
    out["dependent_count"] = dependents.get(doc["id"], 0)
    out["comment_count"] = len(doc.get("comments") or ())
    parent = parent_of(doc)
    if parent:
        out["parent"] = parent
    return out


BETWEEN_PARTS = ', "dependent_count": %d, '  # what joins a row's two `row_parts`


def row_parts(doc: Doc) -> tuple[str, str]:
    """A row's JSON text around its `dependent_count` (the one field that depends on other beads):
    the text before it, without the closing brace, and the text after it, from the next key on."""
    row = row_json(doc, {})  # issue_json leaves the stamps out
    keys = list(row)
    at = keys.index("dependent_count")
    before = json.dumps({k: row[k] for k in keys[:at]}, ensure_ascii=False)
    after = json.dumps({k: row[k] for k in keys[at + 1:]}, ensure_ascii=False)
    return before[:-1], after[1:]


def blocked_row_text(pre: str, post: str, dependents: int, blockers: tuple[str, ...], via: str | None,
                     by_status: bool) -> str:
    """A row of `bd blocked --json` (`blocked_json` with `blocked_via_parent` and `blocked_status`)
    made from `row_parts`: the same text json.dumps gives for the row built whole."""
    from json.encoder import encode_basestring as quoted  # json.dumps(text, ensure_ascii=False)

    # as the original: a bead held back by its blocked parent is blocked by that parent
    shown = blockers or ((via,) if via else ())
    return (f'{pre}{BETWEEN_PARTS % dependents}{post[:-1]}, "blocked_by_count": {len(shown)}, '
            f'"blocked_by": [{", ".join(map(quoted, shown))}], '
            f'"blocked_via_parent": {"null" if via is None else quoted(via)}, '
            f'"blocked_status": {"true" if by_status else "false"}}}')


def blocked_listing_json(listing: list[tuple[BlockedRow, Blocked] | str]) -> list[str]:
    """The rows of `bd blocked --json` of a listing from gt.beads.queries.blocked_listing, each as
    compact JSON text."""
    return [item if isinstance(item, str) else _composed(*item) for item in listing]


def _composed(row: BlockedRow, why: Blocked) -> str:
    pre, post = row.parts
    return blocked_row_text(pre, post, row.dependents, why.blockers, why.via_parent, why.by_status)


def rows_json(view: View, ids: list[str]) -> list[dict[str, Any]]:
    """`row_json` for these beads of one ledger, in order."""
    from gt.beads.derived import derived_of

    derived = derived_of(view) if len(ids) < 1000 else None  # the reverse index, for these beads only
    dependents = derived.blocking_dependents(ids) if derived is not None else blocking_dependents(view.summaries(BEADS))
    docs = {d["id"]: d for d in view.docs(BEADS, ids)}
    return [row_json(strip_stamps(docs[i]), dependents) for i in ids if i in docs]


def blocked_json(row: dict[str, Any], blockers: Iterable[str]) -> dict[str, Any]:
    """A row of `bd blocked`: the original's `blocked_by_count` and `blocked_by` (ids)."""
    blocked_by = list(blockers)
    return {**row, "blocked_by_count": len(blocked_by), "blocked_by": blocked_by}


def details_json(view: View, doc: Doc) -> dict[str, Any]:
    """A bead as `bd show` prints it (the original's `IssueDetails`)."""
    bead_id = doc["id"]
    out = issue_json(doc)
    attempts = doc.get("attempts")  # ours: the retry breaker's count (gt.dispatch.attempts)
    out["attempts"] = attempts if type(attempts) is int and attempts > 0 else 0
    comments = doc.get("comments") or []
    if comments:
        out["comments"] = [comment_json(bead_id, c) for c in comments]
    parent = parent_of(doc)
    if parent:
        out["parent"] = parent
    from gt.beads.derived import dependents_of

    forward = [(d.get("target"), d.get("type")) for d in doc.get("dependencies") or () if isinstance(d, dict)]
    backward = [(other, kind) for other, kind in dependents_of(view, bead_id) if other != bead_id]
    # only the linked beads' documents are read (one block each), not their shards' summaries
    beads = {d["id"]: d for d in view.docs(BEADS, sorted({i for i, _ in forward + backward if isinstance(i, str)}))
             if not is_deleted(d)}
    linked = {i: issue_json(strip_stamps(d)) for i, d in beads.items()}
    # Dependencies on beads this ledger does not hold are left out, as the original's join does.
    dependencies = [{**linked[i], "dependency_type": t} for i, t in forward if i in linked]
    dependents = [{**linked[i], "dependency_type": t} for i, t in sorted(backward, key=lambda p: str(p[0])) if i in linked]
    if dependencies:
        out["dependencies"] = dependencies
    if dependents:
        out["dependents"] = dependents
    children = [i for i, t in backward if t == PARENT and i in beads]
    if doc.get("type") == "epic" and children:
        closed = sum(1 for i in children if beads[i].get("status") == "closed")
        out.update(epic_total_children=len(children), epic_closed_children=closed,
                   epic_closeable=closed == len(children))
    return out
