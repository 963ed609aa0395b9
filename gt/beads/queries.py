"""Bead commands that read: list, ready, blocked, search, count and stats."""
from __future__ import annotations

import time
from collections import Counter
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Callable, Iterable

from gt.errors import GtError, UsageError
from gt.ledger.store import View
from gt.model import graph
from gt.model.bead import BOOKKEEPING_TYPES, INFRA_TYPES, is_closed, parent_of
from gt.model.merge import strip_stamps
from gt.beads.tracker import BEADS, Tracker

if TYPE_CHECKING:
    from gt.beads.derived import BlockedRow

DERIVABLE = frozenset({"statuses", "priority", "type", "assignee", "unassigned", "priority_min", "priority_max",
                       "exclude_types", "include_closed", "include_infra"})  # Filter fields a derived node answers
SORTS = ("priority", "created", "updated", "closed", "status", "id", "title", "type", "assignee")
READY_SORTS = ("priority", "hybrid", "oldest")
HYBRID_WINDOW = 48 * 3600  # `ready --sort hybrid`: beads younger than this come first, by priority


FILTER_DEFAULTS: dict[str, Any] = {  # every field of a Filter, in order, with its default (unset: any)
    "statuses": None, "priority": None, "type": None, "assignee": None, "labels": (), "parent": None,
    "labels_any": (), "exclude_labels": (), "label_pattern": None, "title": None, "ids": frozenset(),
    "unassigned": False, "no_labels": False, "no_parent": False, "priority_min": None, "priority_max": None,
    "exclude_types": (), "within": None, "created": (None, None), "updated": (None, None), "closed": (None, None),
    "due": (None, None), "deferred_only": False, "overdue_at": None, "contains": (), "empty_description": False,
    "include_closed": False, "include_infra": False,
}


