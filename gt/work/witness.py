"""The Witness: each rig's polecat supervisor. `gt witness patrol` runs one patrol.

- a polecat whose session died with work on its hook is restarted in its worktree (the hook
  carries the work across), at most `witness.max_restarts` times per bead, then escalated to the
  mayor (state `stuck`); a polecat whose work was sent back (`fix_needed`) is restarted on it;
- a live polecat with no activity for `witness.stall_seconds` is nudged, and restarted if it
  stays silent as long again;
- a bead hooked by a polecat that no longer exists goes back to open (mail RECOVERED_BEAD);
- a free polecat whose branch has landed loses its worktree, then its branch; its identity and
  record stay.
Every decision is a ledger commit or a mail by `<rig>/witness`; a patrol that finds nothing writes nothing.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from gt.ledger import gitcmd
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, now_iso, set_status
from gt.town import layout, runtime, settings as town_settings
from gt.work import agents
from gt.work.tracker import Edit, Tracker


RECENT = 60  # seconds: a reservation by `gt sling` younger than this means the polecat is being set up


def identity(rig: str) -> str:
    return f"{rig}/witness"


def _last_activity(town: Path, rec: dict[str, Any], session: dict[str, Any]) -> float:
    """The latest sign of life: the session's start or output, a commit, or a post-commit hook's mark."""
    times = [float(session.get("started_at") or 0)]
    for path in (session.get("log"), str(runtime.folder(town, "activity") / f"{runtime.key(rec['identity'])}")):
        try:
            times.append(os.path.getmtime(path)) if path else None
        except OSError:
            pass
    return max(times)


def patrol(town: Path, rig: str) -> list[dict[str, Any]]:
    """One patrol of the rig's polecats; returns the decisions taken."""
    from gt.work import runtimes

    me = Signature(identity(rig))
    settings = town_settings.load(town, rig)
    limits = settings.get("witness") or {}
    stall = float(limits.get("stall_seconds", 900))
    max_restarts = int(limits.get("max_restarts", 3))
    tracker = agents.ledger_of(town, identity(rig))
    view = tracker.view()
    decisions: list[dict[str, Any]] = []
    polecats = {i: r for i, r in agents.records(view).items() if r.get("role") == "polecat" and r.get("rig") == rig}
    for who, rec in sorted(polecats.items()):
        home = layout.rig_dir(town, rig) / "polecats" / str(rec.get("name"))
        session = runtime.session(town, who) or {}
        running = runtime.alive(session.get("pid"))
        bead = rec.get("hook")
        state = rec.get("state")
        if runtime.reserved(town, who, RECENT):
            continue  # `gt sling` is setting it up right now
        if bead and state in ("working", "fix_needed") and not home.exists():
            decisions.append(_recover(town, me, tracker, who, bead, "its polecat's worktree is gone"))
        elif bead and state == "fix_needed" and not running:
            runtimes.start(town, who, home, str(rec.get("agent") or settings.get("default_agent")), settings,
                           rec.get("model"))
            agents.set_state(town, me, who, f"restart {who} on {bead}: fix needed", op="resume",
                             trailers=tuple(agents.facts(rec, bead)), state="working")
            decisions.append({"action": "restart", "agent": who, "bead": bead, "reason": "fix needed"})
        elif bead and state == "working" and not running and session:  # never started (`--no-start`): not ours
            decisions.append(_restart_or_escalate(town, me, tracker, who, rec, settings, max_restarts, "its session died"))
        elif bead and state == "working" and running:
            quiet = time.time() - _last_activity(town, rec, session)
            nudged = float(session.get("nudged_at") or 0)
            if quiet > stall and nudged < time.time() - quiet:
                runtime.nudge(town, who, f"no activity for {int(quiet)} s: are you stuck? (gt done --status ESCALATED)",
                              identity(rig))
                runtime.save_session(town, who, {**session, "nudged_at": time.time()})
                decisions.append({"action": "nudge", "agent": who, "bead": bead})
            elif quiet > stall and nudged and time.time() - nudged > stall:
                runtimes.stop(town, who)
                decisions.append(_restart_or_escalate(town, me, tracker, who, rec, settings, max_restarts,
                                                      f"no activity for {int(quiet)} s after a nudge"))
        elif not bead and state in ("idle", None) and home.exists():
            cleaned = _clean_up(town, rig, me, tracker, who, rec, home)
            if cleaned:
                decisions.append(cleaned)
    decisions += _orphans(town, rig, me, tracker, polecats)
    return decisions


