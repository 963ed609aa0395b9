"""Polecat management by hand: `gt polecat list`, `status`, `nuke` and `gc`.

A polecat is known by its agent record in its rig's ledger, its worktree at
`<rig>/polecats/<name>/` on its own branch, and its session on this machine. `nuke` stops the
session, puts the hooked bead back to open with a note, and removes the worktree and branch,
refusing when they hold work that has not landed on the rig's default branch (unless forced, which
the commit records); `gc` removes idle polecats whose work has landed. Both hold the sling lock, so
no `gt sling` picks the polecat up meanwhile, and reserve the polecat, so the witness keeps off.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger import git
from gt.ledger.store import Signature, check_key
from gt.town import layout, rundir
from gt.town.identity import parse
from gt.town.rigs import registry
from gt.dispatch import agents
from gt.town.context import Town

LOCK_WAIT = 60.0  # seconds to wait for a sling (or the witness's clean-up) to finish with the polecats
SETTING_UP = 60.0  # seconds: a reservation this young is a `gt sling` setting the polecat up (as the witness sees it)
SESSION_LINES = 20  # what `status` shows of the session's output by default


def identity_of(rig: str, name: str) -> str:
    return f"{rig}/polecats/{name}"


def _home(town: Path, rig: str, name: str) -> Path:
    return layout.rig_dir(town, rig) / "polecats" / name


def _plain_name(name: Any) -> bool:
    """A name the ledger may have given that stays inside `<rig>/polecats/` (never a path elsewhere)."""
    try:
        check_key(str(name))
    except GtError:
        return False
    return bool(name)


UNRECORDED = "_unrecorded"  # marks a worktree whose polecat has no agent record (never written)


def _polecats(town: Path, rig: str) -> dict[str, dict[str, Any]]:
    """The rig's polecats by name: their agent records, and the worktrees that have none."""
    from gt.roles.polecats import homes

    found: dict[str, dict[str, Any]] = {}
    for who, rec in agents.records(Town.at(town).rig_tracker(rig).view()).items():
        parsed = parse(who)
        if parsed.role == "polecat" and parsed.rig == rig and _plain_name(parsed.agent):
            found[str(parsed.agent)] = rec
    for name in homes(town, rig):
        found.setdefault(name, {**agents.new_record(identity_of(rig, name)), UNRECORDED: True})
    return found


def _rigs(town: Path, rig: str | None) -> list[str]:
    rigs = registry(town)
    if rig is None:
        return sorted(rigs)
    if rig not in rigs:
        raise GtError(f"no rig named {rig!r}", code="not_found")
    return [rig]


def resolve(town: Path, name: str, rig: str | None = None) -> tuple[str, str]:
    """The rig and name of the polecat `name` stands for: RIG/NAME, RIG/polecats/NAME, or a NAME
    (of `rig`, else unique in the town)."""
    parts = name.split("/")
    if len(parts) == 3 and parts[1] == "polecats":
        parts = [parts[0], parts[2]]
    if len(parts) == 2:
        if rig and rig != parts[0]:
            raise UsageError(f"{name} is not in rig {rig}")
        rig, parts = parts[0], parts[1:]
    if len(parts) != 1 or not _plain_name(parts[0]) or (rig is not None and not _plain_name(rig)):
        raise UsageError(f"invalid polecat {name!r}: give NAME, RIG/NAME or RIG/polecats/NAME, e.g. gizmo/nux")
    wanted = parts[0]
    owners = [r for r in _rigs(town, rig) if wanted in _polecats(town, r)]
    if not owners:
        where = f"rig {rig}" if rig else "the town"
        raise GtError(f"no polecat named {wanted!r} in {where} (gt polecat list shows them)", code="not_found")
    if len(owners) > 1:
        raise UsageError(f"{wanted!r} names a polecat in {', '.join(owners)}: give RIG/NAME or --rig")
    return owners[0], wanted


def attempts_on_hook(town: Path, rec: dict[str, Any]) -> int:
    """The retry breaker's count on the bead on its hook (gt.dispatch.attempts): its rejections and
    restarts together; 0 when it has none or the bead cannot be read here."""
    from gt.dispatch.attempts import count

    bead = rec.get("hook")
    tracker = Town.at(town).tracker_for(bead) if isinstance(bead, str) else None
    if tracker is None:
        return 0
    doc = tracker.view().doc("beads", str(bead))
    return count(doc) if doc else 0


