"""Convoys: beads of type `convoy` in the town ledger (ids `hq-cv-…`) tracking beads of any rig.

Each tracked bead is a `tracks` dependency; progress is computed from the tracked beads, never
stored. A convoy lands (closes, and mails its `notify` addresses) when every tracked bead is closed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from gt.errors import GtError, UsageError
from gt.ledger.store import Signature, View
from gt.model import graph
from gt.model.bead import BOOKKEEPING_TYPES, QUEUED, canonical, check_title, is_closed, new_bead, now_iso, parse_time, set_status
from gt.town import layout
from gt.beads.queries import full
from gt.beads.tracker import Edit, Lookup, Tracker
from gt.town.context import routed, Town

CONVOY = "convoy"
TRACKS = "tracks"
ID_PREFIX = f"{layout.TOWN_PREFIX}-cv"


def tracked(doc: dict[str, Any]) -> list[str]:
    return [d["target"] for d in doc.get("dependencies") or () if d.get("type") == TRACKS]


def _convoys(view: View) -> dict[str, dict[str, Any]]:
    return Tracker.select(view, types=[CONVOY])


def _lookup(ids: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """The summaries of beads in whichever ledgers own them (None for a bead that is gone)."""
    found: dict[str, dict[str, Any] | None] = {}
    by_ledger: dict[str, tuple[Tracker, list[str]]] = {}
    for bead_id in ids:
        tracker = routed([bead_id])
        by_ledger.setdefault(tracker.repo.commondir, (tracker, []))[1].append(bead_id)
    for tracker, wanted in by_ledger.values():
        beads = Lookup(tracker.view())  # one shard per bead, not the whole ledger
        for bead_id in wanted:
            summary = beads.get(bead_id)
            found[bead_id] = dict(summary) if summary is not None else None
    return found


def _resolve_tracked(queries: Iterable[str]) -> list[str]:
    """Full ids of beads in any ledger of the town (each must exist and be live)."""
    out = []
    for query in queries:
        view = routed([query]).view()
        bead_id = Tracker.resolve(view, query)
        Tracker.get(view, bead_id)
        out.append(bead_id)
    return list(dict.fromkeys(out))


def tracking(town: Path, bead_ids: Iterable[str], open_only: bool = True) -> dict[str, list[str]]:
    """Bead id -> the convoys tracking it."""
    wanted = set(bead_ids)
    out: dict[str, list[str]] = {}
    for convoy_id, doc in _convoys(Town.at(town).tracker().view()).items():
        if open_only and is_closed(doc):
            continue
        for target in tracked(doc):
            if target in wanted:
                out.setdefault(target, []).append(convoy_id)
    return out


def epic_work(epic: str) -> tuple[str, list[str]]:
    """The epic's title and its workable descendants (not epics, not bookkeeping, not closed)."""
    view = routed([epic]).view()
    epic_id = Tracker.resolve(view, epic)
    beads = Tracker.summaries(view)
    out, todo = [], [epic_id]
    while todo:
        for child in graph.children(beads, todo.pop(0)):
            doc = beads[child]
            if doc.get("type") == "epic":
                todo.append(child)
            elif doc.get("type") not in BOOKKEEPING_TYPES and not is_closed(doc):
                out.append(child)
    return Tracker.get(view, epic_id)["title"], out


def create(town: Path, actor: Signature, name: str | None, beads: Iterable[str] = (), notify: Iterable[str] = (),
           from_epic: str | None = None, owned: bool = False) -> dict[str, Any]:
    from gt.beads.operations import fresh_id
    from gt.dispatch.mail import check_address

    ids = _resolve_tracked(beads)
    if from_epic:
        title, work = epic_work(from_epic)
        name = name or title
        ids = list(dict.fromkeys(ids + work))
    if not name:
        raise UsageError("a convoy needs a name (or --from-epic)")
    name = check_title(name)
    from gt.town.identity import parse

    creator = actor.name if parse(actor.name).role != "human" else "overseer"  # a person in the town
    notify = [check_address(town, a) for a in notify] or [creator]

    def build(view: View) -> Edit:
        new = fresh_id(view, ID_PREFIX, None)
        doc = new_bead(new, name, actor=actor.name, now=now_iso(), type=CONVOY,
                       dependencies=[{"type": TRACKS, "target": i} for i in ids],
                       convoy={"notify": notify, "owned": owned})
        return Edit("convoy-create", f"convoy create {new}: {name} ({len(ids)} beads)", {new: doc}, result=doc)

    doc: dict[str, Any] = Town.at(town).tracker().write(actor, build).result
    return doc


