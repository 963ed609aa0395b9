import click

from gt.cli.common import Out, command as subcommand


@click.group("dep")
def dep() -> None:
    """Dependencies between beads.

    Example: bd dep add gt-a3f8k gt-b2c4d   (gt-b2c4d blocks gt-a3f8k)
    """


@subcommand("add")
@click.argument("bead")
@click.argument("depends_on")
@click.option("-t", "--type", "dep_type", default="blocks", show_default=True, help="Dependency type.")
def add(out: Out, bead: str, depends_on: str, dep_type: str) -> None:
    """BEAD depends on DEPENDS_ON (by default: DEPENDS_ON blocks BEAD).

    Example: bd dep add gt-a3f8k gt-b2c4d
    """
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed([bead])
    other = routed([depends_on])  # in a town, the target may live in another rig's ledger
    target_view = other.view() if other.repo.commondir != tracker.repo.commondir else None
    edit = operations.dep_add(tracker, out.signature(tracker.repo), bead, depends_on, dep_type, target_view)
    doc = edit.result
    out.emit(doc, f"{doc['id']} now depends on {edit.subject.split('-> ')[-1]}" if edit.commit else "No change")


@subcommand("remove")
@click.argument("bead")
@click.argument("depends_on")
@click.option("-t", "--type", "dep_type", default=None, help="Only this dependency type.")
def remove(out: Out, bead: str, depends_on: str, dep_type: str | None) -> None:
    """Remove BEAD's dependency on DEPENDS_ON.

    Example: bd dep remove gt-a3f8k gt-b2c4d
    """
    from gt.beads import operations
    from gt.town.context import routed

    tracker = routed([bead])
    edit = operations.dep_remove(tracker, out.signature(tracker.repo), bead, depends_on, dep_type)
    out.emit(edit.result, f"Removed: {edit.subject.removeprefix('dep remove ')}")


@subcommand("tree")
@click.argument("bead")
def tree(out: Out, bead: str) -> None:
    """What BEAD depends on, recursively.

    Example: bd dep tree gt-a3f8k
    """
    from gt.model.graph import TreeNode, dep_tree
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    view = routed([bead]).view()
    beads = Tracker.summaries(view)
    root = dep_tree(beads, Tracker.resolve(view, bead))

    def as_dict(node: TreeNode) -> dict[str, object]:
        doc = beads.get(node.id) or {}
        return {"id": node.id, "type": node.dep_type, "status": doc.get("status"), "title": doc.get("title"),
                "repeated": node.repeated, "children": [as_dict(c) for c in node.children]}

    def lines(node: TreeNode, depth: int) -> list[str]:
        doc = beads.get(node.id)
        label = f"{node.id} [{doc.get('status')}] {doc.get('title')}" if doc else f"{node.id} (missing)"
        prefix = "  " * depth + (f"{node.dep_type}: " if node.dep_type else "")
        out_lines = [prefix + label + (" (cycle)" if node.repeated and depth else "")]
        for child in node.children:
            out_lines += lines(child, depth + 1)
        return out_lines

    out.emit(as_dict(root), "\n".join(lines(root, 0)))


@subcommand("cycles")
def cycles_(out: Out) -> None:
    """Dependency cycles (blocks and parent-child), e.g. after an import.

    Example: bd dep cycles
    """
    from gt.model.graph import cycles
    from gt.beads.tracker import Tracker

    found = cycles(Tracker.summaries(Tracker.open().view()))
    out.emit(found, "\n".join(" -> ".join(c + c[:1]) for c in found) if found else "No cycles")


dep.add_command(add)
dep.add_command(remove)
dep.add_command(tree)
dep.add_command(cycles_)
