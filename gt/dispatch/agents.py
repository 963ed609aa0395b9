"""Agent records and hooks: at most one bead on an agent's hook, recorded in the ledger that owns it.

A rig's agents (witness, refinery, crew, polecats) live in the rig's ledger, the town's (mayor,
deacon, dogs) in the town ledger, as `agents/<fan>/<identity with / as .>.yaml`: identity, role,
rig, state (idle, working, done, stuck, escalated), hook, model, agent runtime, branch. Hooking
sets the bead to `hooked` with the agent as assignee in the same commit; when the bead lives in
another ledger, the bead is written first and the agent second, and re-running finishes the job.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, is_closed, now_iso, reset_attempts, set_status
from gt.town.identity import Identity, parse
from gt.town.rundir import key as record_key
from gt.beads.tracker import Edit, Lookup, Tracker
from gt.town.context import routed, Town

AGENTS = "agents"
INFRASTRUCTURE_ROLES = ("dog", "deacon", "witness", "refinery")  # they run the town: never project work


def check_holder(identity: str) -> None:
    """Refuse to put project work on a dog or an infrastructure role (the one check behind `gt sling`
    and `gt hook`): only polecats, crew and the mayor hold beads."""
    role = parse(identity).role
    if role == "dog":
        raise GtError(f"{identity} is a dog: dogs do the deacon's infrastructure work, not project work "
                      "(sling to a rig, a polecat or crew)", code="refused")
    if role in INFRASTRUCTURE_ROLES:
        raise GtError(f"{identity} is the {role}: it runs the town and never holds project work "
                      "(sling to a rig, a polecat or crew)", code="refused")


def record(view: View, identity: str) -> dict[str, Any] | None:
    return view.doc(AGENTS, record_key(identity))


def records(view: View) -> dict[str, dict[str, Any]]:
    return {doc["identity"]: doc for doc in view.summaries(AGENTS).values() if "identity" in doc}


def new_record(identity: str) -> dict[str, Any]:
    who = parse(identity)
    return {"identity": identity, "role": who.role, "rig": who.rig, "name": who.agent, "state": "idle", "hook": None}


def updated(view: View, identity: str, **fields: Any) -> dict[str, Any]:
    """The agent's record with `fields` changed (a new record when it has none)."""
    doc = dict(record(view, identity) or new_record(identity))
    doc.update(fields)
    doc["updated_at"] = now_iso()
    return doc


def put(edit: Edit, identity: str, doc: dict[str, Any]) -> Edit:
    edit.records[(AGENTS, record_key(identity))] = doc
    edit.trailers.append(("Agent", identity))
    return edit


def _same(a: Tracker, b: Tracker) -> bool:
    return a.repo.commondir == b.repo.commondir


def check_takeable(doc: dict[str, Any], identity: str, force: bool) -> None:
    """Refuse a closed bead, or one another agent holds (unless `force`)."""
    if is_closed(doc):
        raise GtError(f"{doc['id']} is closed: reopen it first", code="refused")
    holder = doc.get("assignee")
    if doc.get("status") in ("hooked", "in_progress") and holder and holder != identity and not force:
        raise GtError(f"{doc['id']} is already hooked by {holder} (use --force to take it)", code="refused")


def _take_bead(view: View, query: str, identity: str, force: bool, dispatch: dict[str, Any],
               only_from: str | None = None) -> tuple[str, dict[str, Any] | None]:
    """The bead hooked by `identity` (None when it already is); refuses closed or taken beads, and with
    `only_from` a bead whose status is no longer that one (code `skipped`: someone else took it)."""
    bead_id = Tracker.resolve(view, query)
    doc = Tracker.get(view, bead_id)
    if only_from is not None and doc.get("status") != only_from:
        raise GtError(f"{bead_id} is {doc.get('status')} now, no longer {only_from}", code="skipped")
    check_takeable(doc, identity, force)
    holder = doc.get("assignee")
    counted_afresh = force and reset_attempts(doc)  # `gt sling --force`: the retry breaker starts again
    if doc.get("status") == "hooked" and holder == identity and not counted_afresh:
        return bead_id, None
    set_status(doc, "hooked", now_iso())
    doc["assignee"] = identity
    doc["dispatch"] = {k: v for k, v in dispatch.items() if v is not None}
    doc["updated_at"] = now_iso()
    return bead_id, canonical(doc)


