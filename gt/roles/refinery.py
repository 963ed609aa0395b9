"""The Refinery: each rig's merge queue. Lands finished polecat work on the default branch.

For each open merge request, best score first, in `refinery/rig/` (a detached worktree): start
from the latest default branch, bring the polecat branch onto it (rebase or merge), run the rig's
gates, then advance the default branch by compare-and-swap — never to a commit whose gates did not
pass, never over a commit someone else pushed meanwhile. Every attempt is recorded on the merge
request (gates, timings, conflicts), which is what track records are computed from. A push to
origin that fails after a merge (the merge stands) and a merge request that names no source bead
(rejected) are escalated.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, now_iso, parse_time, set_status
from gt.town import layout
from gt.town.settings import MergeQueue
from gt.dispatch import agents, attempts
from gt.beads.queries import merge_requests
from gt.model.merge_request import MERGE_REQUEST, attempts as mr_attempts, text as mr_text
from gt.beads.tracker import Edit, Lookup, Tracker
from gt.town.context import Town

MAX_RACES = 5  # the default branch moved under us this many times: give up until the next pass
TAIL = 2000  # characters of failing output kept on the merge request


@dataclass
class Outcome:
    mr: str
    result: str  # merged | failed | conflict | skipped
    commit: str | None = None
    detail: str = ""
    gates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"mr": self.mr, "result": self.result, "commit": self.commit, "detail": self.detail,
                "gates": self.gates}


def identity(rig: str) -> str:
    return f"{rig}/refinery"


def queue(town: Path, rig: str) -> list[dict[str, Any]]:
    """Open merge requests, best first: priority, then retries, then age, then the convoy's age."""
    return _queue(Town.at(town), rig)


def _queue(ctx: Town, rig: str) -> list[dict[str, Any]]:
    from gt.dispatch import convoys

    import time

    town = ctx.root
    view = ctx.rig_tracker(rig).view()
    now = time.time()
    beads = Lookup(view)  # one shard per source asked about

    def backing_off(doc: dict[str, Any]) -> bool:  # the retry breaker's wait before the next attempt
        source = mr_text(doc, "source") or ""
        return source in beads and attempts.waiting(Tracker.get(view, source), now,
                                                    ctx.settings(rig).retry.backoff_max_seconds)

    open_mrs = [d for d in merge_requests(view) if d.get("status") == "open" and not backing_off(d)]
    convoy_age: dict[str, float] = {}
    ids = {mr_text(d, "convoy") for d in open_mrs} - {None}
    if ids:
        for c in convoys.status(town, include_closed=True):
            if c["id"] in ids:
                convoy_age[c["id"]] = parse_time(c["created_at"]) or 0.0

    def score(doc: dict[str, Any]) -> tuple[int, float, float, str]:  # every field read as ledger data: any type
        retries = len([a for a in mr_attempts(doc) if a.get("result") != "merged"])
        priority = doc.get("priority")
        submitted = mr_text(doc, "submitted_at") or doc.get("created_at")
        return ((priority if type(priority) is int else 2) + retries,
                (parse_time(submitted) if isinstance(submitted, str) else None) or 0.0,
                convoy_age.get(mr_text(doc, "convoy") or "", float("inf")), str(doc["id"]))

    return sorted(open_mrs, key=score)


