"""Bead commands that write: each builds one Edit from the current ledger, committed atomically."""
from __future__ import annotations

import os
from typing import Any, Iterable

from gt.errors import GtError, UsageError
from gt.ledger.store import Signature, View
from gt.model import graph
from gt.model.bead import (
    BLOCKING, PARENT, TEXT_FIELDS, TOMBSTONE, canonical, check_dep_type, check_status, check_text,
    check_title, check_type, is_closed, is_deleted, new_bead, now_iso, parent_of, reset_attempts, set_status,
)
from gt.model.ids import check_id, check_prefix, child_id, new_id
from gt.beads.tracker import BEADS, LEDGER_FORMAT, Edit, Lookup, Tracker


def _extra_types(view: View) -> tuple[str, ...]:
    types = view.config.get("types")  # a list of names; anything else (a hand edit) adds none
    return tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else ()


def _check_label(label: str) -> str:
    label = label.strip()
    if not label or any(c in label for c in ",\n\r\x00") or len(label) > 100:
        raise UsageError(f"invalid label {label!r}")
    return label


def _touch(doc: dict[str, Any], now: str) -> dict[str, Any]:
    doc["updated_at"] = now
    return canonical(doc)


def init(tracker: Tracker, actor: Signature, prefix: str | None) -> Edit:
    """Create the ledger branch with its config; a ledger that exists already is left alone."""
    from gt.ledger.gitdir import current_branch
    from gt.beads.tracker import check_is_ledger

    if tracker.repo.worktree and current_branch(tracker.repo.gitdir) == tracker.ledger.branch:
        raise GtError(f"'{tracker.ledger.branch}' is the checked-out branch: the ledger needs a branch of its own")
    if tracker.ledger.exists():
        view = tracker.ledger.view()
        check_is_ledger(view)
        config = view.config
        if prefix and config.get("prefix") != prefix:
            raise GtError(f"the ledger exists with prefix {config.get('prefix')!r}; its prefix cannot change")
        return Edit("init", "exists", result={"prefix": config.get("prefix"), "created": False})
    from gt.model.ids import prefix_from_name

    root = tracker.repo.worktree or tracker.repo.commondir
    name = os.path.basename(root.rstrip("/"))
    if name.endswith(".git"):
        name = name[:-4]
    prefix = check_prefix(prefix or prefix_from_name(name))
    config = {"format": LEDGER_FORMAT, "prefix": prefix}
    from gt.ledger.store import Change

    def build(view: View) -> Change | None:
        if view.commit is not None:
            return None  # someone initialised it meanwhile
        return Change(f"init ledger (prefix {prefix})", [("Op", "init"), ("Actor", actor.name)], config=config)

    commit = tracker.ledger.transact(build, actor)
    return Edit("init", "init", result={"prefix": prefix, "created": commit is not None}, commit=commit)


