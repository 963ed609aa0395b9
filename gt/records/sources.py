"""Where track records come from: the town's ledgers and its rigs' code history, read from git.

Every figure comes from the ledgers' commits (their trailers say what happened: Op, Agent, Source,
Model, Runtime, Merge-Request, Result, Attempts…) and the rigs' code commits (their `Agent:`/`Model:`
/`Bead:` trailers and line counts), never from counters kept beside them. Results are cached by
the heads they were computed from (see `cached`), so a second run with nothing new is cheap.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gt.beads.tracker import Tracker
from gt.dispatch.usage import from_trailers, whole
from gt.ledger import git, log
from gt.model.bead import parse_time
from gt.town import layout
from gt.town.context import Town


@dataclass
class Source:
    """One ledger of the town (or the current repository's) with its name."""

    name: str  # "town", a rig's name, or the repository's folder
    tracker: Tracker
    code_branch: str | None = None  # the rig's default branch, whose commits are its code history


def sources(start: str | None = None) -> list[Source]:
    """The town's ledgers (town first, then rigs), or the current repository's outside a town."""
    town = Town.find(start)
    if town is None:
        tracker = Tracker.open(start)
        return [Source(Path(tracker.repo.worktree or tracker.repo.commondir).name, tracker)]
    out = [Source("town", town.tracker())]
    for name, record in sorted(town.registry().items()):
        if (layout.rig_dir(town.root, name) / layout.RIG_REPO).is_dir():
            out.append(Source(name, town.rig_tracker(name), record.get("default_branch", "main")))
    return [source for source in out if source.tracker.ledger.exists()]


# -- events: what happened to each bead, from the ledger commits ---------------------------------

@dataclass
class Event:
    kind: str  # hook, submit, merge, reject, escalate, defer, restart, recover, close, usage
    time: int
    bead: str
    worker: str
    model: str | None
    runtime: str | None
    rig: str
    commit: str
    detail: dict[str, Any] = field(default_factory=dict)


OPS = {"hook": "hook", "done": "submit", "merge": "merge", "reject": "reject", "escalate": "escalate",
       "defer": "defer", "restart": "restart", "recover": "recover", "close": "close", "usage": "usage"}


def events(sources: list[Source]) -> list[Event]:
    out = []
    for source in sources:
        for entry in log.entries(source.tracker.ledger):
            kind = OPS.get(entry.get("Op") or "")
            if kind is None:
                continue
            model, runtime = entry.get("Model"), entry.get("Runtime")
            if kind == "close":
                for bead in entry.all("Bead-Id"):
                    out.append(Event(kind, entry.time, bead, entry.author, None, None, source.name, entry.commit))
                continue
            bead = entry.get("Source") or (entry.all("Bead-Id") or [""])[-1]
            worker = entry.get("Worker") or entry.get("Agent") or entry.author
            detail: dict[str, Any] = {}
            if kind == "merge":
                attempts = entry.get("Attempts")  # None: unknown (a bad value)
                detail = {"merged": entry.get("Merged-Commit"), "base": entry.get("Base"),
                          "attempts": 1 if attempts is None else whole(attempts, low=1),
                          "mr": entry.get("Merge-Request")}
            elif kind == "reject":
                detail = {"result": entry.get("Result"), "mr": entry.get("Merge-Request")}
            elif kind == "usage":  # one agent session's figures (gt/dispatch/usage.py); None: not reported
                bead = entry.get("Source") or ""
                figures = from_trailers(entry.get)
                detail = {name: value for name, value in figures.as_dict().items() if name != "model"}
                detail["reported_model"] = entry.get("Reported-Model")
                detail["exit_code"] = whole(entry.get("Exit-Code"), low=-(2 ** 31), high=2 ** 31 - 1)
            elif kind == "submit" and not any(b != bead for b in entry.all("Bead-Id")):
                continue  # a re-run of `gt done` that added no merge request
            out.append(Event(kind, entry.time, bead, worker, model, runtime, source.name, entry.commit, detail))
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


def code_commits(sources: list[Source], all_branches: bool = False) -> list[CodeCommit]:
    out = []
    for source in sources:
        if source.code_branch is None:
            continue
        repo = source.tracker.repo.commondir
        span = [f"--exclude={source.tracker.ledger.branch}", "--branches"] if all_branches else [source.code_branch]
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
                                  bead.strip() or None, source.name, lines, files, subject))
    out.sort(key=lambda c: c.time)
    return out


def all_beads(sources: list[Source]) -> dict[str, dict[str, Any]]:
    """The summaries of every bead in these ledgers (prefixes keep their ids apart)."""
    beads: dict[str, dict[str, Any]] = {}
    for source in sources:
        beads.update(Tracker.summaries(source.tracker.view()))
    return beads


def iso(epoch: float) -> str:
    from gt.model.bead import iso_utc

    return iso_utc(epoch)


def commits(sources: list[Source]) -> set[str]:
    """Every ledger commit of these ledgers (what `gt feed --follow` has already accounted for)."""
    return {entry.commit for source in sources for entry in log.entries(source.tracker.ledger)}


def heads(sources: list[Source]) -> dict[str, str | None]:
    return {source.name: source.tracker.ledger.head() for source in sources}


CACHE_FORMAT = 3  # what the cached computations return: a change of it makes older results unread


def cached(sources: list[Source], kind: str, args: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, remembered for these exact ledger and code heads: a second run with nothing new
    reads one file. Disposable like every cache here."""
    parts = {"kind": kind, "args": args, "ledgers": heads(sources), "format": CACHE_FORMAT}
    for source in sources:
        if source.code_branch:
            from gt.ledger.gitdir import read_ref

            parts[f"code:{source.name}"] = read_ref(source.tracker.repo.commondir, f"refs/heads/{source.code_branch}")
            if kind in ("audit", "cv"):
                parts[f"refs:{source.name}"] = _all_heads(source)
    if not sources:
        from gt.errors import GtError

        raise GtError("no ledger here: run `bd init` (or, in a town, `gt doctor`)", code="no_ledger")
    key = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    folder = os.path.join(sources[0].tracker.repo.private, "log", "derived")
    path = os.path.join(folder, f"{key}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    value = compute()
    from gt.ledger.index import write_atomic

    write_atomic(path, json.dumps(value).encode("utf-8"))
    return value


def _all_heads(source: Source) -> str:
    """A digest of every branch head (audits read code commits on all branches)."""
    refs = git.run(f"--git-dir={source.tracker.repo.commondir}", "for-each-ref", "--format=%(objectname)",
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


def molecules(sources: list[Source]) -> list[Any]:
    """Every molecule of these ledgers (gt.beads.molecules.Molecule: its root and steps), newest first."""
    from gt.beads.molecules import molecules as of_ledger

    found = []
    for source in sources:
        view = source.tracker.view()
        if view.commit is not None:
            found += of_ledger(view)
    return found
