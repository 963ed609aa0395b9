"""Merging two replicas of a bead: a join, so replicas converge whatever order they sync in.

Every edit stamps what it changed with a Lamport stamp `<counter> <actor>`, the counter being one
more than the highest stamp the bead carried (so an edit made after seeing another outranks it).
Stamps live in the bead's `stamps` mapping:

- a register (one field, or the status group below) under its name: the highest stamp wins, ties
  broken by actor, then by a digest of the values — never by wall clock or by which side merges;
- an element of a set (`labels`, `dependencies`) under `+<set>/<element>` when added and
  `-<set>/<element>` when removed: an element is present when its add outranks its removal, so a
  stale copy never undoes a removal;
- comments are a union by id, ordered by time; `updated_at` is the later of the two;
- deletion absorbs: a tombstone on either side wins over any status on the other.

A value with no stamp (written before stamps existed, or never edited) ranks lowest.
"""
from __future__ import annotations

from typing import Any

from gt.model.bead import TOMBSTONE, canonical, parse_time

STAMPS = "stamps"
STATUS_GROUP = ("status", "closed_at", "close_reason", "deleted_at", "deleted_by", "delete_reason")
SETS = ("labels", "dependencies")
IDENTITY = ("id", "created_at", "created_by")  # fixed at creation: they say which bead this is
SPECIAL = frozenset((STAMPS, "comments", "updated_at", *SETS, *IDENTITY, *STATUS_GROUP))
ZERO = (0, "")

Stamp = tuple[int, str]


def parse_stamp(text: Any) -> Stamp:
    if not isinstance(text, str):
        return ZERO
    counter, _, actor = text.partition(" ")
    return (int(counter), actor) if counter.isdigit() else ZERO


def format_stamp(stamp: Stamp) -> str:
    return f"{stamp[0]} {stamp[1]}"


def element_key(set_name: str, element: Any) -> str:
    if set_name == "dependencies":
        return f"{element.get('type')}/{element.get('target')}"
    return str(element)


def _register_of(field: str) -> str:
    return "status" if field in STATUS_GROUP else field


def _registers(doc: dict[str, Any]) -> set[str]:
    return {_register_of(k) for k in doc if k not in SPECIAL or k in STATUS_GROUP} | {"status"}


def _values(doc: dict[str, Any], register: str) -> list[Any]:
    fields = STATUS_GROUP if register == "status" else (register,)
    return [doc.get(f) for f in fields]


