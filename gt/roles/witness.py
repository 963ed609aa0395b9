"""The Witness: each rig's polecat supervisor. `gt witness patrol` runs one patrol.

- a polecat whose session died with work on its hook is restarted in its worktree (the hook
  carries the work across), at most `witness.max_restarts` times per bead, then escalated to the
  mayor (state `stuck`); each such restart is an attempt of the retry breaker, counted in the
  bead's own ledger (gt.dispatch.attempts); a polecat whose work was sent back (`fix_needed`) is
  restarted on it;
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

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.store import Signature, View, check_key
from gt.model.bead import canonical, now_iso, set_status
from gt.town import layout, rundir, settings as town_settings
from gt.town.identity import parse
from gt.town.settings import Settings
from gt.dispatch import agents, attempts
from gt.beads.tracker import Edit, Lookup, Tracker
from gt.town.context import routed, Town


RECENT = 60  # seconds: a reservation by `gt sling` younger than this means the polecat is being set up


def identity(rig: str) -> str:
    return f"{rig}/witness"


def _our_polecat(who: str, rig: str) -> bool:
    """Whether an identity from the ledger names a polecat of `rig` with a plain name: the witness
    finds its worktree by that name, and a record never leads it out of `<rig>/polecats/`."""
    parsed = parse(who)
    try:
        check_key(str(parsed.agent))
    except GtError:
        return False
    return parsed.role == "polecat" and parsed.rig == rig


def _home(town: Path, who: str) -> Path:
    parsed = parse(who)
    return layout.rig_dir(town, str(parsed.rig)) / "polecats" / str(parsed.agent)


def _last_activity(town: Path, rec: dict[str, Any], session: dict[str, Any]) -> float:
    """The latest sign of life: the session's start or output, a commit, or a post-commit hook's mark."""
    times = [float(session.get("started_at") or 0)]
    for path in (session.get("log"), rundir.folder(town, "activity") / rundir.key(rec["identity"])):
        try:
            if path:
                times.append(os.path.getmtime(path))
        except OSError:
            pass
    return max(times)


def patrol(town: Path, rig: str) -> list[dict[str, Any]]:
    """One patrol of the rig's polecats; returns the decisions taken.

    Each decision is written only if the agent's record still says what the patrol saw (a polecat
    that ran `gt done` meanwhile is left alone), and a session starts only after its write.
    """
    with Town(town).session():  # the pass reads each ledger and the settings once
        return _patrol(town, rig)


def _patrol(town: Path, rig: str) -> list[dict[str, Any]]:

    me = Signature(identity(rig))
    settings = town_settings.load(town, rig)
    stall, max_restarts = settings.witness.stall_seconds, settings.witness.max_restarts
    tracker = Town.at(town).rig_tracker(rig)
    view = tracker.view()
    decisions: list[dict[str, Any]] = []
    polecats = {i: r for i, r in agents.records(view).items() if _our_polecat(i, rig)}
    for who, rec in sorted(polecats.items()):
        if rundir.reserved(town, who, RECENT):
            continue  # `gt sling` is setting it up right now
        home = _home(town, who)
        session = rundir.session(town, who) or {}
        running = rundir.alive(session.get("pid"))
        bead = rec.get("hook")
        state = rec.get("state")
        try:
            if bead and state in ("working", "fix_needed") and not home.exists():
                decision = _recover(town, me, tracker, who, bead, "its polecat's worktree is gone", state)
            elif bead and state == "fix_needed" and not running:
                decision = _restart(town, me, tracker, who, rec, settings, "fix needed", counted=False)
            elif bead and state == "working" and not running and session:  # never started (--no-start): not ours
                ended = rundir.exit_summary(session)
                reason = f"its session {ended}" if ended else "its session died"
                if _failed_start(session):  # a runtime that cannot start fails again: say why now
                    decision = _escalate(town, me, tracker, who, rec, reason, session)
                elif session.get("stopped") is True:  # `gt down`, a stop: not the work's fault, not counted
                    decision = _restart(town, me, tracker, who, rec, settings, reason, counted=False,
                                        expected=("working",))
                else:
                    decision = _restart_or_escalate(town, me, tracker, who, rec, settings, max_restarts, reason)
            elif bead and state == "working" and running:
                decision = _stalled(town, me, tracker, who, rec, session, settings, stall, max_restarts)
            elif not bead and state in ("idle", None) and home.exists():
                decision = _clean_up(town, rig, me, tracker, who, rec, home)
            else:
                decision = None
        except GtError as exc:  # one polecat's trouble must not stop the patrol
            decision = {"action": "error", "agent": who, "bead": bead, "reason": str(exc)}
        if decision:
            decisions.append(decision)
    decisions += _orphans(town, rig, me, tracker, polecats)
    return decisions


def _stalled(town: Path, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any], session: dict[str, Any],
             settings: Settings, stall: float, max_restarts: int) -> dict[str, Any] | None:
    """A live agent silent for `stall` seconds is nudged; silent as long again, it is restarted."""
    from gt.roles import runtimes

    quiet = time.time() - _last_activity(town, rec, session)
    nudged = float(session.get("nudged_at") or 0)
    if quiet > stall and nudged < time.time() - quiet:
        rundir.nudge(town, who, f"no activity for {int(quiet)} s: are you stuck? (gt done --status ESCALATED)",
                      me.name)
        rundir.save_session(town, who, {**session, "nudged_at": time.time()})
        return {"action": "nudge", "agent": who, "bead": rec["hook"]}
    if quiet > stall and nudged and time.time() - nudged > stall:
        runtimes.stop(town, who)  # waits for it to end
        return _restart_or_escalate(town, me, tracker, who, rec, settings, max_restarts,
                                    f"no activity for {int(quiet)} s after a nudge")
    return None


def _still(view: View, who: str, bead: str, states: tuple[str, ...]) -> dict[str, Any] | None:
    """The agent's record, if it still holds `bead` in one of `states` (else the decision is moot)."""
    current = agents.record(view, who)
    return current if current and current.get("hook") == bead and current.get("state") in states else None


