import click

from gt.cli.common import Out, command


@command("comments")
@click.argument("args", nargs=-1, required=True, metavar="BEAD | add BEAD TEXT...")
@click.option("-f", "--file", "path", metavar="FILE", help="With add: read the comment from FILE (- for stdin).")
def comments(out: Out, args: tuple[str, ...], path: str | None) -> None:
    """List BEAD's comments, oldest first; `bd comments add BEAD TEXT` adds one (as `bd comment`).

    Example: bd comments gt-a3f8k
    """
    from gt.errors import UsageError

    if args[0] == "add":
        if len(args) < 2:
            raise UsageError("bd comments add BEAD TEXT")
        from gt.cli.bd.comment import add_comment

        add_comment(out, args[1], args[2:], path, False)
        return
    if len(args) > 1 or path is not None:
        raise UsageError("bd comments BEAD lists the comments; to add one: bd comments add BEAD TEXT")
    from gt.cli import format
    from gt.beads.contract import comment_json
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    view = routed([args[0]]).view()
    doc = Tracker.get(view, Tracker.resolve(view, args[0]))
    found = [comment_json(doc["id"], c) for c in doc.get("comments") or []]
    out.emit(found, "\n".join(format.comment(c) for c in found) if found else "No comments")
