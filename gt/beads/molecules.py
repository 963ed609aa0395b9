"""Molecules: a formula poured into beads, and wisps, the molecules that never leave the machine.

A molecule is a root bead (type `epic`, `metadata.molecule`: the formula, its version, the values
filled in, whether it is a wisp) and one child bead per step, id `<root>.<step id>`, with
`metadata.molecule_step` (the root, the step id, its place in the formula) and a `blocks`
dependency on each step it `needs`: the usual readiness rules (gt.model.graph) order the steps.
Pouring writes all of them in one ledger commit.

A wisp is a molecule poured onto a second ledger of the same repository at `refs/gt/wisps`, a ref
outside `refs/heads/`: `bd sync` exchanges only the ledger branch, and `git push --all` or a
mirror of the branches do not carry it either. Its beads have ids `<prefix>-wisp-…`, so they can
never collide with the shared ledger's. Writing it leaves the change signal `.beads/last-change`
alone (it describes the shared ledger). `squash` condenses a wisp into one closed digest bead on the
shared ledger and removes the wisp; `burn` removes it with no digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gt.errors import GtError
from gt.ledger.store import Ledger, Signature, View
from gt.model.bead import BLOCKING, PARENT, canonical, new_bead, now_iso, set_status
from gt.model.ids import check_id
from gt.beads.formulas import Formula, fill
from gt.beads.tracker import BEADS, Edit, Tracker

ROOT_KEY = "molecule"  # metadata of a root
STEP_KEY = "molecule_step"  # metadata of a step
WISP_REF = "refs/gt/wisps"
WISP_BRANCH = "gt-wisps"  # what messages call the wisp ledger (it is not a branch)
WISP_INFIX = "-wisp"  # the wisp ledger's prefix is the shared one's plus this
OPEN_STATES = ("open", "in_progress", "hooked", "blocked", "deferred", "queued", "pinned")


class _WispLedger(Ledger):
    """The wisp ledger: a ledger at WISP_REF whose moves do not touch `.beads/last-change`."""

    shared: Tracker  # the tracker of the repository's shared ledger

    def _moved(self, commit: str) -> None:
        pass


def shared_tracker(tracker: Tracker) -> Tracker:
    """The shared ledger's tracker: `tracker` itself, or the one a wisp ledger's tracker sits beside."""
    return tracker.ledger.shared if isinstance(tracker.ledger, _WispLedger) else tracker


def wisp_tracker(tracker: Tracker) -> Tracker:
    """The wisp ledger of `tracker`'s repository (it may not exist yet)."""
    from gt.beads.clone_settings import LocalSettings
    from gt.model.bead import SUMMARY_VERSION
    from gt.beads.tracker import _summarize

    wisps = Tracker(tracker.repo, LocalSettings(WISP_BRANCH, tracker.settings.remote))
    tracker = shared_tracker(tracker)
    ledger = _WispLedger(tracker.repo, WISP_BRANCH, _summarize, SUMMARY_VERSION, ())
    ledger.ref = WISP_REF
    ledger.shared = tracker
    wisps.ledger = ledger
    return wisps


def ensure_wisps(tracker: Tracker, actor: Signature) -> Tracker:
    """The wisp ledger, created (prefix: the shared ledger's + `-wisp`) on first use."""
    from gt.ledger.store import Change

    wisps = wisp_tracker(tracker)
    if not wisps.ledger.exists():
        prefix = f"{tracker.prefix}{WISP_INFIX}"
        config = {"format": 2, "prefix": prefix}

        def build(view: View) -> Change | None:
            if view.commit is not None:
                return None
            return Change(f"init wisp ledger (prefix {prefix})", [("Op", "init"), ("Actor", actor.name)], config=config)

        wisps.ledger.transact(build, actor)
    return wisps


def is_wisp_id(bead_id: str) -> bool:
    return f"{WISP_INFIX}-" in bead_id


def locate(tracker: Tracker, query: str) -> tuple[Tracker, str]:
    """The ledger (shared or wisp) holding `query` and its full id: the shared ledger first."""
    try:
        view = tracker.view()
        return tracker, Tracker.resolve(view, query)
    except GtError as exc:
        wisps = wisp_tracker(tracker)
        if wisps.ledger.exists():
            try:
                return wisps, Tracker.resolve(wisps.view(), query)
            except GtError:
                pass
        raise exc


# -- pouring -----------------------------------------------------------------------------------


