import click

from gt.cli.common import Out, command


@command("repair-deps")
@click.option("--fix", is_flag=True, help="Remove them (one commit).")
def repair_deps(out: Out, fix: bool) -> None:
    """Find dependencies on beads that exist nowhere (not even deleted; in a town, not in any rig's
    ledger); with --fix, remove them. `bd doctor` reports the same ones as dangling dependencies.

    Example: bd repair-deps --fix
    """
    from gt.beads.admin import remove_dangling
    from gt.beads.doctor import dangling_dependencies
    from gt.beads.tracker import Tracker
    from gt.town.context import Town

    tracker = Tracker.open()
    town = Town.find(tracker.repo.commondir)  # a dependency may point into another rig's ledger
    others = town.other_ledgers if town else None
    if fix:
        edit = remove_dangling(tracker, out.signature(tracker.repo), others)
        found = edit.result
    else:
        found = dangling_dependencies(tracker.view(), others)
    result: dict[str, object] = {"orphans_found": len(found), "orphans": [d.as_dict() for d in found]}
    if fix:
        result["fixed"] = len(found)

    def text() -> str:
        if not found:
            return "No orphaned dependencies found"
        lines = [f"Found {len(found)} orphaned dependencies:"]
        lines += [f"  {d.issue_id} -> {d.depends_on_id} ({d.type}): {d.depends_on_id} does not exist" for d in found]
        lines.append(f"Removed {len(found)} (one commit)" if fix else "Run with --fix to remove them")
        return "\n".join(lines)

    out.emit(result, text)