def _get_convoy(view: View, query: str) -> dict[str, Any]:
    doc = Tracker.get(view, Tracker.resolve(view, query))
    if doc.get("type") != CONVOY:
        raise GtError(f"{doc['id']} is not a convoy", code="refused")
    return doc


def add(town: Path, actor: Signature, convoy: str, beads: Iterable[str]) -> dict[str, Any]:
    """Track more beads; a landed convoy reopens."""
    ids = _resolve_tracked(beads)

    def build(view: View) -> Edit:
        doc = _get_convoy(view, convoy)
        have = set(tracked(doc))
        new = [i for i in ids if i not in have]
        if not new:
            return Edit("convoy-add", "no change", result=doc)
        doc["dependencies"] = list(doc.get("dependencies") or ()) + [{"type": TRACKS, "target": i} for i in new]
        reopened = is_closed(doc)
        if reopened:
            set_status(doc, "open", now_iso())
        doc["updated_at"] = now_iso()
        doc = canonical(doc)
        subject = f"convoy add {doc['id']}: {', '.join(new)}" + (" (reopened)" if reopened else "")
        return Edit("convoy-add", subject, {doc["id"]: doc}, result=doc)

    doc: dict[str, Any] = Town.at(town).tracker().write(actor, build).result
    return doc


def status(town: Path, convoy: str | None = None, include_closed: bool = False) -> list[dict[str, Any]]:
    """Each convoy with its tracked beads, progress and swarm (the agents hooked on its beads)."""
    view = Town.at(town).tracker().view()
    if convoy:
        ids = [_get_convoy(view, convoy)["id"]]
    else:
        ids = [i for i, d in sorted(_convoys(view).items(), key=lambda kv: kv[1].get("_created", 0.0))
               if include_closed or not is_closed(d)]
    docs = {d["id"]: d for d in full(view, ids)}
    everything = _lookup({t for i in ids for t in tracked(docs[i])})
    out = []
    for convoy_id in ids:
        doc = docs[convoy_id]
        rows = []
        for target in tracked(doc):
            bead = everything.get(target)
            rows.append({"id": target, "title": bead.get("title") if bead else None,
                         "status": bead.get("status") if bead else "missing",
                         "type": bead.get("type") if bead else None,
                         "rig": _rig_of(town, target), "assignee": bead.get("assignee") if bead else None})
        done = sum(1 for r in rows if r["status"] == "closed")
        waiting = sum(1 for r in rows if r["status"] == QUEUED)  # slung at a rig at its cap (gt queue)
        swarm = sorted({r["assignee"] for r in rows if r["assignee"] and r["status"] in ("hooked", "in_progress")})
        out.append({"id": convoy_id, "title": doc.get("title"), "status": doc.get("status"),
                    "created_at": doc.get("created_at"), "created_by": doc.get("created_by"),
                    "closed_at": doc.get("closed_at"), "completed": done, "queued": waiting, "total": len(rows),
                    "notify": (doc.get("convoy") or {}).get("notify", []), "beads": rows, "swarm": swarm})
    return out


def _rig_of(town: Path, bead_id: str) -> str | None:
    target = layout.route(town, bead_id)
    if target is None:
        return None
    return "town" if target == town.resolve() else target.parent.name