def pour(tracker: Tracker, actor: Signature, formula: Formula, given: Mapping[str, str], *,
         wisp: bool = False, assignee: str | None = None) -> Edit:
    """Create the molecule of `formula` with `given` values (one commit): the root and a bead per step.
    `edit.result` is the root's document. Refuses before writing anything."""
    from gt.model.bead import check_text, check_title

    values = formula.bind(given)
    root_text = fill(formula.description, values)
    lines = root_text.strip().splitlines()
    title = check_title((lines[0].strip()[:200] if lines else "") or formula.name)
    filled = []
    for step in formula.steps:
        step_title = fill(step.title, values)
        step_text = fill(step.description, values)
        try:
            step_title = check_title(step_title)
            check_text(step_text, "description")
        except GtError as exc:
            raise GtError(f"{formula.path}: step {step.id}: {exc}", code="bad_formula") from None
        filled.append((step, step_title, step_text))
    check_text(root_text, "description")
    target = ensure_wisps(tracker, actor) if wisp else tracker

    def build(view: View) -> Edit:
        from gt.beads.operations import fresh_id

        now = now_iso()
        root = fresh_id(view, str(view.config.get("prefix", "bd")), None)
        info = {"formula": formula.name, "version": formula.version, "origin": formula.origin,
                "vars": dict(sorted(values.items())), "steps": len(filled), "wisp": wisp}
        docs: dict[str, dict[str, Any] | None] = {}
        docs[root] = new_bead(root, title, actor=actor.name, now=now, type="epic", description=root_text,
                              assignee=assignee, metadata={ROOT_KEY: info})
        for index, (step, step_title, step_text) in enumerate(filled):
            step_id = check_id(f"{root}.{step.id}")
            deps = [{"type": PARENT, "target": root}] + [
                {"type": BLOCKING, "target": f"{root}.{need}"} for need in step.needs]
            docs[step_id] = new_bead(
                step_id, step_title, actor=actor.name, now=now, type="task" if step.type == "human" else step.type,
                priority=step.priority if step.priority is not None else 2, description=step_text,
                labels=list(step.labels) + (["human"] if step.type == "human" else []) or None,
                dependencies=deps, metadata={STEP_KEY: {"root": root, "step": step.id, "index": index}})
        docs = {k: canonical({f: v for f, v in d.items() if v is not None}) for k, d in docs.items() if d}
        subject = f"pour {root}: {formula.name} ({len(filled)} steps)"
        return Edit("create", subject, docs, trailers=[("Formula", formula.name)], result=docs[root])

    return target.write(actor, build)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    """A step of a molecule as it stands: `ready` when it is open and nothing blocks it."""

    id: str
    step: str
    title: str
    status: str
    ready: bool
    needs: tuple[str, ...]
    assignee: str | None
    closed_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "title": self.title, "status": self.status, "ready": self.ready,
                "needs": list(self.needs), "assignee": self.assignee, "closed_at": self.closed_at}


@dataclass(frozen=True)
class Molecule:
    """A molecule's root and its steps in the formula's order."""

    root: dict[str, Any]
    steps: tuple[StepState, ...]
    wisp: bool

    @property
    def id(self) -> str:
        return str(self.root["id"])

    @property
    def formula(self) -> str:
        return str((self.root.get("metadata") or {}).get(ROOT_KEY, {}).get("formula", ""))

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.status == "closed")

    @property
    def complete(self) -> bool:
        return self.done == len(self.steps)

    def current(self) -> StepState | None:
        """The step to do now: the first in the formula's order that is in progress or hooked, else
        the first ready one; None when every step is closed or the open ones all wait."""
        for step in self.steps:
            if step.status in ("in_progress", "hooked"):
                return step
        return next((s for s in self.steps if s.ready), None)

    def upcoming(self, limit: int = 5) -> list[StepState]:
        """The open steps after the current one, in order."""
        now = self.current()
        return [s for s in self.steps if s.status != "closed" and (now is None or s.id != now.id)][:limit]

    def as_dict(self) -> dict[str, Any]:
        current = self.current()
        return {"id": self.id, "title": self.root.get("title"), "status": self.root.get("status"),
                "formula": self.formula, "wisp": self.wisp,
                "vars": (self.root.get("metadata") or {}).get(ROOT_KEY, {}).get("vars", {}),
                "done": self.done, "total": len(self.steps), "complete": self.complete,
                "current": current.as_dict() if current else None, "steps": [s.as_dict() for s in self.steps]}