def _restart(town: Path, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any], settings: Settings,
             reason: str, counted: bool, expected: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """Record the restart (counted on the work when the session died; a resume when it was sent
    back or stopped), then start the session."""
    from gt.roles import runtimes

    bead = rec["hook"]
    expected = expected or (("fix_needed",) if not counted else ("working",))

    tripped: list[attempts.Attempt] = []
    elsewhere: list[bool] = []  # the bead lives in another ledger (a town bead): its attempt is counted there

    def build(view: View) -> Edit:
        tripped.clear()
        elsewhere.clear()
        current = _still(view, who, bead, expected)
        if current is None:
            return Edit("restart", "no change")
        op = "restart" if counted else "resume"
        edit = Edit(op, f"restart {who} on {bead}: {reason}", trailers=[("Reason", reason)] + agents.facts(current, bead))
        fields: dict[str, Any] = {"state": "working"}
        if counted:
            fields["restarts"] = {**(current.get("restarts") or {}), bead: int((current.get("restarts") or {}).get(bead, 0)) + 1}
            if bead in Lookup(view):  # counted on the work, for track records and the retry breaker
                doc = Tracker.get(view, bead)
                doc["witness_restarts"] = int(doc.get("witness_restarts", 0)) + 1
                attempt = attempts.record(doc, settings.retry, f"restarted: {reason}", now_iso())
                doc["updated_at"] = now_iso()
                edit.beads[bead] = canonical(doc)
                edit.trailers.append(("Attempt", str(attempt.count)))
                if attempt.tripped:  # out of the loop: blocked, the polecat released (its branch is kept)
                    tripped.append(attempt)
                    edit.subject = f"stop {bead} after {attempt.count} attempts: {reason}"[:300]
                    fields = {"state": "idle", "hook": None}
            else:
                elsewhere.append(True)
        return agents.put(edit, who, agents.updated(view, who, **fields))

    agent, model = _runtime(town, who, settings)
    runtimes.command_for(settings, agent, dict.fromkeys(runtimes.PLACEHOLDERS, ""))  # refuse before writing
    if tracker.write(me, build).commit is None:
        return None
    if elsewhere:
        there = attempts.count_elsewhere(Town.at(town), me, bead, settings.retry, f"restarted: {reason}",
                                         f"{who} restarted: {reason}", [("Worker", who)], tally="witness_restarts")
        if there is not None and there.tripped:  # out of the loop: the polecat released, its branch kept
            tripped.append(there)
            _release(me, tracker, who, bead, f"release {who}: {bead} stopped by the retry breaker")
    if tripped:
        attempts.escalate(town, me, bead, tripped[0], f"{who} restarted: {reason}")
        return {"action": "breaker", "agent": who, "bead": bead, "reason": reason}
    _clear_stale_index_lock(_home(town, who))
    runtimes.start(town, who, _home(town, who), agent, settings, model)
    return {"action": "restart", "agent": who, "bead": bead, "reason": reason}


