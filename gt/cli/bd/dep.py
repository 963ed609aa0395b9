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
@click.option("-t", "--type", "dep_type", default="blocks", show_default=True,
              help="Dependency type: blocks and parent-child hold BEAD back; the others (related, relates-to, "
                   "supersedes, duplicates, discovered-from, … the original bd's named types) are links.")
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
    from gt.beads.queries import shown

    doc = shown(edit.result)
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
    from gt.beads.queries import shown

    out.emit(shown(edit.result), f"Removed: {edit.subject.removeprefix('dep remove ')}")


@subcommand("tree")
@click.argument("bead")
@click.option("--max-depth", type=click.IntRange(1, 300), default=50, show_default=True, metavar="N",
              help="Levels of dependencies to show below BEAD (at most 300).")
def tree(out: Out, bead: str, max_depth: int) -> None:
    """What BEAD depends on, recursively; a bead with more below the depth shown is marked.

    Example: bd dep tree gt-a3f8k --max-depth 5
    """
    from gt.model.graph import TreeNode, dep_tree
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    view = routed([bead]).view()
    beads = Tracker.summaries(view)
    root = dep_tree(beads, Tracker.resolve(view, bead), max_depth)

    def as_dict(node: TreeNode) -> dict[str, object]:
        doc = beads.get(node.id) or {}
        return {"id": node.id, "type": node.dep_type, "status": doc.get("status"), "title": doc.get("title"),
                "repeated": node.repeated, "truncated": node.truncated, "shown_above": node.shown_above,
                "children": [as_dict(c) for c in node.children]}

    def lines() -> list[str]:
        out_lines = []
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            doc = beads.get(node.id)
            label = f"{node.id} [{doc.get('status')}] {doc.get('title')}" if doc else f"{node.id} (missing)"
            prefix = "  " * depth + (f"{node.dep_type}: " if node.dep_type else "")
            mark = (" (cycle)" if node.repeated else " (shown above)" if node.shown_above
                    else f" (… more below: --max-depth {max_depth} reached)" if node.truncated else "")
            out_lines.append(prefix + label + mark)
            stack.extend((child, depth + 1) for child in reversed(node.children))
        return out_lines

    out.emit(as_dict(root) if out.json else None, lambda: "\n".join(lines()))


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