def _check_free(view: View, identity: str, bead_id: str, force: bool) -> str | None:
    """The bead the agent holds now, if any; refuses a busy agent unless `force`."""
    current = (record(view, identity) or {}).get("hook")
    if current and current != bead_id and not force:
        raise GtError(f"{identity} already has {current} on its hook (gt unsling it first, or --force)", code="busy")
    return current if current != bead_id else None


def _release_here(edit: Edit, view: View, bead_id: str, note: str | None = None) -> None:
    """Release `bead_id` in the same commit when it lives in this ledger (others: `release` after)."""
    released = _release(Tracker.get(view, bead_id), note) if bead_id in Lookup(view) else None
    if released is not None:
        edit.beads[bead_id] = released


def _release(doc: dict[str, Any], note: str | None = None) -> dict[str, Any] | None:
    """A bead taken off a hook: back to open, unassigned, `note` appended to its notes (None: a
    closed bead is left as it is)."""
    if doc.get("status") == "closed":
        return None
    if doc.get("status") in ("hooked", "in_progress"):
        set_status(doc, "open", now_iso())
    doc.pop("assignee", None)
    if note:
        doc["notes"] = (str(doc.get("notes") or "").rstrip("\n") + "\n" + note).lstrip("\n")
    doc["updated_at"] = now_iso()
    return canonical(doc)


def hook(town: Path, actor: Signature, query: str, identity: str, *, force: bool = False,
         only_from: str | None = None, **fields: Any) -> dict[str, Any]:
    """Put a bead on an agent's hook (nothing starts); `fields` (model, agent, branch, …) go on the
    agent record, and model/agent on the bead's `dispatch`. With `only_from`, only a bead of that
    status is taken, checked in the hooking commit (the scheduler: `queued`)."""
    check_holder(identity)
    agent_tracker = Town.at(town).tracker_of(identity)
    bead_tracker = routed([query])
    dispatch = {"worker": identity, "model": fields.get("model"), "agent": fields.get("agent"),
                "by": actor.name, "at": now_iso()}
    previous: list[str] = []

    def build_agent(view: View, bead_id: str) -> Edit:
        current = _check_free(view, identity, bead_id, force)
        edit = Edit("hook", f"hook {bead_id} on {identity}",
                    trailers=facts({"model": fields.get("model"), "agent": fields.get("agent")}, bead_id))
        previous[:] = [current] if current else []
        if current:
            _release_here(edit, view, current)
        fields_now = {k: v for k, v in fields.items() if v is not None}
        return put(edit, identity, updated(view, identity, state="working", hook=bead_id, hooked_at=now_iso(),
                                           **fields_now))

    if _same(agent_tracker, bead_tracker):
        def build(view: View) -> Edit:
            bead_id = Tracker.resolve(view, query)
            edit = build_agent(view, bead_id)
            _, doc = _take_bead(view, query, identity, force, dispatch, only_from)
            if doc is not None:
                edit.beads[bead_id] = doc
            edit.result = bead_id
            return edit

        bead_id = agent_tracker.write(actor, build).result
    else:
        with_view = agent_tracker.view()
        bead_view = bead_tracker.view()
        bead_id = Tracker.resolve(bead_view, query)
        _check_free(with_view, identity, bead_id, force)  # refuse before writing anything

        def build_bead(view: View) -> Edit:
            found, doc = _take_bead(view, query, identity, force, dispatch, only_from)
            # its own op: the agent's ledger records the hook itself, which track records count once
            return Edit("hook-bead", f"hook {found} on {identity}", {found: doc} if doc else {},
                        [("Source", found), ("Agent", identity)], result=found)

        bead_tracker.write(actor, build_bead)
        agent_tracker.write(actor, lambda view: build_agent(view, bead_id))
    for current in previous:
        if not _in(agent_tracker, current):
            release(town, actor, current)
    return {"bead": bead_id, "agent": identity, "released": previous}


