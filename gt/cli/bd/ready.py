import click

from gt.cli.common import Out, command
from gt.cli.filters import READY_FILTERS, filter_options


@command("ready")
@filter_options(READY_FILTERS)
@click.option("-n", "--limit", default=100, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("-s", "--sort", default="priority", show_default=True, type=click.Choice(["priority", "hybrid", "oldest"]),
              help="priority: then newest; hybrid: the last 48 hours' beads first by priority, then oldest; oldest.")
@click.option("--all-rigs", is_flag=True, help="Every ledger of the town, not only this directory's.")
@click.option("--pretty", "--plain", "layout", is_flag=True, hidden=True, help="Accepted for the original's layouts.")
def ready(out: Out, all_rigs: bool, limit: int, sort: str, layout: bool, **params: object) -> None:
    """Beads ready to work on: open, unblocked, not deferred; by priority, then newest.

    Example: bd ready -n 5 --unassigned
    """
    from gt.beads.queries import across, ready, rows_across
    from gt.beads.tracker import Tracker
    from gt.cli.filters import build
    from gt.town.context import all_views, with_other_ledgers

    flt = build(params, READY_FILTERS)
    views = all_views() if all_rigs else [Tracker.open().view()]
    pairs = across(views, lambda view: ready(view, flt, limit or None, with_other_ledgers, sort), limit or None,
                   sort)
    if out.json:
        out.emit(rows_across(pairs))
        return
    from gt.cli import format

    out.emit(None, format.lines(pairs) or "Nothing ready")
