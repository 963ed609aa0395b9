import click

from gt.cli.common import Out, command


@command("reopen")
@click.argument("ids", nargs=-1, required=True)
@click.option("-r", "--reason", help="Why it is reopened.")
def reopen(out: Out, ids: tuple[str, ...], reason: str | None) -> None:
    """Set beads back to open, whatever their status; one already open is named and left alone.

    Example: bd reopen gt-a3f8k -r "still failing on CI"
    """
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed(list(ids))
    edit = operations.reopen(tracker, out.signature(tracker.repo), list(ids), reason)
    from gt.beads.contract import issue_json

    docs = [issue_json(d) for d in edit.result]
    reopened = {d["id"] for d in docs}
    view = tracker.view()
    from gt.beads.tracker import Tracker

    for bead_id in dict.fromkeys(Tracker.resolve(view, q) for q in ids):
        if bead_id not in reopened:
            click.echo(f"{bead_id} is already open", err=True)  # as the original: a note, not an error
    out.emit(docs, f"Reopened {', '.join(sorted(reopened))}" if docs else None)