def create(
    tracker: Tracker, actor: Signature, title: str, *, type: str = "task", priority: int = 2,
    description: str = "", design: str = "", acceptance: str = "", labels: Iterable[str] = (),
    assignee: str | None = None, parent: str | None = None, deps: Iterable[tuple[str, str]] = (),
    bead_id: str | None = None, external_ref: str | None = None, estimate: int | None = None,
    due: str | None = None, defer: str | None = None, notes: str = "", blocks: Iterable[str] = (),
    dry_run: bool = False,
) -> Edit:
    """A new bead; `deps` are what it depends on, `blocks` the beads it blocks (they get the edge).
    With `dry_run`, everything is checked and the bead returned, but nothing is written."""
    title = check_title(title)
    texts = {"description": description, "design": design, "acceptance_criteria": acceptance, "notes": notes}
    for key, value in texts.items():
        check_text(value, key)
    labels = list(dict.fromkeys(_check_label(label) for label in labels))
    deps = [(check_dep_type(t), target) for t, target in deps]

    def build(view: View) -> Edit:
        check_type(type, _extra_types(view))
        now = now_iso()
        prefix = str(view.config.get("prefix", "bd"))
        parent_id = Tracker.resolve(view, parent) if parent else None
        if parent_id is not None:
            found = view.entry(BEADS, parent_id)
            if found is None or found[1] is None or is_deleted(found[1]):
                raise GtError(f"no bead {parent_id}")
        if bead_id:
            new = check_id(bead_id.strip())  # as given: the original keeps case (`gt-gastown-polecat-Toast`)
            if view.entry(BEADS, new) is not None:
                raise GtError(f"{new} already exists", code="exists")
        else:
            new = fresh_id(view, prefix, parent_id)
        dependencies = [{"type": PARENT, "target": parent_id}] if parent_id else []
        for dep_type, target in deps:
            target_id = Tracker.resolve(view, target)
            Tracker.get(view, target_id)  # must exist and not be deleted
            dependencies.append({"type": dep_type, "target": target_id})
        blocked: dict[str, dict[str, Any] | None] = {}
        for target in blocks:  # the original's `--deps blocks:X`: X now waits for the new bead
            target_id = Tracker.resolve(view, target)
            if any(d["target"] == target_id and d["type"] in (BLOCKING, PARENT) for d in dependencies):
                raise GtError(f"refused: {new} cannot both depend on {target_id} and block it", code="cycle")
            other = Tracker.get(view, target_id)
            other["dependencies"] = (other.get("dependencies") or []) + [{"type": BLOCKING, "target": new}]
            blocked[target_id] = _touch(other, now)
        doc = new_bead(
            new, title, actor=actor.name, now=now, type=type, priority=priority,
            labels=labels, assignee=assignee, dependencies=dependencies,
            external_ref=external_ref, estimated_minutes=estimate, due_at=due, defer_until=defer, **texts,
        )
        return Edit("create", f"create {new}: {title}", {new: doc, **blocked}, result=doc)

    if dry_run:
        tracker.require()
        return build(tracker.view())
    return tracker.write(actor, build)


def fresh_id(view: View, prefix: str, parent: str | None) -> str:
    """A new id no bead of the ledger has (deleted ones included), sized for the ledger's bead count
    (from the index manifest) or, for a child, its parent's children (from the derived tables)."""
    siblings = len(children(view, parent)) if parent else 0
    while True:
        entropy = os.urandom(16)
        candidate = child_id(parent, siblings, entropy) if parent else new_id(prefix, view.size(BEADS), entropy)
        if view.entry(BEADS, candidate) is None:  # the shard the id falls in: no other read
            return candidate


UPDATABLE = (
    "title", "status", "priority", "type", "assignee", "notes", "description", "design",
    "acceptance_criteria", "external_ref", "estimated_minutes", "due_at", "defer_until",
)


