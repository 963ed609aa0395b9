"""`gt done`: a polecat submits the work on its hook.

COMPLETED: a merge request for the refinery (keyed by source bead and head commit, so a re-run
adds none and a resubmission after a fix adds one), the bead `in_progress` awaiting merge, the
agent `done`. ESCALATED: an escalation about the bead (gt.dispatch.escalations: high, mail to
its routing's addresses and the witness); the bead stays. DEFERRED: the bead goes
back to open and the hook clears. `gt done` never closes the source bead itself: merging does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger import git
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, new_bead, now_iso, set_status
from gt.beads.queries import merge_requests
from gt.model import merge_request
from gt.town.identity import Identity
from gt.dispatch import agents
from gt.beads.tracker import Edit, Tracker
from gt.town.context import routed, Town

STATUSES = ("COMPLETED", "ESCALATED", "DEFERRED")


def _branch_state(worktree: Path, default: str) -> tuple[str, str, int]:
    def out(*args: str) -> str:
        return git.output("-C", str(worktree), *args).strip()

    if git.is_dirty(worktree):
        raise GtError(f"{worktree} has uncommitted changes: commit them (or remove them) before `gt done`",
                      code="refused")
    branch = out("rev-parse", "--abbrev-ref", "HEAD")
    commits = int(out("rev-list", "--count", f"{default}..HEAD"))
    if commits == 0:
        raise GtError(f"no commits on {branch} beyond {default}: commit your work before `gt done`", code="refused")
    return branch, out("rev-parse", "HEAD"), commits


def done(town: Path, actor: Signature, who: Identity, status: str = "COMPLETED", note: str | None = None,
         cwd: str | None = None) -> dict[str, Any]:
    from gt.dispatch import convoys, escalations
    from gt.town.rigs import registry

    status = status.upper()
    if status not in STATUSES:
        raise UsageError(f"invalid status {status!r}: use one of {', '.join(STATUSES)}")
    agents.require_agent(who, "gt done")
    record, bead = agents.on_hook(town, who.name)
    if not record or not record.get("hook"):
        raise GtError(f"{who.name} has nothing on its hook: nothing to submit", code="not_found")
    bead_id = record["hook"]
    if status == "ESCALATED":  # an escalation about the bead (routed by severity), its witness told too
        raised = escalations.escalate(town, actor, str(bead["title"] if bead else bead_id), "high", note,
                                      related=bead_id, source=who.name,
                                      cc=(f"{who.rig}/witness",) if who.rig else ())
        agents.set_state(town, actor, who.name, f"escalate {bead_id} by {who.name}", op="escalate",
                         trailers=tuple(agents.facts(record)), state="escalated")
        return {"status": status, "bead": bead_id, "escalation": raised["id"], "mail": raised["mail"]}
    if status == "DEFERRED":
        agents.unsling(town, actor, who.name, op="defer")
        return {"status": status, "bead": bead_id}

    from gt.dispatch.molecules import check_done

    check_done(town, who.name)  # a molecule is done when every step is closed
    rig = who.rig
    if not rig or rig not in registry(town):
        raise GtError(f"{who.name} is not in a rig: `gt done` submits a rig branch", code="refused")
    default = registry(town)[rig].get("default_branch", "main")
    checkout = discover(cwd, follow_redirect=False)
    if checkout.worktree is None:
        raise GtError("run `gt done` in your worktree", code="refused")
    branch, head, commits = _branch_state(Path(checkout.worktree), default)
    merge = record.get("merge") or "mr"
    if merge == "direct":
        return _direct(town, actor, who, bead_id, Path(checkout.worktree), default, head)
    convoy_ids = convoys.tracking(town, [bead_id]).get(bead_id, [])
    tracker = Town.at(town).tracker_of(who.name)
    source_here = routed([bead_id]).repo.commondir == tracker.repo.commondir
    made: dict[str, Any] = {}

    def build(view: View) -> Edit:
        from gt.beads.operations import fresh_id

        edit = Edit("done", f"done {bead_id} by {who.name}: {merge} at {head[:7]}", trailers=agents.facts(record))
        existing = [d for d in merge_requests(view, bead_id) if (d.get("mr") or {}).get("head") == head
                    and (d.get("status") == "open" or (d.get("mr") or {}).get("outcome") == "merged")]
        if merge == "mr" and not existing:
            new = fresh_id(view, str(view.config.get("prefix")), None)
            fields = merge_request.new_fields(
                branch=branch, target=default, head=head, source=bead_id, worker=who.name, model=record.get("model"),
                agent=record.get("agent"), convoy=convoy_ids[0] if convoy_ids else None, rig=rig, commits=commits,
                submitted_at=now_iso(), attempts=[])
            doc = new_bead(new, f"Merge {branch}: {bead['title'] if bead else bead_id}", actor=who.name, now=now_iso(),
                           type=merge_request.MERGE_REQUEST, priority=int((bead or {}).get("priority", 2)),
                           mr=fields)
            edit.beads[new] = doc
            made["mr"] = new
        elif existing:
            made["mr"] = existing[-1]["id"]
        if source_here:
            current = Tracker.get(view, bead_id)
            if current.get("status") != "in_progress":
                set_status(current, "in_progress", now_iso())
                current["updated_at"] = now_iso()
                edit.beads[bead_id] = canonical(current)
        if (agents.record(view, who.name) or {}).get("state") != "done":
            agents.put(edit, who.name, agents.updated(view, who.name, state="done", head=head))
        if edit.beads or edit.records:
            edit.trailers.append(("Head", head))
        return edit

    tracker.write(actor, build)
    if not source_here:
        _set_in_progress(actor, bead_id)
    return {"status": status, "bead": bead_id, "merge_request": made.get("mr"), "branch": branch, "head": head,
            "merge": merge}


def _set_in_progress(actor: Signature, bead_id: str) -> None:
    def build(view: View) -> Edit:
        doc = Tracker.get(view, bead_id)
        if doc.get("status") == "in_progress":
            return Edit("done", "no change")
        set_status(doc, "in_progress", now_iso())
        doc["updated_at"] = now_iso()
        return Edit("done", f"{bead_id} awaits merge", {bead_id: canonical(doc)})

    routed([bead_id]).write(actor, build)


def _direct(town: Path, actor: Signature, who: Identity, bead_id: str, worktree: Path, default: str,
            head: str) -> dict[str, Any]:
    """`--merge direct`: fast-forward the default branch to the work, close the bead, free the agent."""
    from gt.dispatch.lifecycle import close_beads

    result = git.run("-C", str(worktree), "push", "--quiet", ".", f"HEAD:refs/heads/{default}", check=False)
    if result.returncode != 0:
        raise GtError(f"cannot fast-forward {default} to your work: rebase onto {default} first "
                      f"({git.last_line(result.stderr)})", code="refused")
    tracker = routed([bead_id])
    close_beads(tracker, actor, [bead_id], f"merged directly as {head[:7]} by {who.name}", force=True)
    agents.set_state(town, actor, who.name, f"{who.name} free after {bead_id}", state="idle", hook=None)
    return {"status": "COMPLETED", "bead": bead_id, "merge": "direct", "head": head}
