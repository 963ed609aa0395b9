"""`bd sync`: fetch the remote ledger, merge it inside the object store, push; never force.

Transport uses the git binary (fast, and it runs the remote's hooks); the merge is ours and reads
only the two states (see gt/model/merge.py), so any replicas that sync in any order converge.

`up_to_date` answers the commonest sync, the one with nothing to exchange, from the remote's
advertised ledger ref and our own alone. It is imported by `bd sync` before anything else (Click,
the ledger store, dulwich: tens of milliseconds), so this module imports those only where a sync
has something to merge.
"""
from __future__ import annotations

import os
import time

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.gitdir import RepoPaths, read_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms); mypy reads it as True
if TYPE_CHECKING:
    import subprocess
    from typing import Any, Callable

    from gt.beads.tracker import Tracker
    from gt.ledger.store import Change, Ledger, Signature, View

# gt.ledger.store.READONLY (not imported here: see `up_to_date`; a test keeps the two equal)
READONLY = "BD_READONLY"

MAX_ROUNDS = 10  # fetch-merge-push rounds before giving up (see docs/sync.md)
BACKOFF_SECONDS = 0.05  # before round n+1: a random pause of up to BACKOFF_SECONDS * 2**n ...
BACKOFF_CAP_SECONDS = 1.6  # ... never more than this (so 10 rounds pause 9.5 s in all at most, 4.75 s on average)

# What git answers when the remote's ledger moved between our fetch and our push: the push was
# refused as not a fast-forward of what the remote now has (`[rejected]`: non-fast-forward, fetch
# first, stale info), or it lost the race for the remote's ref lock to another push (`[remote
# rejected] (failed to update ref)`, "cannot lock ref …: is at X but expected Y", "incorrect old
# value provided"). Every one means "fetch, merge, push again"; a refusal by a hook does not.
REMOTE_MOVED = ("[rejected]", "non-fast-forward", "fetch first", "stale info", "cannot lock ref",
                "failed to update ref", "failed to lock", "incorrect old value", "but expected")


class SyncReport:  # a plain class: a no-op `bd sync` imports no dataclasses (see `up_to_date`)
    """What a sync did."""

    def __init__(self, remote: str, fetched: str | None = None, action: str = "up to date", rounds: int = 0) -> None:
        self.remote = remote
        self.fetched = fetched  # the remote ledger's commit, None when it has no ledger yet
        self.action = action  # up to date | fast-forward | merged | created
        self.merged_beads: list[str] = []
        self.renamed: dict[str, str] = {}  # id collisions: old id -> new id
        self.pushed = False
        self.rounds = rounds
        self.retries: list[str] = []  # why each refused push was tried again

    def __repr__(self) -> str:
        return f"SyncReport({self.as_dict()!r})"

    def as_dict(self) -> dict[str, Any]:
        return {"remote": self.remote, "fetched": self.fetched, "action": self.action,
                "merged_beads": self.merged_beads, "renamed": self.renamed, "pushed": self.pushed,
                "rounds": self.rounds, "retries": self.retries}


def remote_ref(tracker: Tracker, remote: str) -> str:
    """Where a remote's ledger is fetched to; a remote given as a path or URL gets a name from its hash."""
    return tracking_ref(remote, tracker.ledger.branch)


