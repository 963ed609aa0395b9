"""The ledger's commit log as records (time, author, subject, trailers), cached by commit id.

Track records, audits and the feed are computed from these. Parsing every commit of a long
history is the slow part, so parsed entries are kept in a disposable cache under
`<common git dir>/gt/log/`: a run reads only the commits made since the cached head (a sync merge
or plain git moving the branch forward included); a history that no longer contains the cached
head (a reset) is read again from scratch. Deleting the cache only costs time.
"""
from __future__ import annotations

import marshal
import os
from typing import Any, NamedTuple

CACHE_VERSION = 2  # 2: rows in causal order


class Entry(NamedTuple):
    commit: str
    parents: tuple[str, ...]
    time: int  # the author time, epoch seconds
    author: str
    subject: str
    trailers: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for k, v in self.trailers:
            if k == key:
                return v
        return None

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.trailers if k == key]


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """`Key: value` lines of the message's last paragraph."""
    paragraphs = message.strip().split("\n\n")
    if len(paragraphs) < 2:
        return ()
    out = []
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            out.append((key, value.strip()))
    return tuple(out)


def _entry(sha: str, raw: bytes) -> tuple[Any, ...]:
    """A commit's record from its raw object (headers, a blank line, the message)."""
    head, _, body = raw.partition(b"\n\n")
    parents, author, when = [], "", 0
    for line in head.split(b"\n"):
        if line.startswith(b"parent "):
            parents.append(line[7:47].decode())
        elif line.startswith(b"author "):
            name_part, _, rest = line[7:].rpartition(b"> ")
            author = name_part.split(b" <")[0].decode("utf-8", "replace")
            when = int(rest.split(b" ")[0] or 0)
    message = body.decode("utf-8", "replace")
    return (sha, tuple(parents), when, author, message.split("\n", 1)[0], parse_trailers(message))


_MEMO: dict[str, dict[str, Any]] = {}  # the cache files read or written by this process (a long-lived one reads each once)


def _cache_path(ledger: Any) -> str:
    return os.path.join(ledger.repo.private, "log", ledger.branch.replace("/", "%") + ".marshal")


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None


def _save(path: str, data: dict[str, Any]) -> None:
    from gt.ledger.index import write_atomic

    write_atomic(path, marshal.dumps(data))


def entries(ledger: Any) -> list[Entry]:
    """Every commit reachable from the ledger's head, in causal order: parents before children, then
    by author time."""
    head = ledger.head()
    if head is None:
        return []
    path = _cache_path(ledger)
    cached = _MEMO.get(path) or _load(path)
    if cached is not None and cached["head"] == head:
        _MEMO[path] = cached
        return list(map(Entry._make, cached["rows"]))
    known = {row[0]: row for row in cached["rows"]} if cached else {}
    old_head = cached["head"] if cached else None
    store = ledger.object_store
    new: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    reached_old_head = False
    pending = [head]
    while pending:
        sha = pending.pop()
        if sha in seen:
            continue
        seen.add(sha)
        if sha in known:
            reached_old_head |= sha == old_head
            continue
        kind, raw = store.get_raw(sha.encode())
        row = _entry(sha, raw)
        new.append(row)
        pending.extend(row[1])
    if known and not reached_old_head:
        return _rebuild(ledger, path, head)
    # Causal order: the known rows are all ancestors of the old head, so none of them comes after a
    # new one; the new ones go after them, parents first (by author time among those that are free).
    rows = (list(cached["rows"]) if cached else []) + _causal(new)
    _MEMO[path] = data = {"version": CACHE_VERSION, "head": head, "rows": rows}
    _save(path, data)
    return list(map(Entry._make, rows))


def _causal(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Commit rows (commit, parents, time, …) with every parent before its children, the earliest
    author time first among the commits whose parents are placed: a clock that runs behind on one
    machine cannot put an effect before its cause."""
    import heapq

    index = {row[0]: n for n, row in enumerate(rows)}
    waiting = [0] * len(rows)
    children: dict[int, list[int]] = {}
    for n, row in enumerate(rows):
        for parent in row[1]:
            if parent in index:
                waiting[n] += 1
                children.setdefault(index[parent], []).append(n)
    ready = [(row[2], n) for n, row in enumerate(rows) if not waiting[n]]
    heapq.heapify(ready)
    out = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(rows[n])
        for child in children.get(n, ()):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (rows[child][2], child))
    return out


def _rebuild(ledger: Any, path: str, head: str) -> list[Entry]:
    _MEMO.pop(path, None)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return entries(ledger)
