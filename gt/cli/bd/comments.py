import click

from gt.cli.common import Out, command


@command("comments")
@click.argument("bead")
def comments(out: Out, bead: str) -> None:
    """List BEAD's comments, oldest first.

    Example: bd comments gt-a3f8k
    """
    from gt.cli import format
    from gt.beads.queries import shown
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    view = routed([bead]).view()
    comments = shown(Tracker.get(view, Tracker.resolve(view, bead))).get("comments") or []
    out.emit(comments, "\n".join(format.comment(c) for c in comments) if comments else "No comments")