def tracking_ref(remote: str, branch: str) -> str:
    """`remote_ref` of a remote and a ledger branch."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", remote):
        from hashlib import sha1

        remote = "url-" + sha1(remote.encode()).hexdigest()[:12]
    return f"refs/remotes/{remote}/{branch}"


def _git(tracker: Tracker, *args: str) -> subprocess.CompletedProcess[str]:
    return git.run(f"--git-dir={tracker.repo.commondir}", *args, check=False)


def fetch(tracker: Tracker, remote: str) -> str | None:
    """Fetch the remote's ledger branch into refs/remotes/<remote>/<branch>; None if it has none."""
    branch = tracker.ledger.branch
    result = _git(tracker, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{remote_ref(tracker, remote)}")
    if result.returncode != 0:
        message = result.stderr.strip()
        if "couldn't find remote ref" in message or "could not find remote ref" in message.lower():
            return None
        raise _fetch_failed(remote, message)
    return read_ref(tracker.repo.commondir, remote_ref(tracker, remote))


def _fetch_failed(remote: str, message: str) -> GtError:
    fatal = [line for line in message.splitlines() if line.startswith("fatal:")]
    return GtError(f"fetch from {remote} failed: {fatal[0] if fatal else git.last_line(message)}", code="fetch")


def up_to_date(repo: RepoPaths, branch: str, remote: str) -> SyncReport | None:
    """The report of a sync with nothing to exchange, or None when there may be something to do.

    Nothing to exchange: the remote advertises our own ledger commit (`git ls-remote`: one
    connection, no objects, no ref locks, no FETCH_HEAD, no auto-maintenance). Then a fetch would
    bring nothing, there is nothing to merge (nothing remote to validate: the commit is ours
    already) and nothing to push; only the remote-tracking ref is brought up to date, as the fetch
    would have. Anything else (the remote has no ledger or another commit; we have no branch, or
    a ref being written right now) is None: the caller runs `sync`, which fetches, merges and
    pushes as always. A remote that cannot be reached raises GtError, as `fetch` does.

    Read-only mode is refused as `sync` refuses it. Like `sync`, this takes no lock: a local write
    landing after the ledger refs were read is the next sync's to push.
    """
    if os.environ.get(READONLY, "") not in ("", "0"):
        from gt.ledger.store import require_writable

        require_writable("bd sync")
    ref = f"refs/heads/{branch}"
    code, listed, errors = git.capture(f"--git-dir={repo.commondir}", "ls-remote", remote, ref)
    if code != 0:
        raise _fetch_failed(remote, errors.strip())
    advertised = [line.split("\t") for line in listed.splitlines()]
    theirs = next((fields[0] for fields in advertised if len(fields) == 2 and fields[1] == ref), None)
    if theirs is None or theirs != read_ref(repo.commondir, ref):
        return None
    tracking = tracking_ref(remote, branch)
    if read_ref(repo.commondir, tracking) != theirs:
        git.run(f"--git-dir={repo.commondir}", "update-ref", tracking, theirs, check=False)
    return SyncReport(remote, fetched=theirs, rounds=1)


def push(tracker: Tracker, remote: str, commit: str) -> str | None:
    """Push the ledger (never forced): None when accepted, git's answer when the remote moved meanwhile.

    Any other refusal (a hook's, an unreachable remote) raises GtError with the remote's reasons.
    """
    branch = tracker.ledger.branch
    result = _git(tracker, "push", "--quiet", "--porcelain", remote, f"{commit}:refs/heads/{branch}")
    if result.returncode == 0:
        _git(tracker, "update-ref", remote_ref(tracker, remote), commit)
        return None
    text = result.stdout + result.stderr
    if "hook declined" not in text and any(answer in text for answer in REMOTE_MOVED):
        return _moved_answer(result)
    reasons = [line[len("remote:"):].strip() for line in result.stderr.splitlines()
               if line.startswith("remote:") and line[len("remote:"):].strip()]
    detail = "; ".join(reasons) if reasons else git.last_line(result.stderr or result.stdout)
    raise GtError(f"push to {remote} refused: {detail}", code="push")


def _moved_answer(result: subprocess.CompletedProcess[str]) -> str:
    """The line of git's output that says how the remote moved (for the report and the final error)."""
    lines = [" ".join(line.removeprefix("remote:").split()) for line in result.stderr.splitlines()]
    # --porcelain's line for the ref: "!<TAB><from>:<to><TAB>[rejected] (fetch first)"
    lines += [line.split("\t")[-1] for line in result.stdout.splitlines() if line.startswith("!")]
    for line in lines:
        if any(answer in line for answer in REMOTE_MOVED):
            return line
    return git.last_line(result.stderr or result.stdout)


def backoff(round_number: int) -> float:
    """The pause before the next round: full jitter, so racing clones stop meeting at the hub."""
    import random

    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** round_number))


def sync(tracker: Tracker, actor: Signature | Callable[[], Signature], remote: str | None = None,
         push_changes: bool = True) -> SyncReport:
    """Fetch, merge and push until the remote has our ledger (bounded retries).

    `actor` may be a function giving the signature: it is called only when a merge commit is written.
    """
    from gt.ledger.store import require_writable

    require_writable("bd sync")
    remote = remote or tracker.settings.remote
    report = SyncReport(remote)
    from gt import progress

    for round_number in range(1, MAX_ROUNDS + 1):
        report.rounds = round_number
        progress.report(f"fetching the ledger from {remote} …", every=0)
        theirs = fetch(tracker, remote)
        progress.report(f"merging with {remote} …", every=0)
        report.fetched = theirs
        if theirs is not None:
            merge_into_local(tracker, actor, theirs, report)
        ours = tracker.ledger.local_head()
        if ours is None and theirs is None:
            raise GtError(f"no ledger here or on {remote}: run `bd init` first", code="no_ledger")
        if not push_changes or ours is None or ours == theirs:
            return report
        answer = push(tracker, remote, ours)
        if answer is None:
            report.pushed = True
            if theirs is None:
                report.action = "created"
            return report
        report.retries.append(answer)
        if round_number < MAX_ROUNDS:
            progress.report(f"{remote} moved meanwhile; fetching again (round {round_number + 1}) …", every=0)
            time.sleep(backoff(round_number))
    raise GtError(f"the ledger on {remote} kept moving: gave up after {MAX_ROUNDS} rounds "
                  f"(last answer: {report.retries[-1]}); nothing is lost: run `bd sync` again", code="sync")


