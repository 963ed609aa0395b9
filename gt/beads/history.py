"""A bead's history, read from the ledger's commits: who changed which fields, and when."""
from __future__ import annotations

from typing import Any

from gt.ledger.store import document_path
from gt.ledger.yamlio import YamlError, load_mapping
from gt.model.bead import iso_utc
from gt.beads.tracker import BEADS, Tracker

IGNORED_FIELDS = {"updated_at", "stamps"}


def _doc_at(tracker: Tracker, tree_id: bytes, path: str) -> dict[str, Any] | None:
    store = tracker.ledger.object_store
    node = store[tree_id]
    for part in path.split("/"):
        try:
            _, sha = node[part.encode()]
        except KeyError:
            return None
        node = store[sha]
    try:
        return load_mapping(node.data, path)
    except YamlError:
        return {"unreadable": True}


def _trailers(message: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in message.splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            out.setdefault(key, []).append(value.strip())
    return out


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    before, after = before or {}, after or {}
    return {
        k: [before.get(k), after.get(k)]
        for k in list(dict.fromkeys([*before, *after]))
        if k not in IGNORED_FIELDS and before.get(k) != after.get(k)
    }


def history(tracker: Tracker, bead_id: str) -> list[dict[str, Any]]:
    """Every ledger commit that touched `bead_id`, oldest first, with its field-level changes."""
    tracker.require()
    store = tracker.ledger.object_store
    path = document_path(BEADS, bead_id)
    head = tracker.ledger.head()
    if head is None:  # require() saw a head; it went away meanwhile
        return []
    seen: set[bytes] = set()
    pending = [head.encode()]
    events = []
    while pending:
        sha = pending.pop()
        if sha in seen:
            continue
        seen.add(sha)
        commit = store[sha]
        pending.extend(commit.parents)
        message = commit.message.decode("utf-8", "replace")
        trailers = _trailers(message)
        if bead_id not in trailers.get("Bead-Id", ()):
            continue
        after = _doc_at(tracker, commit.tree, path)
        before = _doc_at(tracker, store[commit.parents[0]].tree, path) if commit.parents else None
        events.append({
            "commit": sha.decode(),
            "time": iso_utc(commit.author_time, "auto"),
            "author": commit.author.decode("utf-8", "replace").split(" <")[0],
            "op": (trailers.get("Op") or [""])[0],
            "subject": message.splitlines()[0] if message else "",
            "changes": field_changes(before, after),
            "_order": commit.author_time,
        })
    events.reverse()  # the walk meets newer commits first; same-second commits keep their order
    events.sort(key=lambda e: e.pop("_order"))
    return events