def last_activity(town: Path, identity: str, rec: dict[str, Any], session: dict[str, Any]) -> str | None:
    """The latest sign of life, as ISO 8601 UTC: its record's last change, its session's start or
    output, or a post-commit hook's mark; None when there is none."""
    from gt.model.bead import parse_time

    times = [float(session.get("started_at") or 0), parse_time(rec.get("updated_at")) or 0.0]
    for path in (session.get("log"), rundir.folder(town, "activity") / rundir.key(identity)):
        try:
            if path:
                times.append(os.path.getmtime(path))
        except OSError:
            pass
    latest = max(times)
    if latest <= 0:
        return None
    return datetime.fromtimestamp(latest, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _branch(town: Path, rig: str, name: str, rec: dict[str, Any]) -> str | None:
    """The polecat's branch: its worktree's checkout, else its record's (when the branch exists); only
    a branch this polecat's `polecat_branch` pattern names, never another (a record is ledger data
    and an agent may check out anything: `main` must never be taken for a polecat's branch)."""
    home = _home(town, rig, name)
    candidates: list[Any] = []
    if (home / ".git").exists():
        found = git.run("-C", str(home), "rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()
        candidates.append(found)
    candidates.append(rec.get("branch"))
    for branch in candidates:
        if isinstance(branch, str) and _is_own_branch(town, rig, name, branch) and _branch_exists(town, rig, branch):
            return branch
    return None


def _is_own_branch(town: Path, rig: str, name: str, branch: str) -> bool:
    """`branch` is one the rig's `polecat_branch` pattern gives this polecat, for some bead id."""
    from gt.model.ids import is_id
    from gt.town.settings import load

    if not branch or branch == "HEAD" or branch == registry(town).get(rig, {}).get("default_branch", "main"):
        return False
    marker = "\x00"
    filled = load(town, rig).polecat_branch.format(name=name, rig=rig, bead=marker)
    head, found, tail = filled.partition(marker)
    if not found:
        return branch == filled
    middle = branch[len(head):len(branch) - len(tail)] if tail else branch[len(head):]
    return branch.startswith(head) and branch.endswith(tail) and len(branch) > len(head) + len(tail) and is_id(middle)


def _branch_exists(town: Path, rig: str, branch: str) -> bool:
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    return git.run(f"--git-dir={repo}", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}",
                   check=False).returncode == 0


def entry(town: Path, rig: str, name: str, rec: dict[str, Any]) -> dict[str, Any]:
    """One polecat as `gt polecat list --json` shows it."""
    who = identity_of(rig, name)
    session = rundir.session(town, who) or {}
    home = _home(town, rig, name)
    return {"name": name, "rig": rig, "identity": who, "state": rec.get("state") or "idle",
            "hook": rec.get("hook") or None, "attempts": attempts_on_hook(town, rec), "alive": rundir.alive(session.get("pid")),
            "last_activity": last_activity(town, who, rec, session),
            "worktree": str(home) if home.exists() else None, "branch": _branch(town, rig, name, rec)}


def listing(town: Path, rig: str | None = None) -> list[dict[str, Any]]:
    """Every polecat of the town (of `rig`), by rig then name."""
    with Town(town).session():
        return [entry(town, r, name, rec) for r in _rigs(town, rig) for name, rec in sorted(_polecats(town, r).items())]


def status(town: Path, name: str, rig: str | None = None, lines: int = SESSION_LINES) -> dict[str, Any]:
    """One polecat's entry, with the last lines of its session's output (as `gt session peek`)."""
    from gt.roles import sessions

    rig, name = resolve(town, name, rig)
    found = entry(town, rig, name, _polecats(town, rig)[name])
    try:
        peeked = sessions.peek(town, found["identity"], lines)
    except GtError:
        peeked = {"lines": [], "source": None, "ended": None}
    return {**found, "session": {"lines": peeked["lines"], "source": peeked["source"], "ended": peeked["ended"]}}


def unlanded_work(town: Path, rig: str, name: str, branch: str | None) -> list[str]:
    """What removing the polecat's worktree and branch would lose: uncommitted changes, and commits of
    its branch that are not on the rig's default branch (a commit landed by a rebase, the same change
    under another id, counts as landed). An empty list: nothing."""
    home = _home(town, rig, name)
    lost = []
    if (home / ".git").exists():
        try:
            if git.is_dirty(home):
                lost.append(f"uncommitted changes in {home.relative_to(town)}")
        except GtError:
            lost.append(f"{home.relative_to(town)}, whose status git cannot read")
    if branch:
        repo = layout.rig_dir(town, rig) / layout.RIG_REPO
        default = str(registry(town)[rig].get("default_branch", "main"))
        count = git.unlanded(repo, branch, default)
        if count is None:
            lost.append(f"branch {branch}, which git cannot compare with {default}")
        elif count:
            cherry = git.run(f"--git-dir={repo}", "cherry", default, branch, check=False).stdout.splitlines()
            left = [line for line in cherry if line.startswith("+")]
            if left or not cherry:  # `cherry` says nothing only when it failed: keep the count
                shown = len(left) or count
                lost.append(f"{shown} commit{'s' if shown != 1 else ''} on {branch} not on {default}")
    return lost


def _remove(town: Path, rig: str, name: str, branch: str | None) -> dict[str, Any]:
    """Remove the polecat's worktree and branch (those that exist); what was removed."""
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    home = _home(town, rig, name)
    removed: dict[str, Any] = {"worktree": None, "branch": None}
    if home.exists():
        done = git.run(f"--git-dir={repo}", "worktree", "remove", "--force", "--force", str(home), check=False)
        if done.returncode != 0 and home.exists():
            raise GtError(f"cannot remove the worktree {home}: {git.last_line(done.stderr)}")
        git.run(f"--git-dir={repo}", "worktree", "prune", check=False)
        removed["worktree"] = str(home)
    if branch and _branch_exists(town, rig, branch):
        done = git.run(f"--git-dir={repo}", "branch", "-D", branch, check=False)
        if done.returncode != 0:
            raise GtError(f"cannot delete the branch {branch}: {git.last_line(done.stderr)}")
        removed["branch"] = branch
    return removed


def _removed_text(town: Path, removed: dict[str, Any]) -> str:
    """"worktree gizmo/polecats/nux, branch polecat/nux/gz-1": what `_remove` removed."""
    shown = [f"worktree {Path(str(removed['worktree'])).relative_to(town)}" if removed.get("worktree") else "",
             f"branch {removed['branch']}" if removed.get("branch") else ""]
    return ", ".join(x for x in shown if x) or "nothing on disk"


class _Held:
    """The sling lock, and the polecat reserved (the witness skips it), for the length of a change."""

    def __init__(self, town: Path, identities: list[str]) -> None:
        from filelock import FileLock

        self.town, self.identities = town, identities
        self.lock = FileLock(str(rundir.folder(town, "locks") / "sling.lock"))
        self.reservations: list[Path] = []
        self.busy: set[str] = set()  # being set up by a `gt sling` that still starts its sessions: hands off

    def __enter__(self) -> _Held:
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=LOCK_WAIT)
        except Timeout:
            raise GtError(f"gt sling has held the polecats for over {LOCK_WAIT:g} s: try again", code="busy") from None
        self.busy = {who for who in self.identities if rundir.reserved(self.town, who, SETTING_UP)}
        self.reservations = [rundir.reserve(self.town, who) for who in self.identities if who not in self.busy]
        return self

    def __exit__(self, *exc: object) -> None:
        for path in self.reservations:
            path.unlink(missing_ok=True)
        self.lock.release()


