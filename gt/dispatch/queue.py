"""The scheduler: work slung at a rig beyond its `max_polecats` (or the town's `max_agents`) waits
on the ledger instead of being refused, and is dispatched as slots free.

A queued bead has status `queued`, no assignee, and a `dispatch` mapping with what it was slung
with: the target `rig`, `agent`, `model`, `merge`, `start`, `convoy`, who queued it (`by`), when
(`queued_at`), on which machine (`machine`: gt.town.rundir.machine_id) and why it waits (`reason`).
Queueing is one commit per ledger (op `queue`), like a hook, so a queue survives `gt down`/`gt up`
and travels with `gt sync`. `dispatch` slings queued beads, for each rig, in priority then
queue-age order while slots are free, under the town's sling lock (two dispatchers cannot over-fill
a rig); a queued bead hooked, closed or put back to open by someone else meanwhile is skipped. The
Deacon's tick and the refinery (after a merge frees a polecat) call it.

Machine affinity: the sling lock is this machine's, and the ledger reaches another machine only with
`gt sync`, so two machines' Deacons could both hook a bead before they sync. Each dispatches only
what was queued on it (or with no `machine`: older queues), and a bead queued elsewhere only once
it has waited the settings' `scheduler.adopt_after` seconds (it is adopted: work of a machine that
went away is not stranded). `gt sling` of a queued bead by a person works on any machine.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gt.beads.tracker import Edit, Lookup, Tracker
from gt.errors import GtError
from gt.ledger.store import Signature, View
from gt.model.bead import QUEUED, canonical, is_closed, now_iso, parse_time, reset_attempts, set_status
from gt.town import rundir
from gt.town.context import Town, routed

if TYPE_CHECKING:
    from gt.dispatch.sling import Workers

__all__ = ["QUEUED", "dispatch", "enqueue", "entries", "lock_path", "still_queued", "town_room", "unqueue"]

PARKED = ("stuck", "escalated")  # polecats waiting for a person hold no slot (as gt.roles.polecats)


def lock_path(town: Path) -> Path:
    """The town's sling lock: every allocation of polecats, and every dispatch of the queue, holds it."""
    return rundir.folder(town, "locks") / "sling.lock"


def entry(doc: dict[str, Any], here: str | None = None) -> dict[str, Any]:
    """One queued bead as `gt queue` shows it (`here`: this machine's id)."""
    info = doc.get("dispatch") or {}
    machine = info.get("machine") if isinstance(info.get("machine"), str) else None
    return {"id": doc["id"], "title": doc.get("title"), "priority": doc.get("priority", 2),
            "rig": info.get("rig"), "agent": info.get("agent"), "model": info.get("model"),
            "merge": info.get("merge", "mr"), "start": info.get("start", True), "convoy": info.get("convoy", True),
            "queued_at": info.get("queued_at"), "queued_by": info.get("by"), "reason": info.get("reason"),
            "machine": machine, "here": machine is None or machine == here, "created_at": doc.get("created_at")}


def _order(item: dict[str, Any]) -> tuple[int, float, float, str]:
    """Dispatch order: priority (0 first), then the longest waiting, then the oldest bead."""
    priority = item.get("priority")
    return (priority if isinstance(priority, int) else 2,
            parse_time(item.get("queued_at")) or 0.0, parse_time(item.get("created_at")) or 0.0, str(item["id"]))


def _queued_in(view: View, here: str | None) -> list[dict[str, Any]]:
    return [entry(Tracker.get(view, bead_id), here) for bead_id in Tracker.select(view, statuses=[QUEUED])]


def entries(town: Path, rig: str | None = None) -> list[dict[str, Any]]:
    """The queued beads of every ledger of the town (those for `rig`), in dispatch order."""
    here = rundir.machine_id(town, create=False)  # none yet: nothing was queued on this machine
    found = [item for view in Town.at(town).views() for item in _queued_in(view, here)]
    return sorted((item for item in found if rig is None or item["rig"] == rig), key=_order)


def _tracker(town: Path, bead_id: str) -> Tracker:
    """The ledger that owns `bead_id` in this town (by its prefix)."""
    return Town.at(town).tracker_for(bead_id) or routed([bead_id])


