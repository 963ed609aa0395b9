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
    from gt.beads.exchange import import_docs, read_records
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    tracker.require()
    try:
        if path == "-":
            docs = read_records(sys.stdin, "<stdin>")
        else:
            with open(path, encoding="utf-8") as f:
                docs = read_records(f, path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    edit = import_docs(tracker, out.signature(tracker.repo), docs, path)
    r = edit.result
    out.emit(r, f"Imported {path}: {r['created']} created, {r['updated']} updated, {r['unchanged']} unchanged")
