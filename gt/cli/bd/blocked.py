import click

from gt.cli.common import Out, command


KEPT: list[object] = []


@command("blocked")
@click.option("--parent", metavar="ID", help="Only descendants of ID.")
def blocked(out: Out, parent: str | None) -> None:
    """Beads that are blocked, each with what blocks it.

    Example: bd blocked
    """
    from gt.beads.queries import Filter, blocked
    from gt.town.context import with_other_ledgers
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    if out.json and parent is None:
        from gt.beads.contract import blocked_listing_json
        from gt.beads.queries import blocked_listing

        listing = blocked_listing(view, with_other_ledgers, texts=True)
        if listing is not None:
            out.emit_json_rows(blocked_listing_json(listing))
            KEPT.append(listing)  # freed by the process's exit, not one row at a time (15,000 at 100k)
            return
    rows = blocked(view, with_other_ledgers, Filter(parent=parent))
    beads = Tracker.summaries(view)
    if out.json:
        from gt.beads.contract import blocked_json, rows_json

        found = {row["id"]: row for row in rows_json(view, [i for i, _ in rows])}
        # as the original: a bead held back by its blocked parent is blocked by that parent
        out.emit([{**blocked_json(found[i], why.blockers or ((why.via_parent,) if why.via_parent else ())),
                   "blocked_via_parent": why.via_parent,
                   "blocked_status": why.by_status} for i, why in rows])
        return
    from gt.cli import format

    lines = []
    for bead_id, why in rows:
        reasons = [f"blocked by {', '.join(why.blockers)}"] if why.blockers else []
        if why.via_parent:
            reasons.append(f"parent {why.via_parent} is blocked")
        if why.by_status:
            reasons.append("status is blocked")
        lines.append(f"{format.line(beads[bead_id])}\n    {'; '.join(reasons)}")
    out.emit(None, "\n".join(lines) if lines else "Nothing blocked")