def _clear_stale_index_lock(home: Path) -> None:
    """A session killed inside `git add` or `git commit` leaves its worktree's `index.lock` behind, and
    every git command there would fail after the restart. The session is gone (that is why it is
    restarted), so the lock is its leftover: removed."""
    found = git.run("-C", str(home), "rev-parse", "--git-path", "index.lock", check=False).stdout.strip()
    if found:
        try:
            (Path(found) if os.path.isabs(found) else home / found).unlink()
        except FileNotFoundError:
            pass


def _release(me: Signature, tracker: Tracker, who: str, bead: str, subject: str) -> None:
    """The polecat idle with nothing on its hook, if it still holds `bead` (its branch and worktree kept)."""

    def build(view: View) -> Edit:
        if _still(view, who, bead, ("working",)) is None:
            return Edit("release", "no change")
        edit = Edit("release", subject, trailers=[("Source", bead)])
        return agents.put(edit, who, agents.updated(view, who, state="idle", hook=None))

    tracker.write(me, build)


def _runtime(town: Path, who: str, settings: Settings) -> tuple[str, str | None]:
    """The runtime and model to restart `who` with, from this machine alone: what its last session
    here ran (still defined in the settings), else the settings' default_agent. The `agent:` and
    `model:` of its ledger record came from whichever machine wrote it, and pick nothing here."""
    last = rundir.session(town, who) or {}
    agent = last.get("agent")
    if isinstance(agent, str) and agent in settings.agents:
        model = last.get("model")
        return agent, model if isinstance(model, str) and model else settings.models.get(agent)
    return settings.default_agent, settings.models.get(settings.default_agent)


FAILED_START = 10.0  # seconds: a runtime that exits non-zero this soon could not start (bad flag, no key, root)


def _failed_start(session: dict[str, Any]) -> bool:
    """The runtime gave up on its own, at once: an error exit, not a signal (a kill, `gt down`, the
    witness's own stop: 128+N from a shell or a runtime that reports it so)."""
    code = session.get("exit_code")
    took = float(session.get("ended_at") or 0) - float(session.get("started_at") or 0)
    signalled = session.get("stopped") is True or not isinstance(code, int) or code < 0 or 128 < code < 160
    return not signalled and code != 0 and 0 <= took < FAILED_START


def _restart_or_escalate(town: Path, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any],
                         settings: Settings, max_restarts: int, reason: str) -> dict[str, Any] | None:
    bead = rec["hook"]
    done_so_far = int((rec.get("restarts") or {}).get(bead, 0))
    if done_so_far < max_restarts:
        return _restart(town, me, tracker, who, rec, settings, reason, counted=True)
    return _escalate(town, me, tracker, who, rec, f"{reason}; restarted {done_so_far} times already",
                     rundir.session(town, who))


