import click

from gt.cli.common import Out, command, read_text


@command("comment")
@click.argument("bead")
@click.argument("text", required=False)
@click.option("-f", "--file", "path", metavar="FILE", help="Read the comment from FILE (- for stdin).")
def comment(out: Out, bead: str, text: str | None, path: str | None) -> None:
    """Add a comment to BEAD.

    Example: bd comment gt-a3f8k "Reproduced on staging"
    """
    from gt.errors import UsageError
    from gt.beads import operations
    from gt.town.context import routed

    body = read_text(text, path, "comment")
    if body is None:
        raise UsageError("give the comment text, or --file")
    tracker = routed([bead])
    edit = operations.comment(tracker, out.signature(tracker.repo), bead, body)
    from gt.beads.queries import shown_comment

    bead_id = next(iter(edit.beads))
    out.emit(shown_comment(bead_id, edit.result), f"Commented on {bead_id}")
