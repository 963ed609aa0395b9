import click

from gt.cli.common import Out, command


@command("export")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
def export(out: Out, output: str | None) -> None:
    """Export every bead as JSON Lines in the original beads format.

    Example: bd export -o issues.jsonl
    """
    import sys

    from gt.beads.exchange import export, export_file
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    if output is None:
        export(view, sys.stdout)
        return
    count = export_file(view, output)
    out.emit({"exported": count, "file": output}, f"Exported {count} beads to {output}", )
