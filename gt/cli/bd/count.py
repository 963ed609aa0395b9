import click

from gt.cli.common import Out, command


@command("count")
@click.option("-s", "--status", help="Only these statuses (comma-separated).")
@click.option("--all", "include_closed", is_flag=True, help="Include closed beads.")
def count(out: Out, status: str | None, include_closed: bool) -> None:
    """How many beads (open ones unless --all or -s).

    Example: bd count --all
    """
    from gt.model.bead import check_status
    from gt.beads.queries import Filter, list_beads
    from gt.beads.tracker import Tracker

    statuses = tuple(check_status(s.strip()) for s in status.split(",")) if status else None
    n = len(list_beads(Tracker.open().view(), Filter(statuses), include_closed, None))
    out.emit({"count": n}, str(n))