def merge_into_local(tracker: Tracker, actor: Signature | Callable[[], Signature], theirs: str,
                     report: SyncReport) -> None:
    """Bring `theirs` into the local branch: fast-forward when possible, else a merge commit."""
    ledger = tracker.ledger
    ours = ledger.local_head()
    if ours == theirs or (ours is not None and ledger.is_ancestor(theirs, ours)):
        return
    if ours is None or ledger.is_ancestor(ours, theirs):
        if ledger.fast_forward(theirs):
            report.action = "fast-forward"
            return

    signature = actor() if callable(actor) else actor

    def build(view: View) -> Change | None:
        local = view.commit
        if local is None or local == theirs or ledger.is_ancestor(theirs, local):
            return None
        change = merged_change(tracker, view, theirs, signature, report)
        return change

    commit = ledger.transact(build, signature)
    if commit is not None:
        report.action = "merged"
    elif (local := ledger.local_head()) is not None and not ledger.is_ancestor(theirs, local):
        merge_into_local(tracker, signature, theirs, report)  # the branch moved to a fast-forwardable state


def merged_change(tracker: Tracker, view: View, theirs: str, actor: Signature, report: SyncReport) -> Change:
    """The writes that turn our tree into the join of ours and theirs, as a merge commit."""
    from gt.beads.tracker import BEADS, LEDGER_FORMAT
    from gt.ledger.store import CONFIG_FILE, Change
    from gt.model import merge

    ledger = tracker.ledger
    ours = view.commit
    branch = ledger.branch
    change = Change(f"sync: merge {report.remote}/{branch}", merge_parents=[theirs])
    renamed: dict[str, str] = {}
    mine: dict[str, dict[str, Any]] = {}
    other: dict[str, dict[str, Any]] = {}
    for collection, key, blob_ours, blob_theirs in ledger.diff(ours, theirs):
        if collection == "":
            config = _merge_config(_load(ledger, blob_ours, CONFIG_FILE), _load(ledger, blob_theirs, CONFIG_FILE))
            if config["format"] > LEDGER_FORMAT:
                raise GtError(f"the ledger on {report.remote} has format {config['format']}, newer than this bd "
                              f"understands ({LEDGER_FORMAT}): upgrade bd before syncing", code="format")
            change.config = config
            continue
        name = f"{branch}:{collection}/{key}.yaml"
        doc_ours = _load(ledger, blob_ours, name)
        doc_theirs = _load(ledger, blob_theirs, name)
        if collection != BEADS:
            change.put(collection, key, _pick(doc_ours, doc_theirs))
            continue
        if doc_theirs is None:
            continue  # only ours has it: keep
        if doc_ours is None:
            _put_bead(change, view, key, doc_theirs)
            continue
        if merge.same_bead(doc_ours, doc_theirs):
            _put_bead(change, view, key, merge.merge(doc_ours, doc_theirs))
            continue
        loser = merge.collision_loser(doc_ours, doc_theirs)
        winner = doc_theirs if loser is doc_ours else doc_ours
        new_id = merge.renamed_id(key, loser)
        renamed[key] = new_id
        (mine if loser is doc_ours else other)[key] = loser
        change.put(BEADS, key, winner)
        _put_bead(change, view, new_id, {**loser, "id": new_id})
    if renamed:
        _rewrite_references(tracker, view, theirs, change, renamed, mine)
    change.trailers = [("Bead-Id", key) for (collection, key) in change.writes if collection == BEADS]
    change.trailers += [("Op", "sync"), ("Actor", actor.name), ("Merged-From", f"{report.remote} {theirs}")]
    change.trailers += [("Renamed", f"{old} -> {new}") for old, new in renamed.items()]
    report.merged_beads = [key for (collection, key) in change.writes if collection == BEADS]
    report.renamed.update(renamed)
    if change.config is None and view.config.get("format", LEDGER_FORMAT) < LEDGER_FORMAT:
        change.config = {**view.config, "format": LEDGER_FORMAT}
    return change


