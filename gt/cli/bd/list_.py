import click

from gt.cli.common import Out, command
from gt.beads.queries import SORTS
from gt.cli.filters import LIST_FILTERS, filter_options


@command("list")
@filter_options(LIST_FILTERS)
@click.option("--all-rigs", is_flag=True, help="Every ledger of the town, not only this directory's.")
@click.option("--all", "include_closed", is_flag=True, help="Include closed beads.")
@click.option("--ready", "ready_only", is_flag=True, help="Only the beads `bd ready` lists.")
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("--sort", default="", type=click.Choice(("",) + SORTS), metavar="FIELD",
              help="Sort by priority (default: then newest), created, updated or closed (newest first), status, id, title, type or assignee.")
@click.option("-r", "--reverse", is_flag=True, help="Reverse the order.")
@click.option("--long", is_flag=True, help="Several lines per bead (as `bd show`).")
@click.option("--flat", "--tree", "--pretty", "--no-pager", "layout", is_flag=True, hidden=True,
              help="Accepted for the original's layouts; the list is always flat.")
def list_(out: Out, all_rigs: bool, include_closed: bool, ready_only: bool, limit: int, sort: str, reverse: bool,
          long: bool, layout: bool, **params: object) -> None:
    """List beads (closed ones only with --all, -s closed or -s all).

    Example: bd list -s open,in_progress -l backend --sort updated
    """
    from gt.beads.queries import across, list_beads, list_ready, rows_across
    from gt.ledger.store import View
    from gt.beads.tracker import Tracker
    from gt.cli.filters import build
    from gt.town.context import all_views

    flt = build(params, LIST_FILTERS)
    views = all_views() if all_rigs else [Tracker.open().view()]
    def pick(view: View) -> list[str]:
        if ready_only:  # what `bd ready` would list: open, unblocked, not deferred
            from gt.town.context import with_other_ledgers

            return list_ready(view, flt, include_closed, limit or None, sort, reverse, with_other_ledgers)
        return list_beads(view, flt, include_closed, limit or None, sort, reverse)

    pairs = across(views, pick, limit or None, sort, reverse)
    if out.json:
        out.emit(rows_across(pairs))
        return
    from gt.cli import format

    if long:
        out.emit(None, "\n\n".join(format.detail(Tracker.get(v, i)) for v, i in pairs) or "No beads")
        return
    out.emit(None, format.lines(pairs) or "No beads")
