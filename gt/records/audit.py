"""`bd audit` (every action of an identity) and agent CVs (`gt polecat identity show`, `gt crew show`)."""
from __future__ import annotations

import fnmatch
import os
from typing import Any

from gt.ledger import log
from gt.records.sources import Source, all_beads, code_commits, events, iso
from gt.records.stats import stats


def audit(sources: list[Source], identity: str, since: float | None = None) -> list[dict[str, Any]]:
    """Every action by `identity` (a glob), oldest first: ledger writes and code commits, with commit ids."""
    rows: list[dict[str, Any]] = []
    for source in sources:
        for entry in log.entries(source.tracker.ledger):
            if fnmatch.fnmatchcase(entry.author, identity) and (since is None or entry.time >= since):
                rows.append({"time": entry.time, "kind": "ledger", "where": source.name, "commit": entry.commit,
                             "op": entry.get("Op"), "beads": entry.all("Bead-Id"), "subject": entry.subject,
                             "author": entry.author})
    for commit in code_commits(sources, all_branches=True):
        if fnmatch.fnmatchcase(commit.author, identity) and (since is None or commit.time >= since):
            rows.append({"time": commit.time, "kind": "code", "where": commit.rig, "commit": commit.commit,
                         "op": "commit", "beads": [commit.bead] if commit.bead else [], "lines": commit.lines,
                         "subject": commit.subject, "author": commit.author})
    rows.sort(key=lambda r: r["time"])
    for row in rows:
        row["at"] = iso(row["time"])
    return rows


def cv(sources: list[Source], identity: str) -> dict[str, Any]:
    """An agent's record: completed, failed, abandoned, first-pass rate, models, languages, recent work."""
    beads, all_events = all_beads(sources), events(sources)  # read once: reloading parsed history costs ~1 s at 100k commits
    figures = stats(sources, None, identity, history=(beads, all_events))["groups"].get("all") or {}
    mine = [e for e in all_events if e.worker == identity]
    models = sorted({e.model for e in mine if e.kind == "hook" and e.model})
    languages: dict[str, int] = {}
    seen: set[tuple[int, str]] = set()  # a commit and its copy rebased by the refinery count once
    for commit in code_commits(sources, all_branches=True):
        if commit.author == identity and (commit.time, commit.subject) not in seen:
            seen.add((commit.time, commit.subject))
            for path in commit.files:
                ext = os.path.splitext(path)[1].lstrip(".").lower() or "(none)"
                languages[ext] = languages.get(ext, 0) + 1
    recent: list[dict[str, Any]] = []
    for e in reversed(mine):
        if e.kind in ("hook", "merge", "reject", "escalate", "defer") and len(recent) < 8:
            recent.append({"at": iso(e.time), "event": e.kind, "bead": e.bead,
                           "title": (beads.get(e.bead) or {}).get("title")})
    return {"identity": identity, "completed": figures.get("completed", 0),
            "failed": figures.get("rejected_merge_requests", 0),
            "abandoned": figures.get("deferred", 0) + figures.get("abandoned", 0),
            "escalated": figures.get("escalated", 0), "first_pass_rate": figures.get("first_pass_rate"),
            "success_rate": figures.get("success_rate"), "models": models,
            "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))), "recent": recent}
