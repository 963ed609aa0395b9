import click

from gt.cli.common import Out, command


@command("undefer")
@click.argument("ids", nargs=-1, required=True)
def undefer(out: Out, ids: tuple[str, ...]) -> None:
    """Bring deferred beads back: status `open`, defer date cleared, in one commit.

    A bead that is not deferred (neither status `deferred` nor open with a defer date) is named on
    stderr and left as it is.

    Example: bd undefer gt-a3f8k
    """
    from gt.beads import operations
    from gt.beads.contract import issue_json
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    tracker = routed(list(ids))
    view = tracker.view()
    beads = Tracker.summaries(view)
    chosen = []
    for query in ids:
        bead_id = Tracker.resolve(view, query)
        doc = Tracker.get(view, bead_id) if bead_id not in beads else beads[bead_id]
        status = doc.get("status")
        if status == "deferred" or (status == "open" and doc.get("defer_until")):
            chosen.append(bead_id)
        else:
            click.echo(f"{bead_id} is not deferred (status: {status})", err=True)
    docs = []
    if chosen:
        edit = operations.update(tracker, out.signature(tracker.repo), chosen,
                                 fields={"status": "open", "defer_until": None}, op="undefer")
        docs = [issue_json(d) for d in edit.result]
    out.emit(docs, "\n".join(f"Undeferred {d['id']} (now open)" for d in docs) or None)
