import click

from gt.cli.common import Out, command


@command("ready")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(min=0), help="At most this many (0: no limit).")
@click.option("-a", "--assignee", help="Only beads assigned to this identity.")
@click.option("-l", "--label", "labels", multiple=True, help="Only beads with this label (repeatable).")
@click.option("-t", "--type", "type_", help="Only this type.")
def command(out: Out, limit: int, assignee: str | None, labels: tuple[str, ...], type_: str | None) -> None:
    """Beads ready to work on: open, unblocked, not deferred; by priority, then age.

    Example: bd ready -n 5
    """
    from gt.work.queries import Filter, full, ready
    from gt.work.tracker import Tracker

    view = Tracker.open().view()
    ids = ready(view, Filter(None, None, type_, assignee, labels), limit or None)
    if out.json:
        out.emit(full(view, ids))
        return
    from gt.cli import format

    beads = Tracker.summaries(view)
    out.emit(None, "\n".join(format.line(beads[i]) for i in ids) if ids else "Nothing ready")
