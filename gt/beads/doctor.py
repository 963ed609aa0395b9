"""`bd doctor` and `bd compact`: find and repair problems in the ledger, its cache and its objects."""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import Any, Callable

from gt.ledger.maintenance import estimated_loose_objects, pack, LOOSE_THRESHOLD
from gt.ledger.objects import STALE_LOCK_SECONDS
from gt.ledger.store import HOLDER_SUFFIX, Signature, View, document_path, read_holder, require_writable
from gt.model.bead import TOMBSTONE, parse_time, problems
from gt.model.graph import cycles
from gt.beads.tracker import BEADS, Edit, Tracker


LOCK_HELD_SECONDS = 5.0  # a writer holds the ledger lock for milliseconds: longer than this is reported


@dataclass
class Finding:
    kind: str
    path: str
    problem: str
    fix: str | None = None  # what --fix does about it; None when it is left to a human
    fixed: bool = False
    notice: bool = False  # worth showing, but nothing is broken: the doctor still exits 0

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "problem": self.problem, "fix": self.fix, "fixed": self.fixed,
                "notice": self.notice}


# The beads of other ledgers (a town's rigs) with these ids: what a dependency across ledgers points at.
OtherLedgers = Callable[[View, set[str]], dict[str, dict[str, Any]]]


def doctor(tracker: Tracker, fix: bool = False, others: OtherLedgers | None = None) -> list[Finding]:
    """The ledger's problems; with `others`, a dependency on a bead of another ledger is checked there."""
    if fix:
        require_writable("bd doctor --fix")
    findings: list[Finding] = []
    ledger = tracker.ledger
    branch = ledger.branch
    ref_lock = os.path.join(tracker.repo.commondir, ledger.ref + ".lock")
    if os.path.exists(ref_lock) and time.time() - os.path.getmtime(ref_lock) > STALE_LOCK_SECONDS:
        finding = Finding("stale-lock", ref_lock, "a killed writer left this ref lock", "remove it")
        if fix:
            with ledger.lock():
                if os.path.exists(ref_lock):
                    os.unlink(ref_lock)
            finding.fixed = True
        findings.append(finding)
    findings += _check_writer_lock(tracker, fix)
    if not ledger.exists():
        findings.append(Finding("no-ledger", ledger.ref, "the ledger branch does not exist: run `bd init`", None))
        return findings
    findings += _check_cache(tracker, fix)
    view = ledger.view()
    if view.manifest and view.manifest.config_error:
        findings.append(Finding("bad-config", f"{branch}:ledger.yaml", view.manifest.config_error))
    for collection in sorted(view.manifest.collections if view.manifest else ()):  # beads, agents, rigs, …
        for key, error in sorted(view.errors(collection).items()):
            path = f"{branch}:{document_path(collection, key)}"
            findings.append(Finding("unreadable", path, error.removeprefix(f"{path}: "), None))
    beads = Tracker.summaries(view, include_deleted=True)
    dangling: dict[str, list[Dangling]] = {}
    for found in dangling_dependencies(view, others):
        dangling.setdefault(found.issue_id, []).append(found)
    for bead_id, doc in sorted(beads.items()):
        path = f"{branch}:{document_path(BEADS, bead_id)}"
        for problem in problems(doc, bead_id):
            findings.append(Finding("bad-field", path, problem))
        for dep in dangling.get(bead_id, ()):
            findings.append(Finding(
                "dangling-dependency", path,
                f"{bead_id} {dep.type} -> {dep.depends_on_id}: no such bead (it does not block)",
            ))
    live = {k: v for k, v in beads.items() if v.get("status") != TOMBSTONE}
    for cycle in cycles(live):
        findings.append(Finding("cycle", f"{branch}:beads", f"dependency cycle: {' -> '.join(cycle)}"))
    loose = estimated_loose_objects(tracker.repo.objects)
    if loose > LOOSE_THRESHOLD:
        finding = Finding("loose-objects", tracker.repo.objects, f"about {loose} loose objects", "pack them")
        if fix:
            pack(ledger)
            finding.fixed = True
        findings.append(finding)
    return findings


@dataclass(frozen=True)
class Dangling:
    """A dependency of a live bead on a bead that exists nowhere: not in this ledger (not even as a
    tombstone) nor, with `others`, in another ledger of the town."""

    issue_id: str
    depends_on_id: str
    type: str

    def as_dict(self) -> dict[str, str]:
        return {"issue_id": self.issue_id, "depends_on_id": self.depends_on_id, "type": self.type}