def still_queued(town: Path, ids: list[str]) -> list[str]:
    """Those of `ids` whose status is still `queued` now (read afresh)."""
    out = []
    for bead_id in ids:
        try:
            status = (Lookup(_tracker(town, bead_id).view()).get(bead_id) or {}).get("status")
        except GtError:
            continue
        if status == QUEUED:
            out.append(bead_id)
    return out


def busy_polecats(town: Path) -> int:
    """The town's polecats working now: something on the hook, not waiting for a person."""
    from gt.dispatch import agents
    from gt.town import rigs

    ctx = Town.at(town)
    count = 0
    for rig in rigs.here(town):
        for record in agents.records(ctx.rig_tracker(rig).view()).values():
            if record.get("role") == "polecat" and record.get("hook") and record.get("state") not in PARKED:
                count += 1
    return count


def town_room(town: Path) -> tuple[int, int] | None:
    """How many more polecats the town's `max_agents` allows now, and the cap (None: no town-wide cap)."""
    cap = Town.at(town).settings().max_agents
    if not cap:
        return None
    return max(0, cap - busy_polecats(town)), cap


def enqueue(town: Path, actor: Signature, waiting: list[tuple[str, str]], rig: str, *, agent: str | None,
            model: str | None, merge: str, start: bool, convoy: bool, force: bool) -> None:
    """Queue beads (id, why) for `rig` on this machine: status `queued` with what they were slung with, one
    commit per ledger. A bead queued for the same rig on this machine before keeps its place (`queued_at`)."""
    from gt.dispatch.agents import check_takeable

    here = rundir.machine_id(town)
    by_ledger: dict[str, tuple[Any, list[tuple[str, str]]]] = {}
    for bead_id, reason in waiting:
        tracker = _tracker(town, bead_id)
        by_ledger.setdefault(str(tracker.repo.commondir), (tracker, []))[1].append((bead_id, reason))
    for tracker, group in by_ledger.values():
        def build(view: View, group: list[tuple[str, str]] = group) -> Edit:
            now = now_iso()
            edit = Edit("queue", f"queue {', '.join(b for b, _ in group)} for {rig}", trailers=[("Rig", rig)])
            for bead_id, reason in group:
                doc = Tracker.get(view, bead_id)
                check_takeable(doc, rig, force)  # as the hook would: not closed, not someone else's
                before = doc.get("dispatch") or {}
                same = before.get("rig") == rig and before.get("machine", here) == here  # queued here before
                since = before.get("queued_at") if doc.get("status") == QUEUED and same else None
                if force:
                    reset_attempts(doc)  # as `gt sling --force` does when it hooks
                set_status(doc, QUEUED, now)
                doc.pop("assignee", None)
                info = {"rig": rig, "agent": agent, "model": model, "merge": merge, "by": actor.name,
                        "queued_at": since or now, "reason": reason, "machine": here,
                        "start": None if start else False, "convoy": None if convoy else False}
                doc["dispatch"] = {k: v for k, v in info.items() if v is not None}
                doc["updated_at"] = now
                edit.beads[bead_id] = canonical(doc)
                edit.trailers.append(("Queued", bead_id))
            return edit

        tracker.write(actor, build)


def unqueue(town: Path, actor: Signature, bead_id: str, note: str | None = None) -> bool:
    """Take a queued bead out of the queue: back to open (`gt unsling BEAD`); False when it was not queued."""
    tracker = _tracker(town, bead_id)

    def build(view: View) -> Edit:
        doc = Tracker.get(view, bead_id)
        if doc.get("status") != QUEUED:
            return Edit("unqueue", "no change", result=False)
        set_status(doc, "open", now_iso())
        doc.pop("dispatch", None)
        if note:
            doc["notes"] = (str(doc.get("notes") or "").rstrip("\n") + "\n" + note).lstrip("\n")
        doc["updated_at"] = now_iso()
        return Edit("unqueue", f"unqueue {bead_id}", {bead_id: canonical(doc)}, result=True)

    return bool(tracker.write(actor, build).result)