def root_info(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """A root's molecule metadata (None: not a molecule's root)."""
    info = (doc.get("metadata") or {}).get(ROOT_KEY) if isinstance(doc.get("metadata"), dict) else None
    return info if isinstance(info, dict) else None


def step_info(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    info = (doc.get("metadata") or {}).get(STEP_KEY) if isinstance(doc.get("metadata"), dict) else None
    return info if isinstance(info, dict) else None


def molecule(view: View, bead_id: str) -> Molecule:
    """The molecule whose root (or one of whose steps) is `bead_id`; a clear error for another bead."""
    from gt.model import graph
    from gt.beads.derived import links_of
    from gt.beads.operations import children

    doc = Tracker.get(view, bead_id)
    info = step_info(doc)
    if info is not None and isinstance(info.get("root"), str):
        doc = Tracker.get(view, info["root"])
    if root_info(doc) is None:
        raise GtError(f"{bead_id} is not a molecule (pour one with `bd mol pour FORMULA`)", code="not_molecule")
    root = str(doc["id"])
    kids = []
    for child in children(view, root):
        entry = view.entry(BEADS, child)
        if entry is None or entry[1] is None or entry[1].get("status") == "tombstone":
            continue
        full = Tracker.get(view, child)
        meta = step_info(full)
        if meta is not None and meta.get("root") == root:
            kids.append((int(meta.get("index", 0)), str(meta.get("step")), full))
    kids.sort(key=lambda k: k[0])
    beads = links_of(view)
    blocked = graph.blocked_checker(beads)
    steps = []
    for _, step, full in kids:
        status = str(full.get("status"))
        needs = tuple(str(d["target"]) for d in full.get("dependencies") or () if d.get("type") == BLOCKING)
        ready = status == "open" and full["id"] in beads and not blocked(full["id"])
        steps.append(StepState(str(full["id"]), step, str(full.get("title")), status, ready, needs,
                               full.get("assignee"), full.get("closed_at")))
    return Molecule(doc, tuple(steps), bool((root_info(doc) or {}).get("wisp")))


def molecules(view: View, formula: str | None = None) -> list[Molecule]:
    """Every molecule root of the ledger (optionally of one formula), newest first."""
    out = []
    for bead_id in Tracker.select(view, ("epic",)):
        doc = Tracker.get(view, bead_id)
        info = root_info(doc)
        if info is not None and (formula is None or info.get("formula") == formula):
            out.append(molecule(view, bead_id))
    return sorted(out, key=lambda m: str(m.root.get("created_at")), reverse=True)


# -- squash and burn ---------------------------------------------------------------------------


def digest_text(mol: Molecule) -> str:
    """The digest of a molecule: what each step was and how it ended."""
    lines = [f"Molecule {mol.id} ({mol.formula}): {mol.root.get('title')}", f"Steps: {mol.done}/{len(mol.steps)} closed",
             ""]
    for number, step in enumerate(mol.steps, 1):
        lines.append(f"{number}. [{step.status}] {step.step}: {step.title}")
    return "\n".join(lines)


def squash(tracker: Tracker, actor: Signature, query: str, summary: str | None = None,
           keep: bool = False) -> dict[str, Any]:
    """A wisp condensed into one closed digest bead on the shared ledger (one commit), then removed
    from the wisp ledger (kept with `keep`). A poured molecule has nothing to squash (as the original)."""
    from gt.model.bead import check_text

    holder, root = locate(tracker, query)
    tracker = shared_tracker(tracker)  # the digest goes to the shared ledger, whichever held the wisp
    mol = molecule(holder.view(), root)
    if not mol.wisp:
        return {"molecule_id": mol.id, "digest_id": None, "squashed_ids": [], "squashed_count": 0,
                "deleted_count": 0, "kept_children": keep}
    text = summary if summary else digest_text(mol)
    check_text(text, "summary")
    ids = [s.id for s in mol.steps]

    def build(view: View) -> Edit:
        from gt.beads.operations import fresh_id

        now = now_iso()
        new = fresh_id(view, str(view.config.get("prefix", "bd")), None)
        doc = new_bead(new, f"Digest: {mol.root.get('title')}"[:500], actor=actor.name, now=now,
                       priority=int(mol.root.get("priority", 2)), description=text, labels=["digest"],
                       metadata={"digest": {"formula": mol.formula, "wisp": mol.id, "steps": len(ids),
                                            "closed": mol.done}})
        set_status(doc, "closed", now, f"Squashed from {len(ids)} wisps")
        return Edit("create", f"squash {mol.id} into {new}: {mol.formula}", {new: canonical(doc)},
                    trailers=[("Formula", mol.formula), ("Wisp", mol.id)], result=doc)

    edit = tracker.write(actor, build)
    deleted = 0 if keep else len(_remove(holder, actor, mol, "squash"))
    return {"molecule_id": mol.id, "digest_id": edit.result["id"], "squashed_ids": ids, "squashed_count": len(ids),
            "deleted_count": deleted, "kept_children": keep, "wisp_squash": True}


def burn(tracker: Tracker, actor: Signature, query: str) -> dict[str, Any]:
    """Discard a molecule: a wisp's files are removed from the wisp ledger; a poured molecule's beads
    become tombstones (the shared ledger keeps history, and a sync carries the deletion)."""
    holder, root = locate(tracker, query)
    mol = molecule(holder.view(), root)
    if mol.wisp:
        removed = _remove(holder, actor, mol, "burn")
    else:
        from gt.beads.operations import delete

        removed = [str(d["id"]) for d in delete(holder, actor, [mol.id, *[s.id for s in mol.steps]], force=True,
                                                reason="burned").result]
    return {"molecule_id": mol.id, "deleted_ids": removed, "deleted_count": len(removed), "wisp": mol.wisp}


def _remove(wisps: Tracker, actor: Signature, mol: Molecule, why: str) -> list[str]:
    """Remove a wisp's files from the wisp ledger (one commit there)."""
    ids = [mol.id, *[s.id for s in mol.steps]]

    def build(view: View) -> Edit:
        gone: dict[str, dict[str, Any] | None] = {i: None for i in ids if view.entry(BEADS, i) is not None}
        return Edit("delete", f"{why} wisp {mol.id}", gone, result=list(gone))

    result = wisps.write(actor, build).result
    return list(result)
