import click

from gt.cli.common import Out, command


@command("list")
@click.option("-s", "--status", help="Only these statuses (comma-separated).")
@click.option("-p", "--priority", help="Only this priority.")
@click.option("-t", "--type", "type_", help="Only this type.")
@click.option("--all-rigs", is_flag=True, help="Every ledger of the town, not only this directory's.")
@click.option("-a", "--assignee", help="Only beads assigned to this identity.")
@click.option("-l", "--label", "labels", multiple=True, help="Only beads with this label (repeatable: all of them).")
@click.option("--parent", metavar="ID", help="Only children of ID.")
@click.option("--all", "include_closed", is_flag=True, help="Include closed beads.")
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("--sort", default="priority", show_default=True, type=click.Choice(["priority", "created", "updated"]))
def list_(out: Out, all_rigs: bool, status: str | None, priority: str | None, type_: str | None, assignee: str | None,
            labels: tuple[str, ...], parent: str | None, include_closed: bool, limit: int, sort: str) -> None:
    """List beads (closed ones only with --all or -s closed).

    Example: bd list -s open,in_progress -l backend
    """
    from gt.model.bead import check_status, parse_priority
    from gt.beads.queries import Filter, across, full_across, list_beads
    from gt.town.context import all_views
    from gt.beads.tracker import Tracker

    statuses = tuple(check_status(s.strip()) for s in status.split(",")) if status else None
    flt = Filter(statuses, parse_priority(priority) if priority is not None else None, type_, assignee, labels, parent)
    views = all_views() if all_rigs else [Tracker.open().view()]
    pairs = across(views, lambda view: list_beads(view, flt, include_closed, limit or None, sort), limit or None, sort)
    if out.json:
        out.emit(full_across(pairs))
        return
    from gt.cli import format

    out.emit(None, format.lines(pairs) or "No beads")
