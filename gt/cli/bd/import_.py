import click

from gt.cli.common import Out, command


@command("import")
@click.argument("path", metavar="FILE")
def import_(out: Out, path: str) -> None:
    """Import beads from a beads JSON Lines file (- for stdin); one commit, updates by id.

    Example: bd import .beads/issues.jsonl
    """
    import sys

    from gt.errors import UsageError
    from gt.beads.exchange import import_docs, read_lines, read_records
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    tracker.require()
    # the name as text (a file name may not be UTF-8): it goes into the commit message
    source = "<stdin>" if path == "-" else path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        if path == "-":
            docs = read_records(read_lines(sys.stdin.buffer), source)
        else:
            with open(path, "rb") as f:
                docs = read_records(read_lines(f), source)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    edit = import_docs(tracker, out.signature(tracker.repo), docs, source)
    r = edit.result
    out.emit(r, f"Imported {source}: {r['created']} created, {r['updated']} updated, {r['unchanged']} unchanged")
