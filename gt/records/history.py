"""Track records computed from history: `bd stats --group-by`, `bd audit`, agent CVs, `gt feed`.

Every figure comes from the ledgers' commits (their trailers say what happened: Op, Agent, Source,
Model, Runtime, Merge-Request, Result, Attempts…) and the rigs' code commits (their `Agent:`/`Model:`
/`Bead:` trailers and line counts), never from counters kept beside them. Results are cached by
the heads they were computed from (see `_cached`), so a second run with nothing new is cheap.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gt.ledger import git, log
from gt.ledger.gitdir import discover
from gt.model.bead import BOOKKEEPING_TYPES, parse_time
from gt.town import layout
from gt.beads.tracker import Tracker
from gt.town.context import Town

GROUPS = ("actor", "model", "agent", "rig", "type", "label")
NONE = "(none)"


@dataclass
class Ledger:
    """One ledger of the town (or the current repository's) with its name."""

    name: str  # "town", a rig's name, or the repository's folder
    tracker: Tracker
    code_branch: str | None = None  # the rig's default branch, whose commits are its code history


def ledgers(start: str | None = None) -> list[Ledger]:
    """The town's ledgers (town first, then rigs), or the current repository's outside a town."""
    from gt.town.rigs import registry

    town = layout.find_town(start)
    if town is None:
        tracker = Tracker.open(start)
        return [Ledger(Path(tracker.repo.worktree or tracker.repo.commondir).name, tracker)]
    out = [Ledger("town", Town(town).tracker())]
    for name, record in sorted(registry(town).items()):
        repo = layout.rig_dir(town, name) / layout.RIG_REPO
        if repo.is_dir():
            out.append(Ledger(name, Tracker(discover(str(repo))), record.get("default_branch", "main")))
    return [lg for lg in out if lg.tracker.ledger.exists()]


# -- events: what happened to each bead, from the ledger commits ---------------------------------

@dataclass
class Event:
    kind: str  # hook, submit, merge, reject, escalate, defer, restart, recover, close
    time: int
    bead: str
    worker: str
    model: str | None
    runtime: str | None
    rig: str
    commit: str
    detail: dict[str, Any] = field(default_factory=dict)


OPS = {"hook": "hook", "done": "submit", "merge": "merge", "reject": "reject", "escalate": "escalate",
       "defer": "defer", "restart": "restart", "recover": "recover", "close": "close"}


def events(lgs: list[Ledger]) -> list[Event]:
    out = []
    for lg in lgs:
        for entry in log.entries(lg.tracker.ledger):
            kind = OPS.get(entry.get("Op") or "")
            if kind is None:
                continue
            model, runtime = entry.get("Model"), entry.get("Runtime")
            if kind == "close":
                for bead in entry.all("Bead-Id"):
                    out.append(Event(kind, entry.time, bead, entry.author, None, None, lg.name, entry.commit))
                continue
            bead = entry.get("Source") or (entry.all("Bead-Id") or [""])[-1]
            worker = entry.get("Worker") or entry.get("Agent") or entry.author
            detail: dict[str, Any] = {}
            if kind == "merge":
                detail = {"merged": entry.get("Merged-Commit"), "base": entry.get("Base"),
                          "attempts": int(entry.get("Attempts") or 1), "mr": entry.get("Merge-Request")}
            elif kind == "reject":
                detail = {"result": entry.get("Result"), "mr": entry.get("Merge-Request")}
            elif kind == "submit" and not any(b != bead for b in entry.all("Bead-Id")):
                continue  # a re-run of `gt done` that added no merge request
            out.append(Event(kind, entry.time, bead, worker, model, runtime, lg.name, entry.commit, detail))
    out.sort(key=lambda e: e.time)
    return out


# -- code: line counts of the rigs' default branches ---------------------------------------------

@dataclass
class CodeCommit:
    commit: str
    time: int
    author: str
    agent: str | None
    model: str | None
    bead: str | None
    rig: str
    lines: int
    files: list[str]
    subject: str


def code_commits(lgs: list[Ledger], all_branches: bool = False) -> list[CodeCommit]:
    out = []
    for lg in lgs:
        if lg.code_branch is None:
            continue
        repo = lg.tracker.repo.commondir
        span = [f"--exclude={lg.tracker.ledger.branch}", "--branches"] if all_branches else [lg.code_branch]
        fmt = "%x01%H%x00%at%x00%an%x00%(trailers:key=Agent,valueonly)%x00%(trailers:key=Model,valueonly)%x00" \
              "%(trailers:key=Bead,valueonly)%x00%s%x00"
        text = git.run(f"--git-dir={repo}", "-c", "core.quotePath=false", "log", "--numstat", f"--format={fmt}",
                          *span, "--", check=False).stdout
        for chunk in text.split("\x01")[1:]:
            commit, at, author, agent, model, bead, subject, rest = chunk.split("\x00", 7)
            lines, files = 0, []
            for row in rest.strip().splitlines():
                parts = row.split("\t")
                if len(parts) == 3:
                    lines += sum(int(n) for n in parts[:2] if n.isdigit())
                    files.append(parts[2])
            out.append(CodeCommit(commit, int(at), author, agent.strip() or None, model.strip() or None,
                                  bead.strip() or None, lg.name, lines, files, subject))
    out.sort(key=lambda c: c.time)
    return out


# -- stats ----------------------------------------------------------------------------------------

def _keys(by: str | None, who: str, model: str | None, runtime: str | None, rig: str,
          bead: dict[str, Any] | None) -> list[str]:
    if by is None:
        return ["all"]
    if by == "actor":
        return [who]
    if by == "model":
        return [model or NONE]
    if by == "agent":
        return [runtime or NONE]
    if by == "rig":
        return [rig]
    if by == "type":
        return [str((bead or {}).get("type") or NONE)]
    return list((bead or {}).get("labels") or []) or [NONE]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return round(ordered[index], 1)


def all_beads(lgs: list[Ledger]) -> dict[str, dict[str, Any]]:
    """The summaries of every bead in these ledgers (prefixes keep their ids apart)."""
    beads: dict[str, dict[str, Any]] = {}
    for lg in lgs:
        beads.update(Tracker.summaries(lg.tracker.view()))
    return beads


def stats(lgs: list[Ledger], group_by: str | None = None, actor: str | None = None, since: float | None = None,
          until: float | None = None, history: tuple[dict[str, dict[str, Any]], list[Event]] | None = None
          ) -> dict[str, Any]:
    """Per group: completed, escalated, deferred, rejected, success rate, completion time,
    revisions, first-pass share, conflicts, witness restarts and lines changed. `history` is the
    (beads, events) pair when the caller has read it already."""
    beads, all_events = history or (all_beads(lgs), events(lgs))
    first_hook: dict[tuple[str, str], int] = {}
    model_of: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    hooks: dict[str, int] = {}
    submits: dict[str, int] = {}
    rejected_before: set[str] = set()
    groups: dict[str, dict[str, Any]] = {}

    def group(key: str) -> dict[str, Any]:
        return groups.setdefault(key, {"completed": 0, "escalated": 0, "deferred": 0, "abandoned": 0,
                                       "rejected_merge_requests": 0, "conflicts": 0, "witness_restarts": 0,
                                       "_times": [], "_revisions": [], "_first_pass": [], "lines_changed": 0})

    def counted(event: Event) -> bool:
        return (since is None or event.time >= since) and (until is None or event.time <= until) \
            and (actor is None or fnmatch.fnmatchcase(event.worker, actor))

    merged = {e.bead for e in all_events if e.kind == "merge"}  # closed by a merge: never counted twice
    for e in all_events:
        pair = (e.bead, e.worker)
        if e.kind == "hook":
            first_hook.setdefault(pair, e.time)
            model_of[pair] = (e.model, e.runtime)
            hooks[e.bead] = hooks.get(e.bead, 0) + 1
        elif e.kind == "submit":
            submits[e.bead] = submits.get(e.bead, 0) + 1
        model, runtime = e.model or model_of.get(pair, (None, None))[0], e.runtime or model_of.get(pair, (None, None))[1]
        bead = beads.get(e.bead)
        if e.kind in ("hook", "submit") or not counted(e):
            if e.kind == "reject":
                rejected_before.add(e.bead)
            continue
        if e.kind == "close":
            if e.bead in merged or (bead or {}).get("type") in BOOKKEEPING_TYPES or bead is None:
                continue
            model, runtime = None, None
        for key in _keys(group_by, e.worker, model, runtime, e.rig, bead):
            g = group(key)
            if e.kind in ("merge", "close"):
                g["completed"] += 1
                start = first_hook.get(pair)
                if start is not None:
                    g["_times"].append(e.time - start)
                g["_revisions"].append(submits.get(e.bead, 0) + max(0, hooks.get(e.bead, 0) - 1))
                if e.kind == "merge":
                    g["_first_pass"].append(e.detail["attempts"] == 1 and e.bead not in rejected_before
                                            and submits.get(e.bead, 0) <= 1)
            elif e.kind == "reject":
                g["rejected_merge_requests"] += 1
                g["conflicts"] += e.detail.get("result") == "conflict"
            elif e.kind == "escalate":
                g["escalated"] += 1
            elif e.kind == "defer":
                g["deferred"] += 1
            elif e.kind == "recover":
                g["abandoned"] += 1
            elif e.kind == "restart":
                g["witness_restarts"] += 1
        if e.kind == "reject":
            rejected_before.add(e.bead)
    for commit in code_commits(lgs):
        who = commit.agent or commit.author
        if (since is not None and commit.time < since) or (until is not None and commit.time > until):
            continue
        if actor is not None and not fnmatch.fnmatchcase(who, actor):
            continue
        if group_by in (None, "actor", "model", "agent", "rig") or commit.bead:
            for key in _keys(group_by, who, commit.model, None, commit.rig, beads.get(commit.bead or "")):
                if group_by == "agent":
                    break  # code commits do not name the runtime
                group(key)["lines_changed"] += commit.lines
    out = {}
    for key, g in sorted(groups.items()):
        finished = g["completed"] + g["escalated"] + g["deferred"] + g["abandoned"]
        times, revisions, first = g.pop("_times"), g.pop("_revisions"), g.pop("_first_pass")
        out[key] = {**g,
                    "success_rate": round(g["completed"] / finished, 3) if finished else None,
                    "completion_seconds_median": round(statistics.median(times), 1) if times else None,
                    "completion_seconds_p90": _pct(times, 0.9),
                    "revisions_median": statistics.median(revisions) if revisions else None,
                    "revisions_mean": round(statistics.mean(revisions), 2) if revisions else None,
                    "first_pass_rate": round(sum(first) / len(first), 3) if first else None}
    return {"group_by": group_by, "actor": actor, "groups": out}


# -- audit, CV, feed ------------------------------------------------------------------------------

def audit(lgs: list[Ledger], identity: str, since: float | None = None) -> list[dict[str, Any]]:
    """Every action by `identity` (a glob), oldest first: ledger writes and code commits, with commit ids."""
    rows = []
    for lg in lgs:
        for entry in log.entries(lg.tracker.ledger):
            if fnmatch.fnmatchcase(entry.author, identity) and (since is None or entry.time >= since):
                rows.append({"time": entry.time, "kind": "ledger", "where": lg.name, "commit": entry.commit,
                             "op": entry.get("Op"), "beads": entry.all("Bead-Id"), "subject": entry.subject,
                             "author": entry.author})
    for commit in code_commits(lgs, all_branches=True):
        if fnmatch.fnmatchcase(commit.author, identity) and (since is None or commit.time >= since):
            rows.append({"time": commit.time, "kind": "code", "where": commit.rig, "commit": commit.commit,
                         "op": "commit", "beads": [commit.bead] if commit.bead else [], "lines": commit.lines,
                         "subject": commit.subject, "author": commit.author})
    rows.sort(key=lambda r: r["time"])
    for row in rows:
        row["at"] = _iso(row["time"])
    return rows


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def cv(lgs: list[Ledger], identity: str) -> dict[str, Any]:
    """An agent's record: completed, failed, abandoned, first-pass rate, models, languages, recent work."""
    beads, all_events = all_beads(lgs), events(lgs)  # read once: reloading parsed history costs ~1 s at 100k commits
    figures = stats(lgs, None, identity, history=(beads, all_events))["groups"].get("all") or {}
    mine = [e for e in all_events if e.worker == identity]
    models = sorted({e.model for e in mine if e.kind == "hook" and e.model})
    languages: dict[str, int] = {}
    seen: set[tuple[int, str]] = set()  # a commit and its copy rebased by the refinery count once
    for commit in code_commits(lgs, all_branches=True):
        if commit.author == identity and (commit.time, commit.subject) not in seen:
            seen.add((commit.time, commit.subject))
            for path in commit.files:
                ext = os.path.splitext(path)[1].lstrip(".").lower() or "(none)"
                languages[ext] = languages.get(ext, 0) + 1
    recent = []
    for e in reversed(mine):
        if e.kind in ("hook", "merge", "reject", "escalate", "defer") and len(recent) < 8:
            recent.append({"at": _iso(e.time), "event": e.kind, "bead": e.bead,
                           "title": (beads.get(e.bead) or {}).get("title")})
    return {"identity": identity, "completed": figures.get("completed", 0),
            "failed": figures.get("rejected_merge_requests", 0),
            "abandoned": figures.get("deferred", 0) + figures.get("abandoned", 0),
            "escalated": figures.get("escalated", 0), "first_pass_rate": figures.get("first_pass_rate"),
            "success_rate": figures.get("success_rate"), "models": models,
            "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))), "recent": recent}


KINDS = {"close": "done", "merge": "done", "convoy-land": "done", "hook": "hooked", "hook-bead": "hooked",
         "create": "created",
         "convoy-create": "created", "reject": "rejected", "escalate": "escalated", "done": "submitted",
         "restart": "restart", "recover": "recover", "mail": "mail"}  # what kind of event: the CLI picks its mark


def feed_lines(lgs: list[Ledger], since: float | None = None, rig: str | None = None,
               actor: str | None = None, shown: set[str] | None = None) -> list[dict[str, Any]]:
    """The town's activity, oldest first, leaving out the commits in `shown` (what was printed before:
    commits a sync brings in may be older than the last one shown, so time alone cannot tell)."""
    rows = []
    for lg in lgs:
        if rig and lg.name != rig:
            continue
        for entry in log.entries(lg.tracker.ledger):
            if shown is not None and entry.commit in shown:
                continue
            if (since is not None and entry.time < since) or (actor and not fnmatch.fnmatchcase(entry.author, actor)):
                continue
            rows.append({"time": entry.time, "at": _iso(entry.time), "ledger": lg.name, "commit": entry.commit,
                         "op": entry.get("Op"), "kind": KINDS.get(entry.get("Op") or "", "other"),
                         "author": entry.author, "line": _describe(entry)})
    rows.sort(key=lambda r: r["time"])
    return rows


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


def commits(lgs: list[Ledger]) -> set[str]:
    """Every ledger commit of these ledgers (what `gt feed --follow` has already accounted for)."""
    return {entry.commit for lg in lgs for entry in log.entries(lg.tracker.ledger)}


def heads(lgs: list[Ledger]) -> dict[str, str | None]:
    return {lg.name: lg.tracker.ledger.head() for lg in lgs}


def cached(lgs: list[Ledger], kind: str, args: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, remembered for these exact ledger and code heads: a second run with nothing new
    reads one file. Disposable like every cache here."""
    parts = {"kind": kind, "args": args, "ledgers": heads(lgs)}
    for lg in lgs:
        if lg.code_branch:
            from gt.ledger.gitdir import read_ref

            parts[f"code:{lg.name}"] = read_ref(lg.tracker.repo.commondir, f"refs/heads/{lg.code_branch}")
            if kind in ("audit", "cv"):
                parts[f"refs:{lg.name}"] = _all_heads(lg)
    if not lgs:
        from gt.errors import GtError

        raise GtError("no ledger here: run `bd init` (or, in a town, `gt doctor`)", code="no_ledger")
    key = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    folder = os.path.join(lgs[0].tracker.repo.private, "log", "derived")
    path = os.path.join(folder, f"{key}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    value = compute()
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(tmp, path)
    return value


def _all_heads(lg: Ledger) -> str:
    """A digest of every branch head (audits read code commits on all branches)."""
    refs = git.run(f"--git-dir={lg.tracker.repo.commondir}", "for-each-ref", "--format=%(objectname)",
                      "refs/heads/", check=False).stdout
    return hashlib.sha1(refs.encode()).hexdigest()


def parse_when(value: str | None) -> float | None:
    if value is None:
        return None
    from gt.errors import UsageError

    found = parse_time(value)
    if found is None:
        raise UsageError(f"invalid date {value!r}: use YYYY-MM-DD or an ISO 8601 timestamp")
    return found

