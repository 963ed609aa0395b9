import click

from gt.cli.common import Out, command as subcommand


@click.group("label")
def label() -> None:
    """Labels on beads.

    Example: bd label add gt-a3f8k backend urgent
    """


def _run(out: Out, bead: str, labels: tuple[str, ...], adding: bool) -> None:
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed([bead])
    actor = out.signature(tracker.repo)
    edit = operations.labels(tracker, actor, bead, add=labels if adding else (), remove=() if adding else labels)
    from gt.beads.queries import shown

    doc = shown(edit.result[0])
    out.emit(doc, f"{doc['id']}: {', '.join(doc.get('labels') or []) or '(no labels)'}")


@subcommand("add")
@click.argument("bead")
@click.argument("labels", nargs=-1, required=True)
def add(out: Out, bead: str, labels: tuple[str, ...]) -> None:
    """Add LABELS to BEAD.

    Example: bd label add gt-a3f8k backend urgent
    """
    _run(out, bead, labels, True)


@subcommand("remove")
@click.argument("bead")
@click.argument("labels", nargs=-1, required=True)
def remove(out: Out, bead: str, labels: tuple[str, ...]) -> None:
    """Remove LABELS from BEAD.

    Example: bd label remove gt-a3f8k urgent
    """
    _run(out, bead, labels, False)


label.add_command(add)
label.add_command(remove)
