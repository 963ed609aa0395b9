import click

from gt.cli.common import Out, command


@command("export")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
def command(out: Out, output: str | None) -> None:
    """Export every bead as JSON Lines in the original beads format.

    Example: bd export -o issues.jsonl
    """
    import sys

    from gt.beads.exchange import export
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    if output is None:
        export(view, sys.stdout)
        return
    from gt.ledger.index import write_atomic
    import io

    buffer = io.StringIO()
    count = export(view, buffer)
    write_atomic(output, buffer.getvalue().encode("utf-8"), make_dirs=False)
    out.emit({"exported": count, "file": output}, f"Exported {count} beads to {output}", )
