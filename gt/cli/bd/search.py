import click

from gt.cli.common import Out, command
from gt.beads.queries import SORTS
from gt.cli.filters import COUNT_FILTERS, filter_options

SEARCH_FILTERS = tuple(f for f in COUNT_FILTERS if f not in ("title", "title-contains", "id"))


@command("search")
@click.argument("text", required=False)
@click.option("--query", metavar="TEXT", help="The text to look for (instead of the argument).")
@filter_options(SEARCH_FILTERS)
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("--sort", default="", type=click.Choice(("",) + SORTS), metavar="FIELD", help="As `bd list --sort`.")
@click.option("-r", "--reverse", is_flag=True, help="Reverse the order.")
@click.option("--long", is_flag=True, help="Several lines per bead (as `bd show`).")
@click.option("--open", "open_only", is_flag=True, hidden=True, help="Leave out closed beads (the default).")
def search(out: Out, text: str | None, query: str | None, limit: int, sort: str, reverse: bool, long: bool,
           open_only: bool, **params: object) -> None:
    """Beads whose id, title, texts or comments contain TEXT (case-insensitive); closed ones with -s all.

    Example: bd search "login timeout" --status all
    """
    from gt.beads.queries import list_beads, search
    from gt.beads.tracker import Tracker
    from gt.cli.filters import build
    from gt.errors import UsageError

    if text and query and text != query:
        raise UsageError("give the search text as an argument or with --query, not both")
    flt = build(params, SEARCH_FILTERS)
    flt.include_infra = True  # a search names what it looks for: mail and escalations are found too
    view = Tracker.open().view()
    hits = set(search(view, text or query or ""))
    ids = [i for i in list_beads(view, flt, False, None, sort, reverse) if i in hits]
    ids = ids[:limit] if limit else ids
    if out.json:
        from gt.beads.contract import rows_json

        out.emit(rows_json(view, ids))
        return
    from gt.cli import format

    if long:
        out.emit(None, "\n\n".join(format.detail(Tracker.get(view, i)) for i in ids) or "No matches")
        return
    beads = Tracker.summaries(view)
    out.emit(None, "\n".join(format.line(beads[i]) for i in ids) if ids else "No matches")