def dangling_dependencies(view: View, others: OtherLedgers | None = None) -> list[Dangling]:
    """The ledger's dependencies on beads that do not exist, by bead id then in the bead's order."""
    beads = Tracker.summaries(view, include_deleted=True)
    targets = {str(d.get("target")) for doc in beads.values() for d in doc.get("dependencies") or ()
               if isinstance(d, dict)}
    elsewhere = others(view, targets - beads.keys()) if others is not None and targets - beads.keys() else {}
    found = []
    for bead_id, doc in sorted(beads.items()):
        if doc.get("status") == TOMBSTONE:
            continue
        for dep in doc.get("dependencies") or ():
            if dep.get("target") not in beads and dep.get("target") not in elsewhere:
                found.append(Dangling(bead_id, str(dep.get("target")), str(dep.get("type"))))
    return found


def _check_writer_lock(tracker: Tracker, fix: bool) -> list[Finding]:
    """A live writer holding the ledger lock for long (stopped or stuck: other writers wait behind it,
    then give up), or the holder record a writer killed while holding it left behind (harmless: the
    kernel freed the lock, and the next writer replaces the record)."""
    from filelock import FileLock, Timeout

    path = tracker.ledger.lock().path
    if read_holder(path) is None:
        return []
    probe = FileLock(path, timeout=0)  # a bare probe: it writes no holder record of its own
    try:
        probe.acquire()
    except Timeout:
        holder = read_holder(path)
        if holder is None or not holder.alive() or holder.age < LOCK_HELD_SECONDS:
            return []  # released meanwhile, or a new holder that has not written its record yet
        return [Finding("lock-held", path, f"a writer has held the ledger lock long: {holder.describe()}; other "
                        "writers wait for it, then give up (BD_LOCK_TIMEOUT): stop it if it is stuck")]
    try:
        holder = read_holder(path)  # free now: any record left is a dead holder's
        if holder is None:
            return []
        finding = Finding("stale-lock-holder", path + HOLDER_SUFFIX,
                          f"pid {holder.pid} ({holder.command}) was killed holding the ledger lock "
                          f"{holder.age:.0f} s ago; the kernel freed the lock", "remove the record", notice=True)
        if fix:
            try:
                os.unlink(path + HOLDER_SUFFIX)
            except FileNotFoundError:
                pass
            finding.fixed = True
        return [finding]
    finally:
        probe.release()


def _check_cache(tracker: Tracker, fix: bool) -> list[Finding]:
    """The cache must agree with git: every shard's blob ids must match its tree."""
    ledger = tracker.ledger
    manifest = ledger.index.load_manifest(ledger.ref)
    problems = []
    if manifest is not None:
        for collection, fans in manifest.collections.items():
            for fan, tree_id in fans.items():
                shard = ledger.index.load_shard(tree_id)
                if shard is None:
                    continue
                try:
                    tree = ledger._read(tree_id)
                    actual = {e.path.decode()[:-5]: e.sha.decode() for e in tree.iteritems()
                              if e.path.endswith(b".yaml") and e.mode != 0o040000}
                except KeyError:
                    actual = {}
                cached = dict(shard.blobs)
                if cached != actual:
                    problems.append(f"{collection}/{fan}")
    if not problems:
        return []
    finding = Finding("cache", ledger.index.root, f"index disagrees with git for {', '.join(problems[:5])}", "rebuild the index")
    if fix:
        from gt.beads.derived import forget

        forget()  # the derived tables go with the shards: close this process's connections to them first
        shutil.rmtree(ledger.index.root, ignore_errors=True)
        ledger.index._shards.clear()
        ledger.view()
        finding.fixed = True
    return [finding]


def compact(tracker: Tracker, actor: Signature, prune_days: float | None = 30) -> dict[str, Any]:
    """Prune tombstones older than `prune_days` (one commit), repack the objects, drop unused cache."""
    tracker.require()
    pruned: list[str] = []
    if prune_days is not None:
        cutoff = time.time() - prune_days * 86400

        def build(view: View) -> Edit:
            pruned[:] = sorted(
                bead_id for bead_id, doc in Tracker.summaries(view, include_deleted=True).items()
                if doc.get("status") == TOMBSTONE and (parse_time(doc.get("deleted_at")) or cutoff) < cutoff
            )
            subject = f"compact: prune {len(pruned)} tombstones older than {prune_days:g} days"
            return Edit("compact", subject, {bead_id: None for bead_id in pruned})

        tracker.write(actor, build)
    packed = pack(tracker.ledger, full=True)
    view = tracker.ledger.view()
    keep = view.manifest.trees() if view.manifest else set()
    dropped = tracker.ledger.index.prune(keep)
    return {"pruned_tombstones": len(pruned), "packed_objects": packed["packed"],
            "packs_merged": packed["consolidated"], "cache_files_dropped": dropped}