def _digest(values: Any) -> str:
    import json  # imported here: reads load this module, and only merges and writes digest
    from hashlib import sha1

    return sha1(json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _max_counter(stamps: dict[str, Any]) -> int:
    return max((parse_stamp(s)[0] for s in stamps.values()), default=0)


def stamp_edit(before: dict[str, Any] | None, after: dict[str, Any], actor: str) -> dict[str, Any]:
    """`after` with stamps for everything it changed relative to `before` (a new bead gets none)."""
    if before is None:
        return canonical(after)
    stamps = dict(before.get(STAMPS) or {})
    stamp = format_stamp((_max_counter(stamps) + 1, actor))
    for register in _registers(before) | _registers(after):
        if _values(before, register) != _values(after, register):
            stamps[register] = stamp
    for set_name in SETS:
        old = {element_key(set_name, e): e for e in before.get(set_name) or ()}
        new = {element_key(set_name, e): e for e in after.get(set_name) or ()}
        for key in new.keys() - old.keys():
            stamps[f"+{set_name}/{key}"] = stamp
        for key in old.keys() - new.keys():
            stamps[f"-{set_name}/{key}"] = stamp
        for key in new.keys() & old.keys():
            if new[key] != old[key]:  # same element, other details: a fresh add carries them
                stamps[f"+{set_name}/{key}"] = stamp
    out = dict(after)
    out[STAMPS] = dict(sorted(stamps.items()))
    return canonical(out)


def same_bead(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two documents under one id describe the same bead when they were created as one."""
    return all(a.get(k) == b.get(k) for k in ("created_at", "created_by"))


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The join of two replicas of the same bead: commutative, associative and idempotent."""
    if a == b:
        return a
    stamps_a, stamps_b = a.get(STAMPS) or {}, b.get(STAMPS) or {}
    out: dict[str, Any] = {}
    stamps: dict[str, object] = {}  # as the replicas hold them (parse_stamp reads a malformed one as zero)
    for key in IDENTITY:  # equal for the same bead; min() keeps the merge symmetric regardless
        values = [d[key] for d in (a, b) if d.get(key) is not None]
        if values:
            out[key] = min(values, key=str)
    registers = _registers(a) | _registers(b)
    for register in sorted(registers):
        winner = max((a, b), key=lambda d: _rank(d, register))
        for field in (STATUS_GROUP if register == "status" else (register,)):
            if winner.get(field) is not None:
                out[field] = winner[field]
        stamp = (winner.get(STAMPS) or {}).get(register)
        if stamp:
            stamps[register] = stamp
    for set_name in SETS:
        elements, set_stamps = _merge_set(set_name, a, b)
        if elements:
            out[set_name] = elements
        stamps.update(set_stamps)
    comments: dict[Any, dict[str, Any]] = {}
    for comment in [*(a.get("comments") or ()), *(b.get("comments") or ())]:
        known = comments.get(comment.get("id"))
        if known is None or _digest(comment) > _digest(known):  # one id, two texts: pick by content
            comments[comment.get("id")] = comment
    if comments:
        out["comments"] = sorted(comments.values(), key=lambda c: (parse_time(c.get("created_at")) or 0.0, str(c.get("id"))))
    updated = [d["updated_at"] for d in (a, b) if d.get("updated_at")]
    if updated:
        out["updated_at"] = max(updated, key=lambda t: (parse_time(t) or 0.0, t))
    for key in set(stamps_a) | set(stamps_b):  # stamps of registers absent on both sides survive too
        if key not in stamps and key not in registers and not key.startswith(("+", "-")):
            stamps[key] = max((stamps_a.get(key), stamps_b.get(key)), key=lambda s: (parse_stamp(s), str(s)))
    if stamps:
        out[STAMPS] = dict(sorted(stamps.items()))
    return canonical(out)


def _rank(doc: dict[str, Any], register: str) -> tuple[Any, ...]:
    stamp = parse_stamp((doc.get(STAMPS) or {}).get(register))
    values = _values(doc, register)
    deleted = register == "status" and doc.get("status") == TOMBSTONE
    return (deleted, stamp, _digest(values))


def _merge_set(set_name: str, a: dict[str, Any], b: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
    adds: dict[str, tuple[Stamp, str, Any]] = {}
    removes: dict[str, Stamp] = {}
    stamps: dict[str, str] = {}
    for doc in (a, b):
        doc_stamps = doc.get(STAMPS) or {}
        for element in doc.get(set_name) or ():
            key = element_key(set_name, element)
            stamp_text = doc_stamps.get(f"+{set_name}/{key}")
            candidate = (parse_stamp(stamp_text), _digest(element), element)
            if key not in adds or candidate[:2] > adds[key][:2]:
                adds[key] = candidate
        for name, text in doc_stamps.items():
            if name.startswith(f"+{set_name}/") or name.startswith(f"-{set_name}/"):
                current = stamps.get(name)
                if current is None or (parse_stamp(text), text) > (parse_stamp(current), current):
                    stamps[name] = text
            if name.startswith(f"-{set_name}/"):
                key = name[len(set_name) + 2:]
                removes[key] = max(removes.get(key, ZERO), parse_stamp(text))
    kept = [(stamp, key, element) for key, (stamp, _, element) in adds.items()
            if key not in removes or stamp > removes[key]]
    kept.sort(key=lambda item: (item[0], item[1]))
    return [element for _, _, element in kept], stamps


def renamed_id(bead_id: str, doc: dict[str, Any]) -> str:
    """The id a colliding bead moves to: derived from its creation, so every replica picks the same."""
    from hashlib import sha1

    from gt.model.ids import base36

    origin = f"{doc.get('created_at')}|{doc.get('created_by')}"
    return f"{bead_id}-r{base36(sha1(origin.encode()).digest(), 5)}"


def collision_loser(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Of two different beads minted under one id, the one that moves: the later-created."""
    return max((a, b), key=lambda d: (parse_time(d.get("created_at")) or 0.0, str(d.get("created_at")),
                                       str(d.get("created_by")), _digest(d)))


def strip_stamps(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != STAMPS}
