from typing import Any

import click

from gt.cli.common import Out, command


@command("stats", acting=("--identity",))
@click.option("--actors", "actor_glob", metavar="PATTERN", help="Only work by identities matching this glob.")
@click.option("--group-by", type=click.Choice(["actor", "model", "agent", "rig", "type", "label", "formula"]),
              help="Track records per group, computed from history (across the town's ledgers); formula: "
                   "molecules and steps per formula and model, with the time each step took.")
@click.option("--since", metavar="DATE", help="Only what happened from DATE on.")
@click.option("--until", metavar="DATE", help="Only what happened up to DATE.")
def stats(out: Out, actor_glob: str | None, group_by: str | None, since: str | None, until: str | None) -> None:
    """Counts by status, type and priority; with --group-by or --actors, track records from history.

    Example: bd stats --actors 'gizmo/polecats/*' --group-by model
    Example: bd stats --group-by formula
    """
    import os

    if any(c in os.environ.get("BD_ACTOR", "") for c in "*?["):
        from gt.errors import UsageError

        raise UsageError("--actor names who acts, as in the original bd; for the track records of matching "
                         "identities use --actors PATTERN")
    if group_by == "formula":
        _formulas(out, actor_glob, since, until)
        return
    if group_by or actor_glob or since or until:
        _records(out, actor_glob, group_by, since, until)
        return
    from gt.beads.queries import stats
    from gt.beads.tracker import Tracker

    result = stats(Tracker.open().view())

    def text() -> str:
        lines = [f"Total: {result['total']}  Open: {result['open']}  Closed: {result['closed']}  "
                 f"Ready: {result['ready']}  Blocked: {result['blocked']}"]
        for key in ("by_status", "by_type", "by_priority"):
            lines.append(f"{key.replace('_', ' ').capitalize()}: " + ", ".join(f"{k} {v}" for k, v in result[key].items()))
        return "\n".join(lines)

    out.emit(result, text)


COLUMNS = (("completed", "done"), ("escalated", "esc"), ("deferred", "def"), ("rejected_merge_requests", "rej"),
           ("success_rate", "success"), ("completion_seconds_median", "t50 s"), ("completion_seconds_p90", "t90 s"),
           ("revisions_median", "rev50"), ("revisions_mean", "rev"), ("first_pass_rate", "1st-pass"),
           ("conflicts", "confl"), ("witness_restarts", "restarts"), ("lines_changed", "lines"),
           ("tokens_in", "tok in"), ("tokens_out", "tok out"), ("cost_usd", "cost"))
LEGEND = ("done: beads completed; esc/def: escalated, deferred; rej: merge requests rejected; success: done out of "
          "done+esc+def; t50/t90 s: time to land, median and 90th percentile; rev50/rev: revisions per bead, median "
          "and mean; 1st-pass: landed without a revision; confl: merge conflicts; restarts: by the witness; lines: "
          "lines changed; tok in/out, cost: recorded usage (? unknown, ≥ a lower bound)")


def _cell(name: str, value: Any, g: dict[str, Any]) -> str:
    if name == "cost_usd":  # an unknown cost is `?` or a lower bound `≥$…`, never counted as $0
        from gt.records.stats import cost_text

        return cost_text(g)
    if name.startswith("tokens_"):
        return "-" if not g.get("sessions") else _compact(value)
    if value is None:
        return "-"
    return f"{value:.0%}" if name.endswith("rate") else str(value)


def _compact(n: int) -> str:
    """12345 -> 12.3k, 4500000 -> 4.5M."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return str(n)


def _records(out: Out, actor_glob: str | None, group_by: str | None, since: str | None, until: str | None) -> None:
    from gt.records import sources, stats

    ledgers = sources.sources()
    after, before = sources.parse_when(since), sources.parse_when(until)
    args = [group_by, actor_glob, after, before]
    result = sources.cached(ledgers, "stats", args, lambda: stats.stats(ledgers, group_by, actor_glob, after, before))

    def text() -> str:
        width = max([len(k) for k in result["groups"]] + [5])
        lines = [f"{(group_by or 'group'):<{width}}  " + "  ".join(f"{h:>8}" for _, h in COLUMNS)]
        for key, g in result["groups"].items():
            cells = [f"{_cell(name, g.get(name), g):>8}" for name, _ in COLUMNS]
            lines.append(f"{key:<{width}}  " + "  ".join(cells))
        import textwrap

        lines += [""] + textwrap.wrap(LEGEND, 100)
        if any(g.get("sessions_without_cost") for g in result["groups"].values()):
            from gt.records.stats import COST_NOTE

            lines.append(COST_NOTE)
        return "\n".join(lines) if result["groups"] else "Nothing in history matches"

    out.emit(result, text)


def _formulas(out: Out, actor_glob: str | None, since: str | None, until: str | None) -> None:
    """`--group-by formula`: the molecules' records (gt.records.stats.molecule_stats)."""
    from gt.errors import UsageError
    from gt.records import sources, stats

    if actor_glob:
        raise UsageError("--group-by formula groups by formula and model: --actors does not apply")
    ledgers = sources.sources()
    after, before = sources.parse_when(since), sources.parse_when(until)
    result = sources.cached(ledgers, "formula-stats", [after, before],
                            lambda: stats.molecule_stats(sources.molecules(ledgers), after, before))

    def text() -> str:
        lines = []
        for name, g in result["groups"].items():
            lines.append(f"{name}: {g['completed']}/{g['molecules']} molecules complete, "
                         f"{g['closed_steps']}/{g['steps']} steps closed")
            for model, m in g["by_model"].items():
                lines.append(f"  {model}: {m['completed']}/{m['molecules']} complete")
                for step, s in m["steps"].items():
                    t50 = "-" if s["seconds_median"] is None else s["seconds_median"]
                    t90 = "-" if s["seconds_p90"] is None else s["seconds_p90"]
                    lines.append(f"    {step:20} closed {s['closed']:>4}  t50 {t50:>8} s  t90 {t90:>8} s")
        return "\n".join(lines) if lines else "No molecules"

    out.emit(result, text)
