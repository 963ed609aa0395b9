import click

from gt.cli.common import Out, command


@command("ready")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("-a", "--assignee", help="Only beads assigned to this identity.")
@click.option("-l", "--label", "labels", multiple=True, help="Only beads with this label (repeatable).")
@click.option("-t", "--type", "type_", help="Only this type.")
@click.option("--all-rigs", is_flag=True, help="Every ledger of the town, not only this directory's.")
def ready(out: Out, all_rigs: bool, limit: int, assignee: str | None, labels: tuple[str, ...], type_: str | None) -> None:
    """Beads ready to work on: open, unblocked, not deferred; by priority, then age.

    Example: bd ready -n 5
    """
    from gt.beads.queries import Filter, across, full_across, ready
    from gt.beads.tracker import Tracker
    from gt.town.context import all_views, with_other_ledgers

    flt = Filter(None, None, type_, assignee, labels)
    views = all_views() if all_rigs else [Tracker.open().view()]
    pairs = across(views, lambda view: ready(view, flt, limit or None, with_other_ledgers), limit or None)
    if out.json:
        out.emit(full_across(pairs))
        return
    from gt.cli import format

    out.emit(None, format.lines(pairs) or "Nothing ready")
