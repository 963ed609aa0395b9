import click

from gt.cli.common import Out, command, read_text


@command("comment")
@click.argument("bead")
@click.argument("words", nargs=-1, metavar="TEXT...")
@click.option("-f", "--file", "path", metavar="FILE", help="Read the comment from FILE (- for stdin).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the comment from stdin.")
def comment(out: Out, bead: str, words: tuple[str, ...], path: str | None, from_stdin: bool) -> None:
    """Add a comment to BEAD (the words after it, joined by spaces).

    Example: bd comment gt-a3f8k "Reproduced on staging"
    """
    add_comment(out, bead, words, path, from_stdin)


def add_comment(out: Out, bead: str, words: tuple[str, ...], path: str | None, from_stdin: bool) -> None:
    """`bd comment` and `bd comments add`."""
    from gt.beads import operations
    from gt.errors import UsageError
    from gt.town.context import routed

    if from_stdin:
        if path is not None:
            raise UsageError("give the comment from a file or stdin, not both")
        path = "-"
    body = read_text(" ".join(words) if words else None, path, "comment")
    if body is None:
        raise UsageError("give the comment text, or --file")
    if from_stdin:
        body = body.rstrip("\n")  # as the original: a trailing newline is not part of the comment
    tracker = routed([bead])
    edit = operations.comment(tracker, out.signature(tracker.repo), bead, body)
    from gt.beads.contract import comment_json

    bead_id = next(iter(edit.beads))
    out.emit(comment_json(bead_id, edit.result), f"Commented on {bead_id}")
