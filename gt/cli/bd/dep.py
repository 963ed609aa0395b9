import click

from gt.cli.common import LazyGroup, Out, command as subcommand


@click.group("dep", cls=LazyGroup, aliases={"rm": "remove"})
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
    link = edit.result
    out.emit({"status": "added" if edit.commit else "unchanged", **link},
             f"{link['issue_id']} now depends on {link['depends_on_id']} ({link['type']})" if edit.commit else "No change")


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
    link = edit.result
    out.emit({"status": "removed", **link}, f"Removed: {link['issue_id']} -> {link['depends_on_id']}")


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

    def nodes() -> list[dict[str, object]]:
        """The original's flat list of tree nodes, depth first: each bead with `depth`, `parent_id`
        and `edge_from_parent` (the dependency type), and our marks for cycles and shared beads."""
        from gt.beads.contract import issue_json

        found: list[dict[str, object]] = []
        stack: list[tuple[TreeNode, int, str | None]] = [(root, 0, None)]
        while stack:
            node, depth, parent_id = stack.pop()
            doc = {k: v for k, v in (beads.get(node.id) or {"id": node.id}).items() if not k.startswith("_")}
            row: dict[str, object] = {**issue_json(doc), "depth": depth, "parent_id": parent_id}
            if node.dep_type:
                row["edge_from_parent"] = node.dep_type
            row.update(truncated=node.truncated, repeated=node.repeated, shown_above=node.shown_above)
            found.append(row)
            stack.extend((child, depth + 1, node.id) for child in reversed(node.children))
        return found

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

    out.emit(nodes() if out.json else None, lambda: "\n".join(lines()))


@subcommand("list")
@click.argument("beads", nargs=-1, required=True)
@click.option("--direction", type=click.Choice(["down", "up"]), default="down", show_default=True,
              help="down: what the beads depend on; up: what depends on them.")
@click.option("-t", "--type", "dep_type", help="Only this dependency type.")
def list_(out: Out, beads: tuple[str, ...], direction: str, dep_type: str | None) -> None:
    """The dependencies of BEADS (or, with --direction up, their dependents).

    Example: bd dep list gt-a3f8k --direction up
    """
    from gt.beads.contract import details_json, raw_dependencies
    from gt.beads.tracker import Tracker
    from gt.model.merge import strip_stamps
    from gt.town.context import routed

    view = routed(list(beads)).view()
    docs = [strip_stamps(Tracker.get(view, Tracker.resolve(view, b))) for b in beads]
    if len(docs) > 1 and direction == "down":  # as the original: several beads give the raw records
        records = [r for d in docs for r in raw_dependencies(d) if dep_type is None or r["type"] == dep_type]
        out.emit(records, lambda: "\n".join(f"{r['issue_id']} -> {r['depends_on_id']} ({r['type']})" for r in records))
        return
    key = "dependencies" if direction == "down" else "dependents"
    linked = [x for d in docs for x in details_json(view, d).get(key, [])
              if dep_type is None or x["dependency_type"] == dep_type]
    out.emit(linked, lambda: "\n".join(f"{x['dependency_type']} {x['id']} [{x['status']}] {x['title']}" for x in linked)
             or "No dependencies")


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
dep.add_command(list_)
dep.add_command(cycles_)
