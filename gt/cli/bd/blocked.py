from gt.cli.common import Out, command


@command("blocked")
def blocked(out: Out) -> None:
    """Beads that are blocked, each with what blocks it.

    Example: bd blocked
    """
    from gt.beads.queries import blocked
    from gt.town.context import with_other_ledgers
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    rows = blocked(view, with_other_ledgers)
    beads = Tracker.summaries(view)
    if out.json:
        from gt.beads.queries import full

        docs = {d["id"]: d for d in full(view, [i for i, _ in rows])}
        out.emit([{**docs[i], "blocked_by": list(why.blockers), "blocked_via_parent": why.via_parent,
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