def _escalate(town: Path, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any], reason: str,
              session: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mark the polecat stuck and escalate the bead (high), with the last lines its session wrote."""
    from gt.dispatch import escalations

    bead = rec["hook"]

    def build(view: View) -> Edit:
        current = _still(view, who, bead, ("working",))
        if current is None:
            return Edit("escalate", "no change")
        edit = Edit("escalate", f"escalate {bead}: {who} is stuck: {reason}"[:300],
                    trailers=[("Reason", reason[:500])] + agents.facts(current, bead))
        return agents.put(edit, who, agents.updated(view, who, state="stuck"))

    if tracker.write(me, build).commit is None:
        return None
    body = f"{who} {reason}. Needs a human or the mayor."
    lines = (session or {}).get("last_lines") or []
    if lines:
        body += "\n\nLast lines of its session (" + str((session or {}).get("log")) + "):\n" + \
            "\n".join(f"    {line}" for line in lines[-10:])
    escalations.escalate(town, me, f"{who} is stuck", "high", body, related=bead, source=me.name)
    return {"action": "escalate", "agent": who, "bead": bead, "reason": reason}


def _recover(town: Path, me: Signature, tracker: Tracker, who: str | None, bead: str, reason: str,
             state: str | None = None) -> dict[str, Any] | None:
    """The bead back to open, unassigned; the polecat's record (if it still holds it) freed; mail RECOVERED_BEAD."""
    from gt.dispatch import mail

    def build(view: View) -> Edit:
        edit = Edit("recover", f"recover {bead} from {who}: {reason}", trailers=[("Source", bead), ("Worker", str(who))])
        if bead in Lookup(view):
            doc = Tracker.get(view, bead)
            if doc.get("status") in ("hooked", "in_progress") and doc.get("assignee") == who:
                set_status(doc, "open", now_iso())
                doc.pop("assignee", None)
                doc["updated_at"] = now_iso()
                edit.beads[bead] = canonical(doc)
        if who and state and _still(view, who, bead, (state,)):
            agents.put(edit, who, agents.updated(view, who, state="idle", hook=None))
        return edit if edit.beads or edit.records else Edit("recover", "no change")

    if tracker.write(me, build).commit is None and routed([bead]).repo.commondir == tracker.repo.commondir:
        return None
    if routed([bead]).repo.commondir != tracker.repo.commondir:
        agents.release(town, me, bead)
    mail.send(town, me, ["mayor"], f"RECOVERED_BEAD {bead}", f"{bead} was hooked by {who}, but {reason}: it is open again.",
              labels=("recovered",), check=False)
    return {"action": "recover", "agent": who, "bead": bead, "reason": reason}


def _orphans(town: Path, rig: str, me: Signature, tracker: Tracker, polecats: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Beads hooked by polecats of this rig that exist neither as a worktree nor as a busy record."""
    from gt.beads.queries import merge_requests

    view = tracker.view()
    found = []
    prefix = f"{rig}/polecats/"
    for bead_id, doc in Tracker.select(view, statuses=("hooked", "in_progress")).items():
        holder = doc.get("assignee") or ""
        if not holder.startswith(prefix):
            continue
        if (layout.rig_dir(town, rig) / "polecats" / holder[len(prefix):]).exists():
            continue  # the polecat exists: its record was handled above
        if any(m.get("status") == "open" for m in merge_requests(view, bead_id)):
            continue  # its work waits in the merge queue
        decision = _recover(town, me, tracker, holder, bead_id, "its polecat no longer exists")
        if decision:
            found.append(decision)
    return found


def _clean_up(town: Path, rig: str, me: Signature, tracker: Tracker, who: str, rec: dict[str, Any],
              home: Path) -> dict[str, Any] | None:
    """A free polecat whose branch has landed: remove the worktree first, then the branch."""
    from gt.town.rigs import registry

    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    default = registry(town)[rig].get("default_branch", "main")
    branch = git.run("-C", str(home), "rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()
    if not branch or branch == "HEAD":
        return None
    try:
        dirty, unlanded = git.is_dirty(home), git.unlanded(repo, branch, default)
    except GtError:
        return None  # git cannot read the worktree: leave it for a person (gt doctor)
    landed_by_rebase = git.run(f"--git-dir={repo}", "cherry", default, branch, check=False).stdout
    if dirty or unlanded is None or (unlanded and any(line.startswith("+") for line in landed_by_rebase.splitlines())):
        return None
    from filelock import FileLock

    with FileLock(str(rundir.folder(town, "locks") / "sling.lock")):  # no sling picks it up meanwhile
        fresh = agents.record(tracker.view(), who) or {}
        if rundir.reserved(town, who, RECENT) or fresh.get("hook") or fresh.get("state") not in ("idle", None):
            return None
        git.run(f"--git-dir={repo}", "worktree", "remove", "--force", str(home))
        git.run(f"--git-dir={repo}", "branch", "-D", branch, check=False)
        agents.set_state(town, me, who, f"clean up {who}: {branch} landed", state="idle", hook=None, branch=None,
                         worktree=None)
    return {"action": "clean-up", "agent": who, "branch": branch}