def _put_bead(change: Change, view: View, key: str, doc: dict[str, Any]) -> None:
    """Write a bead of the merge, joining it with what the merge (or our side) already has for that id.

    One id can receive several contributions in one merge: a colliding bead moved to its new id
    while the other side already holds its own copy there. The join keeps every one of them.
    """
    from gt.beads.tracker import BEADS
    from gt.model import merge

    for earlier in (change.writes.get((BEADS, key)), view.doc(BEADS, key)):
        if earlier is not None and merge.same_bead(earlier, doc):
            doc = merge.merge(earlier, doc)
    change.put(BEADS, key, doc)


def _rewrite_references(tracker: Tracker, view: View, theirs: str, change: Change,
                        renamed: dict[str, str], ours_lost: dict[str, dict[str, Any]]) -> None:
    """Dependencies that the renamed bead's own side added now point at its new id.

    A reference that only the loser's side has was made there, so it meant the loser; one both
    sides have predates the collision's merge and stays with the id's winner.
    """
    from gt.beads.tracker import BEADS, Tracker
    from gt.model.bead import TOMBSTONE

    their_view = tracker.ledger.view(theirs)
    candidates = set(Tracker.summaries(view)) | set(Tracker.summaries(their_view))
    for bead_id in sorted(candidates):
        current = change.writes.get((BEADS, bead_id))
        if current is None:
            current = view.doc(BEADS, bead_id) or their_view.doc(BEADS, bead_id)
        if current is None or current.get("status") == TOMBSTONE:
            continue
        deps = current.get("dependencies") or []
        if not any(d.get("target") in renamed for d in deps):
            continue
        ours_doc, theirs_doc = view.doc(BEADS, bead_id), their_view.doc(BEADS, bead_id)
        rewritten = []
        for dep in deps:
            old = dep.get("target")
            if old in renamed:
                loser_side_doc = ours_doc if old in ours_lost else theirs_doc
                winner_side_doc = theirs_doc if old in ours_lost else ours_doc
                on_loser = loser_side_doc is not None and _has_dep(loser_side_doc, dep)
                on_winner = winner_side_doc is not None and _has_dep(winner_side_doc, dep)
                if on_loser and not on_winner:
                    dep = {**dep, "target": renamed[old]}
            rewritten.append(dep)
        if rewritten != deps:
            change.put(BEADS, bead_id, {**current, "dependencies": rewritten})


def _has_dep(doc: dict[str, Any], dep: dict[str, Any]) -> bool:
    from gt.model import merge

    key = merge.element_key("dependencies", dep)
    return any(merge.element_key("dependencies", d) == key for d in doc.get("dependencies") or ())


def _load(ledger: Ledger, blob: str | None, name: str) -> dict[str, Any] | None:
    from gt.ledger.yamlio import YamlError

    if blob is None:
        return None
    try:
        return ledger.load(blob, name)
    except YamlError as exc:
        raise GtError(f"cannot merge: {exc}", code="bad_yaml") from None


def _pick(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Documents of other collections (no stamps yet): a deterministic choice between the two."""
    if a is None or b is None:
        return a if b is None else b
    import json

    return max((a, b), key=lambda d: json.dumps(d, sort_keys=True, default=str))


def _merge_config(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    """Two ledgers' settings: the newer format, the union of extra types, one prefix for both."""
    from gt.beads.tracker import LEDGER_FORMAT

    a, b = a or {}, b or {}
    config = {**b, **a}
    config["format"] = max(int(a.get("format", 1)), int(b.get("format", 1)), LEDGER_FORMAT)
    prefixes = [str(d["prefix"]) for d in (a, b) if d.get("prefix")]
    if prefixes:
        config["prefix"] = min(prefixes)
    types = sorted(set(a.get("types") or ()) | set(b.get("types") or ()))
    if types:
        config["types"] = types
    else:
        config.pop("types", None)
    return {k: config[k] for k in ["format", "prefix", *sorted(k for k in config if k not in ("format", "prefix"))] if k in config}


def status(tracker: Tracker, remote: str | None = None) -> dict[str, Any]:
    """How many ledger commits each side has that the other lacks (after fetching the remote's)."""
    remote = remote or tracker.settings.remote
    theirs = fetch(tracker, remote)
    ledger = tracker.ledger
    ours = ledger.local_head()
    ahead = len(ledger.commits_between(theirs, ours)) if ours else 0
    behind = len(ledger.commits_between(ours, theirs)) if theirs else 0
    return {"remote": remote, "local": ours, "remote_commit": theirs, "ahead": ahead, "behind": behind}