def check(town: Path, actor: Signature, only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Land every open convoy (or those of `only`) whose tracked beads are all closed; returns them."""
    tracker = Town.at(town).tracker()
    view = tracker.view()
    candidates = {i: d for i, d in _convoys(view).items() if not is_closed(d) and tracked(d)}
    if only is not None:
        wanted = set(only)
        candidates = {i: d for i, d in candidates.items() if wanted & set(tracked(d))}
    if not candidates:
        return []
    beads = _lookup({t for d in candidates.values() for t in tracked(d)})
    ready = [i for i, d in candidates.items() if all(is_closed(beads.get(t) or {}) for t in tracked(d))]
    if not ready:
        return []
    landed: list[dict[str, Any]] = []

    def build(view: View) -> Edit:
        from gt.dispatch.mail import message_doc

        landed.clear()  # build may run again: start over each time
        edit = Edit("convoy-land", f"convoy landed: {', '.join(ready)}")
        for convoy_id in ready:
            doc = Tracker.get(view, convoy_id)
            if is_closed(doc):
                continue
            now_tracked = _lookup(tracked(doc))  # as it is now, not as the check first saw it
            if not all(b is not None and is_closed(b) for b in now_tracked.values()):
                continue
            set_status(doc, "closed", now_iso(), "landed: every tracked bead is closed")
            doc["updated_at"] = now_iso()
            edit.beads[convoy_id] = canonical(doc)
            rows = [(t, now_tracked[t] or {}) for t in tracked(doc)]
            started = parse_time(doc.get("created_at")) or 0.0
            hours = (parse_time(doc["closed_at"]) or started) - started
            lines = [f"Convoy {convoy_id} ({doc['title']}) landed: {len(rows)} beads closed in {_duration(hours)}."]
            lines += [f"  - {t} {b.get('title')}" + (f" ({b['assignee']})" if b.get("assignee") else "")
                      for t, b in rows]
            notify = (doc.get("convoy") or {}).get("notify") or [doc.get("created_by")]
            note = message_doc(view, actor.name, notify, f"Convoy landed: {doc['title']}", "\n".join(lines))
            edit.beads[note["id"]] = note
            landed.append({"id": convoy_id, "title": doc["title"], "notified": notify, "mail": note["id"]})
        return edit

    tracker.write(actor, build)
    return landed


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)}s"
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def after_close(town: Path | None, actor: Signature, closed: Iterable[str]) -> list[dict[str, Any]]:
    """Run by every close: land the convoys that tracked these beads, if that was their last one."""
    closed = list(closed)
    if town is None or not closed:
        return []
    return check(town, actor, only=closed)


def stranded(town: Path) -> list[dict[str, Any]]:
    """Open convoys with ready work that nobody is hooked on."""
    import time

    from gt.town.context import with_other_ledgers

    ready_by_ledger: dict[str, set[str]] = {}

    def is_ready(bead_id: str) -> bool:
        tracker = routed([bead_id])
        if tracker.repo.commondir not in ready_by_ledger:
            view = tracker.view()
            beads = with_other_ledgers(view, view.summaries("beads"))
            ready_by_ledger[tracker.repo.commondir] = set(graph.ready(beads, time.time()))
        return bead_id in ready_by_ledger[tracker.repo.commondir]

    out = []
    for convoy in status(town):
        waiting = [row["id"] for row in convoy["beads"] if row["status"] == "open" and is_ready(row["id"])]
        if waiting:
            out.append({"id": convoy["id"], "title": convoy["title"], "ready": waiting})
    return out


def close(town: Path, actor: Signature, convoy: str, force: bool = False, reason: str | None = None) -> dict[str, Any]:
    view = Town.at(town).tracker().view()
    doc = _get_convoy(view, convoy)
    beads = _lookup(tracked(doc))
    open_ones = [t for t, b in beads.items() if b and not is_closed(b)]
    if open_ones and not force:
        raise GtError(f"{doc['id']} still tracks open beads ({', '.join(open_ones[:5])}): use --force", code="refused")

    def build(view: View) -> Edit:
        current = _get_convoy(view, convoy)
        if is_closed(current):
            return Edit("convoy-close", "no change", result=current)
        set_status(current, "closed", now_iso(), reason or "closed by hand")
        current["updated_at"] = now_iso()
        current = canonical(current)
        return Edit("convoy-close", f"convoy close {current['id']}" + (f": {reason}" if reason else ""),
                    {current["id"]: current}, result=current)

    closed: dict[str, Any] = Town.at(town).tracker().write(actor, build).result
    return closed
