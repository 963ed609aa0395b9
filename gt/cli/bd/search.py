import click

from gt.cli.common import Out, command


@command("search")
@click.argument("text")
@click.option("--open", "open_only", is_flag=True, help="Leave out closed beads.")
def search(out: Out, text: str, open_only: bool) -> None:
    """Beads whose id, title, texts or comments contain TEXT (case-insensitive).

    Example: bd search "login timeout"
    """
    from gt.beads.queries import full, search
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    ids = search(view, text, include_closed=not open_only)
    if out.json:
        out.emit(full(view, ids))
        return
    from gt.cli import format

    beads = Tracker.summaries(view)
    out.emit(None, "\n".join(format.line(beads[i]) for i in ids) if ids else "No matches")
