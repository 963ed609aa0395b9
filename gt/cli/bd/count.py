import click

from gt.cli.common import Out, command
from gt.cli.filters import COUNT_FILTERS, filter_options

GROUPS = {"by_status": "status", "by_priority": "priority", "by_type": "type", "by_assignee": "assignee",
          "by_label": "labels"}
NONE = {"assignee": "(unassigned)", "labels": "(no labels)"}  # the original's names of the empty groups


@command("count")
@filter_options(COUNT_FILTERS)
@click.option("--all", "include_closed", is_flag=True, hidden=True, help="Accepted: closed beads are counted anyway.")
@click.option("--by-status", is_flag=True, help="Counts per status.")
@click.option("--by-priority", is_flag=True, help="Counts per priority.")
@click.option("--by-type", is_flag=True, help="Counts per type.")
@click.option("--by-assignee", is_flag=True, help="Counts per assignee.")
@click.option("--by-label", is_flag=True, help="Counts per label.")
def count(out: Out, include_closed: bool, by_status: bool, by_priority: bool, by_type: bool, by_assignee: bool,
          by_label: bool, **params: object) -> None:
    """How many beads, closed ones included (as the original); with --by-*, per group.

    Example: bd count -s open --by-type
    """
    from collections import Counter

    from gt.beads.queries import count_beads, list_beads
    from gt.beads.tracker import Tracker
    from gt.cli.filters import build

    flt = build(params, COUNT_FILTERS)
    view = Tracker.open().view()
    asked = {"by_status": by_status, "by_priority": by_priority, "by_type": by_type, "by_assignee": by_assignee,
             "by_label": by_label}
    chosen = [GROUPS[k] for k, v in asked.items() if v]
    if len(chosen) > 1:
        from gt.errors import UsageError

        raise UsageError("count by one thing at a time: give only one --by-* option")
    group = chosen[0] if chosen else None
    if group is None:
        total = count_beads(view, flt)
        out.emit({"count": total}, str(total))
        return
    ids = list_beads(view, flt, True, None)
    beads = Tracker.summaries(view)
    counts: Counter[str] = Counter()
    for i in ids:
        value = beads[i].get(group)
        if group == "priority":
            value = f"P{value}"
        for key in (value or [NONE[group]]) if group == "labels" else [value or NONE.get(group, "(none)")]:
            counts[str(key)] += 1
    groups = [{"group": key, "count": n} for key, n in sorted(counts.items())]  # by name, as the original
    out.emit({"total": len(ids), "groups": groups},
             "\n".join([f"Total: {len(ids)}"] + [f"  {g['group']}: {g['count']}" for g in groups]))