class Filter:  # a plain class: as a dataclass, its 28 fields cost every read command ~2 ms to define
    """The filters of `list`, `ready` and `count` (the original's flags); None or empty means 'any'.

    `matches` reads a summary; the text filters (`contains`, `empty_description`) need the full
    document and are applied by `matches_text`."""

    statuses: tuple[str, ...] | None
    priority: int | None
    type: str | None
    assignee: str | None
    labels: tuple[str, ...]
    parent: str | None
    labels_any: tuple[str, ...]
    exclude_labels: tuple[str, ...]
    label_pattern: str | None
    title: str | None
    ids: frozenset[str]
    unassigned: bool
    no_labels: bool
    no_parent: bool
    priority_min: int | None
    priority_max: int | None
    exclude_types: tuple[str, ...]
    within: frozenset[str] | None  # only these ids (e.g. the descendants of --parent)
    created: tuple[float | None, float | None]  # (after, before) as epoch seconds
    updated: tuple[float | None, float | None]
    closed: tuple[float | None, float | None]
    due: tuple[float | None, float | None]
    deferred_only: bool
    overdue_at: float | None
    contains: tuple[tuple[str, str], ...]  # (field, lower-case text)
    empty_description: bool
    include_closed: bool
    include_infra: bool  # the ledger's infrastructure types too (see infra_types)

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - FILTER_DEFAULTS.keys()
        if unknown:
            raise TypeError(f"Filter has no field {sorted(unknown)[0]!r}")
        for name, default in FILTER_DEFAULTS.items():
            setattr(self, name, values.get(name, default))
        self._checks: list[Callable[[dict[str, Any]], bool]] | None = None

    def values(self) -> dict[str, Any]:
        """Every field's value, by name."""
        return {name: getattr(self, name) for name in FILTER_DEFAULTS}

    def replace(self, **changes: Any) -> "Filter":
        """A copy with these fields changed."""
        return Filter(**{**self.values(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and self.values() == other.values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        return "Filter(" + ", ".join(f"{k}={v!r}" for k, v in self.values().items() if v != FILTER_DEFAULTS[k]) + ")"

    def matches(self, doc: dict[str, Any]) -> bool:
        """Whether the summary passes every filter that is set (built once: a read tests every bead)."""
        if self._checks is None:
            self._checks = self._active_checks()
        return all(check(doc) for check in self._checks)

    def _active_checks(self) -> list[Callable[[dict[str, Any]], bool]]:
        """One test per filter that is set, so that the unset ones cost nothing per bead."""
        checks: list[Callable[[dict[str, Any]], bool]] = []
        statuses, priority, type_, assignee = self.statuses, self.priority, self.type, self.assignee
        labels, labels_any, exclude_labels, pattern = self.labels, self.labels_any, self.exclude_labels, self.label_pattern
        parent, title, ids, within, exclude_types = self.parent, self.title, self.ids, self.within, self.exclude_types
        lowest, highest, overdue_at = self.priority_min, self.priority_max, self.overdue_at
        if statuses is not None:
            checks.append(lambda d: d.get("status") in statuses)
        if priority is not None:
            checks.append(lambda d: d.get("priority") == priority)
        if type_ is not None:
            checks.append(lambda d: d.get("type") == type_)
        if assignee is not None:
            checks.append(lambda d: d.get("assignee") == assignee)
        if labels:
            checks.append(lambda d: all(label in (d.get("labels") or ()) for label in labels))
        if parent is not None:
            checks.append(lambda d: parent_of(d) == parent)
        if labels_any:
            checks.append(lambda d: any(label in (d.get("labels") or ()) for label in labels_any))
        if exclude_labels:
            checks.append(lambda d: not any(label in (d.get("labels") or ()) for label in exclude_labels))
        if pattern is not None:
            checks.append(lambda d: any(fnmatchcase(label, pattern) for label in d.get("labels") or ()))
        if title is not None:
            checks.append(lambda d: title in str(d.get("title", "")).lower())
        if ids:
            checks.append(lambda d: d.get("id") in ids)
        if self.unassigned:
            checks.append(lambda d: not d.get("assignee"))
        if self.no_labels:
            checks.append(lambda d: not d.get("labels"))
        if self.no_parent:
            checks.append(lambda d: parent_of(d) is None)
        if lowest is not None:
            checks.append(lambda d: int(d.get("priority", 2)) >= lowest)
        if highest is not None:
            checks.append(lambda d: int(d.get("priority", 2)) <= highest)
        if exclude_types:
            checks.append(lambda d: d.get("type") not in exclude_types)
        if within is not None:
            checks.append(lambda d: d.get("id") in within)
        for key, bounds in (("_created", self.created), ("_updated", self.updated), ("_closed", self.closed),
                            ("_due", self.due)):
            if bounds != (None, None):
                checks.append(_in_range(key, bounds))
        if self.deferred_only:
            checks.append(lambda d: bool(d.get("defer_until")) or d.get("status") == "deferred")
        if overdue_at is not None:
            checks.append(lambda d: d.get("_due") is not None and d["_due"] < overdue_at and d.get("status") != "closed")
        return checks

    def derivable(self) -> bool:
        """Whether every filter set reads only what the derived tables hold per bead (status,
        priority, type, assignee), so a read can walk them in order instead of every summary."""
        return all(getattr(self, name) == default for name, default in FILTER_DEFAULTS.items()
                   if name not in DERIVABLE)

    @property
    def needs_text(self) -> bool:
        return bool(self.contains) or self.empty_description

    def matches_text(self, doc: dict[str, Any]) -> bool:
        """The filters on long texts, which summaries leave out."""
        return (all(text in str(doc.get(field) or "").lower() for field, text in self.contains)
                and (not self.empty_description or not str(doc.get("description") or "").strip()))


def _in_range(key: str, bounds: tuple[float | None, float | None]) -> Callable[[dict[str, Any]], bool]:
    return lambda doc: _between(doc.get(key), bounds)


def _between(value: float | None, bounds: tuple[float | None, float | None]) -> bool:
    after, before = bounds
    if after is None and before is None:
        return True
    return value is not None and (after is None or value > after) and (before is None or value < before)


def _natural(bead_id: str) -> list[Any]:
    """An id's sort key with numbers compared as numbers (bd-2 before bd-10), as the original's `--sort id`."""
    import re

    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", bead_id) if part]


def _sorted(beads: dict[str, dict[str, Any]], ids: Iterable[str], sort: str, reverse: bool = False) -> list[str]:
    """Ids in the original's orders: by default (and `priority`) priority, then newest first, then id;
    `created`, `updated` and `closed` newest first (never-closed last); the others ascending."""
    def default(i: str) -> tuple[int, float, str]:
        doc = beads[i]
        return (int(doc.get("priority", 2)), -doc.get("_created", 0.0), i)

    ordered = sorted(ids, key=default)  # the base order every other sort keeps between equals
    if sort in ("", "priority"):
        pass
    elif sort in ("created", "updated"):
        ordered.sort(key=lambda i: -beads[i].get(f"_{sort}", 0.0))
    elif sort == "closed":
        ordered.sort(key=lambda i: (beads[i].get("_closed") is None, -(beads[i].get("_closed") or 0.0)))
    elif sort == "id":
        ordered.sort(key=_natural)
    elif sort == "title":
        ordered.sort(key=lambda i: str(beads[i].get("title", "")).lower())
    elif sort in ("status", "type", "assignee"):
        ordered.sort(key=lambda i: str(beads[i].get(sort) or ""))
    elif sort == "oldest":
        ordered.sort(key=lambda i: (beads[i].get("_created", 0.0), i))
    elif sort == "hybrid":
        recent = time.time() - HYBRID_WINDOW

        def hybrid(i: str) -> tuple[int, int, float, str]:
            doc = beads[i]
            young = doc.get("_created", 0.0) >= recent
            return (0 if young else 1, int(doc.get("priority", 2)) if young else 999, doc.get("_created", 0.0), i)

        ordered.sort(key=hybrid)
    else:
        raise UsageError(f"invalid sort {sort!r}: use one of {', '.join(SORTS + READY_SORTS[1:])}")
    if reverse:
        ordered.reverse()
    return ordered


def full(view: View, ids: list[str]) -> list[dict[str, Any]]:
    """The beads as stored, without merge stamps."""
    return [strip_stamps(doc) for doc in view.docs(BEADS, ids)]


def list_beads(view: View, flt: Filter, include_closed: bool = False, limit: int | None = 50, sort: str = "",
               reverse: bool = False) -> list[str]:
    closed_hidden = not (include_closed or flt.include_closed or flt.statuses is not None)
    infra = frozenset() if flt.include_infra or flt.type is not None else infra_types(view)
    if limit and sort in ("", "priority") and not reverse and flt.derivable() and (
            closed_hidden or (flt.statuses is not None and "closed" not in flt.statuses)):
        found = _list_derived(view, flt, infra, limit)
        if found is not None:
            return found
    beads = view.summaries(BEADS)
    if flt.parent is not None:  # resolved in this ledger, without changing the caller's filter
        flt = flt.replace(parent=Tracker.resolve(view, flt.parent))
    hidden = ("tombstone", "closed") if closed_hidden else ("tombstone",)
    ids = [i for i, doc in beads.items()
           if doc.get("status") not in hidden and doc.get("type") not in infra and flt.matches(doc)]
    if flt.needs_text:
        ids = [doc["id"] for doc in view.docs(BEADS, ids) if flt.matches_text(doc)]
    ids = _sorted(beads, ids, sort, reverse)
    return ids[:limit] if limit else ids


def list_ready(view: View, flt: Filter, include_closed: bool = False, limit: int | None = 50, sort: str = "",
               reverse: bool = False, others: Others | None = None) -> list[str]:
    """`bd list --ready`: the beads `ready` finds that pass list's filters, its hidden infrastructure
    types too; in the default order, `ready`'s own walk of the derived tables to the limit."""
    others = others or own_only
    if flt.derivable() and limit and sort in ("", "priority") and not reverse:
        hidden = () if flt.include_infra or flt.type is not None else tuple(infra_types(view))
        return ready(view, flt.replace(exclude_types=flt.exclude_types + hidden), limit, others)
    within = frozenset(ready(view, Filter(), None, others))
    return list_beads(view, flt.replace(within=within if flt.within is None else flt.within & within),
                      include_closed, limit, sort, reverse)


def count_beads(view: View, flt: Filter) -> int:
    """How many beads `bd count` counts (closed ones too, infrastructure types unless asked): from the
    derived tables' tallies when no filter is set, else by listing them."""
    if flt == Filter(include_infra=flt.include_infra):
        from gt.beads.derived import derived_of

        derived = derived_of(view)
        if derived is not None:
            return derived.count(() if flt.include_infra else infra_types(view))
    return len(list_beads(view, flt, True, None))


def _list_derived(view: View, flt: Filter, infra: frozenset[str], limit: int) -> list[str] | None:
    """`list_beads` of the first `limit` live beads in the default order, without the `infra` types,
    read from the derived tables (None: they cannot be had, read every summary instead)."""
    from gt.beads.derived import derived_of

    derived = derived_of(view)
    if derived is None:
        return None
    found: list[str] = []
    for node in derived.ordered(statuses=flt.statuses, hidden_types=infra):
        if flt.matches(node.summary()):
            found.append(node.id)
            if len(found) >= limit:
                break
    return found


def infra_types(view: View) -> frozenset[str]:
    """The types `bd list` and `bd count` leave out unless asked: the ledger's `types.infra`, else INFRA_TYPES."""
    from gt.model.schema import INFRA_KEY

    configured = view.config.get(INFRA_KEY)
    if isinstance(configured, list):
        return frozenset(t for t in configured if isinstance(t, str))
    return frozenset(INFRA_TYPES)


def across(views: list[View], pick: Callable[[View], list[str]], limit: int | None,
           sort: str = "priority", reverse: bool = False) -> list[tuple[View, str]]:
    """What `pick` finds in each ledger, interleaved in `sort` order, at most `limit`; a ledger that
    does not hold a bead the filter names (--parent) has nothing to add."""
    if len(views) == 1:
        return [(views[0], i) for i in pick(views[0])]
    found = []
    for view in views:
        beads = view.summaries(BEADS)
        try:
            found += [(view, i, beads[i]) for i in pick(view)]
        except GtError as exc:
            if exc.code != "not_found":
                raise
    order = _sorted({str(n): doc for n, (_, _, doc) in enumerate(found)}, [str(n) for n in range(len(found))], sort,
                    reverse)
    pairs = [(found[int(n)][0], found[int(n)][1]) for n in order]
    return pairs[:limit] if limit else pairs


def rows_across(pairs: list[tuple[View, str]]) -> list[dict[str, Any]]:
    """The original's list rows (`contract.rows_json`) for beads from several ledgers, in the given order."""
    from gt.beads.contract import rows_json

    rows: dict[tuple[int, str], dict[str, Any]] = {}
    views = {id(view): view for view, _ in pairs}
    for key, view in views.items():
        rows.update(((key, row["id"]), row) for row in rows_json(view, [i for v, i in pairs if v is view]))
    return [rows[(id(view), i)] for view, i in pairs]


Others = Callable[[View, dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]


def own_only(view: View, beads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """No other ledgers: outside a town, dependencies on beads elsewhere are unknown."""
    return beads


def ready(view: View, flt: Filter, limit: int | None = None, others: Others = own_only,
          sort: str = "priority") -> list[str]:
    """Ready beads of `view` passing `flt`; `others` adds the beads of other ledgers they depend on."""
    if limit and sort == "priority" and flt.derivable():
        found = _ready_derived(view, flt, limit, others)
        if found is not None:
            return found
    own = view.summaries(BEADS)  # tombstones included: readiness already treats them as gone
    beads = others(view, own)
    flt = within_parent(view, flt, own)
    ids = [i for i in graph.ready(beads, time.time()) if i in own and flt.matches(beads[i])]
    ids = _sorted(beads, ids, sort)
    return ids[:limit] if limit else ids


def _ready_derived(view: View, flt: Filter, limit: int, others: Others) -> list[str] | None:
    """`ready` of the first `limit` beads in the default order, from the derived tables: a bead
    depending on another ledger's bead is checked against that ledger (None: no derived tables)."""
    from gt.beads.derived import derived_of

    derived = derived_of(view)
    if derived is None:
        return None
    found: list[str] = []
    for node in derived.ordered(ready_at=time.time()):
        if not flt.matches(node.summary()):
            continue
        if node.external:  # it, or an ancestor in this ledger, waits for a bead of another ledger
            chain = _with_ancestors(view, node.id)
            if node.id not in chain or graph.blocked_checker(others(view, chain))(node.id):
                continue
        found.append(node.id)
        if len(found) >= limit:
            break
    return found


def _with_ancestors(view: View, bead_id: str) -> dict[str, dict[str, Any]]:
    """The summaries of a bead and of its parents up the chain, as far as this ledger holds them."""
    chain: dict[str, dict[str, Any]] = {}
    current: str | None = bead_id
    while current is not None and current not in chain and len(chain) < 1000:
        entry = view.entry(BEADS, current)
        if entry is None or entry[1] is None:
            break
        chain[current] = entry[1]
        current = parent_of(entry[1])
    return chain


def within_parent(view: View, flt: Filter, beads: dict[str, dict[str, Any]]) -> Filter:
    """`flt` with its parent turned into every descendant of that bead in this ledger (the original's
    `ready/blocked --parent`)."""
    if flt.parent is None:
        return flt
    children = graph.children_map(beads)
    found: set[str] = set()
    stack = [Tracker.resolve(view, flt.parent)]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return flt.replace(parent=None, within=frozenset(found) if flt.within is None else flt.within & found)


def blocked(view: View, others: Others = own_only, flt: Filter | None = None) -> list[tuple[str, graph.Blocked]]:
    """Beads that are blocked, with why, by priority (the original's `bd blocked`)."""
    if flt is None or flt == Filter():
        listing = blocked_listing(view, others)
        if listing is not None:
            return [(item[0].id, item[1]) for item in listing if not isinstance(item, str)]
    own = Tracker.summaries(view)
    beads = others(view, own)
    flt = within_parent(view, flt or Filter(), own)
    found = graph.blocked_map(beads)
    return [(i, found[i]) for i in _sorted(beads, found, "priority") if i in own and flt.matches(beads[i])]


def blocked_listing(view: View, others: Others = own_only,
                    texts: bool = False) -> list[tuple[BlockedRow, graph.Blocked] | str] | None:
    """`blocked` with every bead's row, from the derived tables (None: there are none); a bead that
    waits for another ledger's bead is worked out against that ledger. With `texts`, a bead that
    waits for no other ledger is given as the text of its `bd blocked --json` row alone."""
    from gt.beads.derived import derived_of

    derived = derived_of(view)
    rows = derived.blocked_rows(texts) if derived is not None else None
    if rows is None:
        return None
    out: list[tuple[BlockedRow, graph.Blocked] | str] = []
    for row in rows:
        if type(row) is str:
            out.append(row)
        elif row.external:
            why = _blocked_across(view, others, row.id)
            if why is not None:
                out.append((row, why))
        elif row.blocked:
            out.append((row, graph.Blocked(row.blockers, row.via, row.status == "blocked")))
    return out


def _blocked_across(view: View, others: Others, bead_id: str) -> graph.Blocked | None:
    """Why a bead that waits for another ledger (itself or through its parents) is blocked, if it is:
    `graph.blocked_map` over its chain of parents, what they depend on here and `others`."""
    chain = _with_ancestors(view, bead_id)
    beads = dict(chain)
    for doc in chain.values():
        for dep in doc.get("dependencies") or ():
            target = dep.get("target") if isinstance(dep, dict) else None
            if isinstance(target, str) and target not in beads and dep.get("type") in graph.ORDERING:
                entry = view.entry(BEADS, target)
                if entry is not None and entry[1] is not None:
                    beads[target] = entry[1]
    return graph.blocked_map(others(view, beads)).get(bead_id) if bead_id in chain else None


def search(view: View, text: str, include_closed: bool = True) -> list[str]:
    """Beads whose id, title, texts or comments contain `text` (case-insensitive), by priority."""
    needle = text.lower()
    if not needle.strip():
        raise UsageError("empty search text")
    hits = []
    for doc in view.docs(BEADS):
        if doc.get("status") == "tombstone" or (not include_closed and is_closed(doc)):
            continue
        haystack = [doc.get("id", ""), doc.get("title", ""), doc.get("description", ""), doc.get("notes", ""),
                    doc.get("design", ""), doc.get("acceptance_criteria", "")]
        haystack += [c.get("text", "") for c in doc.get("comments") or ()]
        if any(needle in str(h).lower() for h in haystack):
            hits.append(doc["id"])
    beads = Tracker.summaries(view)
    return _sorted(beads, [h for h in hits if h in beads], "priority")


def stats(view: View) -> dict[str, Any]:
    """Counts of the ledger's beads: the original's `summary` block, and ours beside it."""
    beads = Tracker.summaries(view)
    by_status = Counter(d.get("status") for d in beads.values())
    by_type = Counter(d.get("type") or "task" for d in beads.values())  # a hand-written file may lack one
    by_priority = Counter(f"P{d.get('priority')}" for d in beads.values())
    blocked_now = graph.blocked_map(beads)
    ready_now = graph.ready(beads, time.time())
    lead_times = [(d["_closed"] - d["_created"]) / 3600 for d in beads.values()
                  if d.get("status") == "closed" and d.get("_closed") and d.get("_created")]
    from gt.beads.admin import epic_statuses

    closeable = sum(1 for epic in epic_statuses(beads) if epic.eligible)
    summary = {
        "total_issues": len(beads), "open_issues": by_status.get("open", 0),
        "in_progress_issues": by_status.get("in_progress", 0), "closed_issues": by_status.get("closed", 0),
        "blocked_issues": len(blocked_now), "deferred_issues": by_status.get("deferred", 0),
        "ready_issues": len(ready_now), "pinned_issues": by_status.get("pinned", 0),
        "epics_eligible_for_closure": closeable,
        "average_lead_time_hours": round(sum(lead_times) / len(lead_times), 2) if lead_times else 0.0,
    }
    return {
        "summary": summary,
        "total": len(beads),
        "open": sum(1 for d in beads.values() if not is_closed(d)),
        "closed": by_status.get("closed", 0),
        "ready": len(ready_now),
        "blocked": len(blocked_now),
        "by_status": dict(sorted(by_status.items())),
        "by_type": dict(sorted(by_type.items())),
        "by_priority": dict(sorted(by_priority.items())),
        "bookkeeping": sum(1 for d in beads.values() if d.get("type") in BOOKKEEPING_TYPES),
    }


def merge_requests(view: View, source: str | None = None) -> list[dict[str, Any]]:
    """The ledger's merge requests (for one source bead), oldest first."""
    from gt.model.merge_request import MERGE_REQUEST, fields

    docs = full(view, list(Tracker.select(view, types=[MERGE_REQUEST])))
    if source:
        docs = [d for d in docs if fields(d).get("source") == source]
    return sorted(docs, key=lambda d: str(d.get("created_at", "")))
