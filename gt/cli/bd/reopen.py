import click

from gt.cli.common import Out, command


@command("reopen")
@click.argument("ids", nargs=-1, required=True)
@click.option("-r", "--reason", help="Why it is reopened.")
def reopen(out: Out, ids: tuple[str, ...], reason: str | None) -> None:
    """Reopen closed beads.

    Example: bd reopen gt-a3f8k -r "still failing on CI"
    """
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed(list(ids))
    edit = operations.reopen(tracker, out.signature(tracker.repo), list(ids), reason)
    from gt.beads.queries import shown

    docs = [shown(d) for d in edit.result]
    out.emit(docs[0] if len(ids) == 1 else docs, f"Reopened {', '.join(d['id'] for d in docs)}")
