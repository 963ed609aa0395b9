"""Dependencies: what blocks what, readiness, cycles and trees. Pure functions over id -> bead mappings.

A bead is blocked when a `blocks` dependency targets a bead that exists and is not closed, when its
status is `blocked`, or when its parent (through `parent-child`) is blocked, transitively. A target
that does not exist (a partial import) or was deleted does not block.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, NamedTuple

from gt.model.bead import BLOCKING, BOOKKEEPING_TYPES, PARENT, TOMBSTONE, is_deleted, parent_of, parse_time

Beads = Mapping[str, Mapping[str, Any]]
ORDERING = (BLOCKING, PARENT)  # the dependency types that order work, and so must never loop


_DONE = ("closed", TOMBSTONE)  # statuses of a bead that no longer blocks anything


def open_blockers(beads: Beads, bead_id: str) -> list[str]:
    """Ids of existing, unclosed beads that block `bead_id` directly."""
    out = []
    for dep in beads[bead_id].get("dependencies") or ():
        if dep.get("type") == BLOCKING:
            target = beads.get(dep.get("target"))
            if target is not None and target.get("status") not in _DONE:
                out.append(dep["target"])
    return out


def blocked_checker(beads: Beads) -> Callable[[str], bool]:
    """A memoised `is_blocked(id)`: own `blocked` status, an open blocker, or a blocked live parent."""
    memo: dict[str, bool] = {}

    def is_blocked(bead_id: str) -> bool:
        known = memo.get(bead_id)
        if known is not None:
            return known
        memo[bead_id] = False  # a parent cycle (only possible through imports) ends here
        doc = beads[bead_id]
        result = doc.get("status") == "blocked"
        for dep in doc.get("dependencies") or ():
            if result:
                break
            kind = dep.get("type")
            if kind == BLOCKING or kind == PARENT:
                target_id = dep.get("target")
                target = beads.get(target_id)
                if target is not None and target.get("status") not in _DONE:
                    result = kind == BLOCKING or is_blocked(target_id)
        memo[bead_id] = result
        return result

    return is_blocked


class Blocked(NamedTuple):  # a tuple: `bd blocked` makes one per blocked bead
    """Why a bead is blocked: its open blockers, a blocked ancestor, or its own `blocked` status."""

    blockers: tuple[str, ...] = ()
    via_parent: str | None = None
    by_status: bool = False


def blocked_map(beads: Beads) -> dict[str, Blocked]:
    """Every unclosed, undeleted bead that is blocked, with the reason."""
    is_blocked = blocked_checker(beads)
    out = {}
    for bead_id, doc in beads.items():
        if doc.get("status") in _DONE or not is_blocked(bead_id):
            continue
        parent = parent_of(doc)
        parent_doc = beads.get(parent) if parent else None
        via = parent if parent and parent_doc is not None and parent_doc.get("status") not in _DONE and is_blocked(parent) else None
        out[bead_id] = Blocked(tuple(open_blockers(beads, bead_id)), via, doc.get("status") == "blocked")
    return out


def sort_key(doc: Mapping[str, Any]) -> tuple[int, float, str]:
    """Priority first (0 is the highest), then oldest first."""
    created = doc.get("_created")
    if created is None:
        created = parse_time(doc.get("created_at")) or 0.0
    return (int(doc.get("priority", 2)), created, doc.get("id", ""))


def ready(beads: Beads, now: float) -> list[str]:
    """Open, unblocked, not deferred into the future, not bookkeeping: sorted by priority then age."""
    is_blocked = blocked_checker(beads)
    out = []
    for bead_id, doc in beads.items():
        if doc.get("status") != "open" or doc.get("type") in BOOKKEEPING_TYPES:
            continue
        if doc.get("defer_until"):
            defer = doc["_defer"] if "_defer" in doc else parse_time(doc["defer_until"])
            if defer is not None and defer > now:
                continue
        if not is_blocked(bead_id):
            out.append(bead_id)
    return sorted(out, key=lambda i: sort_key(beads[i]))


def dependents(beads: Beads, bead_id: str, types: Iterable[str] | None = (BLOCKING,)) -> list[str]:
    """Ids of live beads that depend on `bead_id` through one of `types` (None: any type)."""
    wanted = None if types is None else set(types)
    return sorted(
        other for other, doc in beads.items()
        if not is_deleted(doc)
        and any(
            d.get("target") == bead_id and (wanted is None or d.get("type") in wanted)
            for d in doc.get("dependencies") or ()
        )
    )


def children_map(beads: Beads) -> dict[str, list[str]]:
    """Every live bead's children (beads with a parent-child dependency on it), by parent id, in one pass."""
    found: dict[str, list[str]] = {}
    for bead_id, doc in beads.items():
        if not is_deleted(doc):
            for dep in doc.get("dependencies") or ():
                if dep.get("type") == PARENT and isinstance(dep.get("target"), str):
                    found.setdefault(dep["target"], []).append(bead_id)
    return found


