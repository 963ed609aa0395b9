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
    shown = output.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # a file name may not be UTF-8
    try:
        count = export_file(view, output)
    except OSError as exc:
        from gt.errors import GtError

        raise GtError(f"cannot write {shown}: {exc.strerror}") from None
    out.emit({"exported": count, "file": shown}, f"Exported {count} beads to {shown}")
