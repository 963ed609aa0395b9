import click

from gt.cli.common import Out, command


@command("close")
@click.argument("ids", nargs=-1, required=True)
@click.option("-r", "--reason", help="Why it is closed.")
@click.option("--force", is_flag=True, help="Close even with open children or open blockers.")
def close(out: Out, ids: tuple[str, ...], reason: str | None, force: bool) -> None:
    """Close beads (one commit for all of them).

    Example: bd close gt-a3f8k -r "fixed in 4c1e2"
    """
    from gt.dispatch.lifecycle import close_beads
    from gt.town.context import routed

    tracker = routed(list(ids))
    edit, landed = close_beads(tracker, out.signature(tracker.repo), list(ids), reason, force)
    from gt.beads.queries import shown

    docs = [shown(d) for d in edit.result]
    text = f"Closed {', '.join(edit.beads)}" if edit.commit else "Already closed"
    text += "".join(f"\nConvoy {c['id']} landed ({c['title']}): notified {', '.join(c['notified'])}" for c in landed)
    out.emit(docs[0] if len(ids) == 1 else docs, text)