def update(
    tracker: Tracker, actor: Signature, queries: list[str], *, fields: dict[str, Any],
    add_labels: Iterable[str] = (), remove_labels: Iterable[str] = (), append_notes: str | None = None,
    parent: str | None = None, claim: bool = False, op: str = "update", set_labels: Iterable[str] | None = None,
) -> Edit:
    """Change fields of one or more beads in one commit; `claim` is an atomic compare-and-set;
    `set_labels` replaces every label (before `add_labels` and `remove_labels` apply)."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise UsageError(f"cannot update {', '.join(sorted(unknown))}")
    if "title" in fields:
        fields["title"] = check_title(fields["title"])
    if "status" in fields:
        check_status(fields["status"])
    for key in TEXT_FIELDS:
        if isinstance(fields.get(key), str):
            check_text(fields[key], key)
    if append_notes:
        check_text(append_notes, "notes")
    add_labels = [_check_label(label) for label in add_labels]
    remove_labels = [label.strip() for label in remove_labels]
    replacing = None if set_labels is None else [_check_label(label) for label in set_labels]

    def build(view: View) -> Edit:
        if "type" in fields:
            check_type(fields["type"], _extra_types(view))
        now = now_iso()
        ids = [Tracker.resolve(view, q) for q in queries]
        parent_id = Tracker.resolve(view, parent) if parent else None
        if parent_id is not None:
            Tracker.get(view, parent_id)  # must exist and not be deleted
        changed: dict[str, dict[str, Any] | None] = {}
        changed_fields: set[str] = set()
        for bead_id in dict.fromkeys(ids):
            doc = Tracker.get(view, bead_id)
            before = dict(doc)
            if claim:
                owner = doc.get("assignee")
                if owner and owner != actor.name:
                    raise GtError(f"{bead_id} is already claimed by {owner}", code="claimed")
                if doc.get("status") not in ("open", "in_progress") or (doc.get("status") == "in_progress" and owner != actor.name):
                    raise GtError(f"{bead_id} cannot be claimed: it is {doc.get('status')}", code="claimed")
                doc["assignee"] = actor.name
                doc["status"] = "in_progress"
            for key, value in fields.items():
                if key == "status":
                    set_status(doc, value, now)
                    if value == "open":  # a person puts it back in play: the retry breaker counts afresh
                        reset_attempts(doc)
                else:
                    doc[key] = value
            if append_notes:
                doc["notes"] = (doc.get("notes", "").rstrip("\n") + "\n" + append_notes).lstrip("\n")
            if replacing is not None:
                doc["labels"] = list(dict.fromkeys(replacing))
                if not doc["labels"]:
                    del doc["labels"]
            if add_labels or remove_labels:
                labels = [lb for lb in doc.get("labels") or [] if lb not in remove_labels]
                doc["labels"] = list(dict.fromkeys(labels + add_labels))
            if parent_id is not None:
                cycle = graph.cycle_if_added(Tracker.summaries(view), bead_id, parent_id, PARENT)
                if cycle:
                    raise GtError(
                        f"{parent_id} cannot be the parent of {bead_id}: that makes a cycle: {' -> '.join(cycle)}",
                        code="cycle",
                    )
                deps = [d for d in doc.get("dependencies") or [] if d.get("type") != PARENT]
                doc["dependencies"] = deps + [{"type": PARENT, "target": parent_id}]
            doc = canonical(doc)
            diff = {k for k in set(before) | set(doc) if before.get(k) != doc.get(k)}
            if diff:
                changed[bead_id] = _touch(doc, now)
                changed_fields |= diff
        result = [changed.get(i) or Tracker.get(view, i) for i in dict.fromkeys(ids)]
        if not changed:
            return Edit("update", "no change", result=result)
        name = "claim" if claim else op
        what = ", ".join(sorted(changed_fields - {"updated_at", "closed_at"}))
        return Edit(name, f"{name} {_names(changed)}: {what}", changed, result=result)

    return tracker.write(actor, build)


def _names(beads: dict[str, Any]) -> str:
    ids = list(beads)
    return ids[0] if len(ids) == 1 else f"{len(ids)} beads ({', '.join(ids[:5])}{', …' if len(ids) > 5 else ''})"


def children(view: View, bead_id: str) -> list[str]:
    """The beads whose parent is `bead_id`, by id (from the reverse index when there is one)."""
    from gt.beads.derived import dependents_of

    return [source for source, _ in dependents_of(view, bead_id, (PARENT,))]


def _check_reason(reason: str | None) -> str | None:
    return check_title(reason) if reason else reason  # a reason goes into a commit subject: one line


def close(tracker: Tracker, actor: Signature, queries: list[str], reason: str | None = None, force: bool = False) -> Edit:
    """Close beads in one commit; refuses open children of an epic or open blockers unless `force`."""
    reason = _check_reason(reason)

    def build(view: View) -> Edit:
        from gt.beads.derived import links_of

        beads = links_of(view)  # statuses and dependencies of the children and blockers looked at
        ids = list(dict.fromkeys(Tracker.resolve(view, q) for q in queries))
        closing = set(ids)
        now = now_iso()
        changed: dict[str, dict[str, Any] | None] = {}
        for bead_id in ids:
            doc = Tracker.get(view, bead_id)
            if is_closed(doc):
                continue
            if not force:
                open_kids = [c for c in children(view, bead_id) if c in beads and not is_closed(beads[c])
                             and c not in closing]
                if open_kids:
                    raise GtError(
                        f"cannot close {bead_id}: it has open children ({', '.join(open_kids[:10])}); use --force",
                        code="refused",
                    )
                blockers = [b for b in graph.open_blockers(beads, bead_id) if b not in closing]
                if blockers:
                    raise GtError(
                        f"cannot close {bead_id}: blocked by open {', '.join(blockers[:10])}; use --force",
                        code="refused",
                    )
            set_status(doc, "closed", now, reason)
            changed[bead_id] = _touch(doc, now)
        result = [changed.get(i) or Tracker.get(view, i) for i in ids]
        if not changed:
            return Edit("close", "no change", result=result)
        subject = f"close {_names(changed)}" + (f": {reason}" if reason else "")
        trailers = [("Reason", reason)] if reason else []
        return Edit("close", subject, changed, trailers, result=result)

    return tracker.write(actor, build)


def reopen(tracker: Tracker, actor: Signature, queries: list[str], reason: str | None = None) -> Edit:
    """Set beads back to open in one commit, whatever their status, as the original does. Beads already
    open are left alone: `edit.result` holds the reopened documents only."""
    reason = _check_reason(reason)

    def build(view: View) -> Edit:
        ids = list(dict.fromkeys(Tracker.resolve(view, q) for q in queries))
        now = now_iso()
        changed: dict[str, dict[str, Any] | None] = {}
        for bead_id in ids:
            doc = Tracker.get(view, bead_id)
            if doc.get("status") == "open":
                continue
            set_status(doc, "open", now)
            doc.pop("defer_until", None)
            changed[bead_id] = _touch(doc, now)
        subject = f"reopen {_names(changed)}" + (f": {reason}" if reason else "")
        trailers = [("Reason", reason)] if reason else []
        return Edit("reopen", subject, changed, trailers, result=list(changed.values()))

    return tracker.write(actor, build)


def delete(tracker: Tracker, actor: Signature, queries: list[str], force: bool = False, reason: str | None = None) -> Edit:
    """Replace beads by tombstones; refuses while other beads depend on them unless `force`."""
    reason = _check_reason(reason)

    def build(view: View) -> Edit:
        beads = Tracker.summaries(view)
        ids = list(dict.fromkeys(Tracker.resolve(view, q) for q in queries))
        doomed = set(ids)
        now = now_iso()
        changed: dict[str, dict[str, Any] | None] = {}
        for bead_id in ids:
            doc = Tracker.get(view, bead_id)
            users = [u for u in graph.dependents(beads, bead_id, None) if u not in doomed]
            if users and not force:
                raise GtError(
                    f"cannot delete {bead_id}: {', '.join(users[:10])} depend on it; use --force", code="refused"
                )
            doc.update(status=TOMBSTONE, deleted_at=now, deleted_by=actor.name, delete_reason=reason)
            changed[bead_id] = _touch(doc, now)
        return Edit("delete", f"delete {_names(changed)}", changed, result=list(changed.values()))

    return tracker.write(actor, build)


def dep_add(tracker: Tracker, actor: Signature, source: str, target: str, dep_type: str = BLOCKING,
            target_view: View | None = None) -> Edit:
    """`source` depends on `target` (for `blocks`: target blocks source). Cycles are refused.

    `target_view` is the ledger `target` lives in when it is another rig's (a cross-rig dependency).
    """
    check_dep_type(dep_type)

    def build(view: View) -> Edit:
        other = target_view or view
        a = Tracker.resolve(view, source)
        b = Tracker.resolve(other, target)
        doc = Tracker.get(view, a)
        Tracker.get(other, b)  # the target must exist and be live
        from gt.beads.derived import links_of

        # the path search reads what it visits: in one ledger, its edges from the derived tables
        known = links_of(view) if other is view else Lookup(view, other)
        cycle = graph.cycle_if_added(known, a, b, dep_type)
        if cycle:
            raise GtError(f"refused: {dep_type} dependency would make a cycle: {' -> '.join(cycle)}", code="cycle")
        deps = doc.get("dependencies") or []
        if any(d.get("target") == b and d.get("type") == dep_type for d in deps):
            return Edit("dep-add", "no change", result=_link(a, b, dep_type))
        if dep_type == PARENT and parent_of(doc):
            deps = [d for d in deps if d.get("type") != PARENT]
        doc["dependencies"] = deps + [{"type": dep_type, "target": b}]
        doc = _touch(doc, now_iso())
        return Edit("dep-add", f"dep add {a} -> {b} ({dep_type})", {a: doc}, result=_link(a, b, dep_type))

    return tracker.write(actor, build)


def dep_remove(tracker: Tracker, actor: Signature, source: str, target: str, dep_type: str | None = None) -> Edit:
    def build(view: View) -> Edit:
        a = Tracker.resolve(view, source)
        doc = Tracker.get(view, a)
        target_id = target.strip()
        deps = doc.get("dependencies") or []
        if not any(d.get("target") == target_id for d in deps):
            try:
                target_id = Tracker.resolve(view, target)
            except GtError:
                pass
        keep = [d for d in deps if not (d.get("target") == target_id and (dep_type is None or d.get("type") == dep_type))]
        if len(keep) == len(deps):
            raise GtError(f"{a} has no dependency on {target_id}", code="not_found")
        doc["dependencies"] = keep
        doc = _touch(doc, now_iso())
        return Edit("dep-remove", f"dep remove {a} -> {target_id}", {a: doc}, result=_link(a, target_id, dep_type))

    return tracker.write(actor, build)


def _link(source: str, target: str, dep_type: str | None) -> dict[str, Any]:
    """A dependency as the original's record (what `dep add/remove --json` print)."""
    return {"issue_id": source, "depends_on_id": target, **({"type": dep_type} if dep_type else {})}


