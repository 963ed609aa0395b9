import click

from gt.cli.common import Out, command


@command("show")
@click.argument("ids", nargs=-1)
@click.option("--id", "more_ids", multiple=True, metavar="ID", help="An id to show (for an id that looks like an option).")
@click.option("--short", is_flag=True, help="One line per bead.")
@click.option("--long", is_flag=True, hidden=True, help="Accepted: every field is always shown.")
@click.option("--children", is_flag=True, help="Show the beads' children instead.")
def show(out: Out, ids: tuple[str, ...], more_ids: tuple[str, ...], short: bool, long: bool, children: bool) -> None:
    """Show beads in full (any unique prefix of an id works).

    Example: bd show gt-a3f8k
    """
    from gt.beads.tracker import Tracker
    from gt.errors import UsageError
    from gt.town.context import routed

    queries = [*ids, *more_ids]
    if not queries:
        raise UsageError("which bead? bd show ID...")
    tracker = routed(queries)
    view = tracker.view()
    wanted = [Tracker.resolve(view, q) for q in queries]
    if children:
        from gt.beads.operations import children as children_of

        wanted = [c for i in wanted for c in children_of(view, i)]
    docs = [Tracker.get(view, i) for i in wanted]
    if short:  # one line per bead, with --json too, as the original
        from gt.cli import format

        click.echo("\n".join(format.line(d) for d in docs))
        return
    if out.json:  # an array, even of one bead, as the original prints it
        from gt.beads.contract import details_json
        from gt.model.merge import strip_stamps

        out.emit([details_json(view, strip_stamps(d)) for d in docs])
        return
    from gt.beads.derived import dependents_of
    from gt.beads.tracker import Lookup
    from gt.cli import format
    from gt.model.bead import BLOCKING

    beads = Lookup(view)  # only the linked beads are read
    out.emit(None, "\n\n".join(format.detail(d, beads, [s for s, _ in dependents_of(view, d["id"], (BLOCKING,))])
                                for d in docs))