def nuke(town: Path, actor: Signature, name: str, rig: str | None = None, force: bool = False) -> dict[str, Any]:
    """Stop the polecat's session, put its hooked bead back to open with a note, and remove its
    worktree and branch; refuses, changing nothing, when they hold unlanded work, unless `force`
    (then the work is discarded, its open merge requests rejected, and the commit says so)."""
    from gt.roles import runtimes

    rig, name = resolve(town, name, rig)
    who = identity_of(rig, name)
    with _Held(town, [who]) as held:
        if held.busy:
            raise GtError(f"{who} is being set up by gt sling right now: try again in a minute", code="busy")
        rec = _polecats(town, rig).get(name) or agents.new_record(who)
        branch = _branch(town, rig, name, rec)
        lost = unlanded_work(town, rig, name, branch)
        if lost and not force:
            raise GtError(f"{who} holds unlanded work: {'; '.join(lost)}; nuking it would lose that "
                          f"(land it first, or run gt polecat nuke {rig}/{name} --force to discard it)",
                          code="refused")
        stopped = runtimes.stop(town, who)
        lost = unlanded_work(town, rig, name, branch)  # again: the agent may have committed until it stopped
        if lost and not force:
            raise GtError(f"{who} committed meanwhile and now holds unlanded work: {'; '.join(lost)}; its session "
                          f"is stopped and nothing was removed (land it, or gt polecat nuke {rig}/{name} --force)",
                          code="refused")
        removed = _remove(town, rig, name, branch)
        bead = rec.get("hook") or None
        what = _removed_text(town, removed)
        reason = f"nuked by {actor.name}" + (" (--force)" if force else "")
        trailers: list[tuple[str, str]] = [("Reason", f"gt polecat nuke: removed {what}")]
        if force:
            trailers.append(("Forced", "true"))
        if lost:
            trailers.append(("Discarded", "; ".join(lost)))
        if bead:
            note = f"Released by gt polecat nuke: {who} was {reason}" + (
                f"; its unlanded work was discarded ({'; '.join(lost)})" if lost else "") + "."
            try:
                agents.unsling(town, actor, who, op="nuke", note=note, reason=reason, trailers=tuple(trailers),
                               branch=None, worktree=None, head=None)
            except GtError as exc:
                if exc.code != "not_found":
                    raise
                bead = None  # its work landed (or was taken off) meanwhile: nothing to release
        if not bead:
            agents.set_state(town, actor, who, f"nuke {who}: {reason}", op="nuke", trailers=tuple(trailers),
                             state="idle", hook=None, branch=None, worktree=None, head=None)
        rejected = _reject_open_requests(town, actor, rig, who, reason) if removed["branch"] and lost else []
    return {"agent": who, "rig": rig, "name": name, "bead": bead, "stopped": stopped, "removed": removed,
            "discarded": lost, "forced": force, "rejected": rejected}