def labels(tracker: Tracker, actor: Signature, queries: list[str], add: Iterable[str] = (),
           remove: Iterable[str] = ()) -> Edit:
    op = "label-add" if add else "label-remove"
    return update(tracker, actor, queries, fields={}, add_labels=add, remove_labels=remove, op=op)


def comment(tracker: Tracker, actor: Signature, query: str, text: str) -> Edit:
    check_text(text, "comment")
    if not text.strip():
        raise UsageError("empty comment")

    def build(view: View) -> Edit:
        bead_id = Tracker.resolve(view, query)
        doc = Tracker.get(view, bead_id)
        now = now_iso()
        random_id = str(int.from_bytes(os.urandom(8), "big") >> 4)  # 60 random bits: unique, fits int64
        entry = {"id": random_id, "author": actor.name, "created_at": now, "text": text}
        doc["comments"] = (doc.get("comments") or []) + [entry]
        doc = _touch(doc, now)
        return Edit("comment", f"comment on {bead_id}", {bead_id: doc}, result=entry)

    return tracker.write(actor, build)


SETTABLE_CONFIG = {"types": "extra bead types `bd create` accepts (comma-separated)",
                   "types.infra": "the types `bd list` and `bd count` leave out unless asked (comma-separated)"}


def set_config(tracker: Tracker, actor: Signature, key: str, value: str) -> Edit:
    """Change a ledger setting (in `ledger.yaml`, so every clone sees it) in one commit."""
    if key not in SETTABLE_CONFIG:
        raise UsageError(f"unknown setting {key!r}: settable are {', '.join(SETTABLE_CONFIG)}")
    types = [t.strip() for t in value.split(",") if t.strip()]
    for name in types:
        if not name.replace("-", "").replace("_", "").isalnum() or not name.islower():
            raise UsageError(f"invalid type name {name!r}: use lowercase letters, digits, '-' or '_'")

    def build(view: View) -> Edit:
        config = dict(view.config)
        if types:
            config[key] = list(dict.fromkeys(types))
        else:
            config.pop(key, None)
        if config == view.config:
            return Edit("config", "no change", result=config)
        return Edit("config", f"config: {key} = {', '.join(types) or '(none)'}", config=config, result=config)

    return tracker.write(actor, build)
