"""`bd stats --group-by`: per model, agent, actor, rig, type or label, how work went (from history),
and what it used: tokens and cost from the agent sessions' `Op: usage` commits (gt/dispatch/usage.py)."""
from __future__ import annotations

import fnmatch
import statistics
from typing import Any

from gt.model.bead import BOOKKEEPING_TYPES
from gt.records.sources import Event, Source, all_beads, code_commits, events

GROUPS = ("actor", "model", "agent", "rig", "type", "label")
# What a group is called when the history does not say (work done by a person, or before usage was recorded).
NONE = {"model": "(no model recorded)", "agent": "(no runtime recorded)", "type": "(no type)", "label": "(no labels)"}
TOKENS = ("tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens")


def _keys(by: str | None, who: str, model: str | None, runtime: str | None, rig: str,
          bead: dict[str, Any] | None) -> list[str]:
    if by is None:
        return ["all"]
    if by == "actor":
        return [who]
    if by == "model":
        return [model or NONE["model"]]
    if by == "agent":
        return [runtime or NONE["agent"]]
    if by == "rig":
        return [rig]
    if by == "type":
        return [str((bead or {}).get("type") or NONE["type"])]
    return list((bead or {}).get("labels") or []) or [NONE["label"]]


def add_usage(g: dict[str, Any], e: Event) -> None:
    """Add one usage session to a group's sums: unknown figures add nothing. `cost_usd_known` sums
    the costs reported (None until one is) and `sessions_without_cost` counts the others; see
    `settle_cost` for the group's cost."""
    g["sessions"] += 1
    for name in TOKENS:
        value = e.detail.get(name)
        if value is not None:
            g[name] += value
            g["_tokens_known"] |= name in ("tokens_in", "tokens_out")
    cost = e.detail.get("cost_usd")
    if cost is None:
        g["sessions_without_cost"] += 1
    else:
        g["cost_usd_known"] = round((g["cost_usd_known"] or 0) + cost, 6)
    if e.bead:
        g["_usage_beads"].add(e.bead)


def settle_cost(g: dict[str, Any]) -> None:
    """The group's `cost_usd`: the sum of its sessions' costs when every one of them reported one;
    None (unknown) when any did not, or there were none. `cost_usd_known` is then a lower bound."""
    g["cost_usd"] = g["cost_usd_known"] if g["sessions"] and not g["sessions_without_cost"] else None


def cost_text(g: dict[str, Any]) -> str:
    """A group's cost for a table: `$0.2500`; `≥$0.2500` when some sessions reported no cost (what
    was reported, a lower bound); `?` when none did; `-` with no sessions."""
    if not g.get("sessions"):
        return "-"
    value = g.get("cost_usd")
    known = g.get("cost_usd_known") if value is None else value
    if known is None:
        return "?"
    money = f"${known:,.2f}" if known >= 1 else f"${known:.4f}"
    return money if value is not None else f"≥{money}"


COST_NOTE = "≥: a lower bound (some sessions reported no cost); ?: no session reported one"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return round(ordered[index], 1)


