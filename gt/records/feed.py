"""`gt feed`: the town's activity, one line per ledger commit, oldest first."""
from __future__ import annotations

import fnmatch
from typing import Any

from gt.ledger import log
from gt.records.sources import Source, iso


KINDS = {"close": "done", "merge": "done", "convoy-land": "done", "hook": "hooked", "hook-bead": "hooked",
         "create": "created",
         "convoy-create": "created", "reject": "rejected", "escalate": "escalated", "done": "submitted",
         "restart": "restart", "recover": "recover", "mail": "mail"}  # what kind of event: the CLI picks its mark


def feed_lines(sources: list[Source], since: float | None = None, rig: str | None = None,
               actor: str | None = None, shown: set[str] | None = None) -> list[dict[str, Any]]:
    """The town's activity in causal order (each ledger's commits parents first, the ledgers
    interleaved by time), leaving out the commits in `shown` (what was printed before: commits a sync
    brings in may be older than the last one shown, so time alone cannot tell)."""
    import heapq

    per_ledger: list[list[dict[str, Any]]] = []
    for source in sources:
        if rig and source.name != rig:
            continue
        rows: list[dict[str, Any]] = []
        per_ledger.append(rows)
        for entry in log.entries(source.tracker.ledger):
            if shown is not None and entry.commit in shown:
                continue
            if (since is not None and entry.time < since) or (actor and not fnmatch.fnmatchcase(entry.author, actor)):
                continue
            rows.append({"time": entry.time, "at": iso(entry.time), "ledger": source.name, "commit": entry.commit,
                         "op": entry.get("Op"), "kind": KINDS.get(entry.get("Op") or "", "other"),
                         "author": entry.author, "line": _describe(entry)})
    return list(heapq.merge(*per_ledger, key=lambda r: r["time"]))


def _describe(entry: log.Entry) -> str:
    op = entry.get("Op") or ""
    beads = entry.all("Bead-Id")
    if op == "merge":
        return f"{entry.get('Source')} closed by {entry.author} (merged {(entry.get('Merged-Commit') or '')[:7]})"
    if op == "close":
        return f"{', '.join(beads)} closed by {entry.author}"
    if op in ("hook", "hook-bead"):
        return f"{entry.get('Source') or ', '.join(beads)} hooked by {entry.get('Agent') or entry.author}"
    if op == "convoy-create":
        return f"{', '.join(beads)} convoy created"
    if op == "create":
        return f"{entry.subject.removeprefix('create ')} (by {entry.author})"
    return f"{entry.subject} ({entry.author})"