def children(beads: Beads, bead_id: str) -> list[str]:
    return dependents(beads, bead_id, (PARENT,))


def path_between(beads: Beads, start: str, goal: str, types: Iterable[str]) -> list[str] | None:
    """A dependency path start -> ... -> goal following `types`, or None."""
    wanted = set(types)
    stack = [(start, [start])]
    seen = {start}
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        doc = beads.get(node)
        for dep in (doc.get("dependencies") or ()) if doc else ():
            target = dep.get("target")
            if dep.get("type") in wanted and target not in seen:
                seen.add(target)
                stack.append((target, path + [target]))
    return None


def cycle_if_added(beads: Beads, source: str, target: str, dep_type: str) -> list[str] | None:
    """The cycle that `source depends on target` would close, as a list of ids, or None.

    `blocks` and `parent-child` edges are followed together: a child blocking its own parent (or
    any mixed loop) deadlocks readiness just as a pure `blocks` loop does.
    """
    if source == target:
        return [source, source]
    if dep_type not in ORDERING:
        return None
    path = path_between(beads, target, source, ORDERING)
    return [source] + path if path else None


def cycles(beads: Beads, types: Iterable[str] = (BLOCKING, PARENT)) -> list[list[str]]:
    """Every dependency cycle (strongly connected component of more than one bead, or a self-loop)."""
    wanted = set(types)
    graph = {
        i: [d.get("target") for d in doc.get("dependencies") or () if d.get("type") in wanted and d.get("target") in beads]
        for i, doc in beads.items() if not is_deleted(doc)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return sorted(found)


MAX_TREE_DEPTH = 300  # deeper trees are not useful to read, and their JSON nests too deeply to encode


class TreeNode:  # a plain class: a dataclass costs every importing process ~0.4 ms to define
    """One bead of a dependency tree (see dep_tree)."""

    def __init__(self, id: str, dep_type: str | None, children: list["TreeNode"]) -> None:
        self.id = id
        self.dep_type = dep_type
        self.children = children
        self.repeated = False  # met again on its own path: a cycle, not expanded again
        self.truncated = False  # it has dependencies, below the depth asked for
        self.shown_above = False  # expanded earlier in the tree (a shared dependency): not expanded again


def dep_tree(beads: Beads, root: str, max_depth: int = 50) -> TreeNode:
    """What `root` depends on, recursively, to `max_depth` levels below it (built without recursion).

    A bead met again on its own path is a cycle: marked `repeated`. A bead whose dependencies lie
    below `max_depth` is marked `truncated` (a long chain is not a cycle). A bead already expanded
    elsewhere in the tree is marked `shown_above`, so that shared dependencies cost no more than once.
    """
    top = TreeNode(root, None, [])
    expanded: set[str] = set()
    stack: list[tuple[TreeNode, frozenset[str], int]] = [(top, frozenset(), 0)]
    while stack:  # depth first, children in order: the order the tree is printed in
        node, path, depth = stack.pop()
        if node.id in path:
            node.repeated = True
            continue
        doc = beads.get(node.id)
        deps = [d for d in (doc.get("dependencies") or ()) if isinstance(d, dict)] if doc else []
        if not deps:
            continue
        if depth >= max_depth:
            node.truncated = True
            continue
        if node.id in expanded:
            node.shown_above = True
            continue
        expanded.add(node.id)
        node.children = [TreeNode(str(d.get("target")), d.get("type"), []) for d in deps]
        below = path | {node.id}
        stack.extend((child, below, depth + 1) for child in reversed(node.children))
    return top
