import click

from gt.cli.common import Out, command as subcommand


@click.group("label")
def label() -> None:
    """Labels on beads (as the original: `label add ID... LABEL`).

    Example: bd label add gt-a3f8k gt-b2c4d backend
    """


def _run(out: Out, args: tuple[str, ...], adding: bool) -> None:
    from gt.beads import operations
    from gt.errors import UsageError
    from gt.town.context import routed

    if len(args) < 2:
        raise UsageError("give one or more bead ids, then the label")
    *beads, name = args
    tracker = routed(beads)
    actor = out.signature(tracker.repo)
    edit = operations.labels(tracker, actor, beads, add=(name,) if adding else (), remove=() if adding else (name,))
    status = "added" if adding else "removed"
    rows = [{"issue_id": doc["id"], "label": name, "status": status} for doc in edit.result]
    verb = "Added label" if adding else "Removed label"
    out.emit(rows, "\n".join(f"{verb} {name!r} {'to' if adding else 'from'} {row['issue_id']}" for row in rows))


@subcommand("add")
@click.argument("args", nargs=-1, required=True, metavar="ID... LABEL")
def add(out: Out, args: tuple[str, ...]) -> None:
    """Add LABEL to each bead (one commit).

    Example: bd label add gt-a3f8k backend
    """
    _run(out, args, True)


@subcommand("remove")
@click.argument("args", nargs=-1, required=True, metavar="ID... LABEL")
def remove(out: Out, args: tuple[str, ...]) -> None:
    """Remove LABEL from each bead (one commit).

    Example: bd label remove gt-a3f8k urgent
    """
    _run(out, args, False)


@subcommand("list")
@click.argument("bead")
def list_(out: Out, bead: str) -> None:
    """BEAD's labels, sorted.

    Example: bd label list gt-a3f8k
    """
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    view = routed([bead]).view()
    labels = sorted(Tracker.get(view, Tracker.resolve(view, bead)).get("labels") or [])
    out.emit(labels, "\n".join(labels) or "(no labels)")


@subcommand("list-all")
def list_all(out: Out) -> None:
    """Every label in use (closed beads included), with how many beads carry it.

    Example: bd label list-all
    """
    from collections import Counter

    from gt.beads.tracker import Tracker

    counts = Counter(name for doc in Tracker.summaries(Tracker.open().view()).values() for name in doc.get("labels") or ())
    rows = [{"label": name, "count": n} for name, n in sorted(counts.items())]
    out.emit(rows, "\n".join(f"{r['label']} ({r['count']})" for r in rows) or "(no labels)")


label.add_command(add)
label.add_command(remove)
label.add_command(list_)
label.add_command(list_all)
