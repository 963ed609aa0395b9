import click

from gt.cli.common import Out, command


@command("show")
@click.argument("ids", nargs=-1, required=True)
def show(out: Out, ids: tuple[str, ...]) -> None:
    """Show beads in full (any unique prefix of an id works).

    Example: bd show gt-a3f8k
    """
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    tracker = routed(list(ids))
    view = tracker.view()
    docs = [Tracker.get(view, Tracker.resolve(view, q)) for q in ids]
    if out.json:
        from gt.beads.queries import shown

        docs = [shown(d) for d in docs]
        out.emit(docs[0] if len(docs) == 1 else docs)
        return
    from gt.cli import format
    from gt.model.graph import dependents

    beads = Tracker.summaries(view)
    out.emit(None, "\n\n".join(format.detail(d, beads, dependents(beads, d["id"])) for d in docs))