def _git(worktree: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return git.run("-C", str(worktree), *args, check=check)


def _lock(town: Path, rig: str) -> Any:
    from filelock import FileLock

    folder = layout.rig_dir(town, rig) / layout.RIG_REPO / "gt"
    folder.mkdir(exist_ok=True)
    return FileLock(str(folder / "refinery.lock"))


def _progress(text: str) -> None:
    from gt import progress

    progress.report(text, every=0)


def _gate(worktree: Path, name: str, command: str, timeout: float, env: dict[str, str]) -> dict[str, Any]:
    _progress(f"refinery: {name} in {worktree} …")
    started = time.monotonic()
    try:
        result = subprocess.run(command, shell=True, cwd=worktree, capture_output=True, text=True, timeout=timeout,
                                env=env)
        passed, output = result.returncode == 0, result.stdout + result.stderr
        detail = f"exit {result.returncode}"
    except subprocess.TimeoutExpired as exc:
        passed, output, detail = False, str(exc.stdout or "") + str(exc.stderr or ""), f"timed out after {timeout:g} s"
    return {"gate": name, "command": command, "passed": passed, "seconds": round(time.monotonic() - started, 3),
            "detail": detail, "tail": "" if passed else output[-TAIL:]}


def _integrate(worktree: Path, base: str, head: str, strategy: str, label: str) -> tuple[str | None, list[str]]:
    """The candidate commit (the polecat's work on `base`), or None and the conflicting files."""
    _git(worktree, "reset", "--quiet", "--hard")
    _git(worktree, "clean", "-fdq")
    if strategy == "merge":
        _git(worktree, "checkout", "--quiet", "--detach", base)
        result = _git(worktree, "merge", "--no-ff", "--no-edit", "-m", f"Merge {label}", head, check=False)
        abort = ("merge", "--abort")
    else:
        _git(worktree, "checkout", "--quiet", "--detach", head)
        result = _git(worktree, "rebase", "--quiet", base, check=False)
        abort = ("rebase", "--abort")
    if result.returncode != 0:
        conflicts = _git(worktree, "diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
        _git(worktree, *abort, check=False)
        return None, conflicts or [git.last_line(result.stderr or result.stdout)]
    return _git(worktree, "rev-parse", "HEAD").stdout.strip(), []


def process(town: Path, rig: str, once: bool = False) -> list[Outcome]:
    """Work through the queue (just its best merge request with `once`), one merge at a time per rig."""
    from filelock import Timeout

    outcomes: list[Outcome] = []
    try:
        with _lock(town, rig).acquire(timeout=0), Town(town).session() as ctx:  # ledgers and settings read once
            while True:
                mrs = _queue(ctx, rig)
                if not mrs:
                    break
                outcomes.append(_attempt(ctx, rig, mrs[0]))
                if once:
                    break
            if any(o.result == "merged" for o in outcomes):
                _dispatch_queued(town, rig)
    except Timeout:
        raise GtError(f"the refinery of {rig} is busy (another process is merging)", code="busy") from None
    return outcomes


def _dispatch_queued(town: Path, rig: str) -> None:
    """A merge freed a polecat: queued work for the rig takes its slot now, not at the next tick."""
    from gt.roles import polecats

    try:
        polecats.dispatch(town, Signature(identity(rig)), rig)
    except Exception as exc:  # the merge stands; the Deacon's next tick dispatches again
        _progress(f"refinery: could not dispatch queued work of {rig}: {exc}")


def _attempt(ctx: Town, rig: str, doc: dict[str, Any]) -> Outcome:
    town = ctx.root
    mq = ctx.settings(rig).merge_queue
    default = ctx.default_branch(rig)
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    worktree = layout.rig_dir(town, rig) / "refinery" / "rig"
    mr = doc.get("mr") or {}
    head = mr.get("head")
    attempt: dict[str, Any] = {"at": now_iso(), "strategy": mq.strategy}
    source = mr.get("source")
    if not isinstance(source, str) or not source:  # nothing to land it for: out of the queue, not its head
        return _unsourced(ctx, rig, doc, attempt)
    if not head or git.run(f"--git-dir={repo}", "cat-file", "-e", f"{head}^{{commit}}", check=False).returncode:
        return _reject(ctx, rig, doc, attempt, "failed", f"the branch head {head} is not in the repository")
    env = {**os.environ, "GT_ROLE": "refinery", "GT_RIG": rig}
    for race in range(MAX_RACES):
        base = git.run(f"--git-dir={repo}", "rev-parse", f"refs/heads/{default}").stdout.strip()
        attempt.update(base=base, races=race)
        candidate, conflicts = _integrate(worktree, base, head, attempt["strategy"], f"{mr.get('branch')} ({mr.get('source')})")
        if candidate is None:
            attempt["conflicts"] = conflicts
            if mq.on_conflict == "auto_rebase" and not attempt.get("auto_rebased"):
                attempt["auto_rebased"] = True
                continue  # once more, on whatever the default branch is now
            return _reject(ctx, rig, doc, attempt, "conflict", f"conflicts in {', '.join(conflicts[:5])}")
        gates = []
        for name, command in mq.gates():
            tries = 1 + (mq.retry_flaky_tests if name == "test_command" else 0)
            for _ in range(tries):
                result = _gate(worktree, name, command, mq.gate_timeout, env)
                gates.append(result)
                if result["passed"]:
                    break
            if not gates[-1]["passed"]:
                attempt["gates"] = gates
                return _reject(ctx, rig, doc, attempt, "failed", f"{name} failed ({gates[-1]['detail']})",
                               tail=gates[-1]["tail"])
        attempt["gates"] = gates
        moved = git.run(f"--git-dir={repo}", "update-ref", "-m", f"refinery: merge {mr.get('source')}",
                           f"refs/heads/{default}", candidate, base, check=False)
        if moved.returncode == 0:
            attempt.update(result="merged", commit=candidate)
            refused = _push_origin(repo, default, mq)
            if refused is not None:
                attempt["push_error"] = refused
            outcome = _merged(ctx, rig, doc, attempt, candidate)  # landed here: recorded whatever origin says
            if refused is not None:
                outcome.detail += f"; not pushed to origin: {' '.join(refused.split())[:300]}"
                _escalate(ctx, rig, f"{rig} refinery cannot push {default} to origin", "high",  # folds while origin is down
                          f"merging {source} as {candidate[:7]}: {refused}", None)
            return outcome
    attempt["result"] = "raced"
    return Outcome(doc["id"], "skipped", None, f"{default} kept moving; try again")


def _push_origin(repo: Path, default: str, mq: MergeQueue) -> str | None:
    """Push the default branch to the rig's origin (with `push_to_origin`); git's error text if it failed."""
    if not mq.push_to_origin:
        return None
    pushed = git.run(f"--git-dir={repo}", "push", "--quiet", "origin", f"refs/heads/{default}:refs/heads/{default}",
                     check=False)
    if pushed.returncode == 0:
        return None
    return (pushed.stderr.strip() or pushed.stdout.strip() or f"git push exited {pushed.returncode}")[-TAIL:]


def _escalate(ctx: Town, rig: str, description: str, severity: str, reason: str, related: str | None) -> None:
    """An escalation by the refinery; one that cannot be written is reported, the queue goes on."""
    from gt.dispatch import escalations

    me = Signature(identity(rig))
    try:
        escalations.escalate(ctx.root, me, description, severity, reason=reason, related=related, source=me.name)
    except GtError as exc:
        _progress(f"refinery: could not escalate {description!r}: {exc}")


def _unsourced(ctx: Town, rig: str, doc: dict[str, Any], attempt: dict[str, Any]) -> Outcome:
    """A merge request that names no source bead: rejected (closed, outcome rejected) and escalated."""
    detail = "it names no source bead"
    attempt.update(result="rejected", detail=detail)
    mr = doc.get("mr") or {}

    def build(view: View) -> Edit:
        current = Tracker.get(view, doc["id"])
        if current.get("status") != "open":
            return Edit("mq-reject", "no change")
        current = _with_attempt(current, attempt)
        set_status(current, "closed", now_iso(), f"rejected: {detail}")
        current["mr"]["outcome"] = "rejected"
        return Edit("mq-reject", f"reject {doc['id']}: {detail}", {doc["id"]: canonical(current)},
                    [("Merge-Request", doc["id"]), ("Result", "rejected")])

    if ctx.rig_tracker(rig).write(Signature(identity(rig)), build).commit is not None:
        reason = (f"{doc['id']} ({doc.get('title')}) names no source bead, so there is nothing to land it for: "
                  f"the refinery of {rig} rejected it. Branch: {mr.get('branch')}; worker: {mr.get('worker')}.")
        _escalate(ctx, rig, f"{rig} refinery rejected {doc['id']}: it names no source bead", "medium", reason,
                  doc["id"])
    return Outcome(doc["id"], "failed", None, detail)


def _source(doc: dict[str, Any]) -> str:
    """The bead a merge request is for (`gt done` always names it)."""
    source = (doc.get("mr") or {}).get("source")
    if not isinstance(source, str) or not source:
        raise GtError(f"{doc['id']} names no source bead: reject it with `gt mq reject`", code="refused")
    return source


def _with_attempt(doc: dict[str, Any], attempt: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    mr = dict(doc.get("mr") or {})
    mr["attempts"] = list(mr.get("attempts") or ()) + [attempt]
    doc["mr"] = mr
    doc["updated_at"] = now_iso()
    return doc


def _merged(ctx: Town, rig: str, doc: dict[str, Any], attempt: dict[str, Any], commit: str) -> Outcome:
    from gt.dispatch import convoys, mail
    from gt.dispatch.lifecycle import close_beads

    mr = doc.get("mr") or {}
    source, worker = _source(doc), mr.get("worker")
    town, me = ctx.root, Signature(identity(rig))
    tracker = ctx.rig_tracker(rig)
    source_tracker = ctx.tracker_for(str(source)) or tracker
    source_here = source_tracker.repo.commondir == tracker.repo.commondir
    reason = f"merged as {commit[:7]} by {identity(rig)}"

    def build(view: View) -> Edit:
        current = _with_attempt(Tracker.get(view, doc["id"]), attempt)
        set_status(current, "closed", now_iso(), reason)
        current["mr"]["merged_commit"] = commit
        current["mr"]["outcome"] = "merged"
        edit = Edit("merge", f"close {source}: {reason}", {doc["id"]: canonical(current)},
                    [("Merge-Request", doc["id"]), ("Merged-Commit", commit), ("Base", attempt["base"]),
                     ("Worker", str(worker)), ("Attempts", str(len(current["mr"]["attempts"])))]
                    + agents.facts({"model": mr.get("model"), "agent": mr.get("agent")}, source))
        if source_here and source in Lookup(view):  # a source deleted meanwhile: the merge stands
            bead = Tracker.get(view, source)
            set_status(bead, "closed", now_iso(), reason)
            bead["updated_at"] = now_iso()
            edit.beads[source] = canonical(bead)
        if worker and (agents.record(view, worker) or {}).get("hook") == source:
            agents.put(edit, worker, agents.updated(view, worker, state="idle", hook=None))
        return edit

    tracker.write(me, build)
    if not source_here:
        close_beads(source_tracker, me, [source], reason, force=True)  # the code has landed
    else:
        convoys.after_close(town, me, [source])
    if ctx.settings(rig).merge_queue.delete_merged_branches:
        git.run(f"--git-dir={layout.rig_dir(town, rig) / layout.RIG_REPO}", "branch", "-D", str(mr.get("branch")),
                   check=False)  # still checked out by the polecat: the witness removes both later
    from gt.dispatch.lifecycle import close_named

    close_named(layout.rig_dir(town, rig) / layout.RIG_REPO, f"{attempt['base']}..{commit}",  # `Closes:` lines
                lambda text: _progress(f"refinery: {text}"))
    mail.send(town, me, [f"{rig}/witness"], f"MERGED {source}", f"{mr.get('branch')} by {worker} merged as {commit}",
              labels=("merged",), check=False)
    return Outcome(doc["id"], "merged", commit, reason, attempt.get("gates", []))


def _reject(ctx: Town, rig: str, doc: dict[str, Any], attempt: dict[str, Any], result: str, detail: str,
            tail: str = "") -> Outcome:
    """Gates failed or the work conflicts: the merge request is rejected and the work goes back to its polecat."""
    from gt.dispatch import mail

    attempt.update(result=result, detail=detail)
    mr = doc.get("mr") or {}
    source, worker = _source(doc), mr.get("worker")
    town, me = ctx.root, Signature(identity(rig))
    mq = ctx.settings(rig).merge_queue
    policy = mq.on_conflict if result == "conflict" else mq.on_failure
    tracker = ctx.rig_tracker(rig)
    source_here = (ctx.tracker_for(str(source)) or tracker).repo.commondir == tracker.repo.commondir

    tripped: list[attempts.Attempt] = []
    elsewhere: list[bool] = []  # the bead lives in another ledger: its attempt is counted there

    def build(view: View) -> Edit:
        tripped.clear()
        elsewhere.clear()
        current = _with_attempt(Tracker.get(view, doc["id"]), attempt)
        set_status(current, "closed", now_iso(), f"rejected: {detail}")
        current["mr"]["outcome"] = "rejected"
        if tail:
            current["notes"] = f"Failing output (tail):\n{tail}"
        edit = Edit("reject", f"reject {doc['id']} ({source}): {detail}", {doc["id"]: canonical(current)},
                    [("Merge-Request", doc["id"]), ("Worker", str(worker)), ("Result", result)]
                    + agents.facts({"model": mr.get("model"), "agent": mr.get("agent")}, source))
        holds_it = (agents.record(view, worker) or {}).get("hook") == source if worker else False
        still_open = not source_here or Tracker.get(view, source).get("status") != "closed"
        bead: dict[str, Any] | None = None
        # every rejection is an attempt of the retry breaker, unless the work has moved on to another
        # agent meanwhile (a stale merge request of the polecat it was taken from)
        if source_here and still_open and (holds_it or not worker):
            bead = Tracker.get(view, source)
            counted = attempts.record(bead, ctx.settings(rig).retry, f"rejected: {detail}", now_iso())
            bead["updated_at"] = now_iso()
            edit.beads[source] = canonical(bead)
            edit.trailers.append(("Attempt", str(counted.count)))
            if counted.tripped:  # out of the loop: blocked, the polecat released, its branch kept
                tripped.append(counted)
                if worker and holds_it:
                    agents.put(edit, worker, agents.updated(view, worker, state="idle", hook=None))
                return edit
        if not source_here and still_open and (holds_it or not worker):
            elsewhere.append(True)
        if worker and policy != "none" and holds_it and still_open:  # not if the work landed or moved on
            if bead is not None:
                set_status(bead, "hooked", now_iso())
                bead["assignee"] = worker
                edit.beads[source] = canonical(bead)
            agents.put(edit, worker, agents.updated(view, worker, state="fix_needed", hook=source))
        return edit

    tracker.write(me, build)
    if elsewhere:
        counted = attempts.count_elsewhere(ctx, me, str(source), ctx.settings(rig).retry, f"rejected: {detail}",
                                           f"{doc['id']} rejected: {detail}", [("Merge-Request", doc["id"])])
        if counted is not None and counted.tripped:
            tripped.append(counted)
        if tripped and worker:
            agents.set_state(town, me, worker, f"release {worker}: {source} stopped by the retry breaker", op="release",
                             trailers=(("Source", str(source)),), state="idle", hook=None)
    if tripped:
        try:
            attempts.escalate(town, me, str(source), tripped[0], detail, tail)
        except GtError as exc:  # the Deacon raises it later (attempts.reconcile); the queue goes on
            _progress(f"refinery: could not escalate {source}: {exc}")
        return Outcome(doc["id"], result, None, detail, attempt.get("gates", []))
    if worker:
        subject = f"{'REBASE_NEEDED' if result == 'conflict' else 'FIX_NEEDED'} {source}"
        body = f"{doc['id']} was rejected: {detail}." + (f"\n\n{tail}" if tail else "")
        body += "\nRebase onto the default branch and resolve the conflicts, then `gt done`." if result == "conflict" \
            else "\nFix it on your branch, then `gt done` again."
        mail.send(town, me, [worker], subject, body, labels=("fix-needed",), check=False)
    return Outcome(doc["id"], result, None, detail, attempt.get("gates", []))


def retry(town: Path, actor: Signature, rig: str, mr_id: str) -> dict[str, Any]:
    """Put a rejected merge request back in the queue."""
    tracker = Town.at(town).rig_tracker(rig)

    def build(view: View) -> Edit:
        found = Tracker.resolve(view, mr_id)
        doc = Tracker.get(view, found)
        if doc.get("type") != MERGE_REQUEST:
            raise GtError(f"{found} is not a merge request", code="refused")
        if (doc.get("mr") or {}).get("outcome") == "merged":
            raise GtError(f"{found} is merged already", code="refused")
        if doc.get("status") == "open":
            return Edit("mq-retry", "no change", result=doc)
        set_status(doc, "open", now_iso())
        doc["updated_at"] = now_iso()
        doc = canonical(doc)
        return Edit("mq-retry", f"retry {found}", {found: doc}, result=doc)

    retried: dict[str, Any] = tracker.write(actor, build).result
    return retried


def reject(town: Path, actor: Signature, rig: str, mr_id: str, reason: str) -> dict[str, Any]:
    """Reject a merge request by hand (the work stays with its polecat)."""
    tracker = Town.at(town).rig_tracker(rig)

    def build(view: View) -> Edit:
        found = Tracker.resolve(view, mr_id)
        doc = Tracker.get(view, found)
        if doc.get("type") != MERGE_REQUEST or doc.get("status") != "open":
            raise GtError(f"{found} is not an open merge request", code="refused")
        doc = _with_attempt(doc, {"at": now_iso(), "result": "rejected", "detail": reason, "by": actor.name})
        set_status(doc, "closed", now_iso(), f"rejected: {reason}")
        doc["mr"]["outcome"] = "rejected"
        doc = canonical(doc)
        return Edit("mq-reject", f"reject {found}: {reason}", {found: doc}, result=doc)

    rejected: dict[str, Any] = tracker.write(actor, build).result
    return rejected