def _reject_open_requests(town: Path, actor: Signature, rig: str, who: str, reason: str) -> list[str]:
    """Reject the polecat's open merge requests: the branch they would land is gone."""
    from gt.beads.queries import merge_requests
    from gt.model.merge_request import fields
    from gt.roles import refinery

    view = Town.at(town).rig_tracker(rig).view()
    found = [d["id"] for d in merge_requests(view) if d.get("status") == "open" and fields(d).get("worker") == who]
    for mr_id in found:
        refinery.reject(town, actor, rig, mr_id, f"its polecat was {reason}: the work was discarded")
    return found


def gc(town: Path, actor: Signature, rig: str | None = None) -> dict[str, Any]:
    """Remove idle polecats (no hook, no live session) whose work has landed: their worktree and
    branch, and the record's worktree and branch fields (the identity and its record stay)."""
    removed: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for each in _rigs(town, rig):
        names = sorted(_polecats(town, each))
        with _Held(town, [identity_of(each, n) for n in names]) as held:
            polecats = _polecats(town, each)  # read again under the lock
            for name in names:
                rec = polecats.get(name)
                who = identity_of(each, name)
                if rec is None or rec.get("hook") or who in held.busy or \
                        rundir.alive((rundir.session(town, who) or {}).get("pid")):
                    continue  # busy: the witness and the refinery look after it
                branch = _branch(town, each, name, rec)
                home = _home(town, each, name)
                if not home.exists() and not branch and not rec.get("worktree") and not rec.get("branch"):
                    continue  # nothing left to collect
                lost = unlanded_work(town, each, name, branch)
                if lost:
                    kept.append({"agent": who, "rig": each, "name": name, "unlanded": lost})
                    continue
                done = _remove(town, each, name, branch)
                if not rec.get(UNRECORDED):
                    agents.set_state(town, actor, who, f"gc {who}: removed {_removed_text(town, done)} (its work "
                                     "landed)", op="gc", trailers=(("Reason", "gt polecat gc: idle, its work landed"),),
                                     state="idle", hook=None, branch=None, worktree=None, head=None)
                removed.append({"agent": who, "rig": each, "name": name, **done})
    return {"removed": removed, "kept": kept}
