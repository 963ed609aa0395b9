import click

from gt.cli.common import Out, command


@command("delete")
@click.argument("ids", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Delete even when other beads depend on it.")
@click.option("-r", "--reason", help="Why it is deleted.")
def delete(out: Out, ids: tuple[str, ...], force: bool, reason: str | None) -> None:
    """Delete beads, leaving tombstones so that sync cannot bring them back.

    Example: bd delete gt-a3f8k -r duplicate
    """
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed(list(ids))
    edit = operations.delete(tracker, out.signature(tracker.repo), list(ids), force, reason)
    docs = edit.result
    out.emit([d["id"] for d in docs], f"Deleted {', '.join(d['id'] for d in docs)}")
