"""What the dashboard shows, read from the town's ledgers and sessions (never stored anywhere else).

Every function takes the town's root and returns plain data for the pages; `Board` remembers each
result for the exact ledger heads and session files it was read at, so a page shown twice with
nothing new is not read twice, and anything new is read at once.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from gt.errors import GtError

FEED_LINES = 40  # the main page's feed
MAX_MEMO = 256  # results kept for one state of the town
WINDOWS = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0, "all": None}  # track records' time windows
ROLE_ORDER = {"mayor": 0, "deacon": 1, "dog": 2, "witness": 3, "refinery": 4, "crew": 5, "polecat": 6}


class Board:
    """The town's state, read on demand and remembered per state of its ledgers and sessions."""

    def __init__(self, town: Path) -> None:
        self.town = town
        self._lock = threading.RLock()  # one reader at a time (a view may read another view)
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._key: tuple[Any, ...] | None = None
        self._sources: list[Any] | None = None

    def sources(self) -> list[Any]:
        """The town's ledgers (town first, then rigs), opened once; a new rig is seen on the next state."""
        from gt.records.sources import sources

        if self._sources is None:
            self._sources = sources(str(self.town))
        return self._sources

    def state(self) -> tuple[Any, ...]:
        """What a result depends on: every ledger's head, the rigs registered, the session files and
        whether their processes live, the sessions' ends and activity marks, and the minute (ages,
        time windows)."""
        from gt.records.sources import heads
        from gt.town import rundir

        with self._lock:
            rigs = _stat(self.town / "rigs.yaml"), _stat(self.town / "settings")
            if self._key is not None and self._key[1] != rigs:
                self._sources = None
            ledgers = tuple(sorted(heads(self.sources()).items(), key=lambda kv: kv[0]))
            runtime = self.town / rundir.RUNTIME
            sessions = tuple(_folder_stamp(runtime / kind) for kind in ("agents", "exits", "activity"))
            alive = tuple(rundir.alive(s.get("pid")) for s in rundir.sessions(self.town)) if sessions[0] else ()
            return ledgers, rigs, sessions, alive, int(time.time() // 60)

    def get(self, name: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """`compute()` for the current state: remembered until a ledger or session changes."""
        key = self.state()
        with self._lock:
            if key != self._key:
                self._memo.clear()
                self._key = key
            found = self._memo.get((name, args))
            if found is None:
                found = compute()
                if len(self._memo) >= MAX_MEMO:  # many different filters asked: keep memory bounded
                    self._memo.clear()
                self._memo[(name, args)] = found
            return found

    # -- the views ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        from gt.roles import services

        return dict(self.get("status", (), lambda: services.status(self.town)))

    def convoys(self, landed: bool = False) -> list[dict[str, Any]]:
        from gt.dispatch import convoys

        def compute() -> list[dict[str, Any]]:
            rows = convoys.status(self.town, include_closed=landed)
            now = time.time()
            for row in rows:
                row["age"] = _age(now - (_epoch(row.get("created_at")) or now))
                row["rigs"] = _by_rig(row["beads"])
            return rows

        return list(self.get("convoys", (landed,), compute))

    def agents(self) -> list[dict[str, Any]]:
        return list(self.get("agents", (), self._agents))

    def _agents(self) -> list[dict[str, Any]]:
        from gt.dispatch.agents import records
        from gt.roles import polecat_admin
        from gt.town import rundir, rigs
        from gt.town.context import Town
        from gt.town.identity import parse

        ctx = Town.at(self.town)
        present = sorted(rigs.here(self.town))
        found: dict[str, dict[str, Any]] = {}
        for tracker in [ctx.tracker()] + [ctx.rig_tracker(name) for name in present]:
            for rec in records(tracker.view()).values():
                found[rec["identity"]] = {"identity": rec["identity"], "state": rec.get("state") or "idle",
                                          "hook": rec.get("hook"), "model": rec.get("model"),
                                          "updated_at": rec.get("updated_at")}
        for name in present:
            for role in ("witness", "refinery"):
                found.setdefault(f"{name}/{role}", {"identity": f"{name}/{role}", "state": None, "hook": None})
        for who in ("mayor", "deacon"):
            found.setdefault(who, {"identity": who, "state": None, "hook": None})
        sessions = {s["identity"]: s for s in rundir.sessions(self.town)}
        for who in sessions:
            found.setdefault(who, {"identity": who, "state": None, "hook": None})
        rows = []
        for who, row in found.items():
            ident = parse(who)
            session = sessions.get(who) or {}
            alive = rundir.alive(session.get("pid"))
            row.update(role=ident.role, rig=ident.rig, alive=alive, has_session=bool(session),
                       agent=session.get("agent"), model=row.get("model") or session.get("model"),
                       ended=None if alive or not session else rundir.exit_summary(session))
            if row["state"] is None:
                row["state"] = "running" if alive else ("exited" if session else "idle")
            rec = {"hook": row.get("hook"), "updated_at": row.pop("updated_at", None)}  # as gt polecat list reads it
            row["attempts"] = polecat_admin.attempts_on_hook(self.town, rec) if row.get("hook") else 0
            row["last_activity"] = polecat_admin.last_activity(self.town, who, rec, session)
            rows.append(row)
        rows.sort(key=lambda r: (r.get("rig") or "", ROLE_ORDER.get(r["role"], 9), r["identity"]))
        return rows

    def queues(self) -> list[dict[str, Any]]:
        """Each rig's open merge requests in the refinery's order, and its last attempts."""
        from gt.roles import refinery
        from gt.town import rigs

        def compute() -> list[dict[str, Any]]:
            out = []
            for rig in sorted(rigs.here(self.town)):
                rows = [_request(doc) for doc in refinery.queue(self.town, rig)]
                out.append({"rig": rig, "pending": rows, "recent": self._recent_attempts(rig)})
            return out

        return list(self.get("queues", (), compute))

    def _recent_attempts(self, rig: str, limit: int = 10) -> list[dict[str, Any]]:
        from gt.beads.queries import full
        from gt.beads.tracker import Tracker
        from gt.model.merge_request import MERGE_REQUEST
        from gt.town.context import Town

        view = Town.at(self.town).rig_tracker(rig).view()
        attempts = []
        for doc in full(view, list(Tracker.select(view, types=(MERGE_REQUEST,)))):
            request = _request(doc)
            for attempt in request["attempts"]:
                attempts.append({**attempt, "request": request["id"], "branch": request["branch"],
                                 "worker": request["worker"]})
        attempts.sort(key=lambda a: str(a.get("at") or ""), reverse=True)  # ledger data: any type
        return attempts[:limit]

    def escalations(self, include_all: bool = False) -> list[dict[str, Any]]:
        from gt.dispatch import escalations

        order = {"critical": 0, "high": 1, "medium": 2, "low": 3}  # the open ones by severity; then the rest as listed
        found = list(self.get("escalations", (include_all,), lambda: escalations.list_(self.town, include_all)))
        return sorted(found, key=lambda e: (e.get("status") == "closed", order.get(str(e.get("severity")), 9)))

    def feed(self, rig: str | None = None, actor: str | None = None, limit: int = FEED_LINES) -> list[dict[str, Any]]:
        from gt.records.feed import feed_lines

        return list(self.get("feed", (rig, actor, limit),
                             lambda: feed_lines(self.sources(), None, rig, actor)[-limit:] if limit else
                             feed_lines(self.sources(), None, rig, actor)))

    def records(self, group_by: str = "model", window: str = "all") -> dict[str, Any]:
        """Track records per model or per agent over the window: success, time to land, revisions, cost."""
        from gt.records import stats
        from gt.records.sources import cached

        if window not in WINDOWS:
            raise GtError(f"unknown window {window!r}: give one of {', '.join(WINDOWS)}", code="usage")
        if group_by not in ("model", "actor", "formula"):
            raise GtError(f"unknown grouping {group_by!r}: give model, actor or formula", code="usage")
        span = WINDOWS[window]
        since = None if span is None else time.time() - span

        def compute() -> dict[str, Any]:
            if group_by == "formula":  # molecules: per formula and model, each step's time (bd stats --group-by formula)
                from gt.records.sources import molecules

                return dict(cached(self.sources(), "formula-stats", [since, None],
                                   lambda: stats.molecule_stats(molecules(self.sources()), since, None)))
            if since is None:  # the whole history: the same result `bd stats` keeps on disk
                return dict(cached(self.sources(), "stats", [group_by, None, None, None],
                                   lambda: stats.stats(self.sources(), group_by)))
            return stats.stats(self.sources(), group_by, since=since)

        return dict(self.get("records", (group_by, window), compute))

    def ready(self) -> list[dict[str, Any]]:
        return list(self.get("ready", (), lambda: ready_work(self.town)))

    def bead(self, bead_id: str) -> dict[str, Any]:
        """One bead: its fields, what it depends on and what depends on it, and its ledger history."""
        return dict(self.get("bead", (bead_id,), lambda: _bead(self.town, bead_id)))

    def peek(self, identity: str, lines: int = 40) -> dict[str, Any]:
        from gt.roles import sessions

        return sessions.peek(self.town, identity, lines)

    def commits(self) -> set[str]:
        from gt.records.sources import commits

        with self._lock:
            return commits(self.sources())


def _bead(town: Path, query: str) -> dict[str, Any]:
    from gt.beads.history import history
    from gt.beads.tracker import BEADS, Tracker
    from gt.beads.contract import details_json
    from gt.beads.derived import dependents_of
    from gt.ledger.store import document_path
    from gt.model.merge import strip_stamps
    from gt.town.context import Town

    ctx = Town.at(town)
    tracker = ctx.tracker_for(query) or ctx.tracker()
    view = tracker.view()
    bead_id = Tracker.resolve(view, query)
    doc = strip_stamps(Tracker.get(view, bead_id))
    details = details_json(view, doc)
    dependents = [{"id": source, "type": kind} for source, kind in dependents_of(view, bead_id)]
    repo = tracker.repo.commondir
    path = document_path(BEADS, bead_id)
    return {"bead": details, "dependents": dependents, "history": history(tracker, bead_id),
            "git": f"git --git-dir={repo} log -p {tracker.ledger.branch} -- {path}"}


def _request(doc: dict[str, Any]) -> dict[str, Any]:
    """A merge request as the queue view shows it: who, which branch, and every attempt's gates."""
    from gt.model.merge_request import attempts, fields

    mr = fields(doc)
    rows = []
    for a in attempts(doc):
        found_gates = a.get("gates")
        gates = [{"name": g.get("gate"), "passed": g.get("passed") is True, "seconds": _seconds(g.get("seconds")),
                  "detail": g.get("detail")} for g in (found_gates if isinstance(found_gates, list) else [])
                 if isinstance(g, dict)]
        rows.append({"at": a.get("at"), "result": a.get("result") or "pending", "detail": a.get("detail"),
                     "gates": gates, "seconds": round(sum(g["seconds"] or 0.0 for g in gates), 3)})
    return {"id": doc.get("id"), "title": doc.get("title"), "status": doc.get("status"),
            "priority": doc.get("priority"), "branch": mr.get("branch"), "worker": mr.get("worker"),
            "source": mr.get("source"), "model": mr.get("model"), "submitted_at": mr.get("submitted_at"),
            "attempts": rows}


def _seconds(value: Any) -> float | None:
    """A duration from the ledger: a finite, non-negative number, else unknown."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _by_rig(beads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for bead in beads:
        groups.setdefault(bead.get("rig") or "town", []).append(bead)
    return [{"rig": rig, "beads": rows} for rig, rows in sorted(groups.items())]


def _epoch(value: Any) -> float | None:
    from gt.model.bead import parse_time

    return parse_time(value) if isinstance(value, str) else None


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _stat(path: Path) -> tuple[float, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _folder_stamp(folder: Path) -> tuple[Any, ...]:
    """The session files' names, times and sizes: a session starting or ending changes it."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries))
    except OSError:
        return ()


def ready_work(town: Path, limit: int = 20) -> list[dict[str, Any]]:
    """Per rig, the first beads `bd ready` offers (open, unblocked, not deferred, infrastructure hidden)."""
    from gt.beads.queries import Filter, full, list_ready
    from gt.town import rigs
    from gt.town.context import Town, with_other_ledgers

    ctx = Town.at(town)
    out = []
    for rig in sorted(rigs.here(town)):
        view = ctx.rig_tracker(rig).view()
        ids = list_ready(view, Filter(), limit=limit, others=with_other_ledgers)
        out.append({"rig": rig, "beads": [{"id": d["id"], "title": d.get("title"), "priority": d.get("priority"),
                                           "type": d.get("type")} for d in full(view, ids)]})
    return out