def _in(tracker: Tracker, bead_id: str) -> bool:
    return routed([bead_id]).repo.commondir == tracker.repo.commondir


def release(town: Path, actor: Signature, bead_id: str, note: str | None = None,
            trailers: tuple[tuple[str, str], ...] = ()) -> None:
    """Put a bead back to open (in its own ledger), unassigned, with `note` appended to its notes."""
    tracker = routed([bead_id])

    def build(view: View) -> Edit:
        released = _release(Tracker.get(view, bead_id), note)
        if released is None:
            return Edit("unhook", "no change")
        return Edit("unhook", f"unhook {bead_id}", {bead_id: released}, list(trailers))

    tracker.write(actor, build)


def unsling(town: Path, actor: Signature, identity: str, state: str = "idle", op: str = "unsling", *,
            note: str | None = None, reason: str | None = None, trailers: tuple[tuple[str, str], ...] = (),
            **fields: Any) -> str | None:
    """Take the bead off `identity`'s hook (the bead goes back to open, `note` appended to its notes);
    returns its id. `reason` ends the commit's subject; `trailers` and the record's other `fields`
    (branch, worktree, …) go in the same commit."""
    tracker = Town.at(town).tracker_of(identity)
    taken: list[str] = []

    def build(view: View) -> Edit:
        current = (record(view, identity) or {}).get("hook")
        if not current:
            raise GtError(f"{identity} has nothing on its hook", code="not_found")
        taken[:] = [current]
        subject = f"{op} {current} from {identity}" + (f": {reason}" if reason else "")
        edit = Edit(op, subject, trailers=[*trailers, *facts(record(view, identity), current)])
        _release_here(edit, view, current, note)
        return put(edit, identity, updated(view, identity, state=state, hook=None, **fields))

    tracker.write(actor, build)
    if not _in(tracker, taken[0]):
        release(town, actor, taken[0], note, tuple(trailers))
    return taken[0]


def set_state(town: Path, actor: Signature, identity: str, subject: str, op: str = "agent",
              trailers: tuple[tuple[str, str], ...] = (), **fields: Any) -> None:
    """Record a transition of the agent (state, hook, …) as one commit."""
    tracker = Town.at(town).tracker_of(identity)
    tracker.write(actor, lambda view: put(Edit(op, subject, trailers=list(trailers)), identity,
                                          updated(view, identity, **fields)))


def facts(record: dict[str, Any] | None, bead: str | None = None) -> list[tuple[str, str]]:
    """The trailers that let track records be computed from history: the work, its model, its runtime."""
    record = record or {}
    pairs = [("Source", bead or record.get("hook")), ("Model", record.get("model")), ("Runtime", record.get("agent"))]
    return [(k, str(v)) for k, v in pairs if v]


def on_hook(town: Path, identity: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The agent's record and the bead on its hook (None, None when it has no record)."""
    rec = record(Town.at(town).tracker_of(identity).view(), identity)
    if not rec or not rec.get("hook"):
        return rec, None
    try:
        view = routed([rec["hook"]]).view()
        return rec, Tracker.get(view, rec["hook"])
    except GtError:
        return rec, None


def attempt(town: Path, identity: str, bead_id: str) -> int:
    """Which submission of `bead_id` the agent is working towards: 1, then one more per merge request."""
    from gt.beads.queries import merge_requests

    return len(merge_requests(Town.at(town).tracker_of(identity).view(), bead_id)) + 1


def require_agent(who: Identity, what: str) -> Identity:
    """Refuse a human where an agent identity is needed, saying where to run the command."""
    if who.role in ("human",):
        raise GtError(f"{what} needs an agent identity, and {who.name} is not one: run it in the agent's home "
                      "(<town>/<rig>/polecats/<name>, <town>/<rig>/crew/<name>, <town>/mayor) or pass --actor",
                      code="no_identity")
    return who