def _restart_or_escalate(town: Path, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any],
                         settings: dict[str, Any], max_restarts: int, reason: str) -> dict[str, Any]:
    from gt.work import mail, runtimes

    bead = rec["hook"]
    done_so_far = int((rec.get("restarts") or {}).get(bead, 0))
    if done_so_far >= max_restarts:
        mail.send(town, me, ["mayor"], f"ESCALATED {bead}: {who} is stuck",
                  f"{who} {reason}; restarted {done_so_far} times already. Needs a human or the mayor.",
                  labels=("escalation",), check=False)
        agents.set_state(town, me, who, f"escalate {bead}: {who} stuck after {done_so_far} restarts", op="escalate",
                         trailers=tuple(agents.facts(rec, bead)), state="stuck")
        return {"action": "escalate", "agent": who, "bead": bead, "reason": reason}
    home = layout.rig_dir(town, str(rec.get("rig"))) / "polecats" / str(rec.get("name"))
    runtimes.start(town, who, home, str(rec.get("agent") or settings.get("default_agent")), settings, rec.get("model"))

    def build(view: View) -> Edit:
        current = agents.record(view, who) or rec
        restarts = {**(current.get("restarts") or {}), bead: done_so_far + 1}
        edit = Edit("restart", f"restart {who} on {bead}: {reason}",
                    trailers=[("Reason", reason)] + agents.facts(rec, bead))
        if bead in Tracker.summaries(view):  # counted on the work, for track records
            doc = Tracker.get(view, bead)
            doc["witness_restarts"] = int(doc.get("witness_restarts", 0)) + 1
            doc["updated_at"] = now_iso()
            edit.beads[bead] = canonical(doc)
        return agents.put(edit, who, agents.updated(view, who, restarts=restarts, state="working"))

    tracker.write(me, build)
    return {"action": "restart", "agent": who, "bead": bead, "reason": reason}


def _recover(town: Path, me: Signature, tracker: Tracker, who: str | None, bead: str, reason: str) -> dict[str, Any]:
    """The bead back to open, unassigned; the polecat's record (if any) freed; mail RECOVERED_BEAD."""
    from gt.work import mail

    def build(view: View) -> Edit:
        edit = Edit("recover", f"recover {bead} from {who}: {reason}", trailers=[("Source", bead), ("Worker", str(who))])
        if bead in Tracker.summaries(view):
            doc = Tracker.get(view, bead)
            if doc.get("status") != "closed":
                set_status(doc, "open", now_iso())
                doc.pop("assignee", None)
                doc["updated_at"] = now_iso()
                edit.beads[bead] = canonical(doc)
        if who and agents.record(view, who):
            agents.put(edit, who, agents.updated(view, who, state="idle", hook=None))
        return edit

    tracker.write(me, build)
    if Tracker.routed([bead]).repo.commondir != tracker.repo.commondir:
        agents.release(town, me, bead)
    mail.send(town, me, ["mayor"], f"RECOVERED_BEAD {bead}", f"{bead} was hooked by {who}, but {reason}: it is open again.",
              labels=("recovered",), check=False)
    return {"action": "recover", "agent": who, "bead": bead, "reason": reason}


def _orphans(town: Path, rig: str, me: Signature, tracker: Tracker, polecats: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Beads hooked by polecats of this rig that exist neither as a worktree nor as a busy record."""
    from gt.work.done import merge_requests

    view = tracker.view()
    found = []
    prefix = f"{rig}/polecats/"
    for bead_id, doc in Tracker.summaries(view).items():
        holder = doc.get("assignee") or ""
        if doc.get("status") not in ("hooked", "in_progress") or not holder.startswith(prefix):
            continue
        if (layout.rig_dir(town, rig) / "polecats" / holder[len(prefix):]).exists():
            continue  # the polecat exists: its record was handled above
        if any(m.get("status") == "open" for m in merge_requests(view, bead_id)):
            continue  # its work waits in the merge queue
        found.append(_recover(town, me, tracker, holder, bead_id, "its polecat no longer exists"))
    return found


def _clean_up(town: Path, rig: str, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any],
              home: Path) -> dict[str, Any] | None:
    """A free polecat whose branch has landed: remove the worktree first, then the branch."""
    from gt.work.rigs import registry

    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    default = registry(town)[rig].get("default_branch", "main")
    branch = gitcmd.run("-C", str(home), "rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()
    if not branch or branch == "HEAD":
        return None
    dirty = gitcmd.run("-C", str(home), "status", "--porcelain", check=False).stdout.strip()
    unlanded = gitcmd.run(f"--git-dir={repo}", "rev-list", "--count", branch, "--not", default, check=False).stdout.strip()
    landed_by_rebase = gitcmd.run(f"--git-dir={repo}", "cherry", default, branch, check=False).stdout
    if dirty or (unlanded not in ("0", "") and any(line.startswith("+") for line in landed_by_rebase.splitlines())):
        return None
    gitcmd.run(f"--git-dir={repo}", "worktree", "remove", "--force", str(home))
    gitcmd.run(f"--git-dir={repo}", "branch", "-D", branch, check=False)
    agents.set_state(town, me, who, f"clean up {who}: {branch} landed", state="idle", hook=None, branch=None,
                     worktree=None)
    return {"action": "clean-up", "agent": who, "branch": branch}