def adoptable(item: dict[str, Any], adopt_after: float, now: float) -> bool:
    """Whether a bead queued on another machine has waited long enough for this one to take it."""
    if adopt_after <= 0:
        return True
    since = parse_time(item.get("queued_at"))  # unreadable (the guard checks only that it is text): the bead's age
    if since is None:
        since = parse_time(item.get("created_at"))
    return since is None or now - since >= adopt_after


def dispatch(town: Path, actor: Signature, workers: Workers, rig: str | None = None) -> list[dict[str, Any]]:
    """Sling queued beads while slots are free, each rig's in dispatch order, with the agent and model
    they were queued with; each result: `bead`, `rig` and `agent`, `pid` (slung), `skipped` (someone
    else took it) or `error`, and `adopted` for a bead queued on another machine. A rig whose next bead
    finds no slot stops there: nothing overtakes it. A bead queued on another machine is left alone
    until it has waited `scheduler.adopt_after` seconds (the rest of its rig's queue goes on)."""
    from gt.dispatch.sling import sling

    results: list[dict[str, Any]] = []
    queued = entries(town, rig)
    here = rundir.machine_id(town)
    rigs: dict[str, list[dict[str, Any]]] = {}
    for item in queued:
        if item["rig"]:
            rigs.setdefault(str(item["rig"]), []).append(item)
    for name, items in rigs.items():
        try:
            adopt_after = Town.at(town).settings(name).scheduler.adopt_after
        except GtError as exc:  # the rig's settings do not load: as gt sling would say for each bead
            results += [{"bead": item["id"], "rig": name, "error": str(exc)} for item in items]
            continue
        now = time.time()
        for item in items:
            adopted = item["machine"] is not None and item["machine"] != here
            if adopted and not adoptable(item, adopt_after, now):
                continue  # another machine's: it dispatches it (the ones after it here go on)
            mark = {"adopted": True} if adopted else {}
            try:
                report = sling(town, actor, [item["id"]], name, workers, agent=item["agent"], model=item["model"],
                               merge=str(item["merge"] or "mr"), convoy=False,
                               start=bool(item["start"]) and bool(item["agent"]), dequeue=True)
            except GtError as exc:
                results.append({"bead": item["id"], "rig": name, "error": str(exc), **mark})
                if exc.code == "busy":  # the polecat's last session is still ending: try again next time
                    _requeue(town, actor, item, str(exc))
                continue  # else as gt sling: nothing written, or back to open when its runtime would not start
            if report.skipped:
                results.append({"bead": item["id"], "rig": name, "skipped": True, **mark})
                continue
            if report.queued:
                break  # no slot: this rig's queue waits as it is
            results += [{"bead": s.bead, "rig": name, "agent": s.agent, "pid": s.pid, **mark} for s in report.slung]
    return results


def _requeue(town: Path, actor: Signature, item: dict[str, Any], why: str) -> None:
    """A queued bead whose sling failed for a passing reason (it went back to open) waits again, in its
    place, on this machine; one that is no longer open (someone took it) is left alone."""
    tracker = _tracker(town, item["id"])
    try:
        doc = Tracker.get(tracker.view(), item["id"])
    except GtError:
        return
    if doc.get("status") != "open" or is_closed(doc):
        return
    here = rundir.machine_id(town)

    def build(view: View) -> Edit:
        current = Tracker.get(view, item["id"])
        if current.get("status") != "open":
            return Edit("queue", "no change")
        set_status(current, QUEUED, now_iso())
        current.pop("assignee", None)
        info = {"rig": item["rig"], "agent": item["agent"], "model": item["model"], "merge": item["merge"],
                "by": item["queued_by"], "queued_at": item["queued_at"], "reason": f"dispatch failed: {why}"[:300],
                "machine": here,
                "start": None if item["start"] else False, "convoy": None if item["convoy"] else False}
        current["dispatch"] = {k: v for k, v in info.items() if v is not None}
        current["updated_at"] = now_iso()
        return Edit("queue", f"queue {item['id']} for {item['rig']} again: dispatch failed",
                    {item["id"]: canonical(current)}, [("Rig", str(item["rig"])), ("Queued", item["id"])])

    tracker.write(actor, build)
