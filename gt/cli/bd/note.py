import click

from gt.cli.common import Out, command, read_text


@command("note")
@click.argument("bead")
@click.argument("text", nargs=-1)
@click.option("-f", "--file", "path", metavar="FILE", help="Read the note from FILE (- for stdin).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the note from stdin.")
def note(out: Out, bead: str, text: tuple[str, ...], path: str | None, from_stdin: bool) -> None:
    """Append TEXT to BEAD's notes, on a line of its own (the words of TEXT joined by spaces).

    The same as `bd update BEAD --append-notes TEXT`.

    Example: bd note gt-a3f8k "Fails only with an empty cache"
    """
    from gt.errors import UsageError
    from gt.beads import operations
    from gt.beads.contract import issue_json
    from gt.town.context import routed

    if from_stdin:
        if path is not None:
            raise UsageError("give the note from a file or stdin, not both")
        path = "-"
    body = read_text(" ".join(text) if text else None, path, "note")
    if not body:
        raise UsageError("give the note text, or --file")
    tracker = routed([bead])
    edit = operations.update(tracker, out.signature(tracker.repo), [bead], fields={}, append_notes=body)
    doc = issue_json(edit.result[0])
    out.emit(doc, f"Note added to {doc['id']}")