def stats(sources: list[Source], group_by: str | None = None, actor: str | None = None, since: float | None = None,
          until: float | None = None, history: tuple[dict[str, dict[str, Any]], list[Event]] | None = None
          ) -> dict[str, Any]:
    """Per group: completed, escalated, deferred, rejected, success rate, completion time,
    revisions, first-pass share, conflicts, witness restarts and lines changed; and from the usage
    sessions, tokens, cost (None when any session reported none: unknown, never counted as 0; the
    reported part is `cost_usd_known`), cost per bead and per landed bead (None likewise) and tokens
    (in + out) per landed bead. `history` is the (beads, events) pair when the caller
    has read it already."""
    beads, all_events = history or (all_beads(sources), events(sources))
    first_hook: dict[tuple[str, str], int] = {}
    model_of: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    hooks: dict[str, int] = {}
    submits: dict[str, int] = {}
    rejected_before: set[str] = set()
    groups: dict[str, dict[str, Any]] = {}

    def group(key: str) -> dict[str, Any]:
        return groups.setdefault(key, {"completed": 0, "escalated": 0, "deferred": 0, "abandoned": 0,
                                       "rejected_merge_requests": 0, "conflicts": 0, "witness_restarts": 0,
                                       "_times": [], "_revisions": [], "_first_pass": [], "lines_changed": 0,
                                       **{name: 0 for name in TOKENS}, "sessions": 0, "cost_usd": None,
                                       "cost_usd_known": None, "sessions_without_cost": 0, "_usage_beads": set(),
                                       "_tokens_known": False})

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
                if e.kind == "merge" and e.detail["attempts"] is not None:  # None: a bad Attempts trailer
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
            elif e.kind == "usage":
                add_usage(g, e)
        if e.kind == "reject":
            rejected_before.add(e.bead)
    for commit in code_commits(sources):
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
        settle_cost(g)
        used_by, tokens_known, cost, done = g.pop("_usage_beads"), g.pop("_tokens_known"), g["cost_usd"], g["completed"]
        out[key] = {**g,
                    "success_rate": round(g["completed"] / finished, 3) if finished else None,
                    "completion_seconds_median": round(statistics.median(times), 1) if times else None,
                    "completion_seconds_p90": _pct(times, 0.9),
                    "revisions_median": statistics.median(revisions) if revisions else None,
                    "revisions_mean": round(statistics.mean(revisions), 2) if revisions else None,
                    "first_pass_rate": round(sum(first) / len(first), 3) if first else None,
                    "cost_per_bead": round(cost / len(used_by), 6) if cost is not None and used_by else None,
                    "cost_per_landed_bead": round(cost / done, 6) if cost is not None and done else None,
                    "tokens_per_landed_bead": round((g["tokens_in"] + g["tokens_out"]) / done, 1)
                    if tokens_known and done else None}
    return {"group_by": group_by, "actor": actor, "groups": out}


NO_MODEL = NONE["model"]


def molecule_stats(molecules: list[Any], since: float | None = None, until: float | None = None) -> dict[str, Any]:
    """Per formula, then per model (as slung): molecules poured and completed, steps and steps closed,
    and per step of the formula the time it took, median and 90th percentile, over every run. A
    step's time runs from when it could start (the molecule poured or slung, or the last step it needs
    closed, whichever is latest) to its close."""
    from gt.model.bead import parse_time

    groups: dict[str, dict[str, Any]] = {}
    for mol in molecules:
        created = parse_time(mol.root.get("created_at")) or 0.0
        if (since is not None and created < since) or (until is not None and created > until):
            continue
        dispatch = mol.root.get("dispatch") if isinstance(mol.root.get("dispatch"), dict) else {}
        model = str(dispatch.get("model") or NO_MODEL)
        start = max(created, parse_time(dispatch.get("at")) or 0.0)
        formula = groups.setdefault(mol.formula or "(unnamed)", {"molecules": 0, "completed": 0, "steps": 0,
                                                                   "closed_steps": 0, "by_model": {}})
        per_model = formula["by_model"].setdefault(model, {"molecules": 0, "completed": 0, "_steps": {}})
        closed_at = {s.id: parse_time(s.closed_at) for s in mol.steps if s.status == "closed"}
        for target in (formula, per_model):
            target["molecules"] += 1
            target["completed"] += mol.complete
        formula["steps"] += len(mol.steps)
        formula["closed_steps"] += len(closed_at)
        for step in mol.steps:
            times = per_model["_steps"].setdefault(step.step, [])
            end = closed_at.get(step.id)
            if end is None:
                continue
            began = max([start, *[closed_at.get(n) or 0.0 for n in step.needs]])
            times.append(max(0.0, end - began))
    for formula in groups.values():
        for per_model in formula["by_model"].values():
            per_model["steps"] = {
                step: {"closed": len(times),
                       "seconds_median": round(statistics.median(times), 1) if times else None,
                       "seconds_p90": _pct(times, 0.9)}
                for step, times in per_model.pop("_steps").items()}
    return {"group_by": "formula", "groups": dict(sorted(groups.items()))}
