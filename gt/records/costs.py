"""`gt costs`: what the agent sessions used (tokens, cost) per model, rig, runtime, role or identity.

Computed from the `Op: usage` commits (one per session, gt/dispatch/usage.py) on the town's ledgers.
A cost no runtime reported is unknown, never 0: a group's `cost_usd` is None when any of its
sessions reported none; `cost_usd_known` sums the costs that were reported (None when none was)
and `sessions_without_cost` counts the sessions it leaves out.
"""
from __future__ import annotations

import fnmatch
from typing import Any

from gt.records.sources import Event, Source, events, iso
from gt.records.stats import NONE, TOKENS, add_usage, settle_cost
from gt.town.identity import parse

BY = ("model", "rig", "agent", "role", "actor")


def _key(by: str, e: Event) -> str:
    if by == "model":
        return e.model or NONE["model"]
    if by == "rig":
        return e.rig
    if by == "agent":
        return e.runtime or NONE["agent"]
    if by == "role":
        return parse(e.worker).role
    return e.worker


def costs(sources: list[Source], by: str = "model", since: float | None = None, until: float | None = None,
          actor: str | None = None) -> dict[str, Any]:
    """Per group (and in total) the sessions from `since` to `until` (epoch seconds) by identities
    matching the glob `actor`: sessions, beads, tokens in/out, cache read/write, cost_usd (None when
    any session's cost is unknown), cost_usd_known and sessions_without_cost."""
    if by not in BY:
        from gt.errors import UsageError

        raise UsageError(f"invalid grouping {by!r}: give one of {', '.join(BY)}")
    groups: dict[str, dict[str, Any]] = {}
    total = _new()
    for e in events(sources):
        if e.kind != "usage" or (since is not None and e.time < since) or (until is not None and e.time > until) \
                or (actor is not None and not fnmatch.fnmatchcase(e.worker, actor)):
            continue
        for g in (groups.setdefault(_key(by, e), _new()), total):
            add_usage(g, e)
    return {"by": by, "since": None if since is None else iso(since), "until": None if until is None else iso(until),
            "actor": actor, "groups": {key: _done(g) for key, g in sorted(groups.items())}, "total": _done(total)}


def _new() -> dict[str, Any]:
    return {"sessions": 0, **{name: 0 for name in TOKENS}, "cost_usd": None, "cost_usd_known": None,
            "sessions_without_cost": 0, "_usage_beads": set(), "_tokens_known": False}


def _done(g: dict[str, Any]) -> dict[str, Any]:
    settle_cost(g)
    return {"sessions": g["sessions"], "beads": len(g["_usage_beads"]), **{name: g[name] for name in TOKENS},
            "cost_usd": g["cost_usd"], "cost_usd_known": g["cost_usd_known"],
            "sessions_without_cost": g["sessions_without_cost"]}
