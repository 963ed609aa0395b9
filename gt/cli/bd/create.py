import click

from gt.cli.common import Out, command, read_text


def parse_deps(spec: str | None) -> list[tuple[str, str]]:
    """`blocks:gt-a,discovered-from:gt-b` or plain ids (meaning `blocks`)."""
    deps = []
    for item in (spec or "").split(","):
        item = item.strip()
        if item:
            dep_type, sep, target = item.rpartition(":")
            deps.append((dep_type if sep else "blocks", target))
    return deps


@command("create")
@click.argument("title")
@click.option("-t", "--type", "type_", default="task", show_default=True, help="Bead type.")
@click.option("-p", "--priority", default="2", show_default=True, help="0-4 or P0-P4 (0 is the highest).")
@click.option("-d", "--description", help="Description text.")
@click.option("--description-file", metavar="FILE", help="Read the description from FILE (- for stdin).")
@click.option("--design", help="Design notes.")
@click.option("--acceptance", help="Acceptance criteria.")
@click.option("-l", "--label", "labels", multiple=True, help="Label (repeatable).")
@click.option("-a", "--assignee", help="Assignee.")
@click.option("--parent", metavar="ID", help="Make this a child of ID (id becomes ID.<suffix>).")
@click.option("--deps", metavar="TYPE:ID,...", help="Dependencies, e.g. blocks:gt-a1,discovered-from:gt-b2.")
@click.option("--id", "bead_id", metavar="ID", help="Use this exact id.")
@click.option("--external-ref", help="Reference in another system.")
@click.option("--estimate", type=click.IntRange(min=0), help="Estimated minutes.")
@click.option("--prefix", "route_prefix", metavar="P", help="In a town: create in the ledger whose prefix is P.")
@click.option("--rig", metavar="NAME", help="In a town: create in that rig's ledger.")
def create(out: Out, title: str, type_: str, priority: str, description: str | None, description_file: str | None,
            design: str | None, acceptance: str | None, labels: tuple[str, ...], assignee: str | None,
            parent: str | None, deps: str | None, bead_id: str | None, external_ref: str | None,
            estimate: int | None, route_prefix: str | None, rig: str | None) -> None:
    """Create a bead and print its id.

    Example: bd create "Fix login" -t bug -p 1 -l auth
    """
    from gt.model.bead import parse_priority
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed(prefix=route_prefix, rig=rig)
    edit = operations.create(
        tracker, out.signature(tracker.repo), title, type=type_, priority=parse_priority(priority),
        description=read_text(description, description_file, "description") or "",
        design=read_text(design, None, "design") or "", acceptance=read_text(acceptance, None, "acceptance") or "",
        labels=labels, assignee=assignee, parent=parent, deps=parse_deps(deps), bead_id=bead_id,
        external_ref=external_ref, estimate=estimate,
    )
    from gt.beads.queries import shown

    out.emit(shown(edit.result), edit.result["id"])
